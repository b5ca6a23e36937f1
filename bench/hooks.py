"""What the benchmark times as `/me` and a month's report: the same service calls the handlers make."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.i18n import make_i18n
from bot.ledger import ranking
from bot.ledger import service as ledger
from bot.org import service as org
from bot.outbox import delivery
from bot.reports import service as reports
from bot.requests import service as requests
from bot.tasks import service as tasks
from storage.db import Database
from storage.models import User

TZ = ZoneInfo("Asia/Shanghai")


async def me_report(db: Database, user_id: int) -> object:
    """`/me`: totals, this month and this year, in one aggregate (bot.ledger.service.summary)."""
    today = datetime.now(TZ).date()
    month_start, _ = ranking.month_bounds(today.year, today.month, TZ)
    year_start, _ = ranking.year_bounds(today.year, TZ)
    async with db.read() as s:
        return await ledger.summary(s, user_id, month_start, year_start)


async def month_report(db: Database, start: datetime, end: datetime) -> object:
    """The 月小结 of the month `start` falls in (bot.reports.service.build_report), as `/report month` builds it."""
    local = start.astimezone(TZ)
    period = reports.month_of(local.year, local.month)
    async with db.read() as s:
        return await reports.build_report(s, period, TZ)


async def pending(db: Database, user: User) -> object:
    """`/pending`: the coordinator's queue within his scope, then who blocked the bot (two reads, as the handler)."""
    async with db.read() as s:
        queue = await requests.queue(s, user)
    async with db.read() as s:
        blocked = await delivery.blocked_recipients(s, user)
    return queue, blocked


async def tasks_view(db: Database, user: User) -> object:
    """`/tasks`: the viewer's scope, then a page of task orders with their counts (grouped, whatever the stations)."""
    today = datetime.now(TZ).date()
    async with db.read() as s:
        scope = await org.scope_of(s, user)
        return await tasks.progress(s, scope, today)


def last_week(now: datetime) -> reports.Period:
    """The last whole week in station time: the 周台账 sent on Monday."""
    return reports.week_of(now.astimezone(TZ).date()).previous()


def last_month(now: datetime) -> reports.Period:
    """The last whole month in station time: the month a 月小结 is usually asked for."""
    first = now.astimezone(TZ).date().replace(day=1)
    before = first - timedelta(days=1)
    return reports.month_of(before.year, before.month)


async def station_report(db: Database, period: reports.Period, coordinator: User) -> object:
    """A station coordinator's `/report month`, as the handler reads it: his scope's teams (`reports.scopes`), their
    report and ledger lines; then his station's line (`reports.station_figures`)."""
    async with db.read() as s:
        scope = await reports.scopes(s, coordinator)
    out = []
    for teams in scope:
        async with db.read(long=True) as s:
            out.append(
                (await reports.build_report(s, period, TZ, teams), await reports.ledger_lines(s, period, TZ, teams))
            )
    async with db.read() as s:
        line = await reports.station_figures(s, period, TZ, stations={coordinator.coord_node_id or 0})
    return out, line


async def centre_report(db: Database, period: reports.Period) -> object:
    """The 中心's 月小结: the whole county's report and ledger lines (as `/report month` of a 中心 coordinator), then
    a line per 所 and station (`reports.station_figures`, added up the tree by `reports.roll_up`)."""
    async with db.read(long=True) as s:
        whole = await reports.build_report(s, period, TZ)
        ledger_lines = await reports.ledger_lines(s, period, TZ)
    async with db.read(long=True) as s:
        tree = await org.load_tree(s)
        lines = reports.roll_up(tree, await reports.station_figures(s, period, TZ))
    rows = []  # the 月小结's lines: each 所, then its stations
    for level in tree.kids(tree.root.id if tree.root else None):
        rows.append((level, lines.get(level.id)))
        rows += [(station, lines.get(station.id)) for station in tree.kids(level.id)]
    return whole, ledger_lines, rows


async def centre_week_report(db: Database, period: reports.Period, coordinator: User) -> object:
    """The 中心 coordinator's `/report week` as the handler builds it (issue 14): the county's report with the week
    before's, a line per 所, a sheet per station (the county's ledger lines are not in it: `reports.with_ledger`),
    and the workbook."""
    from bot.reports import xlsx

    i18n = make_i18n("zh_Hans")
    async with db.read() as s:
        (scope,) = await reports.scopes(s, coordinator)
    async with db.read(long=True) as s:
        built = await reports.coordinator_report(s, period, TZ, scope, sheets=True)
        lines = await reports.ledger_lines(s, period, TZ, scope) if reports.with_ledger(built) else None
    with i18n.context(), i18n.use_locale("zh_Hans"):
        book = await asyncio.to_thread(xlsx.workbook, built, lines, TZ, "zh_Hans")
    return built, len(book)
