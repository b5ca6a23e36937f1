"""结单 (the claimer reports hours), 评单 (the resident rates), and a coordinator's approval."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F
from aiogram.exceptions import TelegramBadRequest
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
from bot.requests import media
from bot.requests import service as requests
from bot.requests.keyboards import ApproveCb, HoursCb, RateCb, TaskCb
from bot.settings import Settings
from bot.showcase import keyboards as showcase_keyboards
from bot.showcase import service as showcase
from bot.showcase.keyboards import PhotosCb, ShowcaseCb
from bot.ui import texts
from bot.ui.private import PRIVATE_VIEW
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="closing")


class Report(StatesGroup):
    hours = State()
    photos = State()  # up to 3 photos of the service, or 跳过 / 完成


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
    await state.update_data(rid=req.id, task_message=origin(query).message_id)
    await query.answer()
    await origin(query).answer(
        _(
            "How many hours did the service of request {number} take? Tap or type a number "
            "(in half hours, at most {max_hours:g})."
        ).format(number=texts.number(req), max_hours=limit / 60),
        reply_markup=request_keyboards.hours(req.id, limit),
    )


async def _ask_photos(
    message: Message, rid: int, minutes: int, state: FSMContext, db: Database, clock: Clock, user: User
):
    """The hours are checked now (bad ones are refused here); the report is made after the photo step."""
    async with db.read() as s:
        requests.check_report(await requests.get(s, rid), user, minutes, clock.now())
    await state.update_data(minutes=minutes, photos=[])
    await state.set_state(Report.photos)
    await message.answer(
        _("If you like, send up to 3 photos of the service (the coordinators see them when approving), or tap “Skip”."),
        reply_markup=showcase_keyboards.photos_skip(rid),
    )


async def _report(data: dict, db: Database, notices: Notices, clock: Clock, user: User):
    async with db.tx() as s:
        return await requests.report_done(
            s,
            notices.requests,
            request_id=data["rid"],
            user=user,
            minutes=data["minutes"],
            now=clock.now(),
            photos=data.get("photos") or [],
        )


async def _tidy_task(bot: Bot, chat_id: int, data: dict) -> None:
    """Once the service is reported done, the task message's 完成服务 / 放弃接单 no longer do anything: remove them."""
    if data.get("task_message"):
        with suppress(TelegramBadRequest):  # already without buttons, or too old to edit
            await bot.edit_message_reply_markup(chat_id=chat_id, message_id=data["task_message"], reply_markup=None)


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
    data = await state.get_data()
    if callback_data.rid != data.get("rid"):
        raise DomainError("stale")
    await _ask_photos(editable(query), callback_data.rid, callback_data.half * 30, state, db, clock, user)
    await query.answer()
    await editable(query).edit_reply_markup(reply_markup=None)


@router.message(Report.hours, F.text)
async def got_hours_text(message: Message, state: FSMContext, db: Database, clock: Clock, user: User) -> None:
    data = await state.get_data()
    await _ask_photos(message, data["rid"], validate.hours_to_minutes(message.text), state, db, clock, user)


async def _finish_report(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    data = await state.get_data()
    await _report(data, db, notices, clock, user)
    await state.clear()
    assert message.bot is not None
    await _tidy_task(message.bot, message.chat.id, data)


@router.message(Report.photos, F.photo)
async def got_photo(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    """A photo of the service: kept by its Telegram file id (its largest size); the third one ends the step."""
    data = await state.get_data()
    item = media.of_message(message, media.DONE)
    assert item is not None  # F.photo
    photos = [*(data.get("photos") or []), item["id"]]
    if len(photos) > media.MAX_DONE_PHOTOS:
        raise DomainError("too_many_photos")
    await state.update_data(photos=photos)
    if len(photos) == media.MAX_DONE_PHOTOS:
        await _finish_report(message, state, db, notices, clock, user)
        return
    await message.answer(
        _("Photo {n} received. Send another, or tap “Done”.").format(n=len(photos)),
        reply_markup=showcase_keyboards.photos_done(data["rid"]),
    )


@router.callback_query(Report.photos, PhotosCb.filter())
async def photos_over(
    query: CallbackQuery,
    callback_data: PhotosCb,
    state: FSMContext,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
) -> None:
    """跳过 / 完成: the report is made, with the photos sent so far."""
    if callback_data.rid != (await state.get_data()).get("rid"):
        raise DomainError("stale")
    await _finish_report(editable(query), state, db, notices, clock, user)
    await query.answer()
    await editable(query).edit_reply_markup(reply_markup=None)


@router.message(Report.photos)
async def photos_expected(message: Message, state: FSMContext) -> None:
    data = await state.get_data()
    markup = showcase_keyboards.photos_done if data.get("photos") else showcase_keyboards.photos_skip
    await message.answer(
        _("Please send a photo of the service, or tap the button below."), reply_markup=markup(data["rid"])
    )


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
        _("You rated request {number}: {stars}").format(number=texts.number(req), stars="⭐" * req.rating),
        reply_markup=request_keyboards.again(req.id, regular=req.regular_id is None),  # 再来一单
    )
    await origin(query).answer(
        _("Would you like to add a comment for the station? Send it now, or /skip."),
        # 公示: not agreed unless he taps it
        reply_markup=showcase_keyboards.consent(req.id) if showcase.enabled() else None,
    )


@router.callback_query(ShowcaseCb.filter(F.action == "agree"))
async def agree(query: CallbackQuery, callback_data: ShowcaseCb, db: Database, clock: Clock, user: User) -> None:
    """同意匿名公示: the resident agrees that the service is announced in the public channel, anonymised."""
    async with db.tx() as s:
        await showcase.agree(s, request_id=callback_data.id, user=user, now=clock.now())
    await query.answer(_("Thank you! The service may be announced anonymously."))
    await editable(query).edit_reply_markup(reply_markup=None)


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


@router.callback_query(ApproveCb.filter(F.action == "ok"), flags=PRIVATE_VIEW)
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


@router.callback_query(ApproveCb.filter(F.action == "fix"), flags=PRIVATE_VIEW)
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
