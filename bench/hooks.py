"""What the benchmark times as `/me` and a month's report. Those features are being written; until they
land these stand-ins time the queries they will need. Plug the real ones in here (same signatures)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from bot.services import ledger
from storage.db import Database
from storage.models import LedgerEntry, Request


async def me_report(db: Database, user_id: int) -> object:
    """Hook for `/me`: a volunteer's totals (replace with the real /me service when it exists)."""
    async with db.read() as s:
        return await ledger.totals(s, user_id)


async def month_report(db: Database, start: datetime, end: datetime) -> object:
    """Hook for the 月小结: hours and points by volunteer, requests by status, in [start, end)."""
    async with db.read() as s:
        hours = (await s.execute(
            select(LedgerEntry.volunteer_id, func.sum(LedgerEntry.minutes), func.sum(LedgerEntry.points))
            .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
            .group_by(LedgerEntry.volunteer_id))).all()
        statuses = (await s.execute(
            select(Request.status, func.count()).where(Request.created_at >= start, Request.created_at < end)
            .group_by(Request.status))).all()
    return hours, statuses
