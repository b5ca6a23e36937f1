"""The volunteer's answers to the reminder and to the question after the window, through chat: each tells the
right people once, in their language. Time is chosen by the test; nothing sleeps."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.requests import service as requests
from storage.models import Request, RequestEvent
from tests.chat import assert_error, forge, seed_volunteer, set_now


async def test_answers_coming_and_did_not_take_place(world):
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
    assert_error(
        w.app,
        (await forge(w.fake, w.outsider, w.fake.bot_messages(w.outsider)[0], f"rm1:coming:{req.id}")).text,
        "not_your_claim",
        w.outsider,
    )
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


async def test_service_done_from_the_question_stops_the_escalation(world):
    w = world
    req, _task = await w.claimed()
    set_now(w.clock, req.window_end + timedelta(minutes=1))
    w.app.scheduler.wake()
    asked = await w.fake.wait_message(w.vol, contains="has not been reported done")
    await w.st.tap(w.vol, asked, "Service done", expect="How many hours")
    await w.st.report_hours(w.vol, "1.5")
    set_now(w.clock, req.window_end + timedelta(days=2))
    claimed = (await w.app.scheduler.run_due()).followups
    # nothing about the request; a week's report may fall due in these two days, as the test's day falls
    assert [key for key in claimed if not key.startswith("report:")] == [], claimed
    async with w.app.db.read() as s:
        assert (await s.get(Request, req.id)).status == requests.DONE


async def test_answers_in_chinese(world):
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
