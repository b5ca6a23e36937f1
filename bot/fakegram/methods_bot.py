"""Bot-level methods: identity, webhook, commands, chats, members, files, callback answers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .errors import CHAT_NOT_FOUND, QUERY_TOO_OLD, bad_request
from .models import CallbackAnswer
from .registry import api_method

if TYPE_CHECKING:
    from .server import FakeTelegram

SCOPES = (
    "default",
    "all_private_chats",
    "all_group_chats",
    "all_chat_administrators",
    "chat",
    "chat_administrators",
    "chat_member",
)
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE = re.compile(r"[a-z]{2}")


@api_method("getMe")
def get_me(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    return {
        **fake.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


@api_method("logOut")
@api_method("close")
def log_out(fake: FakeTelegram, p: dict[str, Any]) -> bool:
    return True


@api_method("setWebhook")
def set_webhook(fake: FakeTelegram, p: dict[str, Any]) -> bool:
    fake.webhook = {**p, "url": p.get("url", "")}
    if p.get("drop_pending_updates"):
        fake.updates.clear()
    return True


@api_method("deleteWebhook")
def delete_webhook(fake: FakeTelegram, p: dict[str, Any]) -> bool:
    fake.webhook = {"url": ""}
    if p.get("drop_pending_updates"):
        fake.updates.clear()
    return True


@api_method("getWebhookInfo")
def get_webhook_info(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    info = {"url": fake.webhook["url"], "has_custom_certificate": False, "pending_update_count": fake.updates.pending}
    for key in ("max_connections", "allowed_updates", "ip_address"):
        if key in fake.webhook:
            info[key] = fake.webhook[key]
    return info


def _commands_key(p: dict[str, Any]) -> tuple[str, int | None, int | None, str]:
    scope = p.get("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPES:
        raise bad_request("can't parse BotCommandScope")
    language = p.get("language_code") or ""
    # Telegram takes ISO 639-1 only: "zh-hans" (a user's language_code) is rejected.
    if language and not _LANGUAGE.fullmatch(language):
        raise bad_request("invalid language code specified")
    return scope["type"], scope.get("chat_id"), scope.get("user_id"), language


@api_method("setMyCommands")
def set_my_commands(fake: FakeTelegram, p: dict[str, Any]) -> bool:
    key = _commands_key(p)
    commands = p.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    for command in commands:
        if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    fake.my_commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
    return True


@api_method("deleteMyCommands")
def delete_my_commands(fake: FakeTelegram, p: dict[str, Any]) -> bool:
    fake.my_commands.pop(_commands_key(p), None)
    return True


@api_method("getMyCommands")
def get_my_commands(fake: FakeTelegram, p: dict[str, Any]) -> list[dict]:
    return fake.my_commands.get(_commands_key(p), [])


@api_method("getChat")
def get_chat(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    chat_id = fake.resolve_chat(p.get("chat_id"))
    gifts = {
        key: False
        for key in ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription", "gifts_from_channels")
    }
    return {**fake.chat_dict(chat_id), "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": gifts}


@api_method("getChatMember")
def get_chat_member(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    chat_id = fake.resolve_chat(p.get("chat_id"))
    user_id = p.get("user_id")
    if user_id == fake.bot_id:
        user = fake.bot_user
    elif user_id in fake.users:
        user = fake.users[user_id].to_dict()
    else:
        raise bad_request("user not found")
    if chat_id > 0:  # a private chat has exactly its user and the bot
        if user_id not in (chat_id, fake.bot_id):
            raise bad_request(CHAT_NOT_FOUND)
        return {"status": "member", "user": user}
    return member_object(fake.groups[chat_id].status_of(user_id), user)


def member_object(status: str, user: dict[str, Any]) -> dict[str, Any]:
    member: dict[str, Any] = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            dict.fromkeys(
                (
                    "can_be_edited",
                    "is_anonymous",
                    "can_promote_members",
                    "can_post_stories",
                    "can_edit_stories",
                    "can_delete_stories",
                    "can_send_welcome_messages",
                ),
                False,
            )
        )
        member.update(
            dict.fromkeys(
                (
                    "can_manage_chat",
                    "can_delete_messages",
                    "can_manage_video_chats",
                    "can_restrict_members",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                ),
                True,
            )
        )
    elif status == "restricted":
        member.update(
            dict.fromkeys(
                (
                    "can_send_messages",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_react_to_messages",
                    "can_edit_tag",
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_manage_topics",
                ),
                False,
            )
        )
        member.update(is_member=True, until_date=0)
    elif status == "kicked":
        member["until_date"] = 0
    return member


@api_method("getFile")
def get_file(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    stored = fake.files.get(str(p.get("file_id", "")))
    if stored is None:
        raise bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        "file_path": stored.file_path,
    }


@api_method("answerCallbackQuery")
def answer_callback_query(fake: FakeTelegram, p: dict[str, Any]) -> bool:
    query_id = str(p.get("callback_query_id", ""))
    if query_id not in fake.callback_queries or query_id in fake.callback_answers:
        raise bad_request(QUERY_TOO_OLD)
    text = p.get("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    fake.callback_answers[query_id] = CallbackAnswer(
        query_id,
        text=text,
        show_alert=bool(p.get("show_alert", False)),
        url=p.get("url"),
        cache_time=int(p.get("cache_time", 0)),
    )
    return True
