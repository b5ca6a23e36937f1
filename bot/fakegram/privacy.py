"""Detect private data (addresses, phone numbers) that the bot posted into group chats."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .models import FakeMessage, button_texts

_PHONE = re.compile(r"\+?[\d\s\-()]{7,}")
_SEPARATORS = re.compile(r"[\s\-()+.]")  # how bots typically format phone numbers
_SPACES = re.compile(r"\s+")


class PrivacyGuard:
    def __init__(self) -> None:
        self.secrets: list[str] = []

    def mark(self, *secrets: str) -> None:
        self.secrets.extend(s for s in secrets if s and s.strip())

    def leaks(self, messages: Iterable[FakeMessage]) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        for message in messages:
            for text in dict.fromkeys(_message_texts(message)):
                if any(self._contains(text, secret) for secret in self.secrets):
                    found.append((message.chat_id, text))
        return found

    @staticmethod
    def _contains(text: str, secret: str) -> bool:
        if _SPACES.sub("", secret) in _SPACES.sub("", text):
            return True
        if not _PHONE.fullmatch(secret.strip()):
            return False
        digits = re.sub(r"\D", "", secret)
        # Also the national number: "+86 138..." is as leaked as "138...".
        needles = {digits, digits[-10:]}
        flat = _SEPARATORS.sub("", text)
        return any(needle in flat for needle in needles)


def _message_texts(message: FakeMessage) -> list[str]:
    texts: list[str] = []
    for version in message.versions:
        texts += [t for t in (version.text, version.caption) if t]
        texts += button_texts(version.reply_markup)
    # a voice message or a photo (its file ids) is as private as the address step it was given at
    texts += [v["file_id"] for v in [message.raw.get("voice") or {}] if v]
    texts += [size["file_id"] for size in message.raw.get("photo") or []]
    poll = message.raw.get("poll")
    if poll:
        texts.append(poll["question"])
        texts += [option["text"] for option in poll["options"]]
    if message.document is not None:
        texts.append(message.document.filename)
        texts.append(message.document.content.decode("utf-8", "replace"))
    return texts
