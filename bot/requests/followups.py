"""Timed follow-ups of requests, checked by Scheduler.run_due every minute.

- An `open` request nobody has taken UNCLAIMED_AFTER_HOURS after it was sent to the volunteers (placed,
  dispatched after review, handed on, or released by its volunteer) is offered one level up when a level above
  its team serves its service (the 所's team, then the 中心's: requests.escalate), else posted again to its team's
  groups, and the coordinators are told (`followup:unclaimed:<id>:1`); as many hours after that, it goes up
  again, or the coordinators hear it is still not taken (`followup:unclaimed:<id>:2`). Neither is sent between
  22:00 and 07:00 station time: it waits
  until 07:00.
- A `done` request the resident has not confirmed within 72 h of the report goes to the coordinators with the
  approve buttons (`followup:unrated:<id>:1`); requests.approve then accepts it without a rating.

Each follow-up is an occurrence claimed once by key (scheduling.occurrences), in the transaction that re-checks
the request and queues its messages, so several processes and overlapping ticks send it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from sqlalchemy import func, select

from bot.core.clock import StoppedClock
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox
from bot.people.service import team_chats
from bot.requests.notices import RequestNotices
from bot.requests.service import DONE, OPEN, TRANSFERRED, UNRATED_AFTER, escalate, unrated_overdue
from bot.settings import Settings
from scheduling.occurrences import QUEUED, claim_in
from storage.db import Database
from storage.models import Occurrence, Request, RequestEvent

log = logging.getLogger(__name__)

NIGHT_START, DAY_START = 22, 7  # station-local hours: no follow-up from 22:00 until 07:00
SENT_EVENTS = ("dispatched", "released", TRANSFERRED)  # events after which a request waits for a volunteer again


def unclaimed_key(request_id: int, step: int) -> str:
    return f"followup:unclaimed:{request_id}:{step}"


def unrated_key(request_id: int) -> str:
    return f"followup:unrated:{request_id}:1"


def not_at_night(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """`at`, or 07:00 station time after it when `at` falls between 22:00 and 07:00."""
    local = at.astimezone(tz)
    if DAY_START <= local.hour < NIGHT_START:
        return at
    day = local.date() + dt.timedelta(days=1) if local.hour >= NIGHT_START else local.date()
    return dt.datetime.combine(day, dt.time(DAY_START), tzinfo=tz).astimezone(dt.timezone.utc)


@dataclass(frozen=True)
class _Due:
    key: str
    due_at: dt.datetime
    request_id: int
    since: dt.datetime  # when the request was (last) sent to the volunteers; for unrated: reported_at


async def _due(db: Database, period: dt.timedelta, tz: ZoneInfo, now: dt.datetime) -> list[_Due]:
    out: list[_Due] = []
    async with db.read() as s:
        open_rows = (
            await s.execute(
                select(Request.id, Request.created_at).where(
                    Request.status == OPEN,
                    Request.created_at <= now - period,
                    Request.window_end > now,
                    Request.offered_to.is_(None),  # a regular need's occurrence offered to its last volunteer
                )
            )
        ).all()
        sent: dict[int, dt.datetime] = {rid: created for rid, created in open_rows}
        if sent:
            events = await s.execute(
                select(RequestEvent.request_id, func.max(RequestEvent.created_at))
                .where(RequestEvent.request_id.in_(sent), RequestEvent.kind.in_(SENT_EVENTS))
                .group_by(RequestEvent.request_id)
            )
            for rid, at in events.all():
                if at is not None:
                    at = at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
                    sent[rid] = max(sent[rid], at)
        unrated_rows = (
            await s.execute(
                select(Request.id, Request.reported_at).where(
                    Request.status == DONE, Request.reported_at <= now - UNRATED_AFTER
                )
            )
        ).all()
        keys = [unclaimed_key(rid, step) for rid in sent for step in (1, 2)] + [
            unrated_key(rid) for rid, _ in unrated_rows
        ]
        claimed: dict[str, dt.datetime] = {}
        for chunk in range(0, len(keys), 500):
            rows = await s.execute(
                select(Occurrence.key, Occurrence.claimed_at).where(Occurrence.key.in_(keys[chunk : chunk + 500]))
            )
            claimed.update({key: at for key, at in rows.all()})

    for rid, since in sent.items():
        first, second = unclaimed_key(rid, 1), unclaimed_key(rid, 2)
        if first not in claimed:
            out.append(_Due(first, not_at_night(since + period, tz), rid, since))
        elif second not in claimed:  # a second period after the re-post went out
            out.append(_Due(second, not_at_night(claimed[first] + period, tz), rid, since))
    for rid, reported_at in unrated_rows:
        if reported_at is not None and unrated_key(rid) not in claimed:  # (it is: the query compares it)
            out.append(_Due(unrated_key(rid), reported_at + UNRATED_AFTER, rid, reported_at))
    return [d for d in out if d.due_at <= now]


async def run_followups(
    db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str
) -> list[str]:
    """Claim and queue every follow-up due at `now`; returns the keys this call claimed."""
    tz, period = settings.tz, dt.timedelta(hours=settings.unclaimed_after_hours)
    outbox = Outbox(i18n, tz, settings.default_locale, StoppedClock(now))  # what it queues carries `now`
    notices = RequestNotices(outbox, LedgerNotices(outbox), settings.points_per_hour)
    done: list[str] = []
    for item in await _due(db, period, tz, now):
        async with db.tx() as s:
            req = await s.get(Request, item.request_id)
            if item.key.startswith("followup:unrated:"):
                if req is None or not unrated_overdue(req, now):
                    continue
            elif req is None or req.status != OPEN:  # taken (or cancelled) since the scan
                continue
            if not await claim_in(s, item.key, item.due_at, now, status=QUEUED, claimed_by=claimed_by):
                continue  # another process sent it
            minutes = int((now - item.since).total_seconds() // 60)
            if item.key.startswith("followup:unrated:"):
                await notices.unrated(s, req)
            elif await escalate(s, notices, req, now):  # a level above serves it: offered there
                pass
            elif item.key.endswith(":1"):
                await notices.reposted(s, req, await team_chats(s, req.team_id) if req.team_id else [], minutes)
            else:
                await notices.still_unclaimed(s, req, minutes)
        done.append(item.key)
        log.info("follow-up %s queued", item.key)
    return done
