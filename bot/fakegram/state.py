"""What the fake Telegram knows: users, groups, messages, files, callback queries."""

from __future__ import annotations

import copy
import mimetypes
import os
import time
from collections.abc import Iterable
from typing import Any

from .errors import CHAT_NOT_FOUND, bad_request, forbidden
from .models import CallbackAnswer, FakeMessage, StoredFile
from .privacy import PrivacyGuard
from .updates import Pulse, UpdateQueue
from .users import FakeGroup, FakeUser

Chat = FakeUser | FakeGroup | FakeMessage | int


class TelegramState:
    def __init__(self, token: str, bot_username: str, bot_name: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.pulse = Pulse()
        self.updates = UpdateQueue(self.pulse)
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, FakeGroup] = {}
        self.messages: dict[int, list[FakeMessage]] = {}  # chat id -> every message, both directions
        self.files: dict[str, StoredFile] = {}
        self.media: dict[str, dict[str, Any]] = {}  # voice and photo file ids users sent: the bot may send them on
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.my_commands: dict[tuple[str, int | None, int | None, str], list[dict]] = {}
        self.webhook: dict[str, Any] = {"url": ""}
        self.privacy = PrivacyGuard()
        self._next_user_id = 1001
        self._next_group = 1
        self._counters: dict[str, int] = {}

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    # --- actors ----------------------------------------------------------------------------

    def user(
        self,
        first_name: str,
        *,
        language_code: str | None = None,
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        user = FakeUser(
            self, self._next_user_id, first_name, last_name=last_name, username=username, language_code=language_code
        )
        self._next_user_id += 1
        self.users[user.id] = user
        return user

    def group(
        self,
        title: str,
        members: Iterable[FakeUser] = (),
        *,
        admins: Iterable[FakeUser] = (),
        creator: FakeUser | None = None,
        channel: bool = False,
    ) -> FakeGroup:
        """A supergroup; with `channel`, a channel (a wish wall may be one): the bot posts there, and what it posts
        is checked for leaks like a group's."""
        group = FakeGroup(self, -100100000 - self._next_group, title)
        if channel:
            group.type = "channel"
        self._next_group += 1
        for user in members:
            group.add(user)
        for user in admins:
            group.add(user, "administrator")
        if creator is not None:
            group.add(creator, "creator")
        self.groups[group.id] = group
        return group

    def channel(self, title: str) -> FakeGroup:
        """A channel (e.g. the public 公示 channel) with the bot as its administrator: the bot posts, nobody
        writes. Like a group, its id is negative, so the privacy check (`group_leaks`) reads it too."""
        channel = self.group(title)
        channel.type = "channel"
        channel.bot_status = "administrator"
        return channel

    # --- updates ---------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any], update_id: int | None = None) -> int:
        """Queue a raw update (without update_id); pass update_id to redeliver a duplicate."""
        return self.updates.push(copy.deepcopy(update), update_id)

    def user_message(self, user: FakeUser, chat: FakeGroup | None, fields: dict[str, Any]) -> FakeMessage:
        chat_id = user.id if chat is None else chat.id
        fields = copy.deepcopy(fields)
        if "reply_to_message" in fields:
            fields["reply_to_message"].pop("reply_to_message", None)
        message = self._add_message(chat_id, user.to_dict(), fields)
        self.push_update({"message": message.raw})
        return message

    def callback_query(self, user: FakeUser, message: FakeMessage, data: str) -> str:
        query_id = str(4_000_000_000_000 + self.next_number("query"))
        self.callback_queries[query_id] = {"user_id": user.id, "message": message, "data": data}
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_dict(),
                    "message": message.raw,
                    "chat_instance": f"{abs(message.chat_id) * 7919}",
                    "data": data,
                }
            }
        )
        return query_id

    # --- state used by method handlers ------------------------------------------------------

    def resolve_chat(self, chat_id: Any, *, sending: bool = False) -> int:
        """Map a chat_id parameter to a known chat id, raising Telegram's errors."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, int) and chat_id in self.groups:
            status = self.groups[chat_id].bot_status
            if sending and status == "left":
                raise forbidden("bot is not a member of the supergroup chat")
            if sending and status == "kicked":
                raise forbidden("bot was kicked from the supergroup chat")
            return chat_id
        user = self.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None or not user.started:
            raise bad_request(CHAT_NOT_FOUND)
        if sending and user.blocked:
            raise forbidden("bot was blocked by the user")
        return chat_id

    def chat_dict(self, chat_id: int) -> dict[str, Any]:
        chat = self.groups.get(chat_id) or self.users[chat_id]
        return chat.chat_dict()

    def find_message(self, chat_id: int, message_id: Any) -> FakeMessage | None:
        for message in self.messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def bot_message(
        self, chat_id: int, fields: dict[str, Any], params: dict[str, Any], reply_markup: dict | None = None
    ) -> FakeMessage:
        message = self._add_message(chat_id, self.bot_user, fields, reply_markup)
        message.params = params
        return message

    def store_file(self, filename: str, content: bytes, mime_type: str | None = None) -> StoredFile:
        n = self.next_number("file")
        ext = mimetypes.guess_extension(mime_type or "") or os.path.splitext(filename)[1]
        stored = StoredFile(
            f"BQACAgfake{n:06d}", f"AgADfake{n}", filename, content, mime_type, f"documents/file_{n}{ext}"
        )
        self.files[stored.file_id] = stored
        return stored

    def _add_message(
        self, chat_id: int, sender: dict[str, Any], fields: dict[str, Any], reply_markup: dict | None = None
    ) -> FakeMessage:
        chat_messages = self.messages.setdefault(chat_id, [])
        message_id = chat_messages[-1].message_id + 1 if chat_messages else 1
        raw = {
            "message_id": message_id,
            "from": sender,
            "chat": self.chat_dict(chat_id),
            "date": int(time.time()),
            **fields,
        }
        message = FakeMessage(
            chat_id,
            message_id,
            text=fields.get("text"),
            reply_markup=reply_markup or fields.get("reply_markup"),
            caption=fields.get("caption"),
            sender_id=sender["id"],
            raw=raw,
        )
        chat_messages.append(message)
        self.pulse.fire()
        return message

    def next_number(self, counter: str) -> int:
        """The next number of a counter ("query", "file", "poll"): ids the fake makes up."""
        self._counters[counter] = self._counters.get(counter, 0) + 1
        return self._counters[counter]

    # --- inspection -------------------------------------------------------------------------

    @staticmethod
    def chat_id_of(chat: Chat) -> int:
        if isinstance(chat, (FakeUser, FakeGroup)):
            return chat.id
        if isinstance(chat, FakeMessage):
            return chat.chat_id
        return int(chat)

    def bot_messages(self, chat: Chat) -> list[FakeMessage]:
        """Messages the bot sent to this chat, in order, in their current state."""
        return [m for m in self.messages.get(self.chat_id_of(chat), []) if m.sender_id == self.bot_id]

    def chat_messages(self, chat: Chat) -> list[FakeMessage]:
        """Every message in the chat: the users' and the bot's."""
        return list(self.messages.get(self.chat_id_of(chat), []))

    @staticmethod
    def buttons(message: FakeMessage) -> list[str]:
        return message.buttons

    def commands(
        self, language_code: str = "", scope: str = "default", chat_id: int | None = None, user_id: int | None = None
    ) -> list[dict] | None:
        """Commands stored by setMyCommands for that scope and language (None if never set)."""
        return self.my_commands.get((scope, chat_id, user_id, language_code))

    def mark_private(self, *secrets: str) -> None:
        self.privacy.mark(*secrets)

    def group_leaks(self) -> list[tuple[int, str]]:
        """(chat_id, text) of every bot message/edit in a group or a channel containing a private string: every chat
        that is not a private one (Telegram gives groups, supergroups and channels negative ids)."""
        public = {cid for cid, group in self.groups.items() if group.type != "private"}
        group_messages = [
            m for cid, ms in self.messages.items() if cid < 0 or cid in public for m in ms if m.sender_id == self.bot_id
        ]
        """(chat_id, text) of every bot message/edit in a group or channel (every chat with a negative id)
        containing a private string: its text, caption, buttons, and the file ids of its photos."""
        group_messages = [m for cid, ms in self.messages.items() if cid < 0 for m in ms if m.sender_id == self.bot_id]
        return self.privacy.leaks(group_messages)
