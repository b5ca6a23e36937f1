"""What each role sees: /my (residents), /claims (volunteers), /pending and /history (coordinators),
and cancelling a request with a confirmation."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy import select

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.notices import Notices
from bot.outbox import delivery
from bot.people import service as people
from bot.requests import keyboards as request_keyboards
from bot.requests import service as requests
from bot.requests.keyboards import CancelCb
from bot.settings import Settings
from bot.ui import texts
from bot.ui.tapped import editable
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import Request, User, Volunteer

router = Blueprint(name="views")


def _line(req: Request, settings: Settings) -> str:
    return (
        f"{texts.number(req)} · {texts.fmt_window(req.window_start, req.window_end, settings.tz)} · "
        f"{req.area} · {texts.status_name(req.status)}"
    )


@router.message(Command("my"))
@router.message(F.chat.type == "private", F.text == __("📋 My requests"))
async def my_requests(message: Message, db: Database, settings: Settings, user: User) -> None:
    async with db.read() as s:
        mine = await requests.of_resident(s, user.id)
    if not mine:
        await message.answer(_("You have no requests yet. Send /request to place one."))
        return
    await message.answer(_("Your requests:"))
    for req in mine:
        kb = request_keyboards.cancel_ask(req.id) if req.status in requests.ACTIVE else None
        await message.answer(_line(req, settings), reply_markup=kb)


@router.message(Command("claims"))
async def my_claims(message: Message, db: Database, settings: Settings, user: User) -> None:
    async with db.read() as s:
        if await s.get(Volunteer, user.id) is None:
            raise DomainError("not_volunteer")
        claims = await requests.of_claimer(s, user.id)
        total = await ledger.totals(s, user.id)
    lines = [
        _("Approved so far: {hours} h, {points} points.").format(hours=texts.hours(total.minutes), points=total.points)
    ]
    if claims:
        lines += ["", _("Requests you took:")] + [_line(req, settings) for req in claims]
    else:
        lines.append(_("You have not taken any request yet."))
    await answer_long(message, "\n".join(lines))


async def answer_long(message: Message, text: str) -> None:
    for piece in texts.chunks(text):
        await message.answer(piece)


PENDING_TITLES = {
    requests.REVIEW: __("To review"),
    requests.OPEN: __("Waiting for a volunteer"),
    requests.CLAIMED: __("Taken"),
    requests.DONE: __("Done, waiting for the resident"),
    requests.CONFIRMED: __("Waiting for your approval"),
}


@router.message(Command("pending"))
async def pending(message: Message, db: Database, settings: Settings, user: User) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        queue = await requests.queue(s, user)
    lines = []
    for status, reqs in queue.items():
        lines.append(f"{PENDING_TITLES[status]} ({len(reqs)})")
        lines += ["  " + _line(req, settings) for req in reqs]
    async with db.read() as s:
        blocked = await delivery.blocked_recipients(s, user)
    if blocked:  # they blocked the bot: a coordinator has to reach them another way
        lines.append(_("Blocked the bot, messages not delivered ({count}):").format(count=len(blocked)))
        lines += [
            "  " + _("{name} (id {id}): {n} not delivered").format(name=b.name, id=b.user_id, n=b.messages)
            for b in blocked
        ]
    await answer_long(message, "\n".join(lines))


EVENT_NAMES = {
    "placed": __("placed"),
    "dispatched": __("dispatched"),
    "rejected": __("rejected"),
    "claimed": __("taken"),
    "released": __("released"),
    "reported": __("reported done"),
    "confirmed": __("confirmed and rated"),
    "commented": __("commented"),
    "approved": __("hours approved"),
    "corrected": __("hours corrected and approved"),
    "cancelled": __("cancelled"),
    "coming": __("confirmed coming"),
    "not_held": __("said it did not take place"),  # answers to reminders
}


@router.message(Command("history"))
async def history(
    message: Message, command: CommandObject, db: Database, settings: Settings, notices: Notices, user: User
) -> None:
    if not command.args:
        raise DomainError("usage", usage=_("/history NUMBER, for example /history 2026-0001"))
    async with db.read() as s:
        req = await requests.by_number(s, command.args)
        if not requests.can_see(req, user):
            raise DomainError("not_your_request")
        events = await requests.history(s, req)
        summary = await notices.requests.summary(
            s, req, private=people.is_coordinator(user) or user.id == req.resident_id
        )
        actors = {e.actor_id for e in events}
        names: dict[int | None, str] = {
            u.id: u.full_name for u in (await s.execute(select(User).where(User.id.in_(actors)))).scalars()
        }
        names |= {
            v.user_id: v.name
            for v in (await s.execute(select(Volunteer).where(Volunteer.user_id.in_(actors)))).scalars()
        }
    lines = [summary, "", _("History:")]
    for event in events:
        who = _("resident") if event.actor_id == req.resident_id else names.get(event.actor_id, str(event.actor_id))
        lines.append(
            f"{texts.fmt_time(event.created_at, settings.tz)} {EVENT_NAMES.get(event.kind, event.kind)} "
            f"({who})"
            + (
                f": {event.detail}"
                if event.kind in ("rejected", "approved", "corrected", "cancelled") and event.detail
                else ""
            )
        )
    await answer_long(message, "\n".join(lines))


# Cancelling ----------------------------------------------------------------------------------------


@router.message(Command("cancelreq"))
async def cancel_by_number(message: Message, command: CommandObject, db: Database, user: User) -> None:
    if not command.args:
        raise DomainError("usage", usage=_("/cancelreq NUMBER"))
    async with db.read() as s:
        req = await requests.by_number(s, command.args.split()[0])
    if req.resident_id != user.id:
        people.require_coordinator(user)
    await message.answer(
        _("Cancel request {number}? Everyone involved will be told.").format(number=texts.number(req)),
        reply_markup=request_keyboards.cancel_confirm(req.id),
    )


@router.callback_query(CancelCb.filter(F.action == "ask"))
async def cancel_ask(query: CallbackQuery, callback_data: CancelCb) -> None:
    await editable(query).edit_reply_markup(reply_markup=request_keyboards.cancel_confirm(callback_data.rid))
    await query.answer()


@router.callback_query(CancelCb.filter(F.action == "yes"))
async def cancel_yes(
    query: CallbackQuery, callback_data: CancelCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        req = await requests.cancel(s, notices.requests, request_id=callback_data.rid, user=user, now=clock.now())
    await query.answer(_("Request {number} cancelled.").format(number=texts.number(req)))
    await editable(query).edit_reply_markup(reply_markup=None)


@router.callback_query(CancelCb.filter(F.action == "no"))
async def cancel_no(query: CallbackQuery) -> None:
    await query.answer(_("Nothing was changed."))
    await editable(query).edit_reply_markup(reply_markup=None)
