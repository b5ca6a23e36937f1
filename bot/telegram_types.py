"""An aiohttp session that keeps aiogram's parametrised response models alive.

aiogram validates every Bot API answer with `Response[<return type>]`. pydantic caches such generic
models in a WeakValueDictionary, so once the garbage collector takes one it is built again on the next
call, about 9 ms each: a profile of the benchmark found a sixth of the bot's CPU there. One strong
reference per return type, taken the first time it is seen, makes every later lookup a cache hit."""

from __future__ import annotations

from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import Response
from aiogram.methods.base import TelegramMethod, TelegramType

_PINNED: dict[Any, type] = {}


class Session(AiohttpSession):
    def check_response(
        self, bot: Bot, method: TelegramMethod[TelegramType], status_code: int, content: str
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in _PINNED:
            _PINNED[returning] = Response[returning]  # type: ignore[valid-type]  # a type known only at run time
        return super().check_response(bot, method, status_code, content)
