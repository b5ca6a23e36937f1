"""Fake Telegram users and groups that talk to the bot under test."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

from .formatting import command_entities
from .models import FakeMessage, inline_buttons

if TYPE_CHECKING:
    from .state import TelegramState

STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
PRESENT = ("creator", "administrator", "member", "restricted")


class FakeUser:
    def __init__(
        self,
        fake: TelegramState,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.started = False  # has a private chat with the bot
        self.blocked = False  # has blocked the bot

    def __repr__(self) -> str:
        return f"FakeUser({self.id}, {self.first_name!r})"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key):
                data[key] = getattr(self, key)
        return data

    def chat_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data

    def block(self) -> None:
        self.blocked = True

    def unblock(self) -> None:
        self.blocked = False

    async def send(
        self, text: str, chat: FakeGroup | None = None, *, reply_to: FakeMessage | None = None
    ) -> FakeMessage:
        fields: dict[str, Any] = {"text": text}
        if entities := command_entities(text):
            fields["entities"] = entities
        if reply_to is not None:
            fields["reply_to_message"] = reply_to.raw
        return self._post(fields, chat)

    async def share_contact(
        self,
        phone: str,
        chat: FakeGroup | None = None,
        *,
        user_id: int | None = None,
        forged: bool = False,
        first_name: str | None = None,
    ) -> FakeMessage:
        """Share a contact; by default the user's own (user_id == self.id).

        forged=True sends a contact card without user_id (typed in, not "share my number").
        """
        contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name or self.first_name}
        if user_id is not None or not forged:
            contact["user_id"] = self.id if user_id is None else user_id
        return self._post({"contact": contact}, chat)

    async def send_sticker(self, chat: FakeGroup | None = None) -> FakeMessage:
        sticker = {
            "file_id": "CAACAgIAAxkBAAIBfake",
            "file_unique_id": "AgADfake",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self._post({"sticker": sticker}, chat)

    async def send_document(
        self,
        filename: str,
        content: bytes,
        chat: FakeGroup | None = None,
        *,
        caption: str | None = None,
        mime_type: str | None = None,
    ) -> FakeMessage:
        mime_type = mime_type or mimetypes.guess_type(filename)[0]
        stored = self.fake.store_file(filename, content, mime_type)
        fields: dict[str, Any] = {"document": stored.to_document()}
        if caption:
            fields["caption"] = caption
        message = self._post(fields, chat)
        message.document = stored
        return message

    async def send_voice(
        self, file_id: str, duration: int, chat: FakeGroup | None = None, *, caption: str | None = None
    ) -> FakeMessage:
        """A voice message (kept by Telegram: the bot gets its file id and length, never a file)."""
        voice = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": duration, "mime_type": "audio/ogg"}
        self.fake.media[file_id] = {"voice": voice}
        return self._post({"voice": voice, **({"caption": caption} if caption else {})}, chat)

    async def send_photo(
        self, file_id: str, chat: FakeGroup | None = None, *, caption: str | None = None
    ) -> FakeMessage:
        """A photo, as Telegram delivers it: sizes that share no file id with each other; the largest is last."""
        sizes = [
            {"file_id": f"{file_id}-s", "file_unique_id": f"u{file_id}-s", "width": 90, "height": 90},
            {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1280, "height": 960},
        ]
        self.fake.media[file_id] = {"photo": sizes}
        self.fake.media[f"{file_id}-s"] = {"photo": sizes}
        return self._post({"photo": sizes, **({"caption": caption} if caption else {})}, chat)

    async def send_raw(self, fields: dict[str, Any], chat: FakeGroup | None = None) -> FakeMessage:
        """Push a message update with arbitrary Message fields (photo, location, ...)."""
        return self._post(fields, chat)

    def _post(self, fields: dict[str, Any], chat: FakeGroup | None) -> FakeMessage:
        if chat is None:
            self.started = True
        else:
            assert chat.status_of(self) in PRESENT, f"{self} is not a member of {chat}"
        return self.fake.user_message(self, chat, fields)

    async def tap(self, message: FakeMessage, text: str) -> str:
        """Press the inline button whose text contains `text` in the message's current markup."""
        buttons = inline_buttons(message.reply_markup)
        exact = [b for b in buttons if b.get("text") == text]
        found = exact or [b for b in buttons if text in b.get("text", "")]
        assert found, (
            f"no inline button containing {text!r} in message {message.message_id} "
            f"({message.content!r}); buttons: {[b.get('text') for b in buttons]}"
        )
        assert "callback_data" in found[0], f"button {found[0]!r} has no callback_data"
        return await self.tap_data(message, found[0]["callback_data"])

    async def tap_data(self, message: FakeMessage, data: str) -> str:
        """Send a callback query with arbitrary (possibly forged) data."""
        assert not message.deleted, f"message {message.message_id} was deleted, it cannot be tapped"
        return self.fake.callback_query(self, message, data)


class FakeGroup:
    def __init__(self, fake: TelegramState, chat_id: int, title: str) -> None:
        self.fake = fake
        self.id = chat_id
        self.title = title
        self.type = "supergroup"
        self.statuses: dict[int, str] = {}
        self.bot_status = "member"

    def __repr__(self) -> str:
        return f"FakeGroup({self.id}, {self.title!r})"

    def chat_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "title": self.title}

    def add(self, user: FakeUser, status: str = "member") -> None:
        self.set_status(user, status)

    def remove(self, user: FakeUser) -> None:
        self.set_status(user, "left")

    def set_status(self, user: FakeUser | int, status: str) -> None:
        """Set a member's status; pass fake.bot_id to change the bot's own membership."""
        assert status in STATUSES, f"unknown status {status!r}; use one of {STATUSES}"
        user_id = user if isinstance(user, int) else user.id
        if user_id == self.fake.bot_id:
            self.bot_status = status
        else:
            self.statuses[user_id] = status

    def status_of(self, user: FakeUser | int) -> str:
        user_id = user if isinstance(user, int) else user.id
        if user_id == self.fake.bot_id:
            return self.bot_status
        return self.statuses.get(user_id, "left")

    @property
    def members(self) -> list[FakeUser]:
        return [self.fake.users[uid] for uid, status in self.statuses.items() if status in PRESENT]
