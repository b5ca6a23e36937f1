"""A scheduled post sent late is worded for the moment it is sent (issue: "A reminder sent late says the right
day"): days left counted from the send date; a post about a day is never sent after that day; a reminder the day's
own post supersedes is not sent (activity reminders: tests/unit/test_activity_rules.py). The clock is moved by
the test (the scheduler's `now`); nothing sleeps."""

from __future__ import annotations

from storage.models import Occurrence
from tests.station_db import EN_COORDINATOR, GROUP, ZH_COORDINATOR, local, outbox, scheduler

# 除夕 2027 is Friday 5 February; 学雷锋纪念日 2027 is Friday 5 March.


async def texts_in(db, chat_id: int, key: str = "") -> list[str]:
    """The head line of each scheduled post in the chat whose key contains `key` (e.g. ":chuxi:")."""
    return [
        m.text.split("\n")[0] for m in await outbox(db, chat_id) if m.ref and m.ref.startswith("post:") and key in m.ref
    ]


async def status(db, key: str) -> str | None:
    async with db.read() as s:
        row = await s.get(Occurrence, key)
    return row.status if row else None


async def test_a_reminder_due_and_sent_the_same_day_counts_from_that_day(station_db, db_url):
    sched = scheduler(station_db, db_url)
    await sched.run_due(local(2027, 1, 29, 8))
    # down from 08:00 to 15:00: the 7-day reminder of 除夕, due at 09:00, goes out at 15:00 the same day
    result = await sched.run_due(local(2027, 1, 29, 15))
    assert "festival:2027:chuxi:-7d" in result.queued
    assert await texts_in(station_db, GROUP, ":chuxi:") == ["⏰ 距除夕还有 7 天，2月5日（周五）。"]
    assert "Chinese New Year's Eve is in 7 days" in (await texts_in(station_db, EN_COORDINATOR, ":chuxi:"))[0]


async def test_a_reminder_sent_a_day_late_counts_from_the_day_it_is_sent(station_db, db_url):
    sched = scheduler(station_db, db_url)
    await sched.run_due(local(2027, 1, 29, 8, 59))
    # down from 09:00 on 1月29日 to 08:59 on 1月30日: within the grace, sent on 1月30日, 6 days before 除夕
    result = await sched.run_due(local(2027, 1, 30, 8, 59))
    assert "festival:2027:chuxi:-7d" in result.queued
    assert await texts_in(station_db, GROUP, ":chuxi:") == ["⏰ 距除夕还有 6 天，2月5日（周五）。"]
    assert (await texts_in(station_db, ZH_COORDINATOR, ":chuxi:")) == ["⏰ 距除夕还有 6 天，2月5日（周五）。"]
    assert "Chinese New Year's Eve is in 6 days" in (await texts_in(station_db, EN_COORDINATOR, ":chuxi:"))[0]


async def test_a_reminder_two_days_ahead_sent_a_day_late_says_tomorrow(station_db, db_url):
    sched = scheduler(station_db, db_url, festival_remind_days="2")
    await sched.run_due(local(2027, 2, 3, 8))
    result = await sched.run_due(local(2027, 2, 4, 8))  # due 09:00 on 2月3日, sent 08:00 on 2月4日
    assert "festival:2027:chuxi:-2d" in result.queued
    assert await texts_in(station_db, GROUP, ":chuxi:") == ["⏰ 明天就是除夕，2月5日（周五）。"]
    assert "Tomorrow is Chinese New Year's Eve" in (await texts_in(station_db, EN_COORDINATOR, ":chuxi:"))[0]


async def test_a_reminder_that_would_arrive_on_the_day_itself_is_left_to_the_days_own_post(station_db, db_url, caplog):
    sched = scheduler(station_db, db_url)
    await sched.run_due(local(2027, 2, 4, 8, 59))
    # down from 09:00 on 2月4日 to 08:30 on 2月5日: the day-before reminder would say "today", an hour before the
    # day's own greeting
    result = await sched.run_due(local(2027, 2, 5, 8, 30))
    assert "festival:2027:chuxi:-1d" in result.skipped and not [k for k in result.queued if ":chuxi:" in k]
    assert "the day's own post" in result.reasons["festival:2027:chuxi:-1d"]
    assert await status(station_db, "festival:2027:chuxi:-1d") == "skipped"
    assert "festival:2027:chuxi:-1d" in caplog.text
    at_nine = await sched.run_due(local(2027, 2, 5, 9))
    assert "festival:2027:chuxi:0d" in at_nine.queued
    assert await texts_in(station_db, GROUP, ":chuxi:") == ["🎉 今天是除夕，2月5日（周五）。"]


async def test_two_late_reminders_of_one_day_send_only_the_later(station_db, db_url):
    sched = scheduler(station_db, db_url, festival_remind_days="3,2", catchup_grace_hours=48)
    await sched.run_due(local(2027, 2, 2, 8))
    result = await sched.run_due(local(2027, 2, 3, 10))  # both the 3-day and the 2-day reminder fell due
    assert "festival:2027:chuxi:-2d" in result.queued and "festival:2027:chuxi:-3d" in result.skipped
    assert result.reasons["festival:2027:chuxi:-3d"] == "a later post of the same day is due too"
    assert await texts_in(station_db, GROUP, ":chuxi:") == ["⏰ 距除夕还有 2 天，2月5日（周五）。"]


async def test_the_days_greeting_is_not_sent_after_its_day(station_db, db_url, caplog):
    sched = scheduler(station_db, db_url)
    await sched.run_due(local(2027, 3, 4, 10))  # started at 10:00 on 3月4日, then stopped
    result = await sched.run_due(local(2027, 3, 6, 8, 30))  # restarted at 08:30 on 3月6日: 23.5 h late
    assert result.queued == [] and result.skipped == ["civic:2027:leifeng:0d"]
    assert result.reasons["civic:2027:leifeng:0d"] == "its day 2027-03-05 has passed"
    assert await status(station_db, "civic:2027:leifeng:0d") == "skipped"
    assert await texts_in(station_db, GROUP, ":leifeng:0d") == []
    assert "civic:2027:leifeng:0d" in caplog.text
    assert (await sched.run_due(local(2027, 3, 6, 9))).queued == []


async def test_a_months_theme_may_still_go_out_late_within_the_grace(station_db, db_url):
    sched = scheduler(station_db, db_url)
    await sched.run_due(local(2027, 2, 28, 20))
    result = await sched.run_due(local(2027, 3, 2, 8))  # 23 h late, on 3月2日
    assert "theme:2027-03" in result.queued
    (theme,) = await texts_in(station_db, GROUP, "theme:2027-03")
    assert theme.startswith("📅 本月主题")
