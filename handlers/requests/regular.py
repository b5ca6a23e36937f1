"""再来一单 (a past request again, a new day in three taps), regular needs (/regular, made from a past request,
skipped once, stopped), and the previous volunteer's answer when the next occurrence is offered to him first."""

from __future__ import annotations

import datetime as dt

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.requests import keyboards as request_keyboards
from bot.requests import media, regular
from bot.requests import service as requests
from bot.requests import texts as request_texts
from bot.requests.keyboards import AgainCb, RegularCb
from bot.settings import Settings
from bot.ui import texts
from bot.ui.private import PRIVATE_VIEW
from bot.ui.tapped import editable, origin
from bot.ui.wizard import Turn
from handlers.requests.order import WIZARD
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import Service, User

router = Blueprint(name="regular")


# 再来一单 ------------------------------------------------------------------------------------------------------


@router.callback_query(AgainCb.filter())
async def again(query: CallbackQuery, callback_data: AgainCb, state: FSMContext, **deps) -> None:
    """The same service, need (text or voice), area, address and phone: only the day and the time are asked, then
    the summary (where anything may still be changed)."""
    user: User = deps["user"]
    async with deps["db"].read() as s:
        req = await requests.get(s, callback_data.rid)
        if req.resident_id != user.id:
            raise DomainError("not_your_request")
        service = await s.get(Service, req.service_id)
        if service is None or not service.active:
            raise DomainError("no_service", ref=req.service_id)
        if not req.proxy_for:
            await requests.check_open_limit(s, user, deps["settings"].max_open_requests)
    await state.clear()
    await state.update_data(
        service_id=req.service_id,
        description=req.description,
        media=media.ordered(media.loads(req.media)),
        area=req.area,
        address=req.address,
        phone=req.phone,
        proxy_for=req.proxy_for,
        again=True,
    )
    await query.answer()
    await origin(query).answer(
        _("🔁 Request {number} again: {service}, {need}. Please choose the day and the time.").format(
            number=texts.number(req),
            service=texts.service_name(service, user.locale),
            need=media.described(req.description, media.loads(req.media)),
        )
    )
    await WIZARD.ask(Turn(origin(query), state, deps), "day")


# making a request regular ----------------------------------------------------------------------------------


@router.callback_query(RegularCb.filter(F.action == "ask"))
async def regular_ask(query: CallbackQuery, callback_data: RegularCb, db: Database, user: User) -> None:
    async with db.read() as s:
        req = await requests.get(s, callback_data.rid)
    if req.resident_id != user.id:
        raise DomainError("not_your_request")
    await query.answer()
    await origin(query).answer(
        _("How often do you need request {number}? At the same time of day, until you stop it.").format(
            number=texts.number(req)
        ),
        reply_markup=request_keyboards.regular_every(req.id),
    )


@router.callback_query(RegularCb.filter(F.action == "make"))
async def regular_make(
    query: CallbackQuery, callback_data: RegularCb, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    async with db.tx() as s:
        need = await regular.make(
            s, request_id=callback_data.rid, user=user, every=callback_data.value, now=clock.now(), tz=settings.tz
        )
        service = texts.service_name(await s.get(Service, need.service_id), user.locale)
    await query.answer()
    await editable(query).edit_text(
        _(
            "📅 Done: {line}. I will place each one {days} days before and tell you; one tap skips a time. "
            "/regular shows and stops it."
        ).format(line=request_texts.regular_line(need, service), days=settings.regular_lead_days),
        reply_markup=request_keyboards.regular_until(need.id),
    )


@router.callback_query(RegularCb.filter(F.action == "until"))
async def regular_until(
    query: CallbackQuery, callback_data: RegularCb, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    if callback_data.value not in ("1", "3", "6"):
        raise DomainError("stale")
    today = clock.now().astimezone(settings.tz).date()
    async with db.tx() as s:
        need = await regular.set_until(
            s,
            need_id=callback_data.rid,
            user=user,
            until=regular.months_ahead(today, int(callback_data.value)),
            today=today,
        )
        service = texts.service_name(await s.get(Service, need.service_id), user.locale)
        line = request_texts.regular_line(need, service)
    await query.answer()
    await editable(query).edit_text(_("📅 Changed: {line}.").format(line=line))


# /regular ------------------------------------------------------------------------------------------------------


@router.message(Command("regular"), flags=PRIVATE_VIEW)
async def list_regular(message: Message, db: Database, clock: Clock, settings: Settings, user: User) -> None:
    today = clock.now().astimezone(settings.tz).date()
    async with db.read() as s:
        needs = await regular.of_resident(s, user.id)
        shown = []
        for need in needs:
            service = texts.service_name(await s.get(Service, need.service_id), user.locale)
            shown.append((need, service, await regular.next_open_day(s, need, today)))
    if not shown:
        await message.answer(
            _("You have no regular needs. On /my, tap “Make it regular” under a request to repeat it.")
        )
        return
    await message.answer(_("Your regular needs:"))
    for need, service, next_day in shown:
        line = request_texts.regular_line(need, service)
        if next_day is not None:
            line += "\n" + _("Next not yet placed: {day}").format(day=texts.fmt_day(next_day))
        await message.answer(
            line,
            reply_markup=request_keyboards.regular_need(
                need.id, need.same_volunteer, next_day.isoformat() if next_day else None
            ),
        )


@router.callback_query(RegularCb.filter(F.action == "stop"))
async def regular_stop(query: CallbackQuery, callback_data: RegularCb, db: Database, user: User) -> None:
    async with db.tx() as s:
        await regular.stop(s, need_id=callback_data.rid, user=user)
    await query.answer(_("Stopped. No further requests will be placed."))
    await editable(query).edit_reply_markup(reply_markup=None)


@router.callback_query(RegularCb.filter(F.action == "same"))
async def regular_same(
    query: CallbackQuery, callback_data: RegularCb, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    async with db.tx() as s:
        need = await regular.toggle_same_volunteer(s, need_id=callback_data.rid, user=user)
        next_day = await regular.next_open_day(s, need, clock.now().astimezone(settings.tz).date())
        markup = request_keyboards.regular_need(
            need.id, need.same_volunteer, next_day.isoformat() if next_day else None
        )
        same = need.same_volunteer
    await query.answer(
        _("The volunteer of the last visit will be asked first.")
        if same
        else _("Each time goes straight to the team's group.")
    )
    await editable(query).edit_reply_markup(reply_markup=markup)


@router.callback_query(RegularCb.filter(F.action == "skip"))
async def regular_skip(
    query: CallbackQuery,
    callback_data: RegularCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    settings: Settings,
    user: User,
) -> None:
    try:
        day = dt.date.fromisoformat(callback_data.value)
    except ValueError:
        raise DomainError("stale") from None
    async with db.tx() as s:
        await regular.skip(
            s, notices.requests, need_id=callback_data.rid, day=day, user=user, now=clock.now(), tz=settings.tz
        )
    await query.answer(_("All right, not this time ({day}).").format(day=texts.fmt_day(day)))
    await editable(query).edit_reply_markup(reply_markup=None)


# the previous volunteer, offered the next occurrence first ---------------------------------------------------


@router.callback_query(RegularCb.filter(F.action == "take"))
async def offer_take(
    query: CallbackQuery, callback_data: RegularCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        req = await regular.take_offer(s, notices.requests, request_id=callback_data.rid, user=user, now=clock.now())
    await query.answer(_("You took request {number}. Thank you!").format(number=texts.number(req)))
    await editable(query).edit_reply_markup(reply_markup=None)


@router.callback_query(RegularCb.filter(F.action == "pass"))
async def offer_pass(
    query: CallbackQuery, callback_data: RegularCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        await regular.pass_offer(s, notices.requests, request_id=callback_data.rid, user=user, now=clock.now())
    await query.answer(_("All right, it goes to the team's group."))
    await editable(query).edit_reply_markup(reply_markup=None)
