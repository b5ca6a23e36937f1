"""What the benchmark times as `/me` and a month's report: the same service calls the handlers make."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.ledger import ranking
from bot.ledger import service as ledger
from bot.reports import service as reports
from storage.db import Database

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
