"""Reports by level (issue 14): a station's, a 所's with a line per station, the 中心's with a line per 所; the
change against the period before; the scheduled 周台账 and 月小结 to each coordinator for his own subtree, once; the
月小结's chart; /rank stations' order."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import json

import pytest
from PIL import Image
from sqlalchemy import update

from bot.core import fonts
from bot.core.i18n import make_i18n
from bot.org import service as org
from bot.reports import chart as charts
from bot.reports import service as reports
from bot.reports import texts as report_texts
from bot.reports import xlsx as report_xlsx
from storage.models import LedgerEntry, LedgerKind, OrgNode, Request, Team, User, Volunteer
from tests.station_db import SHANGHAI, ZH_COORDINATOR, local, outbox, scheduler

CENTRE, Z01 = 1, 2  # the migration's 中心 and station
S1_COORD, Z04_COORD, S2_COORD = 601, 602, 603
V1, V2, RESIDENT = 611, 612, 613
WEEK_KEY, MONTH_KEY = "report:week:2026-W47", "report:month:2026-11"


@pytest.fixture
async def county(station_db):
    """中心 ZX ─ 所 S1 (站 Z01, 站 Z03) and 所 S2 (站 Z04, where nothing happens); a coordinator at S1, S2 and Z04.
    Week 2026-W47: a request at Z01 (taken in 30 min, 1.5 h, ★5) and one at Z03 (60 min, 1 h, ★3); the week before:
    one at Z01 (0.5 h)."""
    db = station_db
    made = local(2026, 10, 1)
    async with db.tx() as s:
        s1 = OrgNode(kind="institute", name="城关所", code="S1", parent_id=CENTRE, archived=False, created_at=made)
        s2 = OrgNode(kind="institute", name="东关所", code="S2", parent_id=CENTRE, archived=False, created_at=made)
        s.add_all([s1, s2])
        await s.flush()
        await s.execute(update(OrgNode).where(OrgNode.id == Z01).values(parent_id=s1.id))
        z03 = OrgNode(kind="station", name="三站", code="Z03", parent_id=s1.id, archived=False, created_at=made)
        z04 = OrgNode(kind="station", name="四站", code="Z04", parent_id=s2.id, archived=False, created_at=made)
        s.add_all([z03, z04])
        await s.flush()
        await s.execute(update(Team).where(Team.id == 1).values(node_id=Z01))
        t3 = Team(name="三站服务队", archived=False, created_at=made, node_id=z03.id)
        t4 = Team(name="四站服务队", archived=False, created_at=made, node_id=z04.id)
        s.add_all([t3, t4])
        for uid, at in ((S1_COORD, s1.id), (Z04_COORD, z04.id), (S2_COORD, s2.id), (V1, None), (V2, None)):
            s.add(
                User(
                    id=uid,
                    full_name=f"U{uid}",
                    locale="zh_Hans",
                    is_admin=False,
                    is_coordinator=uid in (S1_COORD, Z04_COORD, S2_COORD),
                    coord_node_id=at,
                    blocked_bot=False,
                    created_at=made,
                )
            )
        s.add(
            User(
                id=RESIDENT,
                full_name="R",
                locale="zh_Hans",
                is_admin=False,
                is_coordinator=False,
                blocked_bot=False,
                created_at=made,
                station_id=Z01,
            )
        )
        await s.flush()
        s.add_all(
            [
                Volunteer(user_id=V1, name="李明", phone="13800000001", registered_at=made),
                Volunteer(user_id=V2, name="张华", phone="13800000002", registered_at=made),
            ]
        )
        from storage.models import Service, TeamMember

        service = Service(name_zh="陪诊", name_en="Escort", team_id=1, active=True, position=0)
        s.add(service)
        s.add(TeamMember(team_id=1, user_id=V1, is_leader=False, joined_at=made, status="active"))
        s.add(TeamMember(team_id=t3.id, user_id=V2, is_leader=False, joined_at=made, status="active"))
        await s.flush()

        def request(n: int, station: int, team: int, placed: dt.datetime, wait: int, claimer: int, rating: int):
            return Request(
                number=f"2026-{n:04d}",
                resident_id=RESIDENT,
                service_id=service.id,
                team_id=team,
                station_id=station,
                description="陪诊",
                area="幸福小区",
                window_start=placed + dt.timedelta(days=1),
                window_end=placed + dt.timedelta(days=1, hours=2),
                status="approved",
                claimer_id=claimer,
                claimed_at=placed + dt.timedelta(minutes=wait),
                reported_minutes=60,
                reported_at=placed + dt.timedelta(hours=5),
                rating=rating,
                confirmed_at=placed + dt.timedelta(hours=6),
                approved_minutes=60,
                approved_by=ZH_COORDINATOR,
                approved_at=placed + dt.timedelta(hours=7),
                created_at=placed,
                updated_at=placed + dt.timedelta(hours=7),
            )

        rows = [
            (request(1, Z01, 1, local(2026, 11, 16, 10), 30, V1, 5), V1, 90),
            (request(2, z03.id, t3.id, local(2026, 11, 18, 9), 60, V2, 3), V2, 60),
            (request(3, Z01, 1, local(2026, 11, 10, 9), 20, V1, 4), V1, 30),  # the week before
        ]
        for req, volunteer, minutes in rows:
            s.add(req)
            await s.flush()
            s.add(
                LedgerEntry(
                    volunteer_id=volunteer,
                    minutes=minutes,
                    points=minutes // 6,
                    kind=LedgerKind.SERVICE,
                    request_id=req.id,
                    approved_by=ZH_COORDINATOR,
                    created_at=req.approved_at,
                )
            )
    return db


async def _report(db, user_id: int, period: reports.Period) -> reports.Report:
    async with db.read() as s:
        tree = await org.load_tree(s)
        user = await s.get(User, user_id)
        scope = org.scope_in(tree, user)
        return await reports.coordinator_report(
            s, period, SHANGHAI, await reports.node_scope(s, tree, None if scope.everything else scope.at), sheets=True
        )


async def test_a_institute_has_a_line_per_station_and_the_change(county):
    week = reports.week_of(dt.date(2026, 11, 18))
    r = await _report(county, S1_COORD, week)
    assert (r.level, r.node_name, r.placed, r.done, r.minutes) == ("institute", "城关所", 2, 2, 150)
    assert (r.previous.placed, r.previous.minutes) == (1, 30)
    assert [(line.code, line.figures.placed, line.figures.minutes) for line in r.lines] == [
        ("Z01", 1, 90),
        ("Z03", 1, 60),
    ]
    z01, z03 = (line.figures for line in r.lines)
    assert (z01.median_claim_minutes, z01.rating_average, len(z01.volunteers)) == (30, 5, 1)
    assert (z03.median_claim_minutes, z03.rating_average) == (60, 3)
    assert (r.tasks_accepted, r.tasks_finished, r.wishes.any) == (0, 0, False)  # wired at merge
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("zh_Hans"):
        text = report_texts.summary(r, "zh_Hans", SHANGHAI)
    assert "与上期相比：点单 +1，结单 +1，时长 +2 小时" in text
    assert "各站情况：" in text and "新时代文明实践站：点单 1 · 结单 1 · 1.5 小时" in text
    assert "三站：点单 1 · 结单 1 · 1 小时" in text and "接单用时 1 小时 · 评分 3.0" in text
    assert "领单（任务单）：0" in text


async def test_the_centre_has_a_line_per_institute_and_a_sheet_per_station(county):
    week = reports.week_of(dt.date(2026, 11, 18))
    r = await _report(county, ZH_COORDINATOR, week)
    assert r.level == "centre" and r.placed == 2
    assert [(line.code, line.figures.placed, line.figures.minutes) for line in r.lines] == [
        ("S1", 2, 150),
        ("S2", 0, 0),
    ]
    assert r.lines[0].figures.median_claim_minutes == 45  # the 所's median from its stations' waits
    assert [line.code for line in r.stations] == ["Z01", "Z03", "Z04"]
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("zh_Hans"):
        assert not reports.with_ledger(r)  # a county's week is too many lines: a sheet per station instead
        book = report_xlsx.workbook(r, None, SHANGHAI, "zh_Hans")
    from openpyxl import load_workbook

    names = load_workbook(io.BytesIO(book), read_only=True).sheetnames
    assert names == ["汇总", "分级汇总", "Z01 新时代文明实践站", "Z03 三站", "Z04 四站"]


async def test_a_station_of_nothing_has_an_empty_report(county):
    r = await _report(county, Z04_COORD, reports.week_of(dt.date(2026, 11, 18)))
    assert r.level == "station" and r.lines == [] and reports.nothing_happened(r)


async def test_scheduled_reports_reach_each_coordinator_once_for_his_subtree(county, db_url):
    first, second = scheduler(county, db_url, process_id="a"), scheduler(county, db_url, process_id="b")
    results = await asyncio.gather(first.run_due(local(2026, 11, 23, 9)), second.run_due(local(2026, 11, 23, 9)))
    assert sorted(k for r in results for k in r.followups if k.startswith("report:")) == [WEEK_KEY]
    sent = {
        uid: [m for m in await outbox(county, uid) if m.ref == f"post:{WEEK_KEY}"]
        for uid in (ZH_COORDINATOR, S1_COORD, S2_COORD, Z04_COORD)
    }
    assert [len(sent[uid]) for uid in (ZH_COORDINATOR, S1_COORD, S2_COORD, Z04_COORD)] == [1, 1, 0, 0]
    assert "各所（及直属站）情况：" in sent[ZH_COORDINATOR][0].text and "城关所：点单 2" in sent[ZH_COORDINATOR][0].text
    assert "各站情况：" in sent[S1_COORD][0].text and "/report week 2026-11-16 S1" in sent[S1_COORD][0].text
    assert [m for m in await outbox(county) if m.method == "upload"] == []  # a 周台账 has no chart

    results = await asyncio.gather(first.run_due(local(2026, 12, 1, 9)), second.run_due(local(2026, 12, 1, 9)))
    assert sorted(k for r in results for k in r.followups if k.startswith("report:")) == [MONTH_KEY]
    for uid, count in ((ZH_COORDINATOR, 1), (S1_COORD, 1), (S2_COORD, 0), (Z04_COORD, 0)):
        rows = await outbox(county, uid)
        assert len([m for m in rows if m.ref == f"post:{MONTH_KEY}"]) == count
        uploads = [json.loads(m.text) for m in rows if m.method == "upload"]
        assert len(uploads) == count
        for item in uploads:
            image = Image.open(io.BytesIO(base64.b64decode(item["data"])))
            assert image.format == "PNG" and image.size == (charts.WIDTH, charts.HEIGHT_TWO)


def test_the_chart_draws_every_label_with_chinese_glyphs():
    week = reports.week_of(dt.date(2026, 11, 18))
    figures = reports.Figures(done=3, minutes=150, wishes_fulfilled=2)
    r = reports.Report(period=reports.month_of(2026, 11), start=week.bounds(SHANGHAI)[0], end=week.bounds(SHANGHAI)[1])
    r.node_name = "新时代文明实践中心"
    r.weeks = [(part, figures) for part in r.period.weeks()]
    r.stations = [reports.LevelLine(n, f"Z{n:02d}", f"第{n}站", "station", figures) for n in range(1, 16)]
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("zh_Hans"):
        drawn = charts.chart_of(r)
    assert (
        drawn is not None and len(drawn.weeks) == 6 and len(drawn.stations) == charts.TOP_STATIONS
    )  # 11-1 is a Sunday
    assert drawn.weeks[0].label == "11月1日至11月1日" and "服务时长前 12 名的站" in drawn.labels()
    assert drawn.wishes_legend == "圆梦的心愿" and [b.wishes for b in drawn.weeks] == [2] * 6  # 微心愿, a third bar
    assert all(b.wishes is None for b in drawn.stations)
    font = fonts.chinese_font()
    face = font.sized(24)
    chinese = {c for label in drawn.labels() for c in label if "\u4e00" <= c <= "\u9fff"}
    assert chinese and fonts.has_chinese(face, "".join(sorted(chinese)))  # no character drawn as the missing box
    png = charts.render(drawn, font)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (charts.WIDTH, charts.HEIGHT_TWO)
    image.load()


async def test_stations_compared_by_hours_per_volunteer(county):
    async with county.read() as s:
        tree = await org.load_tree(s)
        lines = await reports.compare_stations(s, reports.month_of(2026, 11), SHANGHAI, tree, None)
    assert [(line.code, line.volunteers_registered, line.figures.minutes) for line in lines] == [
        ("Z01", 1, 120),
        ("Z03", 1, 60),
        ("Z04", 0, 0),
    ]
    async with county.read() as s:
        best = await reports.advanced_stations(s, reports.month_of(2026, 11), SHANGHAI)
    assert [line.code for line in best] == ["Z01", "Z03"]
