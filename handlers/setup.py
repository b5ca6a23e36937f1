"""/setup: a coordinator's checklist for a new station (bot/setup)."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message

from bot.people import service as people
from bot.setup import service as setup
from bot.setup import texts as setup_texts
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="setup")


@router.message(Command("setup"))
async def checklist(message: Message, db: Database, user: User) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        items = await setup.checklist(s)
    await message.answer(setup_texts.checklist(items))
