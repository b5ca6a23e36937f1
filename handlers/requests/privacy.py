"""/forget: a resident erases his data, after a confirmation only he can tap (rules: bot/requests/privacy.py)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.requests import keyboards as request_keyboards
from bot.requests import privacy
from bot.requests.keyboards import ForgetCb
from bot.ui import texts
from bot.ui.tapped import editable
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="privacy")


@router.message(Command("forget"))
async def forget_ask(message: Message, db: Database, user: User) -> None:
    if message.chat.type != "private":  # what it says is his own business
        raise DomainError("private_only")
    async with db.read() as s:
        will = await privacy.preview(s, user.id)
    lines = [
        _("🗑 Erase your data from the station's bot?"),
        _(
            "• Your requests that are not done yet ({count}) will be cancelled; a volunteer who took one is told."
        ).format(count=will.waiting),
        _("• Your name, username, addresses, phones and comments will be erased from your requests and from this bot."),
        _("• Request numbers, services, dates, ratings and the volunteers' hours stay, without your details."),
    ]
    if will.volunteer:
        lines.append(_("• Your volunteer record (name, phone, hours) is kept, as service records must be."))
    lines.append(_("This cannot be undone."))
    await message.answer("\n".join(lines), reply_markup=request_keyboards.forget_confirm(user.id))


@router.callback_query(ForgetCb.filter(F.action == "yes"))
async def forget_yes(
    query: CallbackQuery,
    callback_data: ForgetCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
    state: FSMContext,
) -> None:
    if callback_data.uid != user.id:
        raise DomainError("not_your_data")
    async with db.tx() as s:
        done = await privacy.forget(s, notices.requests, user=user, now=clock.now())
    await state.clear()  # a conversation half-way (an address typed so far) goes too
    lines = [_("✅ Your data has been erased.")]
    if done.cancelled:
        lines.append(_("Cancelled: {numbers}.").format(numbers=texts.enumerate_items(f"#{n}" for n in done.cancelled)))
    if done.volunteer:
        lines.append(
            _(
                "Your volunteer record (name, phone, hours) is kept, as service records must be. "
                "A coordinator of the station can help you with it."
            )
        )
    await query.answer()
    await editable(query).edit_text("\n".join(lines), reply_markup=None)


@router.callback_query(ForgetCb.filter(F.action == "no"))
async def forget_no(query: CallbackQuery, callback_data: ForgetCb, user: User) -> None:
    if callback_data.uid != user.id:
        raise DomainError("not_your_data")
    await query.answer(_("Nothing was changed."))
    await editable(query).edit_reply_markup(reply_markup=None)
