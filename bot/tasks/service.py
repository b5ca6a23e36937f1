"""Task orders (任务单): a 中心 or 所 coordinator issues a task to stations; each station 领单 (accepts) or says why it
cannot (无法承接); an accepted task becomes an activity of the station; the station 汇报 (reports back) and the issuer
confirms or sends it back (审核).

One station's part of a task is a `TaskNode`, whose state moves

    issued ─▶ accepted ─▶ reported ─▶ finished
       │          ▲           │
       ▼          └─ returned ◀┘
    declined

each move one conditional UPDATE … WHERE status IN (…) RETURNING, so a double tap moves it once. Overdue is not a
state: a node still `issued` after its task's accept-by day, or `accepted`/`returned` after its finish-by day.

Who does what (bot/org/service.py scope): the 中心 issues to every station, a 所 to the stations under it, a station
coordinator never issues; a coordinator whose scope holds a station acts for it (领单, 无法承接, 汇报) and sees only
the nodes in his scope (a station's coordinator: his station's, never another station's report); the issuer (or a
coordinator whose scope holds the issuing node) reviews. Every function runs inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activities import service as activities
from bot.core import validate
from bot.core.errors import DomainError
from bot.org import service as org
from storage import dialects
from storage.models import Activity, ActivitySignup, OrgNode, Task, TaskNode, User

ISSUED, ACCEPTED, DECLINED, REPORTED, RETURNED, FINISHED = (
    "issued",
    "accepted",
    "declined",
    "reported",
    "returned",
    "finished",
)
TAKEN = (ACCEPTED, REPORTED, RETURNED, FINISHED)  # 领单 counted
WORKING = (ACCEPTED, RETURNED)  # the station owes the 汇报
LIMITS = {"title": 60, "theme": 60, "expected": 1000, "reason": 300, "report": 1000}
MAX_PHOTOS = 3
MAX_SERVED = 100_000
MAX_HOURS = 24
PAGE = 8


class Notices(Protocol):
    async def issued(self, s: AsyncSession, task: Task, nodes: list[TaskNode]) -> None: ...
    async def answered(self, s: AsyncSession, task: Task, tn: TaskNode) -> None: ...
    async def reported(self, s: AsyncSession, task: Task, tn: TaskNode) -> None: ...
    async def reviewed(self, s: AsyncSession, task: Task, tn: TaskNode) -> None: ...


@dataclass
class Draft:
    title: str
    theme: str
    expected: str
    nodes: list[int]  # station ids
    accept_by: date
    finish_by: date
    max_minutes: int | None = None


@dataclass
class Line:
    """A task in /tasks: its nodes in the viewer's scope, taken (领单), finished (完成) and overdue."""

    task: Task
    nodes: int = 0
    taken: int = 0
    finished: int = 0
    declined: int = 0
    overdue: int = 0


@dataclass
class View:
    task: Task
    nodes: list[tuple[OrgNode, TaskNode]] = field(default_factory=list)


# rules -----------------------------------------------------------------------------------------------------


def text(value: str | None, name: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError("empty")
    if len(value) > LIMITS[name]:
        raise DomainError("too_long", limit=LIMITS[name], length=len(value))
    return value


def check_accept_by(accept_by: date, today: date) -> None:
    if accept_by < today:
        raise DomainError("task_past_date")


def check_dates(accept_by: date, finish_by: date, today: date) -> None:
    """Neither day has passed, and the station accepts no later than it finishes."""
    check_accept_by(accept_by, today)
    if finish_by < today:
        raise DomainError("task_past_date")
    if accept_by > finish_by:
        raise DomainError("task_bad_deadlines")


def hours(value: str | None) -> int:
    """The hours each volunteer may get (“2”, “1.5”): minutes."""
    raw = (value or "").strip().replace("小时", "").replace("h", "").strip()
    try:
        number = float(raw)
    except ValueError:
        raise DomainError("task_bad_hours", limit=MAX_HOURS) from None
    if not 0 < number <= MAX_HOURS or (number * 2) != int(number * 2):
        raise DomainError("task_bad_hours", limit=MAX_HOURS)
    return int(number * 60)


def served(value: str | None) -> int:
    raw = (value or "").strip().removesuffix("人次").removesuffix("人").strip()
    if not raw.isdecimal() or int(raw) > MAX_SERVED:
        raise DomainError("task_bad_count")
    return int(raw)


def is_overdue(task: Task, tn: TaskNode, today: date) -> bool:
    return (tn.status == ISSUED and task.accept_by < today) or (tn.status in WORKING and task.finish_by < today)


def overdue_clause(today: date) -> ColumnElement[bool]:
    """The same in SQL, over TaskNode joined to its Task."""
    return or_(
        and_(TaskNode.status == ISSUED, Task.accept_by < today),
        and_(TaskNode.status.in_(WORKING), Task.finish_by < today),
    )


def may_issue(scope: org.Scope, tree: org.Tree) -> bool:
    """The 中心 (and administrators) and a 所's coordinators issue; a station's do not."""
    return scope.everything or (
        scope.at is not None and scope.at in tree.nodes and tree.nodes[scope.at].kind == org.INSTITUTE
    )


async def require_issuer(s: AsyncSession, user: User | None) -> tuple[org.Scope, org.Tree]:
    tree = await org.load_tree(s)
    scope = org.scope_in(tree, user)
    if not scope.any:
        raise DomainError("not_coordinator")
    if not may_issue(scope, tree):
        raise DomainError("task_not_issuer")
    return scope, tree


def stations_in(scope: org.Scope, tree: org.Tree) -> list[OrgNode]:
    return tree.stations(None if scope.everything else scope.at)


def pick_nodes(scope: org.Scope, tree: org.Tree, choice: str) -> list[int]:
    """Where a task goes: "all" (every station in the issuer's scope), a 所's code (every station under it) or
    station codes separated by spaces or commas."""
    mine = {n.id: n for n in stations_in(scope, tree)}
    raw = (choice or "").strip()
    if raw.lower() == "all":
        picked = list(mine)
    else:
        picked = []
        for code in raw.replace("，", " ").replace(",", " ").replace("、", " ").split():
            found = tree.by_code(code)
            if found is None or found.archived:
                raise DomainError("no_node", ref=code[: org.CODE_MAX + 5])
            if not scope.covers(found.id):
                raise DomainError("not_your_station")
            if found.kind == org.STATION:
                under = [found.id]
            else:
                under = [n.id for n in tree.stations(found.id)]
            picked.extend(i for i in under if i in mine and i not in picked)
    if not picked:
        raise DomainError("task_no_stations")
    return picked


# issuing ---------------------------------------------------------------------------------------------------


async def _next_number(s: AsyncSession, year: int) -> str:
    value = await dialects.next_counter(s, f"task:{year}")
    return f"T{year}-{value:03d}"


async def issue(s: AsyncSession, notices: Notices, *, actor: User, draft: Draft, now: datetime, today: date) -> Task:
    scope, tree = await require_issuer(s, actor)
    check_dates(draft.accept_by, draft.finish_by, today)
    mine = {n.id for n in stations_in(scope, tree)}
    if not draft.nodes or any(n not in mine for n in draft.nodes):
        raise DomainError("not_your_station")
    task = Task(
        number=await _next_number(s, today.year),
        title=text(draft.title, "title"),
        theme=(draft.theme or "").strip()[: LIMITS["theme"]],
        expected=text(draft.expected, "expected"),
        issuer_id=actor.id,
        issuer_node_id=None if scope.everything else scope.at,
        accept_by=draft.accept_by,
        finish_by=draft.finish_by,
        max_minutes=draft.max_minutes,
        created_at=now,
    )
    s.add(task)
    await s.flush()
    nodes = [TaskNode(task_id=task.id, node_id=n, status=ISSUED, updated_at=now) for n in dict.fromkeys(draft.nodes)]
    s.add_all(nodes)
    await s.flush()
    await notices.issued(s, task, nodes)
    return task


# lookups ---------------------------------------------------------------------------------------------------


async def get(s: AsyncSession, task_id: int) -> Task:
    task = await s.get(Task, task_id) if validate.fits_id(task_id) else None
    if task is None:
        raise DomainError("task_missing")
    return task


async def node(s: AsyncSession, tn_id: int) -> tuple[Task, TaskNode]:
    tn = await s.get(TaskNode, tn_id, populate_existing=True) if validate.fits_id(tn_id) else None
    if tn is None:
        raise DomainError("task_missing")
    return await get(s, tn.task_id), tn


async def require_station(s: AsyncSession, user: User | None, tn: TaskNode) -> None:
    """A coordinator whose scope holds the task's station (its own, its 所's, the 中心's)."""
    scope = await org.scope_of(s, user)
    if not scope.any:
        raise DomainError("not_coordinator")
    if not scope.covers(tn.node_id):
        raise DomainError("task_not_yours")


async def may_review(s: AsyncSession, user: User | None, task: Task) -> bool:
    if user is None:
        return False
    if user.id == task.issuer_id:
        return True
    scope = await org.scope_of(s, user)
    return scope.everything or (task.issuer_node_id is not None and scope.covers(task.issuer_node_id))


async def require_reviewer(s: AsyncSession, user: User | None, task: Task) -> None:
    if not await may_review(s, user, task):
        if not (user and (user.is_coordinator or user.is_admin)):
            raise DomainError("not_coordinator")
        raise DomainError("task_not_reviewer")


async def station_coordinators(s: AsyncSession, node_id: int, *, skip: int | None = None) -> list[User]:
    """Who answers for a station: its own and its 所's coordinators; the 中心's only when it has neither."""
    everyone = [u for u in await org.coordinators_of(s, [node_id]) if u.id != skip]
    below = [u for u in everyone if not org.is_centre(u) and u.coord_node_id is not None]
    return below or everyone


# moves -----------------------------------------------------------------------------------------------------


async def _move(s: AsyncSession, tn: TaskNode, frm: Iterable[str], to: str, now: datetime, **values: object) -> None:
    moved = (
        await s.execute(
            update(TaskNode)
            .where(TaskNode.id == tn.id, TaskNode.status.in_(tuple(frm)))
            .values(status=to, updated_at=now, **values)
            .returning(TaskNode.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar()
    if moved is None:
        raise DomainError("task_wrong_state")
    await s.refresh(tn)


async def accept(s: AsyncSession, notices: Notices, *, actor: User, tn_id: int, now: datetime) -> tuple[Task, TaskNode]:
    """领单 (also after the accept-by day: late, but still welcome)."""
    task, tn = await node(s, tn_id)
    await require_station(s, actor, tn)
    await _move(s, tn, (ISSUED,), ACCEPTED, now, acted_by=actor.id, accepted_at=now)
    await notices.answered(s, task, tn)
    return task, tn


async def decline(
    s: AsyncSession, notices: Notices, *, actor: User, tn_id: int, reason: str | None, now: datetime
) -> tuple[Task, TaskNode]:
    """无法承接, with a reason."""
    task, tn = await node(s, tn_id)
    await require_station(s, actor, tn)
    why = text(reason, "reason")
    await _move(s, tn, (ISSUED,), DECLINED, now, acted_by=actor.id, reason=why)
    await notices.answered(s, task, tn)
    return task, tn


async def require_working(s: AsyncSession, actor: User, tn_id: int) -> tuple[Task, TaskNode]:
    """The station owes the 汇报 (accepted, or sent back) and the actor answers for it."""
    task, tn = await node(s, tn_id)
    await require_station(s, actor, tn)
    if tn.status not in WORKING:
        raise DomainError("task_wrong_state")
    return task, tn


async def link_activity(s: AsyncSession, *, actor: User, tn_id: int, act: Activity, now: datetime) -> TaskNode:
    """The activity the station published for its accepted task."""
    _task, tn = await require_working(s, actor, tn_id)
    tn.activity_id, tn.updated_at = act.id, now
    return tn


async def activity_figures(s: AsyncSession, tn: TaskNode, max_minutes: int | None) -> tuple[int, int]:
    """(volunteers who checked in, their minutes: approved, else proposed; each capped at the task's hours)."""
    if tn.activity_id is None:
        return 0, 0
    rows = await s.execute(
        select(func.coalesce(ActivitySignup.approved_minutes, ActivitySignup.proposed_minutes, 0)).where(
            ActivitySignup.activity_id == tn.activity_id,
            ActivitySignup.status == activities.SIGNED,
            ActivitySignup.checked_in_at.is_not(None),
        )
    )
    minutes = [int(m or 0) for m in rows.scalars()]
    if max_minutes:
        minutes = [min(m, max_minutes) for m in minutes]
    return len(minutes), sum(minutes)


async def report(
    s: AsyncSession,
    notices: Notices,
    *,
    actor: User,
    tn_id: int,
    what: str | None,
    people: int,
    media: str | None,
    now: datetime,
) -> tuple[Task, TaskNode]:
    """汇报: what was done, people served, photos (file ids); volunteers and hours from the linked activity."""
    task, tn = await require_working(s, actor, tn_id)
    done = text(what, "report")
    volunteers, minutes = await activity_figures(s, tn, task.max_minutes)
    await _move(
        s,
        tn,
        WORKING,
        REPORTED,
        now,
        report=done,
        served=people,
        volunteers=volunteers,
        minutes=minutes,
        media=media,
        reported_at=now,
        reason=None,
    )
    await notices.reported(s, task, tn)
    return task, tn


async def review(
    s: AsyncSession, notices: Notices, *, actor: User, tn_id: int, ok: bool, reason: str | None, now: datetime
) -> tuple[Task, TaskNode]:
    """审核: confirmed, it counts (finished); else sent back with a reason, and the station reports again."""
    task, tn = await node(s, tn_id)
    await require_reviewer(s, actor, task)
    if ok:
        await _move(s, tn, (REPORTED,), FINISHED, now, finished_at=now)
    else:
        why = text(reason, "reason")
        await _move(s, tn, (REPORTED,), RETURNED, now, reason=why)
    await notices.reviewed(s, task, tn)
    return task, tn


# views -----------------------------------------------------------------------------------------------------


def _in_scope(scope: org.Scope) -> ColumnElement[bool] | None:
    return None if scope.everything else TaskNode.node_id.in_(sorted(scope.nodes))


async def progress(s: AsyncSession, scope: org.Scope, today: date, page: int = 0) -> tuple[list[Line], int]:
    """/tasks: the tasks with a node in the viewer's scope, newest first, a page of them, each with its counts over
    those nodes (two grouped statements, whatever the number of stations); and the number of pages."""
    if not scope.any:
        raise DomainError("not_coordinator")
    where = _in_scope(scope)
    ids = select(TaskNode.task_id).distinct()
    if where is not None:
        ids = ids.where(where)
    total = int((await s.execute(select(func.count()).select_from(ids.subquery()))).scalar_one())
    pages = max(1, -(-total // PAGE))
    page = min(max(page, 0), pages - 1)
    task_ids = list((await s.execute(ids.order_by(TaskNode.task_id.desc()).limit(PAGE).offset(page * PAGE))).scalars())
    if not task_ids:
        return [], pages
    overdue = overdue_clause(today)
    counts = (
        select(
            TaskNode.task_id,
            func.count(),
            func.sum(case((TaskNode.status.in_(TAKEN), 1), else_=0)),
            func.sum(case((TaskNode.status == FINISHED, 1), else_=0)),
            func.sum(case((TaskNode.status == DECLINED, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
        )
        .join(Task, Task.id == TaskNode.task_id)
        .where(TaskNode.task_id.in_(task_ids))
        .group_by(TaskNode.task_id)
    )
    if where is not None:
        counts = counts.where(where)
    tasks = {t.id: t for t in (await s.execute(select(Task).where(Task.id.in_(task_ids)))).scalars()}
    lines = {tid: Line(tasks[tid]) for tid in task_ids}
    for tid, n, taken, finished, declined, late in (await s.execute(counts)).all():
        line = lines[tid]
        line.nodes, line.taken, line.finished = int(n), int(taken or 0), int(finished or 0)
        line.declined, line.overdue = int(declined or 0), int(late or 0)
    return [lines[tid] for tid in task_ids], pages


async def view(s: AsyncSession, user: User | None, task_id: int) -> View:
    """One task: each of its nodes in the viewer's scope, by station code."""
    scope = await org.scope_of(s, user)
    if not scope.any:
        raise DomainError("not_coordinator")
    task = await get(s, task_id)
    query = (
        select(OrgNode, TaskNode)
        .join(TaskNode, TaskNode.node_id == OrgNode.id)
        .where(TaskNode.task_id == task.id)
        .order_by(OrgNode.code)
    )
    where = _in_scope(scope)
    if where is not None:
        query = query.where(where)
    rows = [(n, tn) for n, tn in (await s.execute(query)).all()]
    if not rows:
        raise DomainError("task_not_yours")
    return View(task, rows)


async def my_node(s: AsyncSession, user: User, task_id: int) -> TaskNode | None:
    """The viewer's own station's node of a task (a station coordinator's), if any."""
    if user.coord_node_id is None:
        return None
    return (
        await s.execute(select(TaskNode).where(TaskNode.task_id == task_id, TaskNode.node_id == user.coord_node_id))
    ).scalar_one_or_none()


async def overdue_nodes(
    s: AsyncSession, scope: org.Scope, today: date, stations: Iterable[int] | None = None
) -> list[tuple[Task, TaskNode]]:
    """The nodes in `scope` (and, if given, of `stations`) that are overdue on `today` (station time): not accepted
    after the accept-by day, or not reported after the finish-by day. For the 周台账's flags."""
    query = (
        select(Task, TaskNode)
        .join(TaskNode, TaskNode.task_id == Task.id)
        .where(overdue_clause(today))
        .order_by(Task.id, TaskNode.node_id)
    )
    where = _in_scope(scope)
    if where is not None:
        query = query.where(where)
    elif not scope.any:
        return []
    if stations is not None:
        query = query.where(TaskNode.node_id.in_(sorted(set(stations))))
    return [(t, tn) for t, tn in (await s.execute(query)).all()]


async def period_counts(s: AsyncSession, station_ids: Iterable[int], start: datetime, end: datetime) -> tuple[int, int]:
    """Task nodes of these stations accepted (领单) and finished (confirmed) within [start, end)."""
    ids = sorted(set(station_ids))
    if not ids:
        return 0, 0
    accepted = await s.execute(
        select(func.count()).where(TaskNode.node_id.in_(ids), TaskNode.accepted_at >= start, TaskNode.accepted_at < end)
    )
    finished = await s.execute(
        select(func.count()).where(TaskNode.node_id.in_(ids), TaskNode.finished_at >= start, TaskNode.finished_at < end)
    )
    return int(accepted.scalar_one()), int(finished.scalar_one())


# for the scheduler ------------------------------------------------------------------------------------------


async def waiting(s: AsyncSession, since: date, until: date) -> list[tuple[Task, TaskNode]]:
    """Nodes still not accepted whose accept-by day is within [since, until]."""
    rows = await s.execute(
        select(Task, TaskNode)
        .join(TaskNode, TaskNode.task_id == Task.id)
        .where(TaskNode.status == ISSUED, Task.accept_by >= since, Task.accept_by <= until)
        .order_by(Task.id, TaskNode.id)
    )
    return [(t, tn) for t, tn in rows.all()]
