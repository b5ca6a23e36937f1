"""What each role sees: /my (residents), /claims (volunteers), /pending and /history (coordinators),
and cancelling a request with a confirmation."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy import select

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.notices import Notices
from bot.org import service as org
from bot.outbox import delivery
from bot.people import service as people
from bot.requests import keyboards as request_keyboards
from bot.requests import regular
from bot.requests import service as requests
from bot.requests import texts as request_texts
from bot.requests.keyboards import CancelCb
from bot.settings import Settings
from bot.showcase import service as showcase
from bot.ui import texts
from bot.ui.private import PRIVATE_VIEW
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import Request, Service, User, Volunteer

router = Blueprint(name="views")


def _line(req: Request, settings: Settings) -> str:
    return (
        f"{texts.number(req)} · {texts.fmt_window(req.window_start, req.window_end, settings.tz)} · "
        f"{req.area} · {texts.status_name(req.status)}"
    )


@router.message(Command("my"), flags=PRIVATE_VIEW)  # its cancel buttons work in private only
@router.message(F.chat.type == "private", F.text == __("📋 My requests"))
async def my_requests(message: Message, db: Database, settings: Settings, user: User) -> None:
    async with db.read() as s:
        mine = await requests.of_resident(s, user.id)
    if not mine:
        await message.answer(_("You have no requests yet. Send /request to place one."))
        return
    await message.answer(_("Your requests:"))
    for req in mine:
        rows = request_keyboards.cancel_ask(req.id).inline_keyboard if req.status in requests.ACTIVE else []
        again = request_keyboards.again(req.id, regular=req.regular_id is None)  # 再来一单, 定期
        kb = InlineKeyboardMarkup(inline_keyboard=[*rows, *again.inline_keyboard])
        await message.answer(_line(req, settings), reply_markup=kb)


@router.message(Command("claims"), flags=PRIVATE_VIEW)
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


@router.message(Command("pending"), flags=PRIVATE_VIEW)
async def pending(message: Message, db: Database, settings: Settings, user: User) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        queue = await requests.queue(s, user)
    lines = []
    for status, reqs in queue.items():
        lines.append(f"{PENDING_TITLES[status]} ({len(reqs)})")
        lines += ["  " + _line(req, settings) for req in reqs]
    async with db.read() as s:
        needs = await regular.all_active(s)
        lines.append(_("Regular needs ({count})").format(count=len(needs)))
        for need in needs:
            service = texts.service_name(await s.get(Service, need.service_id), user.locale)
            lines.append("  " + request_texts.regular_line(need, service))
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
    "to_review": __("back to review: its team was archived"),
    requests.CONTACT: __("received the address and phone"),
    requests.RELEASE_ASKED: __("asked a coordinator to release it"),
    requests.RELEASE_KEPT: __("asked the volunteer to keep it"),
    "contact_cleared": __("address and phone cleared: their keeping period is over"),  # bot/requests/privacy.py
    "forgotten": __("the resident's details erased at his request (/forget)"),
    "regular": __("made a regular need"),
    requests.ESCALATED: __("not taken in time: offered one level up"),
    requests.TRANSFERRED: __("handed on (转派)"),
    showcase.CONSENT: __("agreed to anonymous 公示"),
}
FOR_VOLUNTEER = ("released", requests.RELEASE_KEPT)
HOPS = (
    requests.ESCALATED,
    requests.TRANSFERRED,
)  # each hop of the request: to whom (and why, by hand)  # a coordinator's answer: the detail is the volunteer's id


@router.message(Command("history"), flags=PRIVATE_VIEW)
async def history(
    message: Message, command: CommandObject, db: Database, settings: Settings, notices: Notices, user: User
) -> None:
    if not command.args:
        raise DomainError("usage", usage=_("/history NUMBER, for example /history 2026-0001"))
    async with db.read() as s:
        req = await requests.by_number(s, command.args)
        if not await requests.can_see(s, req, user):
            raise DomainError("not_your_request")
        events = await requests.history(s, req)
        private = user.id == req.resident_id or await org.covers_request(s, user, req)
        summary = await notices.requests.summary(s, req, private=private)
        actors = {e.actor_id for e in events} | {
            int(e.detail) for e in events if e.kind in FOR_VOLUNTEER and e.detail and e.detail.isdigit()
        }
        names: dict[int | None, str] = {
            u.id: u.full_name for u in (await s.execute(select(User).where(User.id.in_(actors)))).scalars()
        }
        names |= {
            v.user_id: v.name
            for v in (await s.execute(select(Volunteer).where(Volunteer.user_id.in_(actors)))).scalars()
        }
    lines = [summary, "", _("History:")]
    for event in events:
        if event.actor_id is None:
            who = _("automatic")
        elif event.actor_id == req.resident_id:
            who = _("resident")
        else:
            who = names.get(event.actor_id, str(event.actor_id))
        detail = ""
        if event.kind in ("rejected", "approved", "corrected", "cancelled", *HOPS) and event.detail:
            detail = f": {event.detail}"
        elif event.kind == "reported" and event.detail and "photos=" in event.detail:  # with photos of the service
            detail = ": " + _("{count} photo(s)").format(count=event.detail.rsplit("photos=", 1)[1])
        elif event.kind in FOR_VOLUNTEER and event.detail and event.detail.isdigit():  # for the volunteer
            detail = ": " + _("for {name}").format(name=names.get(int(event.detail), event.detail))
        lines.append(
            f"{texts.fmt_time(event.created_at, settings.tz)} {EVENT_NAMES.get(event.kind, event.kind)} ({who})"
            + detail
        )
    await answer_long(message, "\n".join(lines))


# Cancelling ----------------------------------------------------------------------------------------


@router.message(Command("cancelreq"), flags=PRIVATE_VIEW)
async def cancel_by_number(message: Message, command: CommandObject, db: Database, user: User) -> None:
    if not command.args:
        raise DomainError("usage", usage=_("/cancelreq NUMBER"))
    async with db.read() as s:
        req = await requests.by_number(s, command.args.split()[0])
        await requests.check_may_cancel(s, req, user)
    await message.answer(
        _("Cancel request {number}? Everyone involved will be told.").format(number=texts.number(req)),
        reply_markup=request_keyboards.cancel_confirm(req.id),
    )


async def _own_cancel_button(query: CallbackQuery, callback_data: CancelCb, db: Database, user: User) -> None:
    """The cancel buttons belong to whoever may cancel the request (its resident, or a coordinator after
    /cancelreq), in his private chat: a stranger's forged button must not touch another chat's message."""
    async with db.read() as s:
        req = await requests.get(s, callback_data.rid)
        await requests.check_may_cancel(s, req, user)
    if origin(query).chat.id != user.id:
        raise DomainError("private_only")


@router.callback_query(CancelCb.filter(F.action == "ask"))
async def cancel_ask(query: CallbackQuery, callback_data: CancelCb, db: Database, user: User) -> None:
    await _own_cancel_button(query, callback_data, db, user)
    await editable(query).edit_reply_markup(reply_markup=request_keyboards.cancel_confirm(callback_data.rid))
    await query.answer()


@router.callback_query(CancelCb.filter(F.action == "yes"))
async def cancel_yes(
    query: CallbackQuery, callback_data: CancelCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    await _own_cancel_button(query, callback_data, db, user)
    async with db.tx() as s:
        req = await requests.cancel(s, notices.requests, request_id=callback_data.rid, user=user, now=clock.now())
    await query.answer(_("Request {number} cancelled.").format(number=texts.number(req)))
    await editable(query).edit_reply_markup(reply_markup=None)


@router.callback_query(CancelCb.filter(F.action == "no"))
async def cancel_no(query: CallbackQuery, callback_data: CancelCb, db: Database, user: User) -> None:
    await _own_cancel_button(query, callback_data, db, user)
    await query.answer(_("Nothing was changed."))
    await editable(query).edit_reply_markup(reply_markup=None)
