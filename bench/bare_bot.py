"""The ceiling: a minimal aiogram bot that answers every message, run as its own process like the real bot.

BOT_TOKEN=… TELEGRAM_API_URL=http://127.0.0.1:PORT python bench/bare_bot.py"""

import asyncio
import os

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message


async def main() -> None:
    api = TelegramAPIServer.from_base(os.environ["TELEGRAM_API_URL"])
    bot = Bot(os.environ["BOT_TOKEN"], session=AiohttpSession(api=api))
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer("ok")

    await dp.start_polling(bot, polling_timeout=1)


if __name__ == "__main__":
    asyncio.run(main())
