"""Timed follow-ups of claimed requests (a job of scheduling.jobs), and the volunteer's answers to them.

- An hour before its time window starts, the volunteer who took a request is reminded of it, with the details
  he already has (address and phone included) and the buttons "I am coming" / "Release"
  (`followup:remind:<id>`). Only if he took it before that moment: whoever takes it later has just read them.
- When the window has ended and the request is still not reported done, the volunteer is asked, with the
  buttons "Service done" / "It did not take place" (`followup:overdue:<id>:1`); a day after that question,
  if still not reported, the coordinators are told (`followup:overdue:<id>:2`).
- Nothing is sent between 22:00 and 07:00 station time: a question waits until 07:00, a reminder that would
  fall in the night comes at 21:00 the evening before instead (a reminder after the start is no use).

Each is an occurrence claimed once by key, in the transaction that re-checks the request and queues the message.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import StoppedClock
from bot.core.errors import DomainError
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox
from bot.requests.followups import DAY_START, NIGHT_START, not_at_night
from bot.requests.notices import RequestNotices
from bot.requests.service import CLAIMED, get, why_not
from bot.settings import Settings
from scheduling.occurrences import QUEUED, claim_in
from storage.db import Database
from storage.models import Occurrence, Request, RequestEvent, User

log = logging.getLogger(__name__)

REMIND_BEFORE = dt.timedelta(hours=1)
ESCALATE_AFTER = dt.timedelta(days=1)
EVENING = dt.time(NIGHT_START - 1)  # 21:00: a night-time reminder comes the evening before


def remind_key(request_id: int) -> str:
    return f"followup:remind:{request_id}"


def overdue_key(request_id: int, step: int) -> str:
    return f"followup:overdue:{request_id}:{step}"


def before_night(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """`at`, or 21:00 station time before it when `at` falls between 22:00 and 07:00."""
    local = at.astimezone(tz)
    if DAY_START <= local.hour < NIGHT_START:
        return at
    day = local.date() if local.hour >= NIGHT_START else local.date() - dt.timedelta(days=1)
    return dt.datetime.combine(day, EVENING, tzinfo=tz).astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class _Due:
    key: str
    due_at: dt.datetime
    request_id: int


async def _due(db: Database, tz: ZoneInfo, now: dt.datetime) -> list[_Due]:
    async with db.read() as s:
        rows = (
            await s.execute(
                select(Request.id, Request.window_start, Request.window_end, Request.claimed_at).where(
                    Request.status == CLAIMED
                )
            )
        ).all()
        keys = [k for rid, *_rest in rows for k in (remind_key(rid), overdue_key(rid, 1), overdue_key(rid, 2))]
        claimed: dict[str, dt.datetime] = {}
        for chunk in range(0, len(keys), 500):
            found = await s.execute(
                select(Occurrence.key, Occurrence.claimed_at).where(Occurrence.key.in_(keys[chunk : chunk + 500]))
            )
            claimed.update({key: at for key, at in found.all()})
    out: list[_Due] = []
    for rid, start, end, claimed_at in rows:
        if now < start:
            due = before_night(start - REMIND_BEFORE, tz)
            if remind_key(rid) not in claimed and claimed_at is not None and claimed_at <= due:
                out.append(_Due(remind_key(rid), due, rid))
        elif end <= now:
            if overdue_key(rid, 1) not in claimed:
                out.append(_Due(overdue_key(rid, 1), not_at_night(end, tz), rid))
            elif overdue_key(rid, 2) not in claimed:
                out.append(
                    _Due(overdue_key(rid, 2), not_at_night(claimed[overdue_key(rid, 1)] + ESCALATE_AFTER, tz), rid)
                )
    return [d for d in out if d.due_at <= now]


async def run_reminders(
    db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str
) -> list[str]:
    """Claim and queue every reminder and overdue question due at `now`; returns the keys this call claimed."""
    outbox = Outbox(i18n, settings.tz, settings.default_locale, StoppedClock(now))
    notices = RequestNotices(outbox, LedgerNotices(outbox), settings.points_per_hour)
    done: list[str] = []
    for item in await _due(db, settings.tz, now):
        async with db.tx() as s:
            req = await s.get(Request, item.request_id)
            if req is None or req.status != CLAIMED or req.claimer_id is None:  # reported or released since
                continue
            if not await claim_in(s, item.key, item.due_at, now, status=QUEUED, claimed_by=claimed_by):
                continue  # another process sent it
            if item.key.startswith("followup:remind:"):
                await notices.reminder(s, req)
            elif item.key.endswith(":1"):
                await notices.overdue(s, req)
            else:
                await notices.overdue_escalated(s, req)
        done.append(item.key)
        log.info("follow-up %s queued", item.key)
    return done


# the volunteer's answers ------------------------------------------------------------------------------


def _mine(req: Request, user: User) -> None:
    if req.claimer_id != user.id:
        raise DomainError("not_your_claim")
    if req.status != CLAIMED:
        raise DomainError(why_not(req.status))


async def coming(s: AsyncSession, notices: RequestNotices, *, request_id: int, user: User, now: dt.datetime) -> Request:
    """ "I am coming": the resident hears it once (the occurrence key makes a second tap a no-op)."""
    req = await get(s, request_id)
    _mine(req, user)
    if await claim_in(s, f"followup:coming:{req.id}:{user.id}", now, now):
        s.add(RequestEvent(request_id=req.id, actor_id=user.id, kind="coming", created_at=now))
        await notices.coming(s, req, user.id)
    return req


async def not_held(
    s: AsyncSession, notices: RequestNotices, *, request_id: int, user: User, now: dt.datetime
) -> Request:
    """ "It did not take place": the coordinators hear it now, once, instead of a day later."""
    req = await get(s, request_id)
    _mine(req, user)
    if now < req.window_start:
        raise DomainError("not_started")
    if await claim_in(s, f"followup:missed:{req.id}:{user.id}", now, now):
        await claim_in(s, overdue_key(req.id, 2), now, now)  # the day-later escalation is not needed any more
        s.add(RequestEvent(request_id=req.id, actor_id=user.id, kind="not_held", created_at=now))
        await notices.not_held(s, req, user.id)
    return req
