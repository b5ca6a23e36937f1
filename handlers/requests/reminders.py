"""The volunteer's answers to the reminders of a claimed request ("I am coming", "it did not take place")."""

from __future__ import annotations

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.requests import keyboards as request_keyboards
from bot.requests import reminders
from bot.requests.keyboards import RemindCb
from bot.ui.tapped import editable
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="reminders")


async def _markup(query: CallbackQuery, markup) -> None:
    try:
        await editable(query).edit_reply_markup(reply_markup=markup)
    except TelegramBadRequest:  # a repeated tap: the buttons are already as they should be
        pass


@router.callback_query(RemindCb.filter())
async def reminder_answer(
    query: CallbackQuery, callback_data: RemindCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    if callback_data.action == "coming":
        async with db.tx() as s:
            await reminders.coming(s, notices.requests, request_id=callback_data.rid, user=user, now=clock.now())
        await query.answer(_("Thank you! I have told the resident you are coming."))
        await _markup(query, request_keyboards.reminder_release(callback_data.rid))
    elif callback_data.action == "missed":
        async with db.tx() as s:
            await reminders.not_held(s, notices.requests, request_id=callback_data.rid, user=user, now=clock.now())
        await query.answer(_("Thank you. I have told the coordinators."))
        await _markup(query, None)
    else:
        raise DomainError("stale")
