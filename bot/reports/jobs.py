"""The scheduled 周台账 and 月小结 for the coordinators.

Every Monday at THEME_POST_HOUR station time the previous week's ledger (`report:week:2026-W47`), and on
the 1st of the month at the same hour the previous month's summary (`report:month:2026-10`). Each is an
occurrence claimed once by key, in the transaction that builds the report and queues its texts, so several
processes and restarts send it once. Missed by more than CATCHUP_GRACE_HOURS: recorded as skipped, like
the calendar's posts. The chat text says that /report gives the .xlsx workbook. A period in which
nothing happened is not sent; it is recorded as empty, so that the ticks that follow (every minute, for the
whole grace) do not build the county's report again to find the same.

Each coordinator gets the report of his own subtree (issue 14): the 中心's with a line per 所, a 所's with a line per
station, a station's; none when nothing happened in it. A 月小结 comes with a chart (PNG), uploaded through the
outbox (`Outbox.upload`) in the same transaction, so it is sent once with its text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import StoppedClock
from bot.org import service as org
from bot.outbox import Outbox
from bot.people.service import coordinators
from bot.reports import texts as report_texts
from bot.reports.service import (
    WEEK,
    Period,
    Report,
    anything_to_report,
    coordinator_report,
    month_of,
    node_figures,
    node_scope,
    nothing_happened,
    week_of,
)
from bot.settings import Settings
from bot.ui import texts
from scheduling.occurrences import EMPTY, QUEUED, SKIPPED, claim
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


def command_for(period: Period, report: Report | None = None) -> str:
    """The /report command that gives this report's workbook (a station's or 所's: with its code)."""
    base = f"/report {period.kind} {period.first.isoformat() if period.kind == WEEK else period.label}"
    node = report.node_code if report is not None and report.level not in ("", org.CENTRE) else ""
    return f"{base} {node}" if node else base


@dataclass(frozen=True)
class Owed:
    """One coordinator's report, rendered: its message pieces and, for a 月小结, its chart."""

    user_id: int
    key: str
    pieces: list[str]
    png: bytes | None
    filename: str
    caption: str


async def prepare_reports(
    s: AsyncSession, period: Period, outbox: Outbox, settings: Settings, *, only: Collection[int] | None = None
) -> list[Owed]:
    """Each coordinator's report of his own subtree, in his language: the 中心's (and an administrator's) of the
    whole county, with a line per 所; a 所's with a line per station; a station's. One whose subtree had nothing
    in the period is owed nothing. A 月小结 comes with its chart. Each node's report is built once (the county's
    per-node figures once in all), read before the occurrence is claimed, so that the claiming transaction only
    writes. `only`: these coordinators (tests)."""
    tz = outbox.tz
    tree = await org.load_tree(s)
    users = [u for u in await coordinators(s) if only is None or u.id in only]
    figures = await node_figures(s, period, tz) if len(tree.stations()) > 1 else None
    built: dict[int | None, Report | None] = {}
    charts: dict[tuple[int | None, str], bytes | None] = {}
    out = []
    for user in users:
        scope = org.scope_in(tree, user)
        node_id = None if scope.everything else scope.at
        if node_id not in built:
            made = await coordinator_report(
                s, period, tz, await node_scope(s, tree, node_id), tree=tree, figures=figures
            )
            built[node_id] = None if nothing_happened(made) else made
        report = built[node_id]
        if report is None:
            continue
        with outbox.in_locale(user.locale):
            text = (
                report_texts.summary(report, user.locale, tz)
                + "\n\n"
                + _("Send {command} for the workbook (.xlsx) with every ledger line.").format(
                    command=command_for(report.period, report)
                )
            )
            if (node_id, user.locale) not in charts:
                charts[(node_id, user.locale)] = await _chart(report, settings)
            caption = _("{title}: service hours and requests done, week by week.").format(
                title=report_texts.title(report.period)
            )
        out.append(
            Owed(
                user.id,
                f"post:{period.key}"[:40],
                texts.chunks(text),
                charts[(node_id, user.locale)],
                f"chart-{period.label}.png",
                caption,
            )
        )
    return out


def queue_owed(s: AsyncSession, owed: list[Owed], outbox: Outbox) -> int:
    """Write the prepared reports into the outbox (in the transaction that claims their occurrence)."""
    for item in owed:
        for piece in item.pieces:
            outbox.to_chat(s, item.user_id, piece, ref=item.key)
        if item.png is not None:
            outbox.upload(s, item.user_id, "photo", item.png, item.filename, item.caption)
    return len(owed)


async def queue_report(
    s: AsyncSession, period: Period, outbox: Outbox, settings: Settings, *, only: Collection[int] | None = None
) -> int:
    """`prepare_reports` and `queue_owed` in one session; returns how many coordinators were told."""
    return queue_owed(s, await prepare_reports(s, period, outbox, settings, only=only), outbox)


async def _chart(report: Report, settings: Settings) -> bytes | None:
    """The 月小结's chart in the current locale, drawn off the event loop; None for a 周台账, or without a font."""
    from bot.core import fonts
    from bot.reports import chart as charts

    drawn = charts.chart_of(report)
    if drawn is None:
        return None
    try:
        font = fonts.chinese_font(settings.font_path)
    except fonts.FontMissing:
        log.exception("report %s: no chart, no font with Chinese characters", report.period.key)
        return None
    return await asyncio.to_thread(charts.render, drawn, font)


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
            something = await anything_to_report(s, period, tz)
        if not something:  # and stays so: what is counted in a period is dated in it, and the period is over
            if await claim(db, period.key, due_at, now, status=EMPTY, claimed_by=claimed_by):
                log.info("report %s: nothing happened anywhere, nothing sent", period.key)
            continue  # a county that did nothing (e.g. a new one) is sent no page of zeros
        if due_at < cutoff:
            if await claim(db, period.key, due_at, now, status=SKIPPED, claimed_by=claimed_by):
                log.warning("report %s (due %s) skipped: missed by more than %s", period.key, due_at.isoformat(), grace)
            continue

        async with db.read(long=True) as s:  # built before the claim: its transaction only writes
            owed = await prepare_reports(s, period, outbox, settings)

        async def queue(s: AsyncSession, period: Period = period, owed: list[Owed] = owed) -> None:
            count = queue_owed(s, owed, outbox)
            log.info("report %s queued for %d coordinators", period.key, count)

        if await claim(db, period.key, due_at, now, queue=queue, status=QUEUED, claimed_by=claimed_by):
            queued.append(period.key)
    return queued
