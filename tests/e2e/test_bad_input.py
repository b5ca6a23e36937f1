"""Bad input, end to end: every wrong thing people type or tap gets a clear, polite reply in
their own language, and changes NOTHING (no row, no status, no ledger entry, no step of the
conversation)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.people import service as people
from storage.models import LedgerEntry, Request, User, Volunteer
from tests.chat import (
    ACCEPT,
    EN,
    SERVICE_EN,
    SERVICE_ZH,
    Unchanged,
    World,
    assert_error,
    count,
    forge,
    fsm,
    render,
    reply,
    request_by_number,
    seed_volunteer,
    set_now,
    step,
)
from tests.fakegram import FakeUser


async def open_request(w: World, user: FakeUser, service: str = SERVICE_EN):
    """/request and pick the service: the bot now asks for the description."""
    menu = await step(w.fake, user, lambda: user.send("/request"))
    await step(w.fake, user, lambda: user.tap(menu, service))


async def to_day_step(w: World, user: FakeUser):
    await open_request(w, user)
    return await step(w.fake, user, lambda: user.send("Need help with groceries"), contains="On which day")


async def to_window_step(w: World, user: FakeUser, day_index: int = 1):
    days = await to_day_step(w, user)
    data = days.reply_markup["inline_keyboard"][day_index // 3][day_index % 3]["callback_data"]
    return await step(w.fake, user, lambda: user.tap_data(days, data), contains="At what time")


async def to_area_step(w: World, user: FakeUser):
    slots = await to_window_step(w, user)
    await step(w.fake, user, lambda: user.tap(slots, "14:00"), contains="residential compound")


async def to_phone_step(w: World, user: FakeUser):
    await to_area_step(w, user)
    ask = await step(w.fake, user, lambda: user.send("Xingfu compound"), contains="exact address")
    await step(w.fake, user, lambda: user.tap(ask, "Skip"), contains="phone number")


# --- overlong and empty text, stickers ----------------------------------------------------------


async def test_description_too_long_blank_or_sticker(world):
    w, res = world, world.res
    await open_request(w, res)
    async with Unchanged(w.app, w.fake, res):
        assert_error(w.app, await reply(w.fake, res, "x" * 501), "too_long", res, length=501, limit=500)
        assert_error(w.app, await reply(w.fake, res, "     "), "empty", res)
        assert_error(w.app, await reply(w.fake, res, sticker=True), "text_expected", res)
    assert (await fsm(w.app, w.fake, res))[0] == "Order:description"
    # Exactly at the limit is fine: the conversation goes on.
    await step(w.fake, res, lambda: res.send("y" * 500), contains="On which day")
    assert await count(w.app, Request) == 0


async def test_area_too_long(world):
    w, res = world, world.res
    await to_area_step(w, res)
    async with Unchanged(w.app, w.fake, res):
        assert_error(w.app, await reply(w.fake, res, "A" * 65), "too_long", res, length=65, limit=64)
        assert_error(w.app, await reply(w.fake, res, sticker=True), "text_expected", res)
    await step(w.fake, res, lambda: res.send("A" * 64), contains="exact address")
    assert await count(w.app, Request) == 0


async def test_bad_input_in_chinese_gets_a_chinese_reply(world):
    w, chen = world, world.chen
    await open_request(w, chen, SERVICE_ZH)
    async with Unchanged(w.app, w.fake, chen):
        assert_error(w.app, await reply(w.fake, chen, "长" * 501), "too_long", chen, length=501, limit=500)
        assert_error(w.app, await reply(w.fake, chen, sticker=True), "text_expected", chen)
        assert_error(w.app, await reply(w.fake, chen, "   "), "empty", chen)
    assert (await fsm(w.app, w.fake, chen))[0] == "Order:description"
    assert await count(w.app, Request) == 0


async def test_volunteer_registration_rejects_bad_name_phone_and_stickers(world):
    w, user = world, world.outsider
    await step(w.fake, user, lambda: user.send("/volunteer"), contains="What is your name")
    async with Unchanged(w.app, w.fake, user):
        assert_error(w.app, await reply(w.fake, user, "N" * 33), "too_long", user, length=33, limit=32)
        assert_error(w.app, await reply(w.fake, user, "  "), "empty", user)
        assert_error(w.app, await reply(w.fake, user, sticker=True), "text_expected", user)
    assert (await fsm(w.app, w.fake, user))[0] == "Signup:name"
    await step(w.fake, user, lambda: user.send("N" * 32), contains="phone")
    async with Unchanged(w.app, w.fake, user):
        for bad in ("12345", "phone: none", "+12", "23800138000", "138-0013-800"):
            assert_error(w.app, await reply(w.fake, user, bad), "bad_phone", user)
        # Someone else's contact card is not the volunteer's own number.
        assert_error(w.app, await reply(w.fake, user, contact=("13800138001", w.res.id)), "bad_phone", user)
        assert_error(w.app, await reply(w.fake, user, sticker=True), "text_expected", user)
    assert (await fsm(w.app, w.fake, user))[0] == "Signup:phone"
    assert await count(w.app, Volunteer) == 1  # only the seeded one


async def test_chinese_registration_errors(world):
    w, chen = world, world.chen
    await step(w.fake, chen, lambda: chen.send("/volunteer"))
    async with Unchanged(w.app, w.fake, chen):
        assert_error(w.app, await reply(w.fake, chen, "名" * 33), "too_long", chen, length=33, limit=32)
        assert_error(w.app, await reply(w.fake, chen, sticker=True), "text_expected", chen)
    assert (await fsm(w.app, w.fake, chen))[0] == "Signup:name"
    await step(w.fake, chen, lambda: chen.send("陈静"))
    async with Unchanged(w.app, w.fake, chen):
        assert_error(w.app, await reply(w.fake, chen, "1234"), "bad_phone", chen)
    assert (await fsm(w.app, w.fake, chen))[0] == "Signup:phone"


async def test_request_phone_malformed(world):
    w, res = world, world.res
    await to_phone_step(w, res)
    async with Unchanged(w.app, w.fake, res):
        for bad in ("12345", "call me", "+1", "0"):
            assert_error(w.app, await reply(w.fake, res, bad), "bad_phone", res)
    assert (await fsm(w.app, w.fake, res))[0] == "Order:phone"
    await step(w.fake, res, lambda: res.send("+86 139 1234 5678"), contains="Please check your request")
    assert await count(w.app, Request) == 0


# --- dates and time windows -------------------------------------------------------------------


async def test_past_and_garbled_dates_and_windows(world):
    w, res = world, world.res
    tz = w.app.settings.tz
    local = w.clock.now().astimezone(tz)
    set_now(w.clock, local.replace(hour=15, minute=0, second=0, microsecond=0))  # today, 15:00 at the station
    today = w.clock.now().astimezone(tz).date()
    await to_day_step(w, res)
    async with Unchanged(w.app, w.fake, res):
        yesterday = (today - timedelta(days=1)).isoformat()
        assert_error(w.app, await reply(w.fake, res, yesterday), "past_time", res)
        assert_error(w.app, await reply(w.fake, res, "next blursday"), "bad_date", res)
        assert_error(w.app, await reply(w.fake, res, f"{today.year}-02-30"), "bad_date", res)
        assert_error(w.app, await reply(w.fake, res, "2026-13-01"), "bad_date", res)
    assert (await fsm(w.app, w.fake, res))[0] == "Order:day"
    await step(w.fake, res, lambda: res.send("today"), contains="At what time")
    slots = w.fake.bot_messages(res)[-1]
    async with Unchanged(w.app, w.fake, res):
        # A window today that has already passed, typed or tapped.
        assert_error(w.app, await reply(w.fake, res, "08:00-10:00"), "past_time", res)
        answer = await w.fake.answer(await res.tap(slots, "08:00"))
        assert answer.show_alert
        assert_error(w.app, answer.text, "past_time", res)
        assert_error(w.app, await reply(w.fake, res, "14:00-16:00"), "past_time", res)  # started an hour ago
        assert_error(w.app, await reply(w.fake, res, "whenever suits"), "bad_time", res)
        assert_error(w.app, await reply(w.fake, res, "25:00-26:00"), "bad_time", res)
        assert_error(w.app, await reply(w.fake, res, "18:00-17:00"), "bad_window", res)
        assert_error(w.app, await reply(w.fake, res, "18:00-18:00"), "bad_window", res)
        assert_error(w.app, await reply(w.fake, res, sticker=True), "text_expected", res)
    state, data = await fsm(w.app, w.fake, res)
    assert state == "Order:window" and not data.get("start")
    await step(w.fake, res, lambda: res.send("19:00-21:00"), contains="residential compound")
    assert await count(w.app, Request) == 0


# --- hours when reporting done -----------------------------------------------------------------


async def test_reported_hours_must_be_sane(world):
    w, vol = world, world.vol
    req, task = await w.claimed()
    # Before the service starts there is nothing to report.
    async with Unchanged(w.app, w.fake, vol):
        answer = await w.fake.answer(await vol.tap(task, "Service done"))
        assert answer.show_alert
        assert_error(w.app, answer.text, "not_started", vol)

    set_now(w.clock, req.window_start + timedelta(hours=3))
    await w.st.tap(vol, task, "Service done", expect="How many hours")
    async with Unchanged(w.app, w.fake, vol):
        for bad in ("0", "-1", "-0.5", "abc", "nan"):
            assert_error(w.app, await reply(w.fake, vol, bad), "bad_hours", vol)
        for bad in ("1.3", "0.25"):
            assert_error(w.app, await reply(w.fake, vol, bad), "hours_step", vol)
        # More than the time since the service started (3 h).
        assert_error(w.app, await reply(w.fake, vol, "4"), "hours_out_of_range", vol, max_hours=3.0)
        assert_error(w.app, await reply(w.fake, vol, sticker=True), "text_expected", vol)
        # A forged hours button beyond the limit.
        prompt = await w.fake.wait_message(vol, contains="How many hours")
        answer = await forge(w.fake, vol, prompt, f"h1:{req.id}:10")
        assert answer.show_alert
        assert_error(w.app, answer.text, "hours_out_of_range", vol, max_hours=3.0)
    w.clock.advance(hours=12)  # now 15 h since the start: the cap of 12 h applies
    async with Unchanged(w.app, w.fake, vol):
        assert_error(w.app, await reply(w.fake, vol, "13"), "hours_out_of_range", vol, max_hours=12.0)
    req = await request_by_number(w.app, req.number)
    assert req.status == "claimed" and req.reported_minutes is None
    assert (await fsm(w.app, w.fake, vol))[0] == "Report:hours"
    await w.st.report_hours(vol, "12")  # the conversation was intact all along


async def test_infinite_hours_get_a_polite_reply(world):
    w, vol = world, world.vol
    req, task = await w.claimed()
    set_now(w.clock, req.window_start + timedelta(hours=2))
    await w.st.tap(vol, task, "Service done", expect="How many hours")
    async with Unchanged(w.app, w.fake, vol):
        for bad in ("inf", "1e309", "1e307"):
            text = await reply(w.fake, vol, bad)
            assert "went wrong" not in text
            assert text in (render(w.app, "bad_hours", "en"), render(w.app, "hours_out_of_range", "en", max_hours=2.0))


# --- forged, stale and foreign callbacks --------------------------------------------------------


async def test_forged_and_garbage_callbacks_change_nothing(world):
    w, vol = world, world.vol
    req = await w.place()
    card = await w.card(req)
    async with Unchanged(w.app, w.fake, vol):
        answer = await forge(w.fake, vol, card, "c1:999")  # a request that does not exist
        assert answer.show_alert
        assert_error(w.app, answer.text, "no_request", vol)
        for data in (
            "c0:1",
            f"c0:{req.id}",
            "zz:1",
            "garbage",
            "c1:abc",
            f"c1:{req.id}:7",
            "c1:",
            "::::",
            "r1:x:y",
            "a1:ok:abc",
            "t1:done",
            "v1",
        ):
            answer = await forge(w.fake, vol, card, data)
            assert answer.show_alert, data
            assert_error(w.app, answer.text, "stale", vol)
    req = await request_by_number(w.app, req.number)
    assert req.status == "open" and req.claimer_id is None


async def test_huge_ids_in_callback_data(world):
    """Numbers too big for the database are simply not found (they used to crash the handler)."""
    w, vol, res = world, world.vol, world.res
    req = await w.place()
    card = await w.card(req)
    huge = "99999999999999999999"
    menu = await step(w.fake, res, lambda: res.send("/request"))
    async with Unchanged(w.app, w.fake, vol, res, w.admin):
        for user, message, data, key in (
            (vol, card, f"c1:{huge}", "no_request"),
            (vol, card, f"c1:-{huge}", "no_request"),
            (res, menu, f"r1:{huge}:5", "no_request"),
            (res, menu, f"x1:yes:{huge}", "no_request"),
            (w.admin, w.fake.bot_messages(w.admin)[-1], f"a1:ok:{huge}", "no_request"),
            (w.admin, w.fake.bot_messages(w.admin)[-1], f"v1:go:{huge}:0", "no_request"),
            (res, menu, f"o1:svc:{huge}", "no_service"),
            (res, menu, "o1:svc:²", "no_service"),
            (res, menu, "o1:svc:", "no_service"),
        ):
            answer = await forge(w.fake, user, message, data)
            assert answer.show_alert, data
            ref = data.rsplit(":", 1)[1]
            assert_error(w.app, answer.text, key, user, ref=ref)


async def test_claim_in_another_teams_group(world):
    w = world
    group_b = w.fake.group("Team B", members=[w.admin, w.vol])
    await w.st.say(w.admin, "/newteam Team B", "created (number 2)")
    bound = await w.st.say(w.admin, "/bind 2", "receives the requests", chat=group_b)
    async with w.app.db.tx() as s:  # the volunteer is in both teams: only the group decides
        await people.register_volunteer(
            s, await s.get(User, w.vol.id), name="Li Ming", phone="13800138000", team_ids=[1, 2], now=w.clock.now()
        )
    req = await w.place()
    assert not any(req.number in (m.text or "") for m in w.fake.bot_messages(group_b))
    async with Unchanged(w.app, w.fake, w.vol):
        answer = await forge(w.fake, w.vol, bound, f"c1:{req.id}")
        assert answer.show_alert
        assert_error(w.app, answer.text, "button_group", w.vol)
    req = await request_by_number(w.app, req.number)
    assert req.status == "open" and req.claimer_id is None


async def test_claim_of_a_cancelled_request(world):
    w = world
    req = await w.place()
    card = await w.card(req)
    confirm = await step(w.fake, w.res, lambda: w.res.send(f"/cancelreq {req.number}"), contains="Cancel request")
    await w.st.tap(w.res, confirm, "Yes, cancel it")
    await w.fake.wait_message(w.group, contains="❌")
    async with Unchanged(w.app, w.fake, w.vol):
        answer = await forge(w.fake, w.vol, card, f"c1:{req.id}")  # the old button, still on an old client
        assert answer.show_alert
        assert_error(w.app, answer.text, "request_cancelled", w.vol)
    req = await request_by_number(w.app, req.number)
    assert req.status == "cancelled" and req.claimer_id is None


async def test_rating_by_someone_else_and_bad_stars(world):
    w = world
    req = await w.done()
    mine = w.fake.bot_messages(w.outsider)[-1]
    async with Unchanged(w.app, w.fake, w.outsider, w.vol, w.res):
        answer = await forge(w.fake, w.outsider, mine, f"r1:{req.id}:5")
        assert answer.show_alert
        assert_error(w.app, answer.text, "not_your_request", w.outsider)
        answer = await forge(w.fake, w.vol, w.fake.bot_messages(w.vol)[-1], f"r1:{req.id}:5")
        assert_error(w.app, answer.text, "not_your_request", w.vol)
        rate = await w.fake.wait_message(w.res, contains="Please confirm")
        for stars in (0, 6, -1):
            answer = await forge(w.fake, w.res, rate, f"r1:{req.id}:{stars}")
            assert_error(w.app, answer.text, "bad_rating", w.res)
    req = await request_by_number(w.app, req.number)
    assert req.status == "done" and req.rating is None


async def test_approval_by_a_non_coordinator(world):
    w = world
    req = await w.confirmed()
    async with Unchanged(w.app, w.fake, w.vol, w.res, w.outsider):
        for user in (w.vol, w.res, w.outsider):
            for data in (f"a1:ok:{req.id}", f"a1:fix:{req.id}"):
                answer = await forge(w.fake, user, w.fake.bot_messages(user)[-1], data)
                assert answer.show_alert
                assert_error(w.app, answer.text, "not_coordinator", user)
        # Review buttons are coordinators' too.
        for data in (f"v1:go:{req.id}:0", f"v1:move:{req.id}:0", f"v1:reject:{req.id}:0", f"v1:to:{req.id}:1"):
            answer = await forge(w.fake, w.res, w.fake.bot_messages(w.res)[-1], data)
            assert_error(w.app, answer.text, "not_coordinator", w.res)
    req = await request_by_number(w.app, req.number)
    assert req.status == "confirmed" and req.approved_minutes is None
    assert await count(w.app, LedgerEntry) == 0


async def test_forged_dispatch_to_a_team_that_does_not_exist(world):
    w = world
    await w.st.say(w.admin, "/review on", "wait for a coordinator")
    await w.st.place(w.res, SERVICE_EN, "Fix a tap", "Xingfu compound")
    review = await w.fake.wait_message(w.admin, contains="New request to review")
    async with w.app.db.read() as s:
        req = (await s.execute(select(Request))).scalar_one()
    async with Unchanged(w.app, w.fake, w.admin):
        for team in (99, 99999999999999999999):
            answer = await forge(w.fake, w.admin, review, f"v1:to:{req.id}:{team}")
            assert answer.show_alert
            assert_error(w.app, answer.text, "no_team", w.admin, ref=team)
    req = await request_by_number(w.app, req.number)
    assert req.status == "review" and req.team_id == 1


# --- commands from roles that may not use them -------------------------------------------------


@pytest.mark.parametrize("who", ["res", "chen"])
async def test_coordinator_commands_refused_to_residents(world, who):
    w = world
    user = getattr(w, who)
    async with Unchanged(w.app, w.fake, user):
        for command in (
            "/pending",
            "/newteam Rogue team",
            "/teams",
            "/services",
            "/review on",
            "/service_add 假 | Fake",
            "/service_off 1",
            "/service_team 1 1",
            "/history 2026-0001",
        ):
            key = "no_request" if command.startswith("/history") else "not_coordinator"
            assert_error(w.app, await reply(w.fake, user, command), key, user)
        assert_error(w.app, await reply(w.fake, user, "/coordinator_add @" + user.username), "not_admin", user)
        assert_error(w.app, await reply(w.fake, user, f"/coordinator_remove {w.admin.id}"), "not_admin", user)
        # In a group: /bind and /unbind are for coordinators.
        assert_error(w.app, await reply(w.fake, user, "/bind 1", chat=w.group), "not_coordinator", user)
        assert_error(w.app, await reply(w.fake, user, "/unbind", chat=w.group), "not_coordinator", user)
        # In a private chat /bind makes no sense.
        assert_error(w.app, await reply(w.fake, user, "/bind 1"), "group_only", user)
        # /claims is for volunteers.
        assert_error(w.app, await reply(w.fake, user, "/claims"), "not_volunteer", user)


async def test_bind_in_private_chat_even_for_a_coordinator(world):
    w = world
    async with Unchanged(w.app, w.fake, w.admin):
        assert_error(w.app, await reply(w.fake, w.admin, "/bind 1"), "group_only", w.admin)
        assert_error(w.app, await reply(w.fake, w.admin, "/unbind"), "group_only", w.admin)


@pytest.mark.parametrize("who", ["outsider", "chen"])
async def test_non_volunteer_tapping_accept_is_told_how_to_register(world, who):
    w = world
    user = getattr(w, who)
    req = await w.place()
    card = await w.card(req)
    async with Unchanged(w.app, w.fake, user):
        answer = await w.fake.answer(await user.tap(card, ACCEPT))
    assert answer.show_alert is True
    assert_error(w.app, answer.text, "not_volunteer", user)
    assert "/volunteer" in answer.text
    req = await request_by_number(w.app, req.number)
    assert req.status == "open"


# --- the claim race loser, and one's own hours ---------------------------------------------------


async def test_claim_loser_is_told_it_is_taken(world):
    w = world
    other = w.fake.user("Qian", language_code=EN)
    w.group.add(other)
    await w.hello(other)
    await seed_volunteer(w.app, other, "Qian Wei", "13800138002")
    req = await w.place()
    card = await w.card(req)
    q1 = await w.vol.tap(card, ACCEPT)
    q2 = await other.tap(card, ACCEPT)  # both queued before the bot sees either
    a1, a2 = await asyncio.gather(w.fake.answer(q1), w.fake.answer(q2))
    texts_ = sorted([a1.text, a2.text], key=lambda t: "already been taken" in t)
    assert "You took" in texts_[0] and "already been taken" in texts_[1]
    winner = w.vol if "You took" in a1.text else other
    loser = other if winner is w.vol else w.vol
    req = await request_by_number(w.app, req.number)
    assert req.status == "claimed" and req.claimer_id == winner.id
    # A late tap on the old card: the same polite answer, nothing changes.
    async with Unchanged(w.app, w.fake, loser):
        answer = await forge(w.fake, loser, card, f"c1:{req.id}")
        assert "already been taken" in answer.text
        assert_error(w.app, answer.text, "already_claimed", loser)


async def test_volunteer_who_is_coordinator_cannot_approve_own_hours(world):
    w = world
    await w.st.say(w.admin, "/coordinator_add @li", "is now a coordinator")
    req = await w.confirmed()
    # The approval prompt goes to the other coordinators only.
    assert not any("Hours to approve" in (m.text or "") for m in w.fake.bot_messages(w.vol))
    async with Unchanged(w.app, w.fake, w.vol):
        for data in (f"a1:ok:{req.id}", f"a1:fix:{req.id}"):
            answer = await forge(w.fake, w.vol, w.fake.bot_messages(w.vol)[-1], data)
            assert answer.show_alert
            assert_error(w.app, answer.text, "own_hours", w.vol)
    assert await count(w.app, LedgerEntry) == 0
    approve = await w.fake.wait_message(w.admin, contains="Hours to approve")
    await w.st.tap(w.admin, approve, "Approve")  # another coordinator can
    await w.fake.wait_message(w.vol, contains="points")
    assert await count(w.app, LedgerEntry) == 1
