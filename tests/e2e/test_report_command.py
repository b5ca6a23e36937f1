"""/report week|month through the fake Bot API: the summary in the user's language, the .xlsx workbook whose
totals match the ledger, and polite refusals (wrong role, bad or future dates, a group chat)."""

from __future__ import annotations

import io
from datetime import date, timedelta

from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.reports.service import HOUR_KINDS, month_of, week_of
from storage.models import LedgerEntry, Team, TeamMember, Volunteer
from tests import report_data as data
from tests.chat import assert_error

ZH, EN = "zh-hans", "en"


async def ledger_sum(app, period) -> tuple[int, int, int]:
    start, end = period.bounds(app.settings.tz)
    async with app.db.read() as s:
        row = (
            await s.execute(
                select(func.count(), func.sum(LedgerEntry.minutes), func.sum(LedgerEntry.points)).where(
                    LedgerEntry.created_at >= start, LedgerEntry.created_at < end, LedgerEntry.kind.in_(HOUR_KINDS)
                )
            )
        ).one()
    return int(row[0]), int(row[1] or 0), int(row[2] or 0)


async def ask(fake, user, command: str, head: str):
    """Send /report...; return (the summary message, the workbook message)."""
    before = len(fake.bot_messages(user))
    await user.send(command)
    document = await fake.wait_message(user, after=before)
    while document.document is None or "photo" in document.raw:  # a 月小结's chart comes before its workbook
        document = await fake.wait_message(user, after=document)
    fresh = fake.bot_messages(user)[before:]
    summary = [m for m in fresh if m.text and head in m.text and "/report" not in m.text]
    assert len(summary) == 1, [m.content for m in fresh]
    return summary[0], document


async def start(fake, start_app, lang: str):
    coordinator = fake.user("周站长" if lang == ZH else "Zhou", language_code=lang)
    app = await start_app(admin_ids=[coordinator.id])
    await data.seed(app.db)
    return app, coordinator


def sheet_rows(document) -> tuple[list, list]:
    book = load_workbook(io.BytesIO(document.document.content))
    summary, ledger = book.worksheets
    return [row[:2] for row in summary.iter_rows(values_only=True)], list(ledger.iter_rows(values_only=True))


async def test_weekly_ledger_in_chinese(fake, start_app):
    app, coordinator = await start(fake, start_app, ZH)
    summary, document = await ask(fake, coordinator, "/report week 2026-11-18", "周台账 2026-W47")
    for words in (
        "点单 9 · 接单 5 · 结单 4 · 取消 1 · 未受理 1",
        "接单用时中位数：30 分钟",
        "7.5 小时，积分 75",
        "服务居民 4 人；受众人次 4",
        "评单 3 条，平均 4.0 星",
        "助老服务队：5.5 小时",
        "陪诊：1.5 小时",
        "活动：重阳敬老：4 小时",
    ):
        assert words in summary.text, words
    assert document.document.filename == "station-week-2026-W47.xlsx"
    assert "周台账 2026-W47" in document.caption and "8 条台账明细" in document.caption

    count, minutes, points = await ledger_sum(app, week_of(date(2026, 11, 18)))
    summary_rows, rows = sheet_rows(document)
    assert rows[0][:5] == ("日期", "志愿者", "服务队", "服务项目或活动", "时长（小时）")
    body, total = rows[1:-1], rows[-1]
    assert len(body) == count == 8
    assert total[0] == "合计" and total[4] == minutes / 60 == 7.5 and total[5] == points == 75
    assert sum(r[4] for r in body) == total[4] and sum(r[5] for r in body) == total[5]
    assert (
        "2026-11-19 10:00",
        "张华",
        "环保服务队",
        "清扫",
        -1,
        -10,
        "冲销",
        "周站长",
        "实际1.5小时",
        "2026-0002",
    ) in body
    assert ("点单", 9) in summary_rows and ("受众人次", 4) in summary_rows
    everything = " ".join(str(c) for row in rows + summary_rows for c in row if c is not None)
    assert all(phone not in everything for phone in data.PHONES)


async def test_monthly_summary_in_english(fake, start_app, clock):
    app, coordinator = await start(fake, start_app, EN)
    summary, document = await ask(fake, coordinator, "/report month 2026-11", "Monthly summary (月小结) 2026-11")
    assert "Requests placed 12 · taken 6 · done 5" in summary.text and "9 h, 91 points" in summary.text
    assert "Clinic escort: 1.5 h" in summary.text and "(other): 1.5 h" in summary.text
    assert ("(so far)" in summary.text) == (clock.now() < month_of(2026, 11).bounds(app.settings.tz)[1])
    count, minutes, points = await ledger_sum(app, month_of(2026, 11))
    summary_rows, rows = sheet_rows(document)
    assert rows[0][:4] == ("Date", "Volunteer", "Team", "Service or activity")
    assert len(rows) - 2 == count == 10
    assert rows[-1][0] == "Total" and rows[-1][4] == minutes / 60 == 9 and rows[-1][5] == points == 91
    assert {r[6] for r in rows[1:-1]} == {"approved service", "correction", "reversal of an entry"}
    assert ("Requests placed", 12) in summary_rows and ("Residents served", 4) in summary_rows


async def test_current_week_so_far(fake, start_app, clock):
    app, coordinator = await start(fake, start_app, EN)
    today = clock.now().astimezone(app.settings.tz).date()
    label = week_of(today).label
    summary, document = await ask(fake, coordinator, "/report week", f"Weekly ledger (周台账) {label}")
    assert "(so far)" in summary.text
    assert document.document.filename == f"station-week-{label}.xlsx"


async def test_only_coordinators_and_team_leaders(fake, start_app):
    app, coordinator = await start(fake, start_app, ZH)
    resident = fake.user("赵阿姨", language_code=ZH)
    volunteer = fake.user("Li Ming", language_code=EN)
    leader = fake.user("Chen", language_code=EN)
    for user in (resident, volunteer, leader):
        before = len(fake.bot_messages(user))
        await user.send("/start")
        await fake.wait_message(user, after=before)
    async with app.db.tx() as s:
        team1 = (await s.execute(select(Team).where(Team.name == "助老服务队"))).scalar_one()
        for user, leads in ((volunteer, False), (leader, True)):
            s.add(Volunteer(user_id=user.id, name=user.first_name, phone="13800138009", registered_at=app.clock.now()))
            s.add(TeamMember(team_id=team1.id, user_id=user.id, is_leader=leads, joined_at=app.clock.now()))
    for user, command in (
        (resident, "/report week 2026-11-16"),
        (volunteer, "/report month 2026-11"),
        (volunteer, "/report year"),
    ):
        before = len(fake.bot_messages(user))
        await user.send(command)
        reply = await fake.wait_message(user, after=before)
        assert_error(app, reply.text, "report_not_allowed", user)
        await fake.wait_idle(quiet=0.1)
        assert all(m.document is None for m in fake.bot_messages(user))

    # A team leader sees the figures of their own team only.
    summary, document = await ask(fake, leader, "/report week 2026-11-16", "Weekly ledger (周台账) 2026-W47")
    assert "Team: 助老服务队" in summary.text
    assert "Requests placed 7 · taken 4 · done 3 · cancelled 0 · not accepted 1" in summary.text
    assert "5.5 h, 55 points" in summary.text and "环保服务队" not in summary.text
    _summary_rows, rows = sheet_rows(document)
    assert len(rows) - 2 == 4 and {r[2] for r in rows[1:-1]} == {"助老服务队"} and rows[-1][4] == 5.5
    assert document.document.filename == f"station-week-2026-W47-team{team1.id}.xlsx"


async def test_bad_periods_get_a_polite_answer(fake, start_app, clock):
    app, coordinator = await start(fake, start_app, ZH)
    future = clock.now().astimezone(app.settings.tz).date() + timedelta(days=40)
    next_month = f"{future.year}-{future.month:02d}"
    cases = [
        ("/report month 2026-13", "report_bad_month", {"value": "2026-13"}),
        ("/report year", "report_usage", {}),
        ("/report", "report_usage", {}),
        ("/report week 2026-02-30", "report_bad_week", {"value": "2026-02-30"}),
        (f"/report month {next_month}", "report_future", {"label": next_month}),
    ]
    for command, code, params in cases:
        before = len(fake.bot_messages(coordinator))
        await coordinator.send(command)
        reply = await fake.wait_message(coordinator, after=before)
        assert_error(app, reply.text, code, coordinator, **params)
    await fake.wait_idle(quiet=0.1)
    assert all(m.document is None for m in fake.bot_messages(coordinator))


async def test_bad_period_in_english_and_not_in_a_group(fake, start_app):
    coordinator = fake.user("Zhou", language_code=EN)
    app = await start_app(admin_ids=[coordinator.id])
    before = len(fake.bot_messages(coordinator))
    await coordinator.send("/report month 2026-13")
    reply = await fake.wait_message(coordinator, after=before)
    assert_error(app, reply.text, "report_bad_month", coordinator, value="2026-13")
    assert "2026-10" in reply.text
    await coordinator.send("/report year")
    reply = await fake.wait_message(coordinator, after=reply)
    assert_error(app, reply.text, "report_usage", coordinator)

    await coordinator.send("/help")
    help_ = await fake.wait_message(coordinator, contains="/report week|month", after=reply)
    assert "team leaders: their own team" in help_.text

    group = fake.group("综合志愿服务队群", members=[coordinator])
    await coordinator.send("/report week", chat=group)
    reply = await fake.wait_message(group)
    assert_error(app, reply.text, "private_only", coordinator)
    await fake.wait_idle(quiet=0.1)
    assert all(m.document is None for m in fake.bot_messages(group))
