"""Timed follow-ups of claimed requests: a reminder an hour before, a question once the window has passed
without a done report, the coordinators a day later; each once, never at night. Time is chosen by the test."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from bot.requests import service as requests
from bot.requests.reminders import before_night
from storage.db import Database
from storage.models import Request, RequestEvent, User
from tests.test_bad_input import assert_error, forge, seed_volunteer, set_now, world  # noqa: F401  (fixture)
from tests.test_followups import RESIDENT, VOLUNTEER, claim, db, notices, place  # noqa: F401  (fixture)
from tests.test_scheduler import EN_COORDINATOR, SHANGHAI, ZH_COORDINATOR, local, outbox, scheduler
from tests.test_scheduler import station_db  # noqa: F401  (fixture)

REMIND, ASK, TELL = "followup:remind:{}", "followup:overdue:{}:1", "followup:overdue:{}:2"


async def said(db, chat_id: int, req: Request) -> list:  # noqa: F811
    return [m for m in await outbox(db, chat_id) if req.number in m.text and m.ref is None]


def test_before_night():
    assert before_night(local(2026, 3, 13, 13), SHANGHAI) == local(2026, 3, 13, 13)
    assert before_night(local(2026, 3, 13, 5), SHANGHAI) == local(2026, 3, 12, 21)
    assert before_night(local(2026, 3, 13, 22, 30), SHANGHAI) == local(2026, 3, 13, 21)
    assert before_night(local(2026, 3, 13, 7), SHANGHAI) == local(2026, 3, 13, 7)


async def test_reminder_an_hour_before_then_question_then_coordinators_each_once(db, db_url):  # noqa: F811
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


async def test_two_schedulers_at_once_send_each_once(db, db_url):  # noqa: F811
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


async def test_none_at_night(db, db_url):  # noqa: F811
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


async def test_no_reminder_when_taken_late_none_when_reported_or_released(db, db_url):  # noqa: F811
    late = await place(db, local(2026, 3, 10, 9))
    await claim(db, late, local(2026, 3, 13, 8, 30))  # taken half an hour before: he has just read the details
    reported = await place(db, local(2026, 3, 10, 9))
    await claim(db, reported, local(2026, 3, 10, 10))
    released = await place(db, local(2026, 3, 10, 9))
    await claim(db, released, local(2026, 3, 10, 10))
    async with db.tx() as s:
        await requests.release(s, notices(), request_id=released.id, user=await s.get(User, VOLUNTEER),
                               now=local(2026, 3, 11, 9))
    sch = scheduler(db, db_url)

    async def ours(at) -> list[str]:  # the released request, open again, has its own unclaimed follow-ups
        return [k for k in (await sch.run_due(at)).followups if not k.startswith("followup:unclaimed:")]

    assert await ours(local(2026, 3, 13, 8, 45)) == [REMIND.format(reported.id)]
    async with db.tx() as s:
        await requests.report_done(s, notices(), request_id=reported.id, user=await s.get(User, VOLUNTEER),
                                   minutes=60, now=local(2026, 3, 13, 10, 30))
    assert await ours(local(2026, 3, 13, 11)) == [ASK.format(late.id)]
    assert await ours(local(2026, 3, 15, 11)) == [TELL.format(late.id)]


# the volunteer's answers, through chat ---------------------------------------------------------------------

async def test_answers_coming_and_did_not_take_place(world):  # noqa: F811
    w = world
    req, _task = await w.claimed()
    set_now(w.clock, req.window_start - timedelta(hours=1))
    w.app.scheduler.wake()
    reminder = await w.fake.wait_message(w.vol, contains="Reminder")
    assert "Building 3, Room 402" in reminder.text and "13912345678" in reminder.text  # only to the claimer
    assert "I am coming" in " ".join(reminder.buttons) and "Release" in " ".join(reminder.buttons)

    answer = await w.st.tap(w.vol, reminder, "I am coming")
    assert "told the resident" in answer.text
    await w.fake.wait_message(w.res, contains="confirms coming")
    again = await forge(w.fake, w.vol, reminder, f"rm1:coming:{req.id}")  # a second tap tells nobody again
    assert "told the resident" in again.text
    assert_error(w.app, (await forge(w.fake, w.outsider, w.fake.bot_messages(w.outsider)[0],
                                     f"rm1:coming:{req.id}")).text, "not_your_claim", w.outsider)
    answer = await forge(w.fake, w.vol, reminder, f"rm1:missed:{req.id}")  # not before the service begins
    assert_error(w.app, answer.text, "not_started", w.vol)
    assert_error(w.app, (await forge(w.fake, w.vol, reminder, f"rm1:later:{req.id}")).text, "stale", w.vol)

    set_now(w.clock, req.window_end + timedelta(minutes=1))
    w.app.scheduler.wake()
    asked = await w.fake.wait_message(w.vol, contains="has not been reported done")
    assert "Building 3" not in asked.text
    answer = await w.st.tap(w.vol, asked, "did not take place")
    assert "told the coordinators" in answer.text
    told = await w.fake.wait_message(w.admin, contains="did not take place")
    assert f"/cancelreq {req.number}" in told.text
    await forge(w.fake, w.vol, asked, f"rm1:missed:{req.id}")

    set_now(w.clock, req.window_end + timedelta(days=2))  # no escalation: the coordinators already know
    await w.app.scheduler.run_due()
    await w.fake.wait_idle(quiet=0.2)
    for chat, text in ((w.res, "confirms coming"), (w.admin, "did not take place"), (w.vol, "Reminder")):
        assert sum(text in (m.text or "") for m in w.fake.bot_messages(chat)) == 1, (chat, text)
    assert not [m for m in w.fake.bot_messages(w.admin) if "still not been reported done" in (m.text or "")]
    async with w.app.db.read() as s:
        kinds = (await s.execute(select(RequestEvent.kind).where(RequestEvent.request_id == req.id))).scalars()
        assert [k for k in kinds if k in ("coming", "not_held")] == ["coming", "not_held"]
    history = await w.st.say(w.admin, f"/history {req.number}", "confirmed coming")
    assert "said it did not take place" in history.text


async def test_service_done_from_the_question_stops_the_escalation(world):  # noqa: F811
    w = world
    req, _task = await w.claimed()
    set_now(w.clock, req.window_end + timedelta(minutes=1))
    w.app.scheduler.wake()
    asked = await w.fake.wait_message(w.vol, contains="has not been reported done")
    await w.st.tap(w.vol, asked, "Service done", expect="How many hours")
    await w.st.say(w.vol, "1.5", "asked the resident")
    set_now(w.clock, req.window_end + timedelta(days=2))
    assert (await w.app.scheduler.run_due()).followups == []
    async with w.app.db.read() as s:
        assert (await s.get(Request, req.id)).status == requests.DONE


async def test_answers_in_chinese(world):  # noqa: F811
    w = world
    await seed_volunteer(w.app, w.chen, "陈晨", "13800138111")
    req = await w.place()
    answer = await w.st.tap(w.chen, await w.card(req), "🙋")
    assert req.number in answer.text
    await w.fake.wait_message(w.chen, contains="Xingfu compound")
    set_now(w.clock, req.window_start - timedelta(minutes=59))
    w.app.scheduler.wake()
    reminder = await w.fake.wait_message(w.chen, contains="⏰ 提醒")
    assert "Building 3, Room 402" in reminder.text and "放弃接单" in " ".join(reminder.buttons)
    answer = await w.st.tap(w.chen, reminder, "我会按时到")
    assert answer.text == "谢谢！已告诉居民您会按时到。"
    await w.fake.wait_message(w.res, contains="Volunteer 陈晨 confirms coming")

    set_now(w.clock, req.window_end + timedelta(hours=1))
    w.app.scheduler.wake()
    asked = await w.fake.wait_message(w.chen, contains="还没有结单")
    assert "完成服务" in " ".join(asked.buttons)
    answer = await w.st.tap(w.chen, asked, "服务未进行")
    assert answer.text == "谢谢，已通知协调员。"
    await w.fake.wait_message(w.admin, contains="Volunteer 陈晨 says request")
