"""Claiming scheduled occurrences: never missed, never doubled.

An occurrence (one scheduled post) is claimed by one conditional insert of its key,
`INSERT ... ON CONFLICT (key) DO NOTHING RETURNING key`. Whoever's insert returns the key
owns the occurrence and queues its messages in the outbox in the same transaction, so two
processes, two schedulers or a restart never send it twice, and a crash before the commit
leaves it unclaimed for the next run.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.dialects import insert_ignore
from storage.models import Occurrence, StationSetting

# Who claims: host, process id and a nonce (a restarted process may reuse a pid).
PROCESS_ID = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"

QUEUED = "queued"
SKIPPED = "skipped"
DISABLED = "disabled"  # a post the station turned off (a civic day off in /civic): recorded, not sent
EMPTY = "empty"  # a scheduled report with nothing to say anywhere: recorded, not sent, not looked at again

Queue = Callable[[AsyncSession], Awaitable[None]]


async def claim_in(
    s: AsyncSession, key: str, due_at: datetime, now: datetime, *, status: str = QUEUED, claimed_by: str = PROCESS_ID
) -> bool:
    """Claim `key` inside an open transaction; True only for the one insert that took it."""
    stmt = (
        insert_ignore(s, Occurrence, index_elements=[Occurrence.key])
        .values(key=key, due_at=due_at, claimed_at=now, claimed_by=claimed_by, status=status)
        .returning(Occurrence.key)
    )
    return (await s.execute(stmt)).first() is not None


async def claim(
    db: Database,
    key: str,
    due_at: datetime,
    now: datetime,
    *,
    queue: Queue | None = None,
    status: str = QUEUED,
    claimed_by: str = PROCESS_ID,
) -> bool:
    """Claim `key` in its own transaction; if this call won, `queue(session)` writes the
    occurrence's messages to the outbox in that same transaction (an error there undoes the claim).
    """
    async with db.tx() as s:
        won = await claim_in(s, key, due_at, now, status=status, claimed_by=claimed_by)
        if won and queue is not None:
            await queue(s)
    return won


# Daily housekeeping (sends nothing, so no occurrence): the day's mark in a station setting ------------------------


async def daily_due(db: Database, now: datetime, tz: dt.tzinfo, hour: int, key: str) -> dt.date | None:
    """The station day a once-a-day job should run for at `now` (from `hour` station time on), or None when it is
    too early or the mark `key` says it ran today already (the common case, every minute: one read)."""
    local = now.astimezone(tz)
    if local.hour < hour:
        return None
    day = local.date()
    async with db.read() as s:
        mark = await s.get(StationSetting, key)
    if mark is not None and mark.value >= day.isoformat():
        return None
    return day


async def claim_day(s: AsyncSession, day: dt.date, key: str) -> bool:
    """Take `day`'s run inside an open transaction: True for the one process whose conditional update moved the
    mark (the station setting `key`) to `day` (ISO dates compare as text in date order)."""
    await s.execute(insert_ignore(s, StationSetting, index_elements=[StationSetting.key]).values(key=key, value=""))
    won = await s.execute(
        update(StationSetting)
        .where(StationSetting.key == key, StationSetting.value < day.isoformat())
        .values(value=day.isoformat())
        .returning(StationSetting.key)
        .execution_options(synchronize_session=False)
    )
    return won.first() is not None
