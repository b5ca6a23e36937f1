"""The append-only hours and points ledger. Totals are always sums of entries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry


@dataclass(frozen=True)
class Totals:
    minutes: int
    points: int

    @property
    def hours(self) -> float:
        return self.minutes / 60


def points_for(minutes: int, points_per_hour: int) -> int:
    # Half-hour steps keep this exact for even rates; odd rates round half up.
    return (minutes * points_per_hour + 30) // 60


def add_service(s: AsyncSession, *, volunteer_id: int, minutes: int, points_per_hour: int, request_id: int | None,
                approved_by: int, now: datetime, reason: str | None = None,
                activity_id: int | None = None) -> LedgerEntry:
    entry = LedgerEntry(volunteer_id=volunteer_id, minutes=minutes, points=points_for(minutes, points_per_hour),
                        kind="service", request_id=request_id, activity_id=activity_id, approved_by=approved_by,
                        reason=reason, created_at=now)
    s.add(entry)
    return entry


async def totals(s: AsyncSession, volunteer_id: int) -> Totals:
    row = (await s.execute(
        select(func.coalesce(func.sum(LedgerEntry.minutes), 0), func.coalesce(func.sum(LedgerEntry.points), 0))
        .where(LedgerEntry.volunteer_id == volunteer_id)
    )).one()
    return Totals(int(row[0]), int(row[1]))
