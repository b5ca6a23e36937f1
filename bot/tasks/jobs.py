"""Timed work of task orders, run by Scheduler.run_due every minute.

- On a task's accept-by day (station time), each station that has not answered is reminded once
  (`task:remind:<task node id>`); not when the task was issued that same day.
- The day after, the issuer is told once which stations did not accept (`task:late:<task id>`); missed for up to
  `LATE_CATCHUP` days of downtime, then let go.

Each is an occurrence claimed once by key in the transaction that queues its message.
"""

from __future__ import annotations

import datetime as dt
import logging

from aiogram.utils.i18n import I18n
from sqlalchemy import select

from bot.core.clock import StoppedClock
from bot.core.dates import to_utc
from bot.outbox import Outbox
from bot.settings import Settings
from bot.tasks import service as tasks
from bot.tasks.notices import TaskNotices
from scheduling.occurrences import QUEUED, claim_in
from storage.db import Database
from storage.models import Occurrence, OrgNode, Task, TaskNode

log = logging.getLogger(__name__)

LATE_CATCHUP = 7  # days


def remind_key(tn_id: int) -> str:
    return f"task:remind:{tn_id}"


def late_key(task_id: int) -> str:
    return f"task:late:{task_id}"


async def run_task_jobs(
    db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str
) -> list[str]:
    tz = settings.tz
    today = now.astimezone(tz).date()
    notices = TaskNotices(Outbox(i18n, tz, settings.default_locale, StoppedClock(now)))
    async with db.read() as s:
        rows = await tasks.waiting(s, today - dt.timedelta(days=LATE_CATCHUP), today)
        keys = {remind_key(tn.id) for _t, tn in rows} | {late_key(t.id) for t, _tn in rows}
        taken = set((await s.execute(select(Occurrence.key).where(Occurrence.key.in_(sorted(keys))))).scalars())
    done: list[str] = []
    for task, tn in rows:
        key = remind_key(tn.id)
        if task.accept_by != today or key in taken or task.created_at.astimezone(tz).date() >= today:
            continue
        async with db.tx() as s:
            row = await s.get(TaskNode, tn.id)
            if row is None or row.status != tasks.ISSUED:
                continue
            if not await claim_in(s, key, to_utc(today, dt.time(0), tz), now, status=QUEUED, claimed_by=claimed_by):
                continue
            await notices.reminder(s, task, row)
        done.append(key)
    late = {t.id: t for t, _tn in rows if t.accept_by < today and late_key(t.id) not in taken}
    for task_id, task in late.items():
        key = late_key(task_id)
        due = to_utc(task.accept_by + dt.timedelta(days=1), dt.time(0), tz)
        async with db.tx() as s:
            stations = list(
                (
                    await s.execute(
                        select(OrgNode)
                        .join(TaskNode, TaskNode.node_id == OrgNode.id)
                        .where(TaskNode.task_id == task_id, TaskNode.status == tasks.ISSUED)
                        .order_by(OrgNode.code)
                    )
                ).scalars()
            )
            if not stations:
                continue
            if not await claim_in(s, key, due, now, status=QUEUED, claimed_by=claimed_by):
                continue
            fresh = await s.get(Task, task_id)
            assert fresh is not None
            await notices.late(s, fresh, stations, task.accept_by)
        done.append(key)
        log.info("task %s: the issuer is told of %d station(s) not accepting", task.number, len(stations))
    return done
