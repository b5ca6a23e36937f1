"""Message methods: send, edit, delete, documents, photos, polls, chat actions."""

from __future__ import annotations

import copy
import mimetypes
import time
from typing import TYPE_CHECKING, Any

from .errors import NOT_MODIFIED, bad_request
from .formatting import render
from .models import FakeMessage, MessageVersion
from .params import UploadedFile
from .registry import api_method

if TYPE_CHECKING:
    from .server import FakeTelegram

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
CHAT_ACTIONS = (
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
)


@api_method("sendMessage")
def send_message(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    chat_id = fake.resolve_chat(p.get("chat_id"), sending=True)
    text, entities = _text(p)
    markup = _markup(p)
    fields = _with_entities({"text": text}, "entities", entities)
    fields.update(_reply_to(fake, chat_id, p))
    return _send(fake, chat_id, fields, p, markup).raw


@api_method("sendDocument")
def send_document(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    chat_id = fake.resolve_chat(p.get("chat_id"), sending=True)
    stored = _document(fake, p)
    caption, entities = _caption(p)
    markup = _markup(p)
    fields: dict[str, Any] = {"document": stored.to_document()}
    if caption:
        fields["caption"] = caption
        _with_entities(fields, "caption_entities", entities)
    fields.update(_reply_to(fake, chat_id, p))
    message = _send(fake, chat_id, fields, p, markup)
    message.document = stored
    return message.raw


def _send_stored_photo(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    """A photo the bot uploads (or sends again by the id of one it uploaded): stored, downloadable."""
    chat_id = fake.resolve_chat(p.get("chat_id"), sending=True)
    stored = _document(fake, p, "photo")
    caption, entities = _caption(p)
    size = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 800, "height": 800}
    fields: dict[str, Any] = {"photo": [{**size, "file_size": len(stored.content)}]}
    if caption:
        fields["caption"] = caption
        _with_entities(fields, "caption_entities", entities)
    fields.update(_reply_to(fake, chat_id, p))
    message = _send(fake, chat_id, fields, p, _markup(p))
    message.document = stored
    return message.raw


@api_method("sendPoll")
def send_poll(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    chat_id = fake.resolve_chat(p.get("chat_id"), sending=True)
    question = str(p.get("question") or "").strip()
    if not question:
        raise bad_request("poll question must be non-empty")
    options = [o if isinstance(o, str) else o.get("text", "") for o in p.get("options") or []]
    if len(options) < 2:
        raise bad_request("poll must have at least 2 option")
    if len(options) > 12:
        raise bad_request("poll can't have more than 12 options")
    poll = {
        "id": str(5_000_000_000 + fake.next_number("poll")),
        "question": question,
        "options": [{"persistent_id": str(i), "text": t, "voter_count": 0} for i, t in enumerate(options)],
        "total_voter_count": 0,
        "is_closed": bool(p.get("is_closed", False)),
        "is_anonymous": bool(p.get("is_anonymous", True)),
        "type": p.get("type", "regular"),
        "allows_multiple_answers": bool(p.get("allows_multiple_answers", False)),
        "allows_revoting": True,
        "members_only": False,
    }
    if "correct_option_id" in p:
        poll["correct_option_id"] = p["correct_option_id"]
    fields = {"poll": poll, **_reply_to(fake, chat_id, p)}
    return _send(fake, chat_id, fields, p, _markup(p)).raw


@api_method("sendChatAction")
def send_chat_action(fake: FakeTelegram, p: dict[str, Any]) -> bool:
    fake.resolve_chat(p.get("chat_id"), sending=True)
    if p.get("action") not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


@api_method("editMessageText")
def edit_message_text(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    text, entities = _text(p)
    markup = _markup(p, inline_only=True)
    message = _editable(fake, p)
    if message.text is None:
        raise bad_request("there is no text in the message to edit")
    current = (message.text, message.raw.get("entities", []), message.raw.get("reply_markup"))
    if (text, entities, markup) == current:
        raise bad_request(NOT_MODIFIED)
    return _edit(fake, message, markup, text=text, entities=entities)


@api_method("editMessageCaption")
def edit_message_caption(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    caption, entities = _caption(p)
    markup = _markup(p, inline_only=True)
    message = _editable(fake, p)
    if message.text is not None:
        raise bad_request("there is no caption in the message to edit")
    current = (message.caption, message.raw.get("caption_entities", []), message.raw.get("reply_markup"))
    if (caption, entities, markup) == current:
        raise bad_request(NOT_MODIFIED)
    return _edit(fake, message, markup, caption=caption, caption_entities=entities)


@api_method("editMessageReplyMarkup")
def edit_message_reply_markup(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    markup = _markup(p, inline_only=True)
    message = _editable(fake, p)
    if markup == message.raw.get("reply_markup"):
        raise bad_request(NOT_MODIFIED)
    return _edit(fake, message, markup)


@api_method("deleteMessage")
def delete_message(fake: FakeTelegram, p: dict[str, Any]) -> bool:
    chat_id = fake.resolve_chat(p.get("chat_id"))
    message = fake.find_message(chat_id, p.get("message_id"))
    if message is None:
        raise bad_request("message to delete not found")
    bot_is_admin = chat_id > 0 or fake.groups[chat_id].bot_status in ("administrator", "creator")
    if message.sender_id != fake.bot_id and not bot_is_admin:
        raise bad_request("message can't be deleted")
    message.deleted = True
    fake.pulse.fire()
    return True


# --- helpers ---------------------------------------------------------------------------------


def _text(p: dict[str, Any]) -> tuple[str, list[dict]]:
    # aiogram drops empty strings from the form, so "" arrives as a missing field.
    text, entities = render(str(p.get("text") or ""), p.get("parse_mode"), p.get("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities


def _caption(p: dict[str, Any]) -> tuple[str | None, list[dict]]:
    if not p.get("caption"):
        return None, []
    caption, entities = render(str(p["caption"]), p.get("parse_mode"), p.get("caption_entities"))
    if len(caption) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return caption, entities


def _with_entities(fields: dict[str, Any], key: str, entities: list[dict]) -> dict[str, Any]:
    if entities:
        fields[key] = entities
    return fields


def _markup(p: dict[str, Any], *, inline_only: bool = False) -> dict | None:
    markup = p.get("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only:
            raise bad_request("inline keyboard expected")
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an Array of Arrays")
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict) or not button.get("text"):
            raise bad_request("BUTTON_TEXT_INVALID")
        if not any(key in button for key in INLINE_ACTIONS):
            raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    return markup


def _reply_to(fake: FakeTelegram, chat_id: int, p: dict[str, Any]) -> dict[str, Any]:
    reply = p.get("reply_parameters") or {}
    message_id = reply.get("message_id", p.get("reply_to_message_id"))
    if message_id is None:
        return {}
    target = fake.find_message(chat_id, message_id)
    if target is None:
        if reply.get("allow_sending_without_reply") or p.get("allow_sending_without_reply"):
            return {}
        raise bad_request("message to be replied not found")
    quoted = copy.deepcopy(target.raw)
    quoted.pop("reply_to_message", None)  # Telegram nests only one level
    return {"reply_to_message": quoted}


def _send(
    fake: FakeTelegram, chat_id: int, fields: dict[str, Any], p: dict[str, Any], markup: dict | None
) -> FakeMessage:
    # Only inline keyboards belong to the Message object; reply keyboards stay visible to tests.
    if markup is not None and "inline_keyboard" in markup:
        fields["reply_markup"] = markup
    return fake.bot_message(chat_id, fields, p, reply_markup=markup)


def _editable(fake: FakeTelegram, p: dict[str, Any]) -> FakeMessage:
    if p.get("inline_message_id"):
        raise bad_request("message to edit not found")  # inline messages are not simulated
    chat_id = fake.resolve_chat(p.get("chat_id"), sending=True)
    if p.get("message_id") is None:
        raise bad_request("message identifier is not specified")
    message = fake.find_message(chat_id, p["message_id"])
    if message is None:
        raise bad_request("message to edit not found")
    if message.sender_id != fake.bot_id:
        raise bad_request("message can't be edited")
    return message


def _edit(fake: FakeTelegram, message: FakeMessage, markup: dict | None, **content: Any) -> dict[str, Any]:
    for key, value in content.items():
        if value:
            message.raw[key] = value
        else:
            message.raw.pop(key, None)
    if "text" in content:
        message.text = content["text"]
    if "caption" in content:
        message.caption = content["caption"]
    message.reply_markup = markup
    if markup is None:
        message.raw.pop("reply_markup", None)
    else:
        message.raw["reply_markup"] = markup
    message.raw["edit_date"] = int(time.time())
    message.edits.append(MessageVersion(message.text, markup, message.caption))
    fake.pulse.fire()
    return copy.deepcopy(message.raw)


def _document(fake: FakeTelegram, p: dict[str, Any], key: str = "document"):
    document = p.get(key)
    if isinstance(document, str) and document.startswith("attach://"):
        document = p.get(document.removeprefix("attach://"))
    if isinstance(document, UploadedFile):
        if not document.content:
            raise bad_request("file must be non-empty")
        mime = document.content_type
        if mime in (None, "application/octet-stream"):
            mime = mimetypes.guess_type(document.filename)[0] or mime
        return fake.store_file(document.filename, document.content, mime)
    if isinstance(document, str) and document in fake.files:
        return fake.files[document]
    if isinstance(document, str) and document.startswith(("http://", "https://")):
        return fake.store_file(document.rsplit("/", 1)[-1] or "file", b"", None)
    if document is None:
        raise bad_request(f"there is no {key} in the request")
    raise bad_request("wrong file identifier/HTTP URL specified")


# --- media sent on by file id: only ids Telegram knows, i.e. that users sent -------------------


def _known_media(fake: FakeTelegram, p: dict[str, Any], kind: str) -> Any:
    file_id = p.get(kind)
    if not isinstance(file_id, str) or not file_id:
        raise bad_request(f"there is no {kind} in the request")
    media = fake.media.get(file_id)
    if media is None or kind not in media:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return copy.deepcopy(media[kind])


def _send_media(fake: FakeTelegram, p: dict[str, Any], kind: str) -> dict[str, Any]:
    chat_id = fake.resolve_chat(p.get("chat_id"), sending=True)
    fields: dict[str, Any] = {kind: _known_media(fake, p, kind)}
    caption, entities = _caption(p)
    if caption:
        fields["caption"] = caption
        _with_entities(fields, "caption_entities", entities)
    fields.update(_reply_to(fake, chat_id, p))
    return _send(fake, chat_id, fields, p, _markup(p)).raw


@api_method("sendVoice")
def send_voice(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    return _send_media(fake, p, "voice")


@api_method("sendPhoto")
def send_photo(fake: FakeTelegram, p: dict[str, Any]) -> dict[str, Any]:
    """By the file id of a photo a user sent (sent on as it is), else an upload of the bot's own."""
    photo = p.get("photo")
    if isinstance(photo, str) and photo in fake.media:
        return _send_media(fake, p, "photo")
    return _send_stored_photo(fake, p)
