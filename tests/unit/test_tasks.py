"""Task orders (bot/tasks/service.py): the days, who issues and who answers for which station, the state machine
issued → accepted | declined → reported → finished | returned, the overdue nodes and /tasks' counts, and the job's
reminder and the issuer's note, each sent once."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.core.errors import DomainError
from bot.core.i18n import make_i18n
from bot.org import service as org
from bot.tasks import service as tasks
from bot.tasks.jobs import late_key, remind_key, run_task_jobs
from storage.models import Task, TaskNode, User
from tests.station_db import EN_COORDINATOR, local, occurrences, outbox, scheduler, settings

TODAY = date(2025, 12, 1)
NOW = local(2025, 12, 1, 10)
SO, ST1, ST2 = 41, 42, 43  # coordinators of 所 S1, station Z01, station Z02 (Z03 has none of its own)


class Told:
    """The notices, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    async def issued(self, s, task, nodes):
        self.calls += [("issued", str(tn.node_id)) for tn in nodes]

    async def answered(self, s, task, tn):
        self.calls.append(("answered", tn.status))

    async def reported(self, s, task, tn):
        self.calls.append(("reported", tn.status))

    async def reviewed(self, s, task, tn):
        self.calls.append(("reviewed", tn.status))


@pytest.fixture
async def county(station_db):
    """中心 ZX ─ 所 S1 ─ Z01, Z02; ZX ─ Z03. The administrator (EN_COORDINATOR) is the 中心."""
    db = station_db
    async with db.tx() as s:
        admin = await s.get(User, EN_COORDINATOR)
        s1 = await org.add_node(s, admin, "所", "城关所", "S1", "ZX", NOW)
        await org.move_node(s, admin, "Z01", "S1")
        z02 = await org.add_node(s, admin, "站", "二站", "Z02", "S1", NOW)
        z03 = await org.add_node(s, admin, "站", "三站", "Z03", "ZX", NOW)
        z01 = await org.find_node(s, "Z01")
        for uid, code in ((SO, "S1"), (ST1, "Z01"), (ST2, "Z02")):
            user = User(
                id=uid,
                full_name=code,
                locale="zh_Hans",
                is_admin=False,
                is_coordinator=True,
                blocked_bot=False,
                created_at=NOW,
            )
            s.add(user)
            await s.flush()
            await org.appoint(s, user, code)
    return SimpleNamespace(db=db, s1=s1.id, z01=z01.id, z02=z02.id, z03=z03.id)


async def user(s, uid: int) -> User:
    found = await s.get(User, uid)
    assert found is not None
    return found


def draft(nodes: list[int], accept_by: date = TODAY + timedelta(days=2)) -> tasks.Draft:
    return tasks.Draft(
        title="重阳节敬老",
        theme="孝老爱亲",
        expected="走访辖区独居老人",
        nodes=nodes,
        accept_by=accept_by,
        finish_by=TODAY + timedelta(days=10),
        max_minutes=120,
    )


async def issued(s, told: Told, nodes: list[int]) -> tuple[Task, dict[int, int]]:
    """The 中心 issues the task of `draft` to `nodes`; the task, and each node's part id."""
    task = await tasks.issue(s, told, actor=await user(s, EN_COORDINATOR), draft=draft(nodes), now=NOW, today=TODAY)
    parts = (await s.execute(select(TaskNode).where(TaskNode.task_id == task.id))).scalars()
    return task, {tn.node_id: tn.id for tn in parts}


def code(exc: pytest.ExceptionInfo[DomainError]) -> str:
    return exc.value.code


def test_days_hours_and_counts():
    tasks.check_dates(TODAY, TODAY, TODAY)  # today is allowed, and accepting on the day of finishing
    with pytest.raises(DomainError) as past:
        tasks.check_dates(TODAY - timedelta(days=1), TODAY + timedelta(days=3), TODAY)
    assert code(past) == "task_past_date"
    with pytest.raises(DomainError) as order:
        tasks.check_dates(TODAY + timedelta(days=5), TODAY + timedelta(days=3), TODAY)
    assert code(order) == "task_bad_deadlines"
    assert tasks.hours("1.5") == 90 and tasks.hours("2小时") == 120
    for bad in ("0", "25", "1.2", "两"):
        with pytest.raises(DomainError):
            tasks.hours(bad)
    assert tasks.served("30人次") == 30
    with pytest.raises(DomainError):
        tasks.served("-3")


async def test_who_issues_to_which_stations(county):
    async with county.db.read() as s:
        with pytest.raises(DomainError) as station:
            await tasks.require_issuer(s, await user(s, ST1))
        assert code(station) == "task_not_issuer"
        scope, tree = await tasks.require_issuer(s, await user(s, SO))
        assert sorted(tasks.pick_nodes(scope, tree, "all")) == sorted([county.z01, county.z02])
        assert tasks.pick_nodes(scope, tree, "z02") == [county.z02]
        with pytest.raises(DomainError) as other:
            tasks.pick_nodes(scope, tree, "Z03")  # not under his 所
        assert code(other) == "not_your_station"
        centre, tree = await tasks.require_issuer(s, await user(s, EN_COORDINATOR))
        assert sorted(tasks.pick_nodes(centre, tree, "S1 Z03")) == sorted([county.z01, county.z02, county.z03])
    async with county.db.tx() as s:
        with pytest.raises(DomainError):  # a 所 cannot issue to another 所's station, even forged
            await tasks.issue(s, Told(), actor=await user(s, SO), draft=draft([county.z03]), now=NOW, today=TODAY)


async def test_state_machine_scope_counts_and_overdue(county):
    told = Told()
    db = county.db
    async with db.tx() as s:
        task, nodes = await issued(s, told, [county.z01, county.z02, county.z03])
    assert task.number == "T2025-001" and len(told.calls) == 3
    one, two = nodes[county.z01], nodes[county.z02]

    async def step(fn, **kw):
        async with db.tx() as s:
            return await fn(s, told, **kw)

    async def refused(fn, expected: str, **kw):
        with pytest.raises(DomainError) as exc:
            await step(fn, **kw)
        assert code(exc) == expected

    async with db.read() as s:
        st1, st2, so, centre = [await user(s, u) for u in (ST1, ST2, SO, EN_COORDINATOR)]
    await refused(tasks.accept, "task_not_yours", actor=st2, tn_id=one, now=NOW)  # another station's
    await step(tasks.accept, actor=st1, tn_id=one, now=NOW)
    await refused(tasks.accept, "task_wrong_state", actor=st1, tn_id=one, now=NOW)  # a double tap
    await refused(tasks.decline, "empty", actor=st2, tn_id=two, reason=" ", now=NOW)
    await step(tasks.decline, actor=st2, tn_id=two, reason="本周人手不足", now=NOW)
    await refused(tasks.report, "task_not_yours", actor=st2, tn_id=one, what="做完了", people=3, media=None, now=NOW)
    await step(tasks.report, actor=st1, tn_id=one, what="走访 12 户", people=12, media=None, now=NOW)
    await refused(tasks.review, "task_not_reviewer", actor=so, tn_id=one, ok=True, reason=None, now=NOW)
    await step(tasks.review, actor=centre, tn_id=one, ok=False, reason="请补照片", now=NOW)
    await refused(tasks.review, "task_wrong_state", actor=centre, tn_id=one, ok=True, reason=None, now=NOW)
    later = NOW + timedelta(days=1)
    await step(tasks.report, actor=st1, tn_id=one, what="走访 12 户，附照片", people=12, media=None, now=later)
    await step(tasks.review, actor=centre, tn_id=one, ok=True, reason=None, now=later)
    assert [c for c in told.calls if c[0] != "issued"] == [
        ("answered", "accepted"),
        ("answered", "declined"),
        ("reported", "reported"),
        ("reviewed", "returned"),
        ("reported", "reported"),
        ("reviewed", "finished"),
    ]
    late = TODAY + timedelta(days=3)  # past the accept-by day: Z03 never answered
    async with db.read() as s:
        lines, pages = await tasks.progress(s, await org.scope_of(s, centre), late)
        assert pages == 1 and len(lines) == 1
        line = lines[0]
        assert (line.nodes, line.taken, line.finished, line.declined, line.overdue) == (3, 1, 1, 1, 1)
        mine, _pages = await tasks.progress(s, await org.scope_of(s, st2), late)
        assert (mine[0].nodes, mine[0].declined) == (1, 1)  # his own station only
        seen = await tasks.view(s, st2, task.id)
        assert [n.code for n, _tn in seen.nodes] == ["Z02"]
        overdue = await tasks.overdue_nodes(s, await org.scope_of(s, centre), late)
        assert [tn.node_id for _t, tn in overdue] == [county.z03]
        assert await tasks.overdue_nodes(s, await org.scope_of(s, so), late) == []
        assert await tasks.overdue_nodes(s, await org.scope_of(s, centre), TODAY) == []
        assert await tasks.period_counts(s, [county.z01, county.z02], NOW, later + timedelta(hours=1)) == (1, 1)
        assert await tasks.period_counts(s, [county.z02], NOW, later + timedelta(hours=1)) == (0, 0)


async def test_overdue_parts_are_flagged_in_the_weekly_report(county):
    """Issue 14: overdue nodes are flagged in the issuer's 周台账 (and each station's own), as of the report's day."""
    from zoneinfo import ZoneInfo

    from bot.reports import service as reports
    from bot.reports import texts as report_texts

    tz = ZoneInfo("Asia/Shanghai")
    db = county.db
    async with db.tx() as s:
        task, parts = await issued(s, Told(), [county.z01, county.z02, county.z03])
        await tasks.accept(s, Told(), actor=await user(s, ST1), tn_id=parts[county.z01], now=NOW)
    late = TODAY + timedelta(days=3)  # past the accept-by day (TODAY + 2): Z02 and Z03 never answered

    async def report(node_id: int | None, today: date) -> reports.Report:
        async with db.read() as s:
            tree = await org.load_tree(s)
            scope = await reports.node_scope(s, tree, node_id)
            return await reports.coordinator_report(s, reports.week_of(late), tz, scope, tree=tree, today=today)

    centre = await report(None, late)
    assert [(p.code, p.stage, p.by) for p in centre.overdue] == [
        ("Z02", "accept", TODAY + timedelta(days=2)),
        ("Z03", "accept", TODAY + timedelta(days=2)),
    ]
    assert not reports.nothing_happened(centre)  # nothing else happened that week: the flags alone are sent
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("zh_Hans"):
        text = report_texts.summary(centre, "zh_Hans", tz)
    assert "⚠️ 逾期任务单（每站一行）：共 2 项" in text
    assert f"任务单 {task.number}“重阳节敬老”：二站（Z02）未领单，领单截止 12月3日（周三）" in text
    assert [p.code for p in (await report(county.s1, late)).overdue] == ["Z02"]  # the 所's: its stations only
    assert (await report(county.z01, late)).overdue == []  # Z01 accepted, and its finish-by day is ahead
    assert (await report(None, TODAY + timedelta(days=2))).overdue == []  # on the accept-by day: not yet
    past = reports.week_of(TODAY - timedelta(days=7))  # a past week's report: as that week closed
    async with db.read() as s:
        before = await reports.coordinator_report(s, past, tz, None, today=late)
    assert before.overdue == []


async def test_a_week_of_nothing_but_an_overdue_task_is_still_reported(county, db_url):
    """No request, hour or rating that week: the scheduled 周台账 still goes to those over an overdue station."""
    db = county.db
    async with db.tx() as s:
        _task, parts = await issued(s, Told(), [county.z01, county.z02])
        await tasks.accept(s, Told(), actor=await user(s, ST1), tn_id=parts[county.z01], now=NOW)
    await scheduler(db, db_url).run_due(local(2025, 12, 8, 9))  # the Monday after: the 周台账 of Dec 1–7
    key = "post:report:week:2025-W49"
    sent = {uid: [m.text for m in await outbox(db, uid) if m.ref == key] for uid in (EN_COORDINATOR, SO, ST1, ST2)}
    assert [len(sent[uid]) for uid in (EN_COORDINATOR, SO, ST1, ST2)] == [1, 1, 0, 1]  # Z01 accepted: nothing
    assert "Z02" in sent[SO][0] and "Z01" not in sent[SO][0] and "未领单" in sent[ST2][0]


async def test_reminder_on_the_last_day_once_then_the_issuer_once(county, db_url):
    db = county.db
    async with db.tx() as s:
        task = await tasks.issue(
            s,
            Told(),
            actor=await user(s, EN_COORDINATOR),
            draft=draft([county.z01, county.z03], accept_by=TODAY + timedelta(days=1)),
            now=NOW,
            today=TODAY,
        )
        z01 = (
            await s.execute(select(TaskNode).where(TaskNode.task_id == task.id, TaskNode.node_id == county.z01))
        ).scalar_one()
    async with db.tx() as s:
        await tasks.accept(s, Told(), actor=await user(s, ST1), tn_id=z01.id, now=NOW)
    conf, i18n = settings(db_url), make_i18n()
    assert await run_task_jobs(db, i18n, conf, now=NOW, claimed_by="t") == []  # not the last day yet
    last_day = local(2025, 12, 2, 9)
    first = await run_task_jobs(db, i18n, conf, now=last_day, claimed_by="t")
    again = await run_task_jobs(db, i18n, conf, now=last_day + timedelta(minutes=1), claimed_by="t")
    z03 = (await occurrences(db)).keys() - {late_key(task.id)}
    assert len(first) == 1 and first[0].startswith("task:remind:") and again == [] and first[0] in z03
    assert remind_key(z01.id) not in z03  # accepted: not reminded
    reminded = [m for m in await outbox(db) if "今天是领单的最后一天" in m.text]
    assert len(reminded) == 1  # Z03 has no coordinator of its own: the 中心's other one, not the issuer
    day_after = local(2025, 12, 3, 9)
    assert await run_task_jobs(db, i18n, conf, now=day_after, claimed_by="t") == [late_key(task.id)]
    assert await run_task_jobs(db, i18n, conf, now=day_after, claimed_by="t") == []
    told = [m for m in await outbox(db, EN_COORDINATOR) if "未领单" in m.text or "not accepted" in m.text]
    assert len(told) == 1 and "Z03" in told[0].text and "Z01" not in told[0].text
