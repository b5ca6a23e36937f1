"""The scheduled 周台账 (Mondays) and 月小结 (the 1st) reach the coordinators once. Time is chosen by the test."""

from __future__ import annotations

import asyncio

import pytest

from bot.reports.jobs import due_reports
from tests import report_data as data
from tests.station_db import (
    EN_COORDINATOR,
    SHANGHAI,
    ZH_COORDINATOR,
    local,
    occurrences,
    outbox,
    scheduler,
)

WEEK_KEY, MONTH_KEY = "report:week:2026-W47", "report:month:2026-11"


@pytest.fixture
async def db(station_db):
    await data.seed(station_db)
    return station_db


async def reports_to(db, chat_id: int, key: str) -> list[str]:
    return [m.text for m in await outbox(db, chat_id) if m.ref == f"post:{key}"]


def reports_of(result) -> list[str]:
    return [key for key in result.followups if key.startswith("report:")]


def test_due_times():
    due = due_reports(local(2026, 11, 23), local(2026, 12, 1, 23), SHANGHAI, 9)
    assert [(p.key, at) for p, at in due] == [
        (WEEK_KEY, local(2026, 11, 23, 9)),
        ("report:week:2026-W48", local(2026, 11, 30, 9)),
        (MONTH_KEY, local(2026, 12, 1, 9)),
    ]


async def test_weekly_ledger_sent_once_on_monday_morning(db, db_url):
    sch = scheduler(db, db_url)
    assert reports_of(await sch.run_due(local(2026, 11, 22, 9))) == []  # Sunday
    assert reports_of(await sch.run_due(local(2026, 11, 23, 8, 59))) == []
    assert reports_of(await sch.run_due(local(2026, 11, 23, 9))) == [WEEK_KEY]
    assert reports_of(await sch.run_due(local(2026, 11, 23, 9, 1))) == []
    other = scheduler(db, db_url, process_id="other")  # a second process, or the bot after a restart
    assert reports_of(await other.run_due(local(2026, 11, 23, 9, 2))) == []
    assert reports_of(await scheduler(db, db_url, process_id="restarted").run_due(local(2026, 11, 23, 15))) == []

    zh = await reports_to(db, ZH_COORDINATOR, WEEK_KEY)
    en = await reports_to(db, EN_COORDINATOR, WEEK_KEY)
    also = await reports_to(db, data.COORD, WEEK_KEY)
    assert len(zh) == len(en) == len(also) == 1
    for word in (
        "周台账 2026-W47（2026-11-16 – 2026-11-22）",
        "点单 9 · 接单 5 · 结单 4 · 取消 1 · 未受理 1",
        "仍待接单 2 单，待审单 1 单",
        "接单用时中位数：30 分钟",
        "7.5 小时，积分 75",
        "参与志愿者：3 人",
        "服务居民 4 人；受众人次 4",
        "评单 3 条，平均 4.0 星",
        "助老服务队：5.5 小时",
        "活动：重阳敬老",
        "/report week 2026-11-16",
        ".xlsx",
    ):
        assert word in zh[0], word
    assert "截至目前" not in zh[0]
    for word in (
        "Weekly ledger (周台账) 2026-W47",
        "Requests placed 9 · taken 5",
        "Clinic escort: 1.5 h",
        "Send /report week 2026-11-16 for the workbook",
    ):
        assert word in en[0], word
    assert "13800138001" not in zh[0] + en[0]
    assert (await occurrences(db))[WEEK_KEY].status == "queued"


async def test_a_week_in_which_nothing_happened_is_not_sent_and_not_built_again(db, db_url, monkeypatch):
    """Recorded as empty at its first tick: the ticks of the next day (every minute, for the whole grace) do not
    build the county's report again to find the same (a year of ticks spent a third of its time doing that)."""
    from bot.reports import jobs

    looked: list[str] = []
    anything = jobs.anything_to_report

    async def counted(s, period, tz):
        looked.append(period.key)
        return await anything(s, period, tz)

    monkeypatch.setattr(jobs, "anything_to_report", counted)
    sch = scheduler(db, db_url)
    assert reports_of(await sch.run_due(local(2026, 11, 9, 9))) == []
    assert looked == ["report:week:2026-W45"]
    assert reports_of(await sch.run_due(local(2026, 11, 9, 10))) == []
    assert reports_of(await sch.run_due(local(2026, 11, 10, 8, 30))) == []
    assert looked == ["report:week:2026-W45"]
    assert [m for m in await outbox(db) if (m.ref or "").startswith("post:report:")] == []
    assert (await occurrences(db))["report:week:2026-W45"].status == "empty"


async def test_two_schedulers_at_once_send_it_once(db, db_url):
    first, second = scheduler(db, db_url, process_id="a"), scheduler(db, db_url, process_id="b")
    results = await asyncio.gather(first.run_due(local(2026, 11, 23, 9)), second.run_due(local(2026, 11, 23, 9)))
    assert sorted(key for r in results for key in reports_of(r)) == [WEEK_KEY]
    assert len(await reports_to(db, ZH_COORDINATOR, WEEK_KEY)) == 1


async def test_monthly_summary_on_the_first(db, db_url):
    sch = scheduler(db, db_url)
    assert reports_of(await sch.run_due(local(2026, 12, 1, 8, 59))) == ["report:week:2026-W48"]  # missed Monday
    assert reports_of(await sch.run_due(local(2026, 12, 1, 9))) == [MONTH_KEY]
    assert reports_of(await sch.run_due(local(2026, 12, 2, 9))) == []
    zh = await reports_to(db, ZH_COORDINATOR, MONTH_KEY)
    en = await reports_to(db, EN_COORDINATOR, MONTH_KEY)
    assert len(zh) == len(en) == 1
    assert "月小结 2026-11" in zh[0] and "点单 12 · 接单 6 · 结单 5" in zh[0] and "/report month 2026-11" in zh[0]
    assert "Monthly summary (月小结) 2026-11" in en[0] and "9 h, 91 points" in en[0]


async def test_catch_up_within_grace_and_skip_after(db, db_url):
    sch = scheduler(db, db_url)
    assert reports_of(await sch.run_due(local(2026, 11, 23, 7))) == []
    # Down from 07:00 until 20:00: still within the 24 h grace.
    assert reports_of(await sch.run_due(local(2026, 11, 23, 20))) == [WEEK_KEY]

    # Down over the next Monday morning for more than the grace: recorded as skipped, never sent.
    assert reports_of(await sch.run_due(local(2026, 11, 30, 8))) == []
    assert reports_of(await sch.run_due(local(2026, 12, 1, 9, 30))) == [MONTH_KEY]
    skipped = (await occurrences(db))["report:week:2026-W48"]
    assert skipped.status == "skipped"
    assert await reports_to(db, ZH_COORDINATOR, "report:week:2026-W48") == []
    assert len(await reports_to(db, ZH_COORDINATOR, WEEK_KEY)) == 1
