"""Residents' data: what is kept and for how long (the README's operator section of that name says it for people).

- A request's address and phone are cleared CONTACT_RETENTION_DAYS (default 30) after it was closed (hours
  approved), cancelled or not accepted; the request, its number, its events and the hours stay.
- Delivered outbox messages are deleted OUTBOX_KEEP_DAYS (default 7) after they were sent. Undelivered ones
  (failed: mostly people who blocked the bot) stay for /pending, their text blanked after as long.
- Both run once a day after 03:00 station time (`run_retention`, a timed job of scheduling/jobs.py; the day is
  taken in the station setting `retention.done_on`).
- /forget: a resident erases himself (`forget`). His requests that are not done are cancelled (the volunteer who
  took one is told, without the contact); the address, phone and comment of every request he placed for himself,
  and his name and username, are erased, with the outbox messages that carried them. What stays is anonymous:
  numbers, services, dates, ratings, events and the volunteers' hours and ledgers. 帮办 orders a helper placed
  for residents without Telegram are theirs, not the helper's: retention clears them, /forget does not touch them.
  A registered volunteer's record (name, phone, hours) is kept: service records must be (民政部令第67号).

Conversations in Redis expire a day after their last step (bot/app.py, FSM_TTL).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any, cast

from aiogram.utils.i18n import I18n
from sqlalchemy import CursorResult, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.requests import media
from bot.requests import service as requests
from bot.settings import Settings
from bot.wishes import service as wishes
from scheduling import occurrences
from storage.db import Database
from storage.models import OutboxMessage, RegularNeed, Request, RequestEvent, User, Volunteer

log = logging.getLogger(__name__)

CLOSED = (requests.APPROVED, requests.CANCELLED, requests.REJECTED)
RETENTION_HOUR = 3  # station time: the daily clearing runs at the first tick after 03:00
CLEARED, FORGOTTEN = "contact_cleared", "forgotten"  # RequestEvent kinds


def _count(result: Any) -> int:
    return int(cast("CursorResult[Any]", result).rowcount or 0)  # a DML statement's result is a CursorResult


async def clear_old_contacts(s: AsyncSession, *, now: dt.datetime, days: int) -> list[str]:
    """Clear the address and phone of requests closed, cancelled or rejected more than `days` ago; returns their
    numbers. A request's last change (updated_at) is when it was closed: nothing moves it after that but a comment."""
    rows = await s.execute(
        select(Request.id, Request.number).where(
            Request.status.in_(CLOSED),
            Request.updated_at < now - dt.timedelta(days=days),
            or_(Request.address.is_not(None), Request.phone.is_not(None)),
        )
    )
    found: list[tuple[int, str]] = [(request_id, number) for request_id, number in rows.all()]
    # a voice message or photo given at the address step is private like the address: its file id goes too
    with_media = await s.execute(
        select(Request).where(
            Request.status.in_(CLOSED),
            Request.updated_at < now - dt.timedelta(days=days),
            Request.media.is_not(None),
        )
    )
    for req in with_media.scalars():
        items = media.loads(req.media)
        kept = [item for item in items if item.get("step") != media.ADDRESS]
        if kept != items:
            req.media = media.dumps(kept)
            if req.id not in {request_id for request_id, _number in found}:
                found.append((req.id, req.number))
    if not found:
        return []
    ids = [request_id for request_id, _number in found]
    await s.execute(
        update(Request)
        .where(Request.id.in_(ids))
        .values(address=None, phone=None)
        .execution_options(synchronize_session=False)
    )
    s.add_all(RequestEvent(request_id=i, actor_id=None, kind=CLEARED, created_at=now) for i in ids)
    return [number for _id, number in found]


@dataclass
class Pruned:
    deleted: int  # delivered messages deleted
    blanked: int  # undelivered messages whose text was blanked (the row stays for /pending)


async def prune_outbox(s: AsyncSession, *, now: dt.datetime, days: int) -> Pruned:
    """Delete messages delivered more than `days` ago; blank the text of failed ones as old. Pending ones stay.
    A card's chats and message stay known by its RequestCard / ActivityCard row (Outbox.sent_chats)."""
    cutoff = now - dt.timedelta(days=days)
    deleted = await s.execute(
        delete(OutboxMessage).where(OutboxMessage.status == "sent", OutboxMessage.sent_at < cutoff)
    )
    blanked = await s.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "failed", OutboxMessage.created_at < cutoff, OutboxMessage.text != "")
        .values(text="", markup=None)
        .execution_options(synchronize_session=False)
    )
    return Pruned(_count(deleted), _count(blanked))


# /forget ---------------------------------------------------------------------------------------------------


@dataclass
class Forgotten:
    cancelled: list[str] = field(default_factory=list)  # numbers of the requests cancelled
    erased: int = 0  # requests whose details were erased
    volunteer: bool = False  # a registered volunteer: his volunteer record is kept


@dataclass
class Preview:
    waiting: int  # requests /forget would cancel
    volunteer: bool  # his volunteer record would be kept


async def preview(s: AsyncSession, user_id: int) -> Preview:
    """What /forget would do, for its confirmation."""
    return Preview(len(await open_requests(s, user_id)), await s.get(Volunteer, user_id) is not None)


async def open_requests(s: AsyncSession, user_id: int) -> list[Request]:
    """The requests a resident placed for himself that are not done yet: what /forget cancels."""
    rows = await s.execute(
        select(Request)
        .where(Request.resident_id == user_id, Request.proxy_for.is_(None), Request.status.in_(requests.ACTIVE))
        .order_by(Request.id)
    )
    return list(rows.scalars())


async def forget(s: AsyncSession, notices: requests.Notices, *, user: User, now: dt.datetime) -> Forgotten:
    """/forget, confirmed by `user` himself: see the module's docstring."""
    out = Forgotten(volunteer=await s.get(Volunteer, user.id) is not None)
    for req in await open_requests(s, user.id):
        await requests.cancel(s, notices, request_id=req.id, user=user, now=now)
        out.cancelled.append(req.number)
    mine = list(
        (
            await s.execute(
                select(Request).where(Request.resident_id == user.id, Request.proxy_for.is_(None)).order_by(Request.id)
            )
        ).scalars()
    )
    for req in mine:
        # his voice messages and photos too (their file ids: nothing of them was ever on our disk)
        private = [v for v in (req.address, req.phone, req.rating_comment) if v]
        private += [item["id"] for item in media.loads(req.media)]
        if private:
            await _drop_messages_carrying(s, req.number, private)
        req.address = req.phone = req.rating_comment = req.media = None
        s.add(RequestEvent(request_id=req.id, actor_id=user.id, kind=FORGOTTEN, created_at=now))
    out.erased = len(mine)
    needs = await s.execute(select(RegularNeed).where(RegularNeed.resident_id == user.id))
    for need in needs.scalars():  # his regular needs stop, and their address, phone and voice are erased
        need.active = False
        need.address = need.phone = need.media = None
    await wishes.forget(s, user.id)  # 微心愿: the phone and photo he gave with his wishes
    row = await s.get(User, user.id)
    if row is not None:  # Telegram sends a name again with each message: he is then someone new to the bot
        row.full_name, row.username = "", None
    return out


async def _drop_messages_carrying(s: AsyncSession, number: str, values: list[str]) -> None:
    """Outbox messages about request `number` that carry one of `values` (its address, phone, comment): delivered
    or still waiting ones are deleted (the request is cancelled or long done), undelivered ones blanked."""
    about = and_(
        OutboxMessage.text.contains(number, autoescape=True),
        or_(*(OutboxMessage.text.contains(v, autoescape=True) for v in values)),
    )
    await s.execute(
        delete(OutboxMessage)
        .where(about, OutboxMessage.status.in_(("sent", "pending")))
        .execution_options(synchronize_session=False)
    )
    await s.execute(
        update(OutboxMessage)
        .where(about, OutboxMessage.status == "failed")
        .values(text="", markup=None)
        .execution_options(synchronize_session=False)
    )


# the daily job ---------------------------------------------------------------------------------------------

DONE_ON = "retention.done_on"  # StationSetting: the station day (ISO date) of the last run


async def run_retention(
    db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str
) -> list[str]:
    """Once a station day, at the first tick after RETENTION_HOUR: clear old contacts (requests' and 微心愿's),
    prune the outbox.

    The day is taken (`claim_day`) in the transaction that does the work, so one process does it once a day; a day
    missed is made up by the next (the rules look at ages, not at days). It sends nothing, so it claims no
    occurrence and returns no keys."""
    day = await occurrences.daily_due(db, now, settings.tz, RETENTION_HOUR, DONE_ON)
    if day is None:
        return []
    async with db.tx() as s:
        if not await occurrences.claim_day(s, day, DONE_ON):
            return []
        cleared = await clear_old_contacts(s, now=now, days=settings.contact_retention_days)
        wishes_cleared = await wishes.clear_old_contacts(s, now=now, days=settings.contact_retention_days)
        pruned = await prune_outbox(s, now=now, days=settings.outbox_keep_days)
    log.info(
        "retention of %s (%s): contacts cleared from %d requests and %d wishes, %d sent messages deleted, "
        "%d failed ones blanked",
        day.isoformat(),
        claimed_by,
        len(cleared),
        wishes_cleared,
        pruned.deleted,
        pruned.blanked,
    )
    return []
