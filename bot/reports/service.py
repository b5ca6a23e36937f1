"""周台账 and 月小结: the figures of a week (Monday–Sunday) or a calendar month, in station time.

Everything is aggregated in SQL. Request figures come from the request's own timestamps:
placed = created_at, claimed = claimed_at (the current claim), done = reported_at, confirmed/rated =
confirmed_at; cancelled and rejected requests are terminal, so their updated_at is when that happened.
Hours are ledger entries (service, correction, reversal) created in the period, so a reversal made
this month lowers this month's hours even if it undoes an older entry: the ledger is append-only.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Label, SQLColumnExpression, and_, case, func, select, true, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.core.errors import DomainError
from bot.org import service as org
from bot.requests.service import APPROVED, CANCELLED, CONFIRMED, DONE, OPEN, REJECTED, REVIEW
from storage.models import (
    Activity,
    LedgerEntry,
    LedgerKind,
    Request,
    RequestEvent,
    Service,
    Team,
    TeamMember,
    User,
    Volunteer,
)

UTC = dt.timezone.utc
# redeem/refund are the shop's points, not service hours
HOUR_KINDS = (LedgerKind.SERVICE, LedgerKind.CORRECTION, LedgerKind.REVERSAL)
SERVED = (DONE, CONFIRMED, APPROVED)
WEEK, MONTH, YEAR = "week", "month", "year"
EARLIEST = 2000  # no station kept records before; also keeps dates far from datetime's limits


@dataclass(frozen=True)
class Period:
    kind: str  # week | month | year (a span of days, e.g. a chart's part of a month: any other word)
    first: dt.date
    last: dt.date  # inclusive

    @property
    def label(self) -> str:
        if self.kind == WEEK:
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == YEAR:
            return str(self.first.year)
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
        before = self.first - dt.timedelta(days=1)
        if self.kind == WEEK:
            return week_of(self.first - dt.timedelta(days=7))
        if self.kind == YEAR:
            return year_of(before.year)
        return month_of(before.year, before.month)

    def weeks(self) -> list[Period]:
        """The period cut at Mondays (a month's weeks for its chart: the first and last may be short)."""
        out, day = [], self.first
        while day <= self.last:
            end = min(self.last, day + dt.timedelta(days=6 - day.weekday()))
            out.append(Period("part", day, end))
            day = end + dt.timedelta(days=1)
        return out


def week_of(day: dt.date) -> Period:
    monday = day - dt.timedelta(days=day.weekday())
    return Period(WEEK, monday, monday + dt.timedelta(days=6))


def year_of(year: int) -> Period:
    return Period(YEAR, dt.date(year, 1, 1), dt.date(year, 12, 31))


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


@dataclass(frozen=True)
class Teams:
    """A station's (or a 所's) report: the requests, hours and activities of its teams."""

    name: str
    ids: tuple[int, ...]
    node_id: int | None = None  # the station or 所 itself: its report has a line per station below it


async def scopes(s: AsyncSession, user: User) -> list[int | Teams | None]:
    """Whose figures `user` may see: everything (None) for a coordinator of the 中心, the teams of his station (or
    of the stations under his 所) for another coordinator, else the teams they lead."""
    if user.is_coordinator or user.is_admin:
        scope = await org.scope_of(s, user)
        if scope.everything:
            return [None]
        mine = await s.execute(
            select(Team.id).where(Team.node_id.in_(scope.nodes), Team.archived.is_(False)).order_by(Team.id)
        )
        found = tuple(mine.scalars())
        at = await org.node(s, scope.at)
        if found and at is not None:
            return [Teams(at.name, found, at.id)]
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
    teams: list[int | Teams | None] = list(rows.scalars())
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
    team_ids: tuple[int, ...] | None = None  # a station's or 所's report: its teams'
    place_name: str | None = None  # that station or 所
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
    # issue 14: the coordinator's level (`coordinator_report`) --------------------------------------------
    node_id: int | None = None  # the station, 所 or 中心 the report is of (None: a team's, or no tree)
    level: str = ""  # that node's kind: station | institute | centre
    node_name: str = ""
    node_code: str = ""
    tasks_accepted: int = 0  # task orders (任务单) of its stations accepted / finished in the period
    tasks_finished: int = 0
    wishes: WishCounts = field(default_factory=lambda: WishCounts())
    overdue: list[OverduePart] = field(default_factory=list)  # parts of task orders past their day, at its stations
    previous: Report | None = None  # the period before, for the change against it
    lines: list[LevelLine] = field(default_factory=list)  # a 所's stations; the 中心's 所 and its own stations
    stations: list[LevelLine] = field(default_factory=list)  # every station of the subtree (the 中心's workbook)
    weeks: list[tuple[Period, Figures]] = field(default_factory=list)  # a 月小结's chart: the month week by week

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
    if r.team_ids is not None:
        return Request.team_id.in_(r.team_ids)
    return Request.team_id == r.team_id if r.team_id is not None else true()


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _hour_entries() -> tuple[type[LedgerEntry], Label[int], Label[int]]:
    """Ledger entries with the request and activity they are about; a reversal inherits its original's."""
    original = aliased(LedgerEntry)
    request_id = func.coalesce(LedgerEntry.request_id, original.request_id).label("request_id")
    activity_id = func.coalesce(LedgerEntry.activity_id, original.activity_id).label("activity_id")
    return original, request_id, activity_id


async def build_report(s: AsyncSession, period: Period, tz: ZoneInfo, team_id: int | Teams | None = None) -> Report:
    """The period's figures for the whole county, for one team (`team_id`), or for a station's teams (`Teams`)."""
    start, end = period.bounds(tz)
    if isinstance(team_id, Teams):
        report = Report(period=period, start=start, end=end, team_ids=team_id.ids, place_name=team_id.name)
    else:
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
                team_id.in_(r.team_ids)
                if r.team_ids is not None
                else team_id == r.team_id
                if r.team_id is not None
                else true(),
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


# The county: a period's figures per station, added up the tree (issue 13) --------------------


@dataclass
class NodeFigures:
    """A node's figures of a period: its requests (by the resident's station) and its hours."""

    placed: int = 0
    claimed: int = 0
    done: int = 0
    services_delivered: int = 0  # reported done in the period and not undone
    residents_served: int = 0  # distinct per station; a resident belongs to one station, so sums hold
    minutes: int = 0
    points: int = 0

    def add(self, other: NodeFigures) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


async def station_figures(
    s: AsyncSession, period: Period, tz: ZoneInfo, stations: Collection[int] | None = None, *, hours: bool = True
) -> dict[int | None, NodeFigures]:
    """The period's figures grouped by node, one grouped query each (requests, people served, hours):
    a request's by its station (`Request.station_id`), an activity's hours by its node (None: neither).
    `stations`: only those nodes' figures (a station coordinator's report); `hours=False`: without the hours."""
    start, end = period.bounds(tz)
    out: dict[int | None, NodeFigures] = {}

    def at(node_id: int | None) -> NodeFigures:
        return out.setdefault(node_id, NodeFigures())

    only = Request.station_id.in_(stations) if stations is not None else true()
    served = and_(Request.status.in_(SERVED), _within(Request.reported_at, start, end))
    rows = await s.execute(
        select(
            Request.station_id,
            _count(_within(Request.created_at, start, end)),
            _count(_within(Request.claimed_at, start, end)),
            _count(_within(Request.reported_at, start, end)),
            _count(served),
        )
        .where(only)
        .group_by(Request.station_id)
    )
    for node_id, placed, claimed, done, delivered in rows.all():
        f = at(node_id)
        f.placed, f.claimed, f.done, f.services_delivered = int(placed), int(claimed), int(done), int(delivered)
    people = select(Request.station_id, Request.resident_id, Request.proxy_for).where(served, only).distinct()
    sub = people.subquery()
    for node_id, n in (await s.execute(select(sub.c.station_id, func.count()).group_by(sub.c.station_id))).all():
        at(node_id).residents_served = int(n)
    if not hours:  # the caller reads the hours its own way (node_figures)
        return out
    original, request_id, activity_id = _hour_entries()
    node = func.coalesce(Request.station_id, Activity.node_id)
    by_node = await s.execute(
        select(node, func.sum(LedgerEntry.minutes), func.sum(LedgerEntry.points))
        .select_from(LedgerEntry)
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .outerjoin(Request, Request.id == request_id)
        .outerjoin(Activity, Activity.id == activity_id)
        .where(
            _within(LedgerEntry.created_at, start, end),
            LedgerEntry.kind.in_(HOUR_KINDS),
            node.in_(stations) if stations is not None else true(),
        )
        .group_by(node)
    )
    for node_id, minutes, points in by_node.all():
        f = at(node_id)
        f.minutes, f.points = int(minutes or 0), int(points or 0)
    return out


def roll_up(tree: org.Tree, figures: dict[int | None, NodeFigures]) -> dict[int | None, NodeFigures]:
    """Each node's figures with its subtree's (a 所's line holds its stations'); None: rows of no node."""
    out: dict[int | None, NodeFigures] = {}
    for node_id, f in figures.items():
        chain: list[int | None] = [n.id for n in tree.ancestors(node_id)] or [None]
        for nid in chain:
            out.setdefault(nid, NodeFigures()).add(f)
    return out


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


async def ledger_lines(s: AsyncSession, period: Period, tz: ZoneInfo, team_id: int | Teams | None = None) -> list[Line]:
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
        .where(
            Team.id.in_(team_id.ids)
            if isinstance(team_id, Teams)
            else Team.id == team_id
            if team_id is not None
            else true()
        )
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


# Issue 14: reports by level (a station's, a 所's with a line per station, the 中心's with a line per 所) -------


async def _task_counts(
    s: AsyncSession, station_ids: Collection[int], start: dt.datetime, end: dt.datetime
) -> tuple[int, int]:
    """(accepted, finished) task orders (任务单) of these stations in [start, end)."""
    from bot.tasks import service as tasks  # imported here: the task orders' service builds on this package's

    return await tasks.period_counts(s, station_ids, start, end)


@dataclass(frozen=True)
class WishCounts:
    """微心愿 (issue 15) of a period: collected, approved, claimed, fulfilled; median days from approval to
    fulfilment."""

    collected: int = 0
    approved: int = 0
    claimed: int = 0
    fulfilled: int = 0
    median_days: float | None = None

    @property
    def any(self) -> bool:
        return bool(self.collected or self.approved or self.claimed or self.fulfilled)


@dataclass(frozen=True)
class OverduePart:
    """A station's part of a task order past its day (issue 14: flagged in the 周台账): not accepted after the
    accept-by day (`stage` "accept"), or not reported after the finish-by day ("finish")."""

    number: str
    title: str
    station: str
    code: str
    stage: str
    by: dt.date


async def overdue_parts(
    s: AsyncSession, tree: org.Tree, station_ids: Collection[int], today: dt.date
) -> list[OverduePart]:
    """The parts of task orders at these stations that are overdue on `today` (station time)."""
    from bot.tasks import service as tasks  # imported here, as the task orders' counts

    if not station_ids:
        return []
    out = []
    for task, part in await tasks.overdue_nodes(s, org.Scope(everything=True), today, stations=station_ids):
        node = tree.nodes.get(part.node_id)
        late_accepting = part.status == tasks.ISSUED
        out.append(
            OverduePart(
                number=task.number,
                title=task.title,
                station=node.name if node else "",
                code=node.code if node else "",
                stage="accept" if late_accepting else "finish",
                by=task.accept_by if late_accepting else task.finish_by,
            )
        )
    return out


async def wish_counts(
    s: AsyncSession, station_ids: Collection[int], start: dt.datetime, end: dt.datetime
) -> WishCounts:
    """The 微心愿 figures of these stations in [start, end)."""
    from bot.wishes import service as wishes  # imported here, as the task orders' service

    c = await wishes.period_counts(s, list(station_ids), start, end)
    return WishCounts(c.collected, c.approved, c.claimed, c.fulfilled, c.median_days)


@dataclass
class Figures:
    """A node's figures of a period, by the resident's station (requests) or the activity's node (hours); they
    merge up the tree: medians from the waits themselves, active volunteers as a set (one counted once)."""

    placed: int = 0
    claimed: int = 0
    done: int = 0
    services_delivered: int = 0  # 受众人次
    residents_served: int = 0
    minutes: int = 0
    points: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    tasks_accepted: int = 0
    tasks_finished: int = 0
    wishes_fulfilled: int = 0  # 微心愿 fulfilled (the 月小结's chart, week by week)
    waits: list[float] = field(default_factory=list)  # minutes from being sent to the volunteers to the claim
    volunteers: set[int] = field(default_factory=set)  # with net approved hours here in the period
    activities: set[int] = field(default_factory=set)  # activities with hours in the period

    def merge(self, other: Figures) -> None:
        for name in (
            "placed",
            "claimed",
            "done",
            "services_delivered",
            "residents_served",
            "minutes",
            "points",
            "rating_sum",
            "rating_count",
            "tasks_accepted",
            "wishes_fulfilled",
            "tasks_finished",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.waits += other.waits
        self.volunteers |= other.volunteers
        self.activities |= other.activities

    @property
    def median_claim_minutes(self) -> float | None:
        return statistics.median(self.waits) if self.waits else None

    @property
    def rating_average(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None

    @property
    def empty(self) -> bool:
        return not (self.placed or self.claimed or self.done or self.minutes or self.rating_count)


@dataclass(frozen=True)
class LevelLine:
    """One line of a level's report: a station or a 所 (its subtree's figures)."""

    node_id: int
    code: str
    name: str
    kind: str
    figures: Figures
    volunteers_registered: int = 0  # only for /rank stations


async def node_figures(
    s: AsyncSession, period: Period, tz: ZoneInfo, stations: Collection[int] | None = None
) -> dict[int | None, Figures]:
    """`station_figures` and what a level's lines add to it, each one grouped query for every node at once:
    the waits to a claim, the ratings, and the hours by node, volunteer and activity."""
    start, end = period.bounds(tz)
    out: dict[int | None, Figures] = {}

    def at(node_id: int | None) -> Figures:
        return out.setdefault(node_id, Figures())

    for node_id, base in (await station_figures(s, period, tz, stations, hours=False)).items():
        g = at(node_id)
        g.placed, g.claimed, g.done = base.placed, base.claimed, base.done
        g.services_delivered, g.residents_served = base.services_delivered, base.residents_served
    only = Request.station_id.in_(stations) if stations is not None else true()
    sent = func.coalesce(func.max(RequestEvent.created_at), Request.created_at)
    waits = await s.execute(
        select(Request.station_id, Request.claimed_at, sent)
        .select_from(Request)
        .outerjoin(
            RequestEvent,
            and_(
                RequestEvent.request_id == Request.id,
                RequestEvent.kind.in_(("dispatched", "released")),
                RequestEvent.created_at <= Request.claimed_at,
            ),
        )
        .where(_within(Request.claimed_at, start, end), only)
        .group_by(Request.id, Request.station_id, Request.claimed_at, Request.created_at)
    )
    for node_id, claimed, since in waits.all():
        if claimed is not None:
            at(node_id).waits.append((_aware(claimed) - _aware(since)).total_seconds() / 60)
    ratings = await s.execute(
        select(Request.station_id, func.sum(Request.rating), func.count())
        .where(_within(Request.confirmed_at, start, end), Request.rating.is_not(None), only)
        .group_by(Request.station_id)
    )
    for node_id, total, count in ratings.all():
        rated = at(node_id)
        rated.rating_sum, rated.rating_count = int(total or 0), int(count)
    original, request_id, activity_id = _hour_entries()
    node = func.coalesce(Request.station_id, Activity.node_id)
    hours = await s.execute(
        select(node, LedgerEntry.volunteer_id, activity_id, func.sum(LedgerEntry.minutes), func.sum(LedgerEntry.points))
        .select_from(LedgerEntry)
        .outerjoin(original, original.id == LedgerEntry.reverses_id)
        .outerjoin(Request, Request.id == request_id)
        .outerjoin(Activity, Activity.id == activity_id)
        .where(
            _within(LedgerEntry.created_at, start, end),
            LedgerEntry.kind.in_(HOUR_KINDS),
            node.in_(stations) if stations is not None else true(),
        )
        .group_by(node, LedgerEntry.volunteer_id, activity_id)
    )
    net: dict[tuple[int | None, int], int] = {}
    for node_id, volunteer, activity, minutes, points in hours.all():
        worked = at(node_id)
        worked.minutes += int(minutes or 0)
        worked.points += int(points or 0)
        net[(node_id, volunteer)] = net.get((node_id, volunteer), 0) + int(minutes or 0)
        if activity is not None:
            worked.activities.add(activity)
    for (node_id, volunteer), minutes in net.items():
        if minutes > 0:
            at(node_id).volunteers.add(volunteer)
    return out


def subtree_figures(tree: org.Tree, figures: dict[int | None, Figures], node_id: int) -> Figures:
    """A node's figures with its whole subtree's (archived stations included: their past still counts)."""
    total = Figures()
    for nid in tree.subtree(node_id):
        if nid in figures:
            total.merge(figures[nid])
    return total


def line_nodes(tree: org.Tree, node_id: int | None) -> list[OrgNodeLike]:
    """The lines of a node's report: a 所's stations; the 中心's 所 and the stations right under it; a
    station's, none. A county of one station has no lines (its report is the station's)."""
    at = tree.nodes.get(node_id) if node_id is not None else None
    if at is None or at.kind == org.STATION or len(tree.stations()) < 2:
        return []
    if at.kind == org.INSTITUTE:
        return list(tree.stations(at.id))
    return [n for n in tree.kids(at.id) if n.kind in (org.INSTITUTE, org.STATION)]


OrgNodeLike = Any  # storage.models.OrgNode (kept loose: the tree hands its rows)


async def level_lines(
    s: AsyncSession,
    tree: org.Tree,
    nodes: list[OrgNodeLike],
    figures: dict[int | None, Figures],
    start: dt.datetime,
    end: dt.datetime,
) -> list[LevelLine]:
    out = []
    for n in nodes:
        f = subtree_figures(tree, figures, n.id)
        f.tasks_accepted, f.tasks_finished = await _task_counts(s, _station_ids(tree, n.id), start, end)
        out.append(LevelLine(n.id, n.code, n.name, n.kind, f))
    return out


def _station_ids(tree: org.Tree, node_id: int | None) -> list[int]:
    return [n.id for n in tree.stations(node_id)]


async def _extras(s: AsyncSession, r: Report, station_ids: list[int]) -> None:
    """The figures other features keep: task orders and 微心愿, through the one function each."""
    r.tasks_accepted, r.tasks_finished = await _task_counts(s, station_ids, r.start, r.end)
    r.wishes = await wish_counts(s, station_ids, r.start, r.end)


async def coordinator_report(
    s: AsyncSession,
    period: Period,
    tz: ZoneInfo,
    scope: int | Teams | None,
    *,
    tree: org.Tree | None = None,
    figures: dict[int | None, Figures] | None = None,
    sheets: bool = False,
    today: dt.date | None = None,
) -> Report:
    """The report a coordinator (or a team leader) reads: `build_report` of his scope, the previous period's for
    the change against it, task orders and 微心愿, and for a 所 or the 中心 a line per station or per 所 (from
    `node_figures`, computed once for the county and passed in `figures` when several reports are built).
    `sheets`: also every station of the subtree (the 中心's workbook has a sheet per station). A 月小结 also
    carries the month week by week, for its chart. The parts of task orders overdue at its stations are those of
    `today` (station time), or of the day after the period when that is earlier (a past period's report)."""
    tree = tree or await org.load_tree(s)
    report = await build_report(s, period, tz, scope)
    report.previous = await build_report(s, period.previous(), tz, scope)
    if isinstance(scope, int):  # a team leader's: his team's figures only
        return report
    node_id = scope.node_id if isinstance(scope, Teams) else tree.root.id if tree.root else None
    if node_id is None or node_id not in tree.nodes:
        return report
    at = tree.nodes[node_id]
    report.node_id, report.level, report.node_name, report.node_code = node_id, at.kind, at.name, at.code
    station_ids = _station_ids(tree, node_id)
    await _extras(s, report, station_ids)
    await _extras(s, report.previous, station_ids)
    after = period.last + dt.timedelta(days=1)
    report.overdue = await overdue_parts(s, tree, station_ids, min(today or after, after))
    lines = line_nodes(tree, node_id)
    if lines:
        if figures is None:
            figures = await node_figures(s, period, tz, _subtree_or_all(tree, node_id))
        report.lines = await level_lines(s, tree, lines, figures, report.start, report.end)
        if (sheets and report.level == org.CENTRE) or period.kind == MONTH:  # the 中心's sheets; the chart's bars
            report.stations = await level_lines(s, tree, tree.stations(node_id), figures, report.start, report.end)
    if period.kind == MONTH:
        report.weeks = await weekly(s, period, tz, tree, node_id)
    return report


def _subtree_or_all(tree: org.Tree, node_id: int) -> set[int] | None:
    """The nodes whose rows a node's figures read; None for the 中心: every row (those of no station too)."""
    return None if tree.root is not None and node_id == tree.root.id else tree.subtree(node_id)


async def weekly(
    s: AsyncSession, period: Period, tz: ZoneInfo, tree: org.Tree, node_id: int
) -> list[tuple[Period, Figures]]:
    """The period week by week (hours, requests done and 微心愿 fulfilled of the node's subtree), for the 月小结's
    chart: one grouped query per week, and the wishes'."""
    nodes = _subtree_or_all(tree, node_id)
    station_ids = _station_ids(tree, node_id)
    out = []
    for part in period.weeks():
        f = Figures()
        for g in (await station_figures(s, part, tz, nodes)).values():
            f.done += g.done
            f.minutes += g.minutes
        f.wishes_fulfilled = (await wish_counts(s, station_ids, *part.bounds(tz))).fulfilled
        out.append((part, f))
    return out


async def node_scope(s: AsyncSession, tree: org.Tree, node_id: int | None) -> Teams | None:
    """The scope of a node's report: the 中心's (or no node's): everything (None); another node's: the teams of its
    subtree, named after it."""
    at = tree.nodes.get(node_id) if node_id is not None else None
    if at is None or at.kind == org.CENTRE:
        return None
    rows = await s.execute(
        select(Team.id).where(Team.node_id.in_(tree.subtree(at.id)), Team.archived.is_(False)).order_by(Team.id)
    )
    return Teams(at.name, tuple(rows.scalars()), at.id)


async def scope_of_code(s: AsyncSession, user: User, code: str) -> Teams | None:
    """`/report week|month … CODE`: the scope of a node within the coordinator's scope (else a polite refusal)."""
    tree = await org.load_tree(s)
    found = tree.by_code(code)
    if found is None:
        raise DomainError("no_node", ref=code[: org.CODE_MAX + 5])
    await org.require_covers(s, user, found.id)
    return await node_scope(s, tree, found.id)


def split_code(args: str | None) -> tuple[str | None, str | None]:
    """(the period's words, a node's code): `week 2026-11-16 Z01`, `month Z01`; a date starts with its year."""
    words = (args or "").split()
    if len(words) == 3 or (len(words) == 2 and not re.match(r"\d{4}-", words[1])):
        return " ".join(words[:-1]), words[-1]
    return args, None


async def anything_to_report(s: AsyncSession, period: Period, tz: ZoneInfo) -> bool:
    """Whether the scheduled reports of `period` have anything to say anywhere: a request moved, hours or a rating
    (`build_report` of everything), or a station's part of a task order overdue as the period closed."""
    if not (await build_report(s, period, tz)).empty:
        return True
    from bot.tasks import service as tasks  # imported here, as the task orders' counts

    after = period.last + dt.timedelta(days=1)
    return bool(await tasks.overdue_nodes(s, org.Scope(everything=True), after))


def nothing_happened(r: Report) -> bool:
    """No request moved, no hours, no rating, in the report's scope nor in any of its lines, and no task order is
    overdue at its stations."""
    return r.empty and not r.overdue and all(line.figures.empty for line in r.lines)


# Stations compared (评优): /rank stations, and the 中心's 先进站 shortlist -----------------------------------------


async def registered_volunteers(s: AsyncSession, stations: Collection[int]) -> dict[int, int]:
    """Per station: its registered volunteers (members of its teams, or volunteers living there), each counted once
    a station; one grouped query."""
    in_teams = (
        select(Team.node_id.label("node"), TeamMember.user_id.label("uid"))
        .join(TeamMember, TeamMember.team_id == Team.id)
        .join(Volunteer, Volunteer.user_id == TeamMember.user_id)
        .where(Team.node_id.in_(stations), TeamMember.status == "active")
    )
    living = (
        select(User.station_id.label("node"), User.id.label("uid"))
        .join(Volunteer, Volunteer.user_id == User.id)
        .where(User.station_id.in_(stations))
    )
    both = union(in_teams, living).subquery()
    rows = await s.execute(select(both.c.node, func.count()).group_by(both.c.node))
    return {int(node): int(n) for node, n in rows.all()}


def hours_per_volunteer(line: LevelLine) -> float:
    return line.figures.minutes / 60 / line.volunteers_registered if line.volunteers_registered else 0.0


async def compare_stations(
    s: AsyncSession, period: Period, tz: ZoneInfo, tree: org.Tree, under: int | None
) -> list[LevelLine]:
    """The stations under a node (None: the county) best first: hours per registered volunteer, then requests
    done, then the average rating, then the shorter median time to take a request."""
    stations = tree.stations(under)
    ids = [n.id for n in stations]
    figures = await node_figures(s, period, tz, ids)
    start, end = period.bounds(tz)
    registered = await registered_volunteers(s, ids)
    lines = []
    for n in stations:
        f = figures.get(n.id, Figures())
        f.tasks_accepted, f.tasks_finished = await _task_counts(s, [n.id], start, end)
        lines.append(LevelLine(n.id, n.code, n.name, n.kind, f, registered.get(n.id, 0)))
    return sorted(
        lines,
        key=lambda line: (
            -hours_per_volunteer(line),
            -line.figures.done,
            -(line.figures.rating_average or 0),
            line.figures.median_claim_minutes if line.figures.median_claim_minutes is not None else float("inf"),
            line.code,
        ),
    )


async def advanced_stations(s: AsyncSession, period: Period, tz: ZoneInfo, limit: int = 3) -> list[LevelLine]:
    """The month's 先进站 shortlist for the 中心: the best stations that served anyone (none in a county of one
    station)."""
    tree = await org.load_tree(s)
    if len(tree.stations()) < 2:
        return []
    ranked = await compare_stations(s, period, tz, tree, None)
    return [line for line in ranked if line.figures.minutes > 0 or line.figures.done][:limit]


def with_ledger(r: Report) -> bool:
    """Does the report's workbook carry every ledger line? Not the 中心's of a county of several stations: a sheet per
    station instead (a county's week is tens of thousands of lines; a station's or 所's come with `/report … CODE`)."""
    return not (r.level == org.CENTRE and r.stations)
