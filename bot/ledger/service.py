"""The append-only hours and points ledger. Totals are always sums of entries.

Kinds (`Kind`, storage.models.LedgerKind, the one vocabulary): service (approved hours), reversal (cancels an
entry exactly: reverses_id), correction (the right figure after a reversal), redeem / refund (points only,
written for the shop). Every entry is written by `append`, through add_service, add_points and correct. Entries
are never updated or deleted, and the database refuses it (triggers, migration 0005); a correction is a
reversal plus a correction written in one transaction.

A correction downwards after the points were spent is kept (hours are facts): the points balance may then be
below zero. /me shows it as owed, and the 爱心超市 refuses to redeem until it is above zero again
(`owed`, bot/shop/service.py `redeem_rules`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.org import service as org
from bot.people.service import is_coordinator
from storage.models import LedgerEntry, Team, TeamMember, User
from storage.models import LedgerKind as Kind

SERVICE, REVERSAL, CORRECTION, REDEEM, REFUND = Kind.SERVICE, Kind.REVERSAL, Kind.CORRECTION, Kind.REDEEM, Kind.REFUND
HOUR_KINDS = (SERVICE, CORRECTION)  # entries a volunteer may dispute: they carry approved hours
POINTS_KINDS = (REDEEM, REFUND)  # points only, no hours

PAGE = 10


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


def owed(points: int) -> int:
    """The points a volunteer owes (a correction downwards after he spent them), 0 when the balance is not negative."""
    return max(0, -points)


def append(
    s: AsyncSession,
    *,
    volunteer_id: int,
    kind: Kind,
    minutes: int,
    points: int,
    now: datetime,
    approved_by: int | None,
    reason: str | None = None,
    request_id: int | None = None,
    activity_id: int | None = None,
    reverses_id: int | None = None,
) -> LedgerEntry:
    """The one way an entry is written (rows are only ever added: the database refuses updates and deletes)."""
    entry = LedgerEntry(
        volunteer_id=volunteer_id,
        minutes=minutes,
        points=points,
        kind=Kind(kind).value,  # an unknown kind fails here, before the database refuses it
        request_id=request_id,
        activity_id=activity_id,
        reverses_id=reverses_id,
        approved_by=approved_by,
        reason=reason[:300] if reason else reason,
        created_at=now,
    )
    s.add(entry)
    return entry


def add_service(
    s: AsyncSession,
    *,
    volunteer_id: int,
    minutes: int,
    points_per_hour: int,
    request_id: int | None,
    approved_by: int,
    now: datetime,
    reason: str | None = None,
    activity_id: int | None = None,
) -> LedgerEntry:
    return append(
        s,
        volunteer_id=volunteer_id,
        kind=SERVICE,
        minutes=minutes,
        points=points_for(minutes, points_per_hour),
        request_id=request_id,
        activity_id=activity_id,
        approved_by=approved_by,
        reason=reason,
        now=now,
    )


def add_points(
    s: AsyncSession,
    *,
    volunteer_id: int,
    points: int,
    kind: Kind,
    approved_by: int | None,
    now: datetime,
    reason: str | None = None,
) -> LedgerEntry:
    """A points-only entry (redeem: points < 0, refund: points > 0); hours are untouched."""
    if kind not in POINTS_KINDS:
        raise ValueError(f"not a points kind: {kind}")
    if (points < 0) != (kind == REDEEM):
        raise ValueError(f"a {kind} entry of {points} points")
    return append(
        s,
        volunteer_id=volunteer_id,
        kind=kind,
        minutes=0,
        points=points,
        approved_by=approved_by,
        reason=reason,
        now=now,
    )


async def is_reversed(s: AsyncSession, entry_id: int) -> bool:
    row = await s.execute(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry_id).limit(1))
    return row.first() is not None


async def correct(
    s: AsyncSession, *, entry_id: int, minutes: int, reason: str, actor_id: int, points_per_hour: int, now: datetime
) -> tuple[LedgerEntry, LedgerEntry]:
    """Reverse an hours entry exactly and write the right figure, both in the caller's transaction.

    The unique index on reverses_id makes a second reversal of the same entry fail at flush, so two
    coordinators correcting at once cannot both succeed.
    """
    old = await s.get(LedgerEntry, entry_id)
    if old is None or old.kind not in HOUR_KINDS:
        raise DomainError("ledger_no_entry")
    if await is_reversed(s, entry_id):
        raise DomainError("ledger_already_corrected")
    if not 0 <= minutes <= validate.MAX_MINUTES:
        raise DomainError("hours_out_of_range", max_hours=validate.MAX_MINUTES / 60)
    reason = validate.text(reason, "reason")
    reversal = append(
        s,
        volunteer_id=old.volunteer_id,
        minutes=-old.minutes,
        points=-old.points,
        kind=REVERSAL,
        request_id=old.request_id,
        activity_id=old.activity_id,
        reverses_id=old.id,
        reason=reason,
        approved_by=actor_id,
        now=now,
    )
    fixed = append(
        s,
        volunteer_id=old.volunteer_id,
        minutes=minutes,
        points=points_for(minutes, points_per_hour),
        kind=CORRECTION,
        request_id=old.request_id,
        activity_id=old.activity_id,
        reason=reason,
        approved_by=actor_id,
        now=now,
    )
    await s.flush()
    return reversal, fixed


async def totals(s: AsyncSession, volunteer_id: int) -> Totals:
    row = (
        await s.execute(
            select(
                func.coalesce(func.sum(LedgerEntry.minutes), 0), func.coalesce(func.sum(LedgerEntry.points), 0)
            ).where(LedgerEntry.volunteer_id == volunteer_id)
        )
    ).one()
    return Totals(int(row[0]), int(row[1]))


async def all_totals(s: AsyncSession) -> dict[int, Totals]:
    rows = await s.execute(
        select(LedgerEntry.volunteer_id, func.sum(LedgerEntry.minutes), func.sum(LedgerEntry.points)).group_by(
            LedgerEntry.volunteer_id
        )
    )
    return {vid: Totals(int(m), int(p)) for vid, m, p in rows.all()}


async def page(
    s: AsyncSession, volunteer_id: int, page_no: int = 0, size: int = PAGE
) -> tuple[list[LedgerEntry], bool]:
    """One page of a volunteer's entries, newest first; and whether there is an older page."""
    rows = (
        (
            await s.execute(
                select(LedgerEntry)
                .where(LedgerEntry.volunteer_id == volunteer_id)
                .order_by(LedgerEntry.id.desc())
                .offset(page_no * size)
                .limit(size + 1)
            )
        )
        .scalars()
        .all()
    )
    return list(rows[:size]), len(rows) > size


async def may_see(s: AsyncSession, viewer: User, volunteer_id: int) -> bool:
    """A volunteer sees his own ledger; a team leader his active members' (of a team not archived, as for
    reports and activities); a coordinator anyone's."""
    if viewer.id == volunteer_id:
        return True
    if is_coordinator(viewer):  # of his subtree: the volunteer's station or one of his teams
        return await org.covers_any_of(s, viewer, await org.user_nodes(s, volunteer_id))
    led = (
        select(TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.user_id == viewer.id,
            TeamMember.is_leader.is_(True),
            TeamMember.status == "active",
            Team.archived.is_(False),
        )
    )
    row = await s.execute(
        select(TeamMember.user_id)
        .where(TeamMember.user_id == volunteer_id, TeamMember.status == "active", TeamMember.team_id.in_(led))
        .limit(1)
    )
    return row.first() is not None


async def disputable(s: AsyncSession, volunteer_id: int, limit: int = PAGE) -> list[LedgerEntry]:
    """The volunteer's latest hours entries that have not been reversed."""
    reversed_ids = select(LedgerEntry.reverses_id).where(
        LedgerEntry.volunteer_id == volunteer_id, LedgerEntry.reverses_id.is_not(None)
    )
    rows = await s.execute(
        select(LedgerEntry)
        .where(
            LedgerEntry.volunteer_id == volunteer_id,
            LedgerEntry.kind.in_(HOUR_KINDS),
            LedgerEntry.id.not_in(reversed_ids),
        )
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    return list(rows.scalars())


@dataclass(frozen=True)
class Summary:
    totals: Totals
    month_services: int
    month_minutes: int
    year_services: int
    year_minutes: int


async def summary(s: AsyncSession, volunteer_id: int, month_start: datetime, year_start: datetime) -> Summary:
    """All of /me in one aggregate over the volunteer's own entries (index on volunteer_id, created_at).

    Services are counted by their service entries; hours of a period are the sum of the period's entries,
    so a correction counts in the month it was made (as a paper ledger would).
    """
    row = (await s.execute(summary_query(volunteer_id, month_start, year_start))).one()
    return Summary(Totals(int(row[0]), int(row[1])), int(row[2]), int(row[3]), int(row[4]), int(row[5]))


def summary_query(
    volunteer_id: int, month_start: datetime, year_start: datetime
) -> Select[int, int, int, int, int, int]:
    in_month, in_year = LedgerEntry.created_at >= month_start, LedgerEntry.created_at >= year_start
    is_service = LedgerEntry.kind == SERVICE

    def total(cond: ColumnElement[bool], value: SQLColumnExpression[int] | int) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((cond, value), else_=0)), 0)

    return select(
        func.coalesce(func.sum(LedgerEntry.minutes), 0),
        func.coalesce(func.sum(LedgerEntry.points), 0),
        total(in_month & is_service, 1),
        total(in_month, LedgerEntry.minutes),
        total(in_year & is_service, 1),
        total(in_year, LedgerEntry.minutes),
    ).where(LedgerEntry.volunteer_id == volunteer_id)
