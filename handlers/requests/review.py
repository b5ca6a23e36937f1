"""审单: a coordinator dispatches a request, sends it to another team, or rejects it; 转派 hands one on."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.people import service as people
from bot.requests import service as requests
from bot.requests.keyboards import ReviewCb
from bot.ui import texts
from bot.ui.keyboards import inline
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="review")


class Reject(StatesGroup):
    reason = State()


@router.callback_query(ReviewCb.filter(F.action.in_({"go", "to"})))
async def dispatch(
    query: CallbackQuery, callback_data: ReviewCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        req = await requests.dispatch(
            s,
            notices.requests,
            request_id=callback_data.rid,
            actor=user,
            team_id=callback_data.team or None,
            now=clock.now(),
        )
    await query.answer(_("Request {number} dispatched.").format(number=texts.number(req)))
    await editable(query).edit_reply_markup(reply_markup=None)


@router.callback_query(ReviewCb.filter(F.action == "move"))
async def choose_team(query: CallbackQuery, callback_data: ReviewCb, db: Database, user: User) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        teams = await people.list_teams(s)
    await query.answer()
    await editable(query).edit_reply_markup(
        reply_markup=inline([[(t.name, ReviewCb(action="to", rid=callback_data.rid, team=t.id))] for t in teams])
    )


@router.callback_query(ReviewCb.filter(F.action == "reject"))
async def ask_reason(
    query: CallbackQuery, callback_data: ReviewCb, state: FSMContext, db: Database, user: User
) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        req = await requests.get(s, callback_data.rid)
    if req.status != requests.REVIEW:
        await query.answer(texts.status_name(req.status), show_alert=True)
        return
    await state.set_state(Reject.reason)
    await state.update_data(rid=req.id)
    await query.answer()
    await origin(query).answer(
        _("Why is request {number} rejected? Only the resident will see your answer. (/cancel to go back)").format(
            number=texts.number(req)
        )
    )


@router.message(Reject.reason, F.text)
async def got_reason(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    rid = (await state.get_data())["rid"]
    async with db.tx() as s:
        req = await requests.reject(
            s, notices.requests, request_id=rid, actor=user, reason=message.text, now=clock.now()
        )
    await state.clear()
    await message.answer(_("Request {number} rejected; the resident has been told.").format(number=texts.number(req)))


@router.message(Command("transfer"))
async def transfer(
    message: Message, command: CommandObject, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    """/transfer NUMBER CODE REASON: hand a request nobody took yet to another station or level (转派)."""
    parts = (command.args or "").split(maxsplit=2)
    if len(parts) < 3:
        raise DomainError(
            "usage", usage=_("/transfer NUMBER CODE REASON, for example /transfer 2026-0001 Z02 离得更近")
        )
    number, code, reason = parts
    async with db.tx() as s:
        req = await requests.transfer(
            s,
            notices.requests,
            request_id=(await requests.by_number(s, number)).id,
            actor=user,
            code=code,
            reason=reason,
            now=clock.now(),
        )
    await message.answer(
        _("Request {number} has been handed on to {code}. Its coordinators have been told.").format(
            number=texts.number(req), code=code.upper()
        )
    )
