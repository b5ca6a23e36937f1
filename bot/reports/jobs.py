"""The scheduled 周台账 and 月小结 for the coordinators.

Every Monday at THEME_POST_HOUR station time the previous week's ledger (`report:week:2026-W47`), and on
the 1st of the month at the same hour the previous month's summary (`report:month:2026-10`). Each is an
occurrence claimed once by key, in the transaction that builds the report and queues its texts, so several
processes and restarts send it once. Missed by more than CATCHUP_GRACE_HOURS: recorded as skipped, like
the calendar's posts. The chat text says that /report gives the .xlsx workbook. A period in which
nothing happened is neither sent nor recorded.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import StoppedClock
from bot.outbox import Outbox
from bot.people.service import coordinators
from bot.reports import texts as report_texts
from bot.reports.service import WEEK, Period, Report, build_report, month_of, week_of
from bot.settings import Settings
from bot.ui import texts
from scheduling.occurrences import QUEUED, SKIPPED, claim
from storage.db import Database
from storage.models import Occurrence

log = logging.getLogger(__name__)


def due_reports(start: dt.datetime, end: dt.datetime, tz: ZoneInfo, hour: int) -> list[tuple[Period, dt.datetime]]:
    """Scheduled reports due in [start, end]: (the period covered, when it is due), in due order."""
    out = []
    day, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    while day <= last:
        due_at = dt.datetime.combine(day, dt.time(hour), tzinfo=tz).astimezone(dt.timezone.utc)
        if start <= due_at <= end:
            if day.weekday() == 0:
                out.append((week_of(day).previous(), due_at))
            if day.day == 1:
                out.append((month_of(day.year, day.month).previous(), due_at))
        day += dt.timedelta(days=1)
    return out


def command_for(period: Period) -> str:
    return f"/report {period.kind} {period.first.isoformat() if period.kind == WEEK else period.label}"


async def queue_report(s: AsyncSession, report: Report, outbox: Outbox) -> int:
    """The report's text to every coordinator, in their language; returns how many were told."""
    told = 0
    for user in await coordinators(s):
        with outbox.in_locale(user.locale):
            text = (
                report_texts.summary(report, user.locale, outbox.tz)
                + "\n\n"
                + _("Send {command} for the workbook (.xlsx) with every ledger line.").format(
                    command=command_for(report.period)
                )
            )
        for piece in texts.chunks(text):
            outbox.to_chat(s, user.id, piece, ref=f"post:{report.period.key}"[:40])
        told += 1
    return told


async def run_reports(db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str) -> list[str]:
    """Claim and queue the reports due at `now`; returns the keys this call queued."""
    tz, grace = settings.tz, dt.timedelta(hours=settings.catchup_grace_hours)
    cutoff = now - grace
    items = due_reports(cutoff - dt.timedelta(days=1), now, tz, settings.theme_post_hour)
    if not items:
        return []
    async with db.read() as s:
        done = set(
            (
                await s.execute(
                    select(Occurrence.key).where(Occurrence.key.in_([period.key for period, _due in items]))
                )
            ).scalars()
        )
    outbox = Outbox(i18n, tz, settings.default_locale, StoppedClock(now))  # what it queues carries `now`
    queued: list[str] = []
    for period, due_at in items:
        if period.key in done:
            continue
        async with db.read(long=True) as s:
            if (await build_report(s, period, tz)).empty:  # and stays empty: its requests would be dated in it
                continue  # a station that did nothing (e.g. a new one) is sent no page of zeros, nor recorded
        if due_at < cutoff:
            if await claim(db, period.key, due_at, now, status=SKIPPED, claimed_by=claimed_by):
                log.warning("report %s (due %s) skipped: missed by more than %s", period.key, due_at.isoformat(), grace)
            continue

        async def queue(s: AsyncSession, period: Period = period) -> None:
            count = await queue_report(s, await build_report(s, period, tz), outbox)
            log.info("report %s queued for %d coordinators", period.key, count)

        if await claim(db, period.key, due_at, now, queue=queue, status=QUEUED, claimed_by=claimed_by):
            queued.append(period.key)
    return queued
