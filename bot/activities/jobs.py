"""Timed jobs of activities, run by Scheduler.run_due every minute.

- Reminders to signed-up volunteers the day before (`activity:<id>:remind:1d`) and an hour before
  (`activity:<id>:remind:1h`); a reminder whose moment had passed before the activity was published is not sent.
- At its end, a still-open activity is closed (`activity:<id>:close`): everyone checked in is checked out at the
  end, no-shows are recorded, and the organiser gets the hours to approve.

Each is an occurrence claimed once by key in the transaction that queues its messages.
"""

from __future__ import annotations

import datetime as dt
import logging

from aiogram.utils.i18n import I18n

from bot.activities import service as activities
from bot.activities.notices import ActivityNotices
from bot.core.clock import StoppedClock
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox
from bot.settings import Settings
from scheduling.occurrences import QUEUED, claim_in
from storage.db import Database

log = logging.getLogger(__name__)

REMINDERS = (("1d", dt.timedelta(days=1)), ("1h", dt.timedelta(hours=1)))


def remind_key(activity_id: int, label: str) -> str:
    return f"activity:{activity_id}:remind:{label}"


def close_key(activity_id: int) -> str:
    return f"activity:{activity_id}:close"


async def run_activity_jobs(
    db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str
) -> list[str]:
    outbox = Outbox(i18n, settings.tz, settings.default_locale, StoppedClock(now))  # what it queues carries `now`
    notices = ActivityNotices(outbox, LedgerNotices(outbox), settings.points_per_hour)
    async with db.read() as s:
        soon = [
            (a.id, a.starts_at, a.created_at) for a in await activities.starting_between(s, now, now + REMINDERS[0][1])
        ]
        ended = [a.id for a in await activities.ended_by(s, now)]
    done: list[str] = []
    for activity_id, starts_at, created_at in soon:
        # only the latest reminder that has fallen due: after downtime the day-before one is not sent late
        due = [
            (label, starts_at - before)
            for label, before in REMINDERS
            if starts_at - before <= now and created_at <= starts_at - before
        ]
        if not due:
            continue
        label, due_at = due[-1]
        key = remind_key(activity_id, label)
        async with db.tx() as s:
            act = await activities.get(s, activity_id)
            if act.status != activities.PUBLISHED:
                continue
            if not await claim_in(s, key, due_at, now, status=QUEUED, claimed_by=claimed_by):
                continue
            for signup in await activities.signups(s, act.id, activities.SIGNED):
                await notices.reminder(s, act, signup.user_id, int((starts_at - due_at).total_seconds() // 3600))
        done.append(key)
        log.info("activity reminder %s queued", key)
    for activity_id in ended:
        key = close_key(activity_id)
        async with db.tx() as s:
            act = await activities.get(s, activity_id)
            if act.status != activities.PUBLISHED:
                continue
            if not await claim_in(s, key, act.ends_at, now, status=QUEUED, claimed_by=claimed_by):
                continue
            await activities.close(s, notices, activity_id=act.id, actor=None, now=now)
        done.append(key)
    return done
