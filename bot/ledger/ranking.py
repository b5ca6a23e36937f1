"""Rankings by approved hours (month, year; station or team) and the monthly 最美志愿者 shortlist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry, Request, Team, TeamMember, User, Volunteer

TOP = 10
SHORTLIST = 5


@dataclass(frozen=True)
class Row:
    volunteer_id: int
    name: str
    public: bool  # show_in_rank: else "a volunteer"
    minutes: int
    rating: float | None = None


def month_bounds(year: int, month: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return _utc(date(year, month, 1), tz), _utc(nxt, tz)


def year_bounds(year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return _utc(date(year, 1, 1), tz), _utc(date(year + 1, 1, 1), tz)


def _utc(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d, time(), tzinfo=tz).astimezone(timezone.utc)


async def top(
    s: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    team_id: int | None = None,
    node_ids: set[int] | None = None,
    limit: int = TOP,
) -> list[Row]:
    """Volunteers by hours approved in [start, end); a team's ranking counts its active members only; with
    `node_ids` (a station or a 所 and its stations), those who belong there (their station or an active team)."""
    minutes = func.sum(LedgerEntry.minutes).label("minutes")
    query = (
        select(LedgerEntry.volunteer_id, minutes)
        .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end)
        .group_by(LedgerEntry.volunteer_id)
        .having(minutes > 0)
    )
    if team_id is not None:
        members = select(TeamMember.user_id).where(TeamMember.team_id == team_id, TeamMember.status == "active")
        query = query.where(LedgerEntry.volunteer_id.in_(members))
    if node_ids is not None:
        in_teams = (
            select(TeamMember.user_id)
            .join(Team, Team.id == TeamMember.team_id)
            .where(Team.node_id.in_(node_ids), TeamMember.status == "active")
        )
        living = select(User.id).where(User.station_id.in_(node_ids))
        query = query.where(LedgerEntry.volunteer_id.in_(in_teams) | LedgerEntry.volunteer_id.in_(living))
    sub = query.subquery()
    rows = await s.execute(
        select(sub.c.volunteer_id, sub.c.minutes, Volunteer.name, Volunteer.show_in_rank)
        .join(Volunteer, Volunteer.user_id == sub.c.volunteer_id)
        .order_by(sub.c.minutes.desc(), sub.c.volunteer_id)
        .limit(limit)
    )
    return [Row(vid, name, bool(public), int(m)) for vid, m, name, public in rows.all()]


async def shortlist(s: AsyncSession, start: datetime, end: datetime, limit: int = SHORTLIST) -> list[Row]:
    """Last month's top volunteers by hours, then by the residents' average rating of that month."""
    rows = await top(s, start, end, limit=limit * 3)
    if not rows:
        return []
    ratings: dict[int | None, float] = dict(
        (
            await s.execute(
                select(Request.claimer_id, func.avg(Request.rating))
                .where(
                    Request.claimer_id.in_([r.volunteer_id for r in rows]),
                    Request.approved_at >= start,
                    Request.approved_at < end,
                    Request.rating.is_not(None),
                )
                .group_by(Request.claimer_id)
            )
        ).all()
    )
    rated = [
        Row(
            r.volunteer_id,
            r.name,
            r.public,
            r.minutes,
            float(ratings[r.volunteer_id]) if ratings.get(r.volunteer_id) is not None else None,
        )
        for r in rows
    ]
    rated.sort(key=lambda r: (-r.minutes, -(r.rating or 0), r.volunteer_id))
    return rated[:limit]
