"""Last resort: stale or forged buttons, stickers where text was expected, unknown text."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.errors import DomainError
from bot.error_texts import ERRORS
from handlers import stations
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="fallback")


@router.callback_query()
async def stale_button(query: CallbackQuery) -> None:
    await query.answer(str(ERRORS["stale"]), show_alert=True)


@router.message(StateFilter("*"), F.chat.type == "private", ~F.text)
async def not_text(message: Message) -> None:
    raise DomainError("text_expected")


@router.message(~StateFilter(None), F.chat.type == "private")
async def unexpected_in_conversation(message: Message) -> None:
    await message.answer(_("Please answer the question above, use its buttons, or send /cancel."))


@router.message(F.chat.type == "private")
async def unknown(message: Message, db: Database, user: User | None = None) -> None:
    await message.answer(_("Sorry, I did not understand. Send /help to see what I can do."))
    if user is not None:  # first contact in a county: his station first (handlers/stations.py)
        await stations.ask_first(message, db, user)
