"""A fake Telegram Bot API server: the end-to-end tests and `python -m bot sandbox` run the unmodified bot against it.

fake = FakeTelegram()
await fake.start()
bot = Bot(fake.token, session=fake.aiogram_session())
alice = fake.user("Alice", language_code="zh-hans")
await alice.send("/start")
reply = await fake.wait_message(alice, contains="欢迎")
"""

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
