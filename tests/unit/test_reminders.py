"""Timed follow-ups of claimed requests: a reminder an hour before, a question once the window has passed
without a done report, the coordinators a day later; each once, never at night. Time is chosen by the test."""

from __future__ import annotations

import asyncio

import pytest

from bot.requests import service as requests
from bot.requests.reminders import before_night
from storage.db import Database
from storage.models import Request, User
from tests.station_db import (
    EN_COORDINATOR,
    SHANGHAI,
    VOLUNTEER,
    ZH_COORDINATOR,
    claim,
    local,
    notices,
    outbox,
    place,
    scheduler,
)

REMIND, ASK, TELL = "followup:remind:{}", "followup:overdue:{}:1", "followup:overdue:{}:2"


@pytest.fixture
def db(request_db):
    return request_db


async def said(db, chat_id: int, req: Request) -> list:
    return [m for m in await outbox(db, chat_id) if req.number in m.text and m.ref is None]


def test_before_night():
    assert before_night(local(2026, 3, 13, 13), SHANGHAI) == local(2026, 3, 13, 13)
    assert before_night(local(2026, 3, 13, 5), SHANGHAI) == local(2026, 3, 12, 21)
    assert before_night(local(2026, 3, 13, 22, 30), SHANGHAI) == local(2026, 3, 13, 21)
    assert before_night(local(2026, 3, 13, 7), SHANGHAI) == local(2026, 3, 13, 7)


async def test_reminder_an_hour_before_then_question_then_coordinators_each_once(db, db_url):
    req = await place(db, local(2026, 3, 10, 9))  # window 13 March 09:00–11:00
    await claim(db, req, local(2026, 3, 10, 10))
    a, b = scheduler(db, db_url), scheduler(db, db_url, process_id="other")

    assert (await a.run_due(local(2026, 3, 13, 7, 59))).followups == []
    assert (await a.run_due(local(2026, 3, 13, 8))).followups == [REMIND.format(req.id)]
    assert (await a.run_due(local(2026, 3, 13, 8, 1))).followups == []
    assert (await b.run_due(local(2026, 3, 13, 8, 2))).followups == []
    reminder = await said(db, VOLUNTEER, req)
    assert len(reminder) == 2  # the claim's details, then the one reminder (in Chinese, the volunteer's language)
    assert "提醒" in reminder[-1].text and "Walk to the clinic" in reminder[-1].text
    assert "rm1:coming:" in reminder[-1].markup and "t1:release:" in reminder[-1].markup

    assert (await a.run_due(local(2026, 3, 13, 10, 59))).followups == []  # the window has not passed
    assert (await a.run_due(local(2026, 3, 13, 11))).followups == [ASK.format(req.id)]
    assert (await b.run_due(local(2026, 3, 13, 11, 1))).followups == []
    asked = (await said(db, VOLUNTEER, req))[-1]
    assert "还没有结单" in asked.text and "t1:done:" in asked.markup and "rm1:missed:" in asked.markup
    assert not await said(db, EN_COORDINATOR, req)

    assert (await a.run_due(local(2026, 3, 14, 10, 59))).followups == []
    assert (await a.run_due(local(2026, 3, 14, 11))).followups == [TELL.format(req.id)]
    assert (await b.run_due(local(2026, 3, 14, 12))).followups == []
    assert (await a.run_due(local(2026, 3, 20, 12))).followups == []
    told_en, told_zh = await said(db, EN_COORDINATOR, req), await said(db, ZH_COORDINATOR, req)
    assert len(told_en) == 1 and "has still not been reported done" in told_en[0].text
    assert f"/cancelreq {req.number}" in told_en[0].text
    assert len(told_zh) == 1 and "仍未结单" in told_zh[0].text and "Qian" in told_zh[0].text
    assert len(await said(db, VOLUNTEER, req)) == 3


async def test_two_schedulers_at_once_send_each_once(db, db_url):
    reqs = [await place(db, local(2026, 3, 10, 9)) for _ in range(3)]
    for req in reqs:
        await claim(db, req, local(2026, 3, 10, 10))
    other = Database(db_url)
    try:
        a, b = scheduler(db, db_url, process_id="A"), scheduler(other, db_url, process_id="B")
        sent: list[str] = []
        for at in (local(2026, 3, 13, 8), local(2026, 3, 13, 11), local(2026, 3, 14, 11)):
            ra, rb = await asyncio.gather(a.run_due(at), b.run_due(at))
            assert not set(ra.followups) & set(rb.followups)
            sent += ra.followups + rb.followups
        assert sorted(sent) == sorted(k.format(r.id) for r in reqs for k in (REMIND, ASK, TELL))
        for req in reqs:
            assert len(await said(db, VOLUNTEER, req)) == 3 and len(await said(db, EN_COORDINATOR, req)) == 1
    finally:
        await other.dispose()


async def test_none_at_night(db, db_url):
    early = await place(db, local(2026, 3, 10, 6))  # window 13 March 06:00–08:00: reminded the evening before
    late = await place(db, local(2026, 3, 10, 21))  # window 13 March 21:00–23:00: asked at 07:00 next morning
    for req in (early, late):
        await claim(db, req, local(2026, 3, 10, 12))
    sch = scheduler(db, db_url)
    assert (await sch.run_due(local(2026, 3, 12, 20, 59))).followups == []
    assert (await sch.run_due(local(2026, 3, 12, 21))).followups == [REMIND.format(early.id)]
    for at in (local(2026, 3, 12, 23), local(2026, 3, 13, 5)):
        assert (await sch.run_due(at)).followups == []
    assert (await sch.run_due(local(2026, 3, 13, 8))).followups == [ASK.format(early.id)]
    assert (await sch.run_due(local(2026, 3, 13, 20))).followups == [REMIND.format(late.id)]
    for at in (local(2026, 3, 13, 23), local(2026, 3, 14, 3), local(2026, 3, 14, 6, 59)):
        assert (await sch.run_due(at)).followups == []
    assert (await sch.run_due(local(2026, 3, 14, 7))).followups == [ASK.format(late.id)]
    assert (await sch.run_due(local(2026, 3, 14, 8))).followups == [TELL.format(early.id)]
    for at in (local(2026, 3, 14, 23), local(2026, 3, 15, 6, 59)):
        assert (await sch.run_due(at)).followups == []
    assert (await sch.run_due(local(2026, 3, 15, 7))).followups == [TELL.format(late.id)]


async def test_no_reminder_when_taken_late_none_when_reported_or_released(db, db_url):
    late = await place(db, local(2026, 3, 10, 9))
    await claim(db, late, local(2026, 3, 13, 8, 30))  # taken half an hour before: he has just read the details
    reported = await place(db, local(2026, 3, 10, 9))
    await claim(db, reported, local(2026, 3, 10, 10))
    released = await place(db, local(2026, 3, 10, 9))
    await claim(db, released, local(2026, 3, 10, 10))
    async with db.tx() as s:
        await requests.release(
            s, notices(), request_id=released.id, user=await s.get(User, VOLUNTEER), now=local(2026, 3, 11, 9)
        )
    sch = scheduler(db, db_url)

    async def ours(at) -> list[str]:  # the released request, open again, has its own unclaimed follow-ups
        return [k for k in (await sch.run_due(at)).followups if not k.startswith("followup:unclaimed:")]

    assert await ours(local(2026, 3, 13, 8, 45)) == [REMIND.format(reported.id)]
    async with db.tx() as s:
        await requests.report_done(
            s,
            notices(),
            request_id=reported.id,
            user=await s.get(User, VOLUNTEER),
            minutes=60,
            now=local(2026, 3, 13, 10, 30),
        )
    assert await ours(local(2026, 3, 13, 11)) == [ASK.format(late.id)]
    assert await ours(local(2026, 3, 15, 11)) == [TELL.format(late.id)]
