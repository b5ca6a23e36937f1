"""Small records that tests inspect; Telegram's raw dicts live in FakeMessage.raw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    filename: str
    content: bytes
    mime_type: str | None
    file_path: str

    def to_document(self) -> dict[str, Any]:
        doc = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "file_size": len(self.content),
        }
        if self.mime_type:
            doc["mime_type"] = self.mime_type
        return doc

    def __repr__(self) -> str:
        return f"StoredFile({self.filename!r}, {len(self.content)} bytes, {self.file_id!r})"


@dataclass
class MessageVersion:
    """The content of a message after one edit."""

    text: str | None
    reply_markup: dict | None
    caption: str | None = None


@dataclass
class FakeMessage:
    chat_id: int
    message_id: int
    text: str | None = None
    reply_markup: dict | None = None
    deleted: bool = False
    edits: list[MessageVersion] = field(default_factory=list)
    document: StoredFile | None = None
    caption: str | None = None
    sender_id: int = 0
    params: dict[str, Any] = field(default_factory=dict, repr=False)  # decoded request, bot messages only
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # Telegram's current Message object
    original: MessageVersion | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.original is None:
            self.original = MessageVersion(self.text, self.reply_markup, self.caption)

    @property
    def buttons(self) -> list[str]:
        return button_texts(self.reply_markup)

    @property
    def content(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def versions(self) -> list[MessageVersion]:
        """Original content followed by every edit."""
        assert self.original is not None  # set in __post_init__
        return [self.original, *self.edits]


@dataclass
class CallbackAnswer:
    query_id: str
    text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int = 0


def button_texts(markup: dict | None) -> list[str]:
    if not markup:
        return []
    rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
    return [b if isinstance(b, str) else b.get("text", "") for row in rows for b in row]


def inline_buttons(markup: dict | None) -> list[dict]:
    return [b for row in (markup or {}).get("inline_keyboard", []) for b in row]
