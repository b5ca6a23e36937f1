"""结单 (the claimer reports hours), 评单 (the resident rates), and a coordinator's approval."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core import validate
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.people import service as people
from bot.requests import keyboards as request_keyboards
from bot.requests import service as requests
from bot.requests.keyboards import ApproveCb, HoursCb, RateCb, TaskCb
from bot.settings import Settings
from bot.ui import texts
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="closing")


class Report(StatesGroup):
    hours = State()


class Comment(StatesGroup):
    text = State()


class Correct(StatesGroup):
    hours = State()
    reason = State()


# 结单 ---------------------------------------------------------------------------------------------


@router.callback_query(TaskCb.filter(F.action == "done"))
async def ask_hours(
    query: CallbackQuery, callback_data: TaskCb, state: FSMContext, db: Database, clock: Clock, user: User
) -> None:
    async with db.read() as s:
        req = await requests.get(s, callback_data.rid)
    if req.claimer_id != user.id:
        raise DomainError("not_your_claim")
    if req.status != requests.CLAIMED:
        raise DomainError(requests.why_not(req.status))
    if clock.now() < req.window_start:
        raise DomainError("not_started")
    limit = requests.max_report_minutes(req, clock.now())
    await state.set_state(Report.hours)
    await state.update_data(rid=req.id)
    await query.answer()
    await origin(query).answer(
        _(
            "How many hours did the service of request {number} take? Tap or type a number "
            "(in half hours, at most {max_hours:g})."
        ).format(number=texts.number(req), max_hours=limit / 60),
        reply_markup=request_keyboards.hours(req.id, limit),
    )


async def _report(rid: int, minutes: int, db: Database, notices: Notices, clock: Clock, user: User):
    async with db.tx() as s:
        return await requests.report_done(
            s, notices.requests, request_id=rid, user=user, minutes=minutes, now=clock.now()
        )


@router.callback_query(Report.hours, HoursCb.filter())
async def got_hours_button(
    query: CallbackQuery,
    callback_data: HoursCb,
    state: FSMContext,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
) -> None:
    if callback_data.rid != (await state.get_data()).get("rid"):
        raise DomainError("stale")
    await _report(callback_data.rid, callback_data.half * 30, db, notices, clock, user)
    await state.clear()
    await query.answer()
    await editable(query).edit_reply_markup(reply_markup=None)


@router.message(Report.hours, F.text)
async def got_hours_text(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    rid = (await state.get_data())["rid"]
    await _report(rid, validate.hours_to_minutes(message.text), db, notices, clock, user)
    await state.clear()


# 评单 ---------------------------------------------------------------------------------------------


@router.callback_query(RateCb.filter())
async def rate(
    query: CallbackQuery,
    callback_data: RateCb,
    state: FSMContext,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
) -> None:
    async with db.tx() as s:
        req = await requests.confirm(
            s, notices.requests, request_id=callback_data.rid, user=user, rating=callback_data.stars, now=clock.now()
        )
    await state.set_state(Comment.text)
    await state.update_data(rid=req.id)
    await query.answer(_("Thank you for your rating!"))
    assert req.rating is not None  # just rated
    await editable(query).edit_text(
        _("You rated request {number}: {stars}").format(number=texts.number(req), stars="⭐" * req.rating)
    )
    await origin(query).answer(_("Would you like to add a comment for the station? Send it now, or /skip."))


@router.message(Comment.text, Command("skip"))
async def skip_comment(message: Message, state: FSMContext) -> None:
    await state.clear()
    await message.answer(_("Thank you! The request is closed once a coordinator approves the hours."))


@router.message(Comment.text, F.text)
async def got_comment(message: Message, state: FSMContext, db: Database, clock: Clock, user: User) -> None:
    rid = (await state.get_data())["rid"]
    async with db.tx() as s:
        await requests.comment(s, request_id=rid, user=user, text=message.text, now=clock.now())
    await state.clear()
    await message.answer(_("Thank you, your comment has been saved."))


# Approval -----------------------------------------------------------------------------------------


@router.callback_query(ApproveCb.filter(F.action == "ok"))
async def approve(
    query: CallbackQuery,
    callback_data: ApproveCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    settings: Settings,
    user: User,
) -> None:
    async with db.tx() as s:
        req = await requests.approve(
            s,
            notices.requests,
            request_id=callback_data.rid,
            actor=user,
            now=clock.now(),
            points_per_hour=settings.points_per_hour,
        )
    await query.answer(_("Approved."))
    await editable(query).edit_text(
        _("✅ Approved: request {number}, {hours} h.").format(
            number=texts.number(req), hours=texts.hours(req.approved_minutes)
        )
    )


@router.callback_query(ApproveCb.filter(F.action == "fix"))
async def ask_correction(
    query: CallbackQuery, callback_data: ApproveCb, state: FSMContext, db: Database, clock: Clock, user: User
) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        req = await requests.get(s, callback_data.rid)
    if req.claimer_id == user.id:
        raise DomainError("own_hours")
    requests.check_approvable(req, clock.now())
    await state.set_state(Correct.hours)
    await state.update_data(rid=req.id)
    await query.answer()
    await origin(query).answer(
        _(
            "Request {number}: the volunteer reported {hours} h. How many hours should be "
            "approved? (/cancel to go back)"
        ).format(number=texts.number(req), hours=texts.hours(req.reported_minutes))
    )


@router.message(Correct.hours, F.text)
async def got_corrected_hours(message: Message, state: FSMContext) -> None:
    minutes = validate.hours_to_minutes(message.text)
    if minutes > validate.MAX_MINUTES:
        raise DomainError("hours_out_of_range", max_hours=validate.MAX_MINUTES / 60)
    await state.update_data(minutes=minutes)
    await state.set_state(Correct.reason)
    await message.answer(_("Why are the hours corrected? The volunteer will see your reason."))


@router.message(Correct.reason, F.text)
async def got_correction_reason(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, settings: Settings, user: User
) -> None:
    data = await state.get_data()
    async with db.tx() as s:
        req = await requests.approve(
            s,
            notices.requests,
            request_id=data["rid"],
            actor=user,
            now=clock.now(),
            points_per_hour=settings.points_per_hour,
            minutes=data["minutes"],
            reason=message.text,
        )
    await state.clear()
    await message.answer(
        _("✅ Approved: request {number}, {hours} h.").format(
            number=texts.number(req), hours=texts.hours(req.approved_minutes)
        )
    )
