"""Every button is tapped only where it belongs (bot/ui/scope.py, bot/middlewares.py ButtonScopeMiddleware):
private-only buttons in the tapper's own private chat, group buttons on the cards of a group bound to the team of
what they act on. Forged elsewhere, a button is refused with a polite alert: nothing changes, nothing is edited,
nothing private reaches a group. Check-in needs the group's card in the window, or the code."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import ActivitySignup
from tests.chat import ACCEPT, Unchanged, assert_error, forge, request_by_number, seed_volunteer, set_now
from tests.e2e.test_activities import publish

ADDRESS, PHONE, VOL_PHONE = "Building 3, Room 402", "13912345678", "13800138000"  # the world's private data


def edits(fake, chat) -> int:
    """How many times the bot edited a message in this chat."""
    return sum(len(m.edits) for m in fake.bot_messages(chat))


async def test_forged_cancel_buttons_on_a_group_card_change_and_edit_nothing(world):
    """x1:no used to strip a card's 接单 button and ak1:cancel_no to overwrite its text, for anyone in the group."""
    w = world
    req = await w.place()
    card = await w.card(req)
    before = edits(w.fake, w.group)
    async with Unchanged(w.app, w.fake, w.outsider, w.chen, w.admin):
        for user in (w.outsider, w.chen, w.admin):  # a stranger, a Chinese-speaking one, even a coordinator
            for data in (f"x1:no:{req.id}", "ak1:cancel_no:1", f"x1:ask:{req.id}", f"x1:yes:{req.id}"):
                answer = await forge(w.fake, user, card, data)
                assert answer.show_alert, data
                assert_error(w.app, answer.text, "button_private", user)
    assert edits(w.fake, w.group) == before
    [now] = [m for m in w.fake.bot_messages(w.group) if m.message_id == card.message_id]
    assert any(ACCEPT in b for b in now.buttons) and now.text == card.original.text
    req = await request_by_number(w.app, req.number)
    assert req.status == "open" and req.claimer_id is None
    # the volunteer still takes it from the untouched card
    assert "took" in (await w.st.tap(w.vol, now, ACCEPT)).text


async def test_private_only_buttons_in_a_group_are_refused(world):
    """Ledger pages, the shop, the profile, settings, ranking, disputes, tasks, ratings: private chat only."""
    w = world
    w.fake.mark_private(ADDRESS, PHONE, VOL_PHONE)
    req, _task = await w.claimed()
    card = await w.card(req)
    before = (edits(w.fake, w.group), len(w.fake.bot_messages(w.group)))
    forged = [
        f"d1:page:{w.vol.id}:0",
        f"d1:page:{w.vol.id}:1",
        "d1:pick:1:0",
        "s1:ask:1:0",
        "s1:yes:1:10",
        "rd1:ask:1",
        "pf1:name:0",
        "pf1:phone:0",
        "st1:rank",
        "rk1:year:0",
        f"t1:done:{req.id}",
        f"t1:release:{req.id}",
        f"h1:{req.id}:2",
        f"r1:{req.id}:5",
        f"a1:ok:{req.id}",
        f"v1:go:{req.id}:0",
        f"rm1:coming:{req.id}",
        f"j1:ok:1:{w.vol.id}",
        "o1:svc:1",
        "p1:1",
        "k1:1",
        "ah1:close:1:0",
        "ci1:post:1",
        "mv1:2026-01:1",
    ]
    async with Unchanged(w.app, w.fake, w.vol, w.admin, w.outsider):
        for user in (w.vol, w.admin, w.outsider):
            for data in forged:
                answer = await forge(w.fake, user, card, data)
                assert answer.show_alert, data
                assert_error(w.app, answer.text, "button_private", user)
    assert (edits(w.fake, w.group), len(w.fake.bot_messages(w.group))) == before
    assert w.fake.group_leaks() == []
    # commands that show such buttons in a group show none there
    for command in ("/rank", "/ledger"):
        await w.st.say(w.vol, command, "", chat=w.group)
        assert not w.fake.bot_messages(w.group)[-1].buttons, command
    # in his own private chat the same page button works
    ledger = await w.st.say(w.vol, "/ledger", "Ledger")
    answer = await forge(w.fake, w.vol, ledger, f"d1:page:{w.vol.id}:0")
    assert not answer.show_alert
    assert w.fake.group_leaks() == []


async def test_group_buttons_in_a_private_chat_are_refused(world):
    w = world
    req = await w.place()
    own = await w.st.say(w.vol, "/start", "")
    async with Unchanged(w.app, w.fake, w.vol):
        for data in (f"c1:{req.id}", "ac1:in:1", "ci1:in:1", "ci1:out:1"):
            answer = await forge(w.fake, w.vol, own, data)
            assert answer.show_alert, data
            assert_error(w.app, answer.text, "button_group", w.vol)
    assert not own.edits
    req = await request_by_number(w.app, req.number)
    assert req.status == "open" and req.claimer_id is None


async def test_card_buttons_only_in_a_group_of_the_team_concerned(world):
    """A card's button forged in an unbound group, or in the group of another team, changes nothing."""
    w = world
    req = await w.place()
    loose = w.fake.group("Chat", members=[w.vol, w.admin])
    other = w.fake.group("Team B", members=[w.vol, w.admin])
    await w.st.say(w.admin, "/newteam Team B", "created (number 2)")
    bound = await w.st.say(w.admin, "/bind 2", "receives the requests", chat=other)
    hello = await w.st.say(w.admin, "/whoami", "", chat=loose)
    async with Unchanged(w.app, w.fake, w.vol):
        for message in (bound, hello):
            answer = await forge(w.fake, w.vol, message, f"c1:{req.id}")
            assert_error(w.app, answer.text, "button_group", w.vol)
    req = await request_by_number(w.app, req.number)
    assert req.status == "open" and req.claimer_id is None


async def test_buttons_that_work_in_groups_check_the_tapper_before_editing(world):
    """th1, cv1, tm1, og1 (the coordinators' commands work in groups too): a stranger's forgery edits nothing."""
    w = world
    req = await w.place()
    card = await w.card(req)
    before = edits(w.fake, w.group)
    async with Unchanged(w.app, w.fake, w.outsider):
        for data in (
            "tm1:keep:1",
            "tm1:archive:1",
            "cv1:leifeng:0",
            "th1:drop:3",
            "th1:save:3",
            "og1:yes:archive:Z01",
            "og1:no:archive:Z01",
        ):
            answer = await forge(w.fake, w.outsider, card, data)
            assert_error(w.app, answer.text, "not_coordinator", w.outsider)
    assert edits(w.fake, w.group) == before


# check-in ------------------------------------------------------------------------------------------------


async def checked_in(app, activity_id: int, user_id: int):
    async with app.db.read() as s:
        return (
            await s.execute(
                select(ActivitySignup.checked_in_at).where(
                    ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == user_id
                )
            )
        ).scalar_one()


async def test_forged_checkin_from_home_or_outside_the_window_sets_nothing(world):
    w = world
    act = await publish(w.app, w.admin.id, title="Visit the elderly home")
    card = await w.fake.wait_message(w.group, contains=act.number)
    await w.st.tap(w.vol, card, "🙋")
    other = w.fake.group("Team B", members=[w.vol, w.admin])
    await w.st.say(w.admin, "/newteam Team B", "created (number 2)")
    bound = await w.st.say(w.admin, "/bind 2", "receives the requests", chat=other)
    home = await w.st.say(w.vol, "/start", "")
    # the day before: not even on the group's card
    answer = await forge(w.fake, w.vol, card, f"ci1:in:{act.id}")
    assert_error(w.app, answer.text, "act_not_checkin_time", w.vol)
    set_now(w.clock, act.starts_at - timedelta(minutes=10))  # the window is open
    async with Unchanged(w.app, w.fake, w.vol):
        for message, key in ((home, "button_group"), (bound, "button_group")):
            answer = await forge(w.fake, w.vol, message, f"ci1:in:{act.id}")
            assert answer.show_alert
            assert_error(w.app, answer.text, key, w.vol)
    assert await checked_in(w.app, act.id, w.vol.id) is None
    set_now(w.clock, act.ends_at + timedelta(minutes=1))  # over
    answer = await forge(w.fake, w.vol, card, f"ci1:in:{act.id}")
    assert_error(w.app, answer.text, "act_not_checkin_time", w.vol)
    assert await checked_in(w.app, act.id, w.vol.id) is None


async def test_checkin_with_the_code_in_private_and_the_button_on_the_groups_card(world):
    w = world
    act = await publish(w.app, w.admin.id, title="Visit the elderly home")
    card = await w.fake.wait_message(w.group, contains=act.number)
    await w.st.tap(w.vol, card, "🙋")
    helper = w.fake.user("Qian", language_code="en")
    w.group.add(helper)
    await w.hello(helper)
    await seed_volunteer(w.app, helper, "Qian Li", "13700137000")
    await w.st.tap(helper, card, "🙋")
    set_now(w.clock, act.starts_at - timedelta(minutes=10))
    # the code works in private only
    answer = await w.st.say(w.vol, f"/checkin {act.checkin_code}", "", chat=w.group)
    assert_error(w.app, answer.text, "private_only", w.vol)
    assert await checked_in(w.app, act.id, w.vol.id) is None
    await w.st.say(w.vol, f"/checkin {act.checkin_code}", "Checked in")
    assert await checked_in(w.app, act.id, w.vol.id) is not None
    # the check-in button on the card in the activity's group, in the window
    answer = await forge(w.fake, helper, card, f"ci1:in:{act.id}")
    assert "Checked in" in answer.text
    assert await checked_in(w.app, act.id, helper.id) is not None
