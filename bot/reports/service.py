"""周台账 and 月小结: the figures of a week (Monday–Sunday) or a calendar month, in station time.

Everything is aggregated in SQL. Request figures come from the request's own timestamps:
placed = created_at, claimed = claimed_at (the current claim), done = reported_at, confirmed/rated =
confirmed_at; cancelled and rejected requests are terminal, so their updated_at is when that happened.
Hours are ledger entries (service, correction, reversal) created in the period, so a reversal made
this month lowers this month's hours even if it undoes an older entry: the ledger is append-only.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Label, SQLColumnExpression, and_, case, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.errors import DomainError
from bot.requests.service import APPROVED, CANCELLED, CONFIRMED, DONE, OPEN, REJECTED, REVIEW
from storage.models import Activity, LedgerEntry, Request, RequestEvent, Service, Team, TeamMember, User, Volunteer

UTC = dt.timezone.utc
HOUR_KINDS = ("service", "correction", "reversal")  # redeem/refund are the shop's points, not service hours
SERVED = (DONE, CONFIRMED, APPROVED)
WEEK, MONTH = "week", "month"
EARLIEST = 2000  # no station kept records before; also keeps dates far from datetime's limits


@dataclass(frozen=True)
class Period:
    kind: str  # week | month
    first: dt.date
    last: dt.date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == WEEK:
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.first.year}-{self.first.month:02d}"

    @property
    def key(self) -> str:
        """The occurrence key of the scheduled report, e.g. report:week:2026-W47, report:month:2026-10."""
        return f"report:{self.kind}:{self.label}"

    def bounds(self, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) in aware UTC: local midnight of the first day to local midnight after the last."""
        start = dt.datetime.combine(self.first, dt.time(), tzinfo=tz).astimezone(UTC)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(), tzinfo=tz).astimezone(UTC)
        return start, end

    def previous(self) -> Period:
        return (
            week_of(self.first - dt.timedelta(days=7))
            if self.kind == WEEK
            else month_of((self.first - dt.timedelta(days=1)).year, (self.first - dt.timedelta(days=1)).month)
        )


def week_of(day: dt.date) -> Period:
    monday = day - dt.timedelta(days=day.weekday())
    return Period(WEEK, monday, monday + dt.timedelta(days=6))


def month_of(year: int, month: int) -> Period:
    first = dt.date(year, month, 1)
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    return Period(MONTH, first, nxt - dt.timedelta(days=1))


def parse_period(args: str | None, today: dt.date) -> Period:
    """`week [YYYY-MM-DD]` (the week containing that day) or `month [YYYY-MM]`; default: the current one."""
    parts = (args or "").split()
    if not parts or parts[0].lower() not in (WEEK, MONTH) or len(parts) > 2:
        raise DomainError("report_usage")
    kind, arg = parts[0].lower(), parts[1] if len(parts) == 2 else None
    if kind == WEEK:
        if arg is None:
            period = week_of(today)
        else:
            try:  # also reads ISO weeks: 2026-W47
                day = dt.date.fromisoformat(arg)
                if day.year < EARLIEST:
                    raise ValueError(arg)
                period = week_of(day)
            except ValueError:
                raise DomainError("report_bad_week", value=arg[:20]) from None
    else:
        if arg is None:
            period = month_of(today.year, today.month)
        else:
            try:
                year, month = arg.split("-")
                if not (
                    len(year) == 4
                    and year.isdecimal()
                    and month.isdecimal()
                    and len(month) <= 2
                    and int(year) >= EARLIEST
                ):
                    raise ValueError(arg)
                period = month_of(int(year), int(month))
            except ValueError:
                raise DomainError("report_bad_month", value=arg[:20]) from None
    if period.first > today:
        raise DomainError("report_future", label=period.label)
    return period


async def scopes(s: AsyncSession, user: User) -> list[int | None]:
    """Whose figures `user` may see: the station's (None) for a coordinator, else the teams they lead."""
    if user.is_coordinator or user.is_admin:
        return [None]
    rows = await s.execute(
        select(TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.user_id == user.id,
            TeamMember.is_leader.is_(True),
            TeamMember.status == "active",
            Team.archived.is_(False),
        )
        .order_by(TeamMember.team_id)
    )
    teams: list[int | None] = list(rows.scalars())
    if not teams:
        raise DomainError("report_not_allowed")
    return teams


@dataclass(frozen=True)
class Hours:
    """Net approved hours of one team, service or activity in the period."""

    kind: str  # team | service | activity | other
    ref: int | None
    name_zh: str
    name_en: str
    minutes: int
    points: int
    volunteers: int
    entries: int

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh


@dataclass(frozen=True)
class ActivityHeld:
    id: int
    number: str
    title: str
    starts_at: dt.datetime
    volunteers: int
    minutes: int


@dataclass
class Report:
    period: Period
    start: dt.datetime  # aware UTC bounds [start, end)
    end: dt.datetime
    team_id: int | None = None  # a team leader's report: only that team's requests, hours and activities
    team_name: str | None = None
    placed: int = 0
    claimed: int = 0
    done: int = 0
    cancelled: int = 0
    rejected: int = 0
    waiting: int = 0  # placed in the period and still open (no volunteer yet) ...
    in_review: int = 0  # ... or still waiting for a coordinator's review
    median_claim_minutes: float | None = None  # from being sent to the volunteers to the claim
    minutes: int = 0
    points: int = 0
    entries: int = 0
    by_team: list[Hours] = field(default_factory=list)
    by_service: list[Hours] = field(default_factory=list)
    residents_served: int = 0  # distinct people served (a proxy's residents counted by name)
    services_delivered: int = 0  # 受众人次: requests reported done in the period and not undone
    volunteers_active: int = 0  # volunteers with net approved hours in the period
    volunteers: int = 0  # volunteers with any hours entry in the period (a reversal included)
    ratings: dict[int, int] = field(default_factory=lambda: {n: 0 for n in range(1, 6)})
    activities: list[ActivityHeld] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing happened in the period: no request moved, no hours, no rating."""
        return not (
            self.placed
            or self.claimed
            or self.done
            or self.cancelled
            or self.rejected
            or self.entries
            or self.rating_count
        )

    @property
    def rating_count(self) -> int:
        return sum(self.ratings.values())

    @property
    def rating_average(self) -> float | None:
        count = self.rating_count
        return sum(n * c for n, c in self.ratings.items()) / count if count else None


def _within(column: SQLColumnExpression[Any], start: dt.datetime, end: dt.datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _of_team(r: Report) -> ColumnElement[bool]:
    """The requests a report covers: all, or one team's."""
    return Request.team_id == r.team_id if r.team_id is not None else true()


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _hour_entries() -> tuple[type[LedgerEntry], Label[int], Label[int]]:
    """Ledger entries with the request and activity they are about; a reversal inherits its original's."""
    original = aliased(LedgerEntry)
    request_id = func.coalesce(LedgerEntry.request_id, original.request_id).label("request_id")
    activity_id = func.coalesce(LedgerEntry.activity_id, original.activity_id).label("activity_id")
    return original, request_id, activity_id


async def build_report(s: AsyncSession, period: Period, tz: ZoneInfo, team_id: int | None = None) -> Report:
    """The period's figures for the whole station, or for one team (`team_id`)."""
    start, end = period.bounds(tz)
    team = await s.get(Team, team_id) if team_id is not None else None
    report = Report(period=period, start=start, end=end, team_id=team_id, team_name=team.name if team else None)
    await _request_counts(s, report)
    await _claim_median(s, report)
    await _served(s, report)
    await _ratings(s, report)
    await _hours(s, report)
    return report


async def _request_counts(s: AsyncSession, r: Report) -> None:
    placed = _within(Request.created_at, r.start, r.end)
    row = (
        await s.execute(
            select(
                _count(placed),
                _count(_within(Request.claimed_at, r.start, r.end)),
                _count(_within(Request.reported_at, r.start, r.end)),
                _count(and_(Request.status == CANCELLED, _within(Request.updated_at, r.start, r.end))),
                _count(and_(Request.status == REJECTED, _within(Request.updated_at, r.start, r.end))),
                _count(and_(Request.status == OPEN, placed)),
                _count(and_(Request.status == REVIEW, placed)),
            ).where(_of_team(r))
        )
    ).one()
    r.placed, r.claimed, r.done, r.cancelled, r.rejected, r.waiting, r.in_review = (int(v) for v in row)


async def _claim_median(s: AsyncSession, r: Report) -> None:
    """Median time from a request being sent to the volunteers (placed, dispatched after review, or released
    by its volunteer) to its current claim, over the requests claimed in the period."""
    sent = func.coalesce(func.max(RequestEvent.created_at), Request.created_at)
    rows = await s.execute(
        select(Request.claimed_at, sent)
        .select_from(Request)
        .outerjoin(
            RequestEvent,
            and_(
                RequestEvent.request_id == Request.id,
                RequestEvent.kind.in_(("dispatched", "released")),
                RequestEvent.created_at <= Request.claimed_at,
            ),
        )
        .where(_within(Request.claimed_at, r.start, r.end), _of_team(r))
        .group_by(Request.id, Request.claimed_at, Request.created_at)
    )
    waits = [
        (claimed - _aware(since)).total_seconds() / 60 for claimed, since in rows.all() if claimed is not None
    ]  # always: the query asks for claimed requests
    r.median_claim_minutes = statistics.median(waits) if waits else None


def _aware(value: dt.datetime | str) -> dt.datetime:
    if isinstance(value, str):  # SQLite may hand an aggregate back as text
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _served(s: AsyncSession, r: Report) -> None:
    served = and_(Request.status.in_(SERVED), _within(Request.reported_at, r.start, r.end), _of_team(r))
    r.services_delivered = int((await s.execute(select(func.count()).where(served))).scalar() or 0)
    people = select(Request.resident_id, Request.proxy_for).where(served).distinct().subquery()
    r.residents_served = int((await s.execute(select(func.count()).select_from(people))).scalar() or 0)


async def _ratings(s: AsyncSession, r: Report) -> None:
    rows = await s.execute(
        select(Request.rating, func.count())
        .where(_within(Request.confirmed_at, r.start, r.end), Request.rating.is_not(None), _of_team(r))
        .group_by(Request.rating)
    )
    for rating, count in rows.all():
        if rating in r.ratings:
            r.ratings[rating] = int(count)


async def _hours(s: AsyncSession, r: Report) -> None:
    """One pass over the period's hour entries, grouped by volunteer, team, service and activity; the
    figures (totals, by team, by service or activity, active volunteers) are summed from those groups."""
    original, request_id, activity_id = _hour_entries()
    team_id = func.coalesce(Request.team_id, Activity.team_id)
    groups = (
        await s.execute(
            select(
                LedgerEntry.volunteer_id,
                team_id,
                Request.service_id,
                activity_id,
                func.sum(LedgerEntry.minutes),
                func.sum(LedgerEntry.points),
                func.count(),
            )
            .select_from(LedgerEntry)
            .outerjoin(original, original.id == LedgerEntry.reverses_id)
            .outerjoin(Request, Request.id == request_id)
            .outerjoin(Activity, Activity.id == activity_id)
            .where(
                _within(LedgerEntry.created_at, r.start, r.end),
                LedgerEntry.kind.in_(HOUR_KINDS),
                team_id == r.team_id if r.team_id is not None else true(),
            )
            .group_by(LedgerEntry.volunteer_id, team_id, Request.service_id, activity_id)
        )
    ).all()

    net: dict[int, int] = {}
    by_team: dict[int | None, _Sum] = {}
    by_what: dict[tuple[str, int | None], _Sum] = {}
    for volunteer, team, service, activity, minutes, points, count in groups:
        minutes, points, count = int(minutes or 0), int(points or 0), int(count)
        r.minutes, r.points, r.entries = r.minutes + minutes, r.points + points, r.entries + count
        net[volunteer] = net.get(volunteer, 0) + minutes
        what = (
            ("activity", activity)
            if activity is not None
            else ("service", service)
            if service is not None
            else ("other", None)
        )
        by_team.setdefault(team, _Sum()).add(volunteer, minutes, points, count)
        by_what.setdefault(what, _Sum()).add(volunteer, minutes, points, count)
    r.volunteers_active = sum(1 for minutes in net.values() if minutes > 0)
    r.volunteers = len(net)

    teams: dict[int | None, str] = {
        t.id: t.name
        for t in (await s.execute(select(Team).where(Team.id.in_({k for k in by_team if k is not None})))).scalars()
    }
    r.by_team = sorted(
        (
            total.hours("team" if k in teams else "other", k, teams.get(k, "—"), teams.get(k, "—"))
            for k, total in by_team.items()
        ),
        key=lambda h: (-h.minutes, h.name_zh),
    )
    services = {
        sv.id: sv
        for sv in (
            await s.execute(select(Service).where(Service.id.in_({k for kind, k in by_what if kind == "service"})))
        ).scalars()
    }
    activities = {
        a.id: a
        for a in (
            await s.execute(select(Activity).where(Activity.id.in_({k for kind, k in by_what if kind == "activity"})))
        ).scalars()
    }
    out = []
    for (kind, k), total in by_what.items():
        if kind == "service" and k in services:
            out.append(total.hours("service", k, services[k].name_zh, services[k].name_en))
        elif kind == "activity" and k in activities:
            out.append(total.hours("activity", k, activities[k].title, activities[k].title))
        else:
            out.append(total.hours("other", None, "—", "—"))
    r.by_service = sorted(out, key=lambda h: ({"service": 0, "activity": 1}.get(h.kind, 2), -h.minutes, h.name_zh))
    r.activities = sorted(
        (
            ActivityHeld(
                a.id,
                a.number,
                a.title,
                a.starts_at,
                len(by_what[("activity", a.id)].volunteers),
                by_what[("activity", a.id)].minutes,
            )
            for a in activities.values()
        ),
        key=lambda a: (a.starts_at, a.id),
    )


@dataclass
class _Sum:
    minutes: int = 0
    points: int = 0
    entries: int = 0
    volunteers: set[int] = field(default_factory=set)

    def add(self, volunteer: int, minutes: int, points: int, entries: int) -> None:
        self.minutes += minutes
        self.points += points
        self.entries += entries
        self.volunteers.add(volunteer)

    def hours(self, kind: str, ref: int | None, name_zh: str, name_en: str) -> Hours:
        return Hours(kind, ref, name_zh, name_en, self.minutes, self.points, len(self.volunteers), self.entries)


# The ledger lines of a period, for the workbook -------------------------------------------------


@dataclass(frozen=True)
class Line:
    at: dt.datetime
    volunteer: str
    team: str
    service_zh: str
    service_en: str
    minutes: int
    points: int
    kind: str
    approved_by: str
    reason: str
    request: str  # the request's number, or the activity's


async def ledger_lines(s: AsyncSession, period: Period, tz: ZoneInfo, team_id: int | None = None) -> list[Line]:
    """Every service-hours ledger entry of the period (of one team's, if `team_id`), oldest first. No phones."""
    start, end = period.bounds(tz)
    original, request_id, activity_id = _hour_entries()
    base = (
        select(
            LedgerEntry.id,
            LedgerEntry.created_at,
            LedgerEntry.volunteer_id,
            LedgerEntry.minutes,
            LedgerEntry.points,
            LedgerEntry.kind,
            LedgerEntry.approved_by,
            LedgerEntry.reason,
            request_id,
            activity_id,
        )
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .where(_within(LedgerEntry.created_at, start, end), LedgerEntry.kind.in_(HOUR_KINDS))
        .subquery()
    )
    volunteer, approver, approver_user = aliased(Volunteer), aliased(Volunteer), aliased(User)
    rows = await s.execute(
        select(
            base.c.created_at,
            volunteer.name,
            User.full_name,
            Team.name,
            Service.name_zh,
            Service.name_en,
            Activity.title,
            base.c.minutes,
            base.c.points,
            base.c.kind,
            approver.name,
            approver_user.full_name,
            base.c.approved_by,
            base.c.reason,
            Request.number,
            Activity.number,
        )
        .select_from(base)
        .outerjoin(volunteer, volunteer.user_id == base.c.volunteer_id)
        .outerjoin(User, User.id == base.c.volunteer_id)
        .outerjoin(Request, Request.id == base.c.request_id)
        .outerjoin(Activity, Activity.id == base.c.activity_id)
        .outerjoin(Team, Team.id == func.coalesce(Request.team_id, Activity.team_id))
        .outerjoin(Service, Service.id == Request.service_id)
        .outerjoin(approver, approver.user_id == base.c.approved_by)
        .outerjoin(approver_user, approver_user.id == base.c.approved_by)
        .where(Team.id == team_id if team_id is not None else true())
        .order_by(base.c.created_at, base.c.id)
    )
    out = []
    for (
        at,
        vname,
        uname,
        team,
        szh,
        sen,
        title,
        minutes,
        points,
        kind,
        aname,
        auname,
        aid,
        reason,
        rnum,
        anum,
    ) in rows.all():
        out.append(
            Line(
                at=_aware(at),
                volunteer=vname or uname or "—",
                team=team or "—",
                service_zh=title or szh or "—",
                service_en=title or sen or "—",
                minutes=int(minutes),
                points=int(points),
                kind=kind,
                approved_by=aname or auname or (str(aid) if aid else "—"),
                reason=reason or "",
                request=rnum or anum or "",
            )
        )
    return out
