"""The fake Telegram Bot API server lives in the package (bot/fakegram), where `python -m bot sandbox` uses it;
the tests import it from here as they always did."""

from bot.fakegram import (
    ApiError,
    CallbackAnswer,
    FakeGroup,
    FakeMessage,
    FakeTelegram,
    FakeUser,
    MessageVersion,
    StoredFile,
    UploadedFile,
)

__all__ = [
    "ApiError",
    "CallbackAnswer",
    "FakeGroup",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "MessageVersion",
    "StoredFile",
    "UploadedFile",
]
