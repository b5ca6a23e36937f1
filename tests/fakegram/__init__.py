"""A fake Telegram Bot API server for end-to-end tests of an unmodified aiogram bot."""

from .errors import ApiError
from .models import CallbackAnswer, FakeMessage, MessageVersion, StoredFile
from .params import UploadedFile
from .server import FakeTelegram
from .users import FakeGroup, FakeUser

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
