"""Scheduled posts: never missed, never doubled. Time is chosen by the test; nothing sleeps."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.calendar.jobs import occurrence_key
from scheduling.holidays import scheduled_posts
from scheduling.occurrences import claim
from scheduling.themes import default_theme
from storage.db import Database
from storage.models import Occurrence, OutboxMessage
from tests.station_db import (
    EN_COORDINATOR,
    GROUP,
    ZH_COORDINATOR,
    local,
    occurrences,
    outbox,
    scheduler,
)


def expected_keys(year: int) -> list[str]:
    return [occurrence_key(p) for p in scheduled_posts(year)]


def days_of(year: int):
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


@pytest.mark.long
async def test_a_year_of_posts_each_exactly_once_and_in_order(station_db, db_url):
    sched = scheduler(station_db, db_url)
    queued: list[str] = []
    for d in days_of(2026):
        before = await sched.run_due(local(d.year, d.month, d.day, 8, 59, 59))
        assert before.queued == []  # nothing of the day goes before 09:00
        at = await sched.run_due(local(d.year, d.month, d.day, 9))
        again = await sched.run_due(local(d.year, d.month, d.day, 13))
        assert again.queued == [] and again.skipped == []
        queued += before.queued + at.queued
    assert queued == expected_keys(2026)
    assert len(queued) == len(set(queued))

    # timed jobs (scheduling.jobs, e.g. the 最美志愿者 shortlist `recognition:`) claim their own keys
    # and the reports (bot.reports.jobs) theirs: here with nothing to say, recorded as empty
    claimed = await occurrences(station_db)
    rows = {k: o for k, o in claimed.items() if not k.startswith(("recognition:", "report:"))}
    assert {o.status for k, o in claimed.items() if k.startswith("report:")} == {"empty"}
    assert sorted(rows) == sorted(queued)
    assert {o.status for o in rows.values()} == {"queued"}
    assert rows["theme:2026-06"].due_at == local(2026, 6, 1, 9)
    assert rows["festival:2026:duanwu:-7d"].due_at == local(2026, 6, 12, 9)

    for chat_id in (GROUP, ZH_COORDINATOR, EN_COORDINATOR):  # every post once to every recipient, in order
        assert [m.ref for m in await outbox(station_db, chat_id) if m.ref] == [f"post:{k}" for k in queued]

    group = {m.ref: m.text for m in await outbox(station_db, GROUP)}
    english = {m.ref: m.text for m in await outbox(station_db, EN_COORDINATOR)}
    chinese = {m.ref: m.text for m in await outbox(station_db, ZH_COORDINATOR)}
    june = default_theme(6)
    assert june.title_zh in group["post:theme:2026-06"] and june.activities_zh[1] in group["post:theme:2026-06"]
    assert june.title_en in english["post:theme:2026-06"]
    assert "端午" in group["post:festival:2026:duanwu:-7d"] and "粽子" in group["post:festival:2026:duanwu:-7d"]
    assert "Dragon Boat Festival" in english["post:festival:2026:duanwu:-1d"]
    assert "国际志愿者日" in chinese["post:civic:2026:volunteer_day:0d"]


async def test_catch_up_after_a_10_hour_outage_sends_once(station_db, db_url):
    sched = scheduler(station_db, db_url)
    assert (await sched.run_due(local(2026, 6, 1, 7))).queued == []  # last tick before the outage
    # down from 07:00 to 17:00: the 09:00 theme post fell due meanwhile
    restarted = scheduler(station_db, db_url, process_id="after-restart")
    result = await restarted.run_due(local(2026, 6, 1, 17))
    assert result.queued == ["theme:2026-06"] and result.skipped == []
    for minute in range(1, 5):  # the following ticks, and another restart, send nothing more
        assert (await restarted.run_due(local(2026, 6, 1, 17, minute))).queued == []
    assert (await scheduler(station_db, db_url).run_due(local(2026, 6, 1, 18))).queued == []
    assert [m.ref for m in await outbox(station_db, GROUP)] == ["post:theme:2026-06"]
    assert (await occurrences(station_db))["theme:2026-06"].claimed_by == "after-restart"


async def test_a_10_hour_outage_with_a_shorter_grace_skips_and_records(station_db, db_url, caplog):
    sched = scheduler(station_db, db_url, catchup_grace_hours=6)
    await sched.run_due(local(2026, 6, 1, 7))
    result = await sched.run_due(local(2026, 6, 1, 17))  # the 09:00 post is 8 h old, the grace 6 h
    assert result.queued == [] and result.skipped == ["theme:2026-06"]
    assert (await occurrences(station_db))["theme:2026-06"].status == "skipped"
    assert await outbox(station_db) == []
    assert "theme:2026-06" in caplog.text
    later = await sched.run_due(local(2026, 6, 1, 18))
    assert later.queued == [] and later.skipped == []


async def test_posts_older_than_the_grace_are_skipped_newer_ones_sent(station_db, db_url):
    sched = scheduler(station_db, db_url)
    await sched.run_due(local(2026, 6, 17, 8))
    # down until 12:00 on 端午 (19 June): the -1d reminder is 27 h old, the day's post 3 h
    result = await sched.run_due(local(2026, 6, 19, 12))
    assert result.skipped == ["festival:2026:duanwu:-1d"]
    assert result.queued == ["festival:2026:duanwu:0d"]
    rows = await occurrences(station_db)
    assert rows["festival:2026:duanwu:-1d"].status == "skipped"
    assert rows["festival:2026:duanwu:0d"].status == "queued"
    assert [m.ref for m in await outbox(station_db, GROUP)] == ["post:festival:2026:duanwu:0d"]
    again = await sched.run_due(local(2026, 6, 19, 12, 1))
    assert again.queued == [] and again.skipped == []


@pytest.mark.long
async def test_two_schedulers_on_one_database_send_each_post_once(station_db, db_url):
    other_db = Database(db_url)  # a second process: its own engine and connections
    try:
        a = scheduler(station_db, db_url, process_id="A")
        b = scheduler(other_db, db_url, process_id="B")
        queued: list[str] = []
        for d in days_of(2026):
            if d.month > 6:
                break
            for at in (local(d.year, d.month, d.day, 9), local(d.year, d.month, d.day, 9, 1)):
                ra, rb = await asyncio.gather(a.run_due(at), b.run_due(at))
                assert not set(ra.queued) & set(rb.queued)
                queued += ra.queued + rb.queued
        first_half = [k for k, p in zip(expected_keys(2026), scheduled_posts(2026), strict=True) if p.date.month <= 6]
        assert sorted(queued) == sorted(first_half)
        refs = [m.ref for m in await outbox(station_db, GROUP)]
        assert sorted(refs) == sorted(f"post:{k}" for k in first_half)  # no post twice
        assert {o.claimed_by for o in (await occurrences(station_db)).values()} <= {"A", "B"}
    finally:
        await other_db.dispose()


async def test_concurrent_claims_of_one_key_have_one_winner(station_db, db_url):
    dbs = [station_db, Database(db_url)]
    try:
        now = local(2026, 12, 1, 9)
        wins = await asyncio.gather(
            *(claim(dbs[i % 2], "theme:2026-12", now, now, claimed_by=f"p{i}") for i in range(10))
        )
        assert sorted(wins) == [False] * 9 + [True]
        async with station_db.read() as s:
            assert await s.scalar(select(func.count()).select_from(Occurrence)) == 1
    finally:
        await dbs[1].dispose()


async def test_a_failed_queue_undoes_the_claim(station_db, db_url):
    now = local(2026, 12, 1, 9)

    async def broken(s):
        s.add(
            OutboxMessage(
                chat_id=GROUP,
                method="send",
                text="x",
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        raise RuntimeError("render failed")

    with pytest.raises(RuntimeError):
        await claim(station_db, "theme:2026-12", now, now, queue=broken)
    assert await occurrences(station_db) == {} and await outbox(station_db) == []
    assert await claim(station_db, "theme:2026-12", now, now)  # the next run can still take it


@pytest.fixture(autouse=True)
def _scheduler_logs(caplog):
    caplog.set_level(logging.WARNING, logger="scheduling.scheduler")


async def test_a_wake_during_a_tick_runs_the_check_again(station_db, db_url):
    """APScheduler skips a run asked for while the job's one instance runs; a wake then must not be lost (a test
    moving the clock, the sandbox's next-day button): the running tick looks once more when it ends."""
    sched = scheduler(station_db, db_url)
    seen: list[int] = []
    running, release = asyncio.Event(), asyncio.Event()
    real = sched.run_due

    async def run_due(now=None):
        seen.append(len(seen) + 1)
        running.set()
        if len(seen) == 1:
            await release.wait()  # the first check is still running when the wake comes
        return await real(now)

    sched.run_due = run_due  # type: ignore[method-assign]
    ticking = asyncio.create_task(sched.tick())
    await running.wait()
    sched.wake()  # during the tick
    release.set()
    await ticking
    assert seen == [1, 2]
    await sched.tick()  # without a wake: one check
    assert seen == [1, 2, 3]
