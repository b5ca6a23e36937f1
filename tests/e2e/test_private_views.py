"""Residents' privacy in the chat: views that can show private fields answer only in the viewer's private chat;
releases are limited, past the limit a coordinator decides, and every contact given is in /history; the cancel
buttons work only for whoever may cancel, in his private chat."""

from __future__ import annotations

import pytest

from tests.chat import ACCEPT, World, forge, request_by_number, tr

ADDRESS, PHONE = "Building 3, Room 402", "13912345678"  # what World.place types (and marks private)
NOTE = "I have answered you in our private chat."
BUTTON_PRIVATE = "Sorry, this button works only in your private chat with me. Nothing was changed."
USE_PRIVATELY = "Please use this command in a private chat with the bot (open a chat with me and send /start first)."


def group_texts(w: World, after: int = 0) -> list[str]:
    return [m.text or "" for m in w.fake.bot_messages(w.group)[after:]]


async def take(w: World, req):
    """The volunteer takes the request from its card; returns his new task message."""
    before = len(w.fake.bot_messages(w.vol))
    assert "took" in (await w.st.tap(w.vol, await w.card(req), ACCEPT)).text
    return await w.fake.wait_message(w.vol, contains="Service done", after=before)


async def test_history_in_a_group_is_answered_in_private(world: World):
    w = world
    req = await w.place()
    await w.claimed(req)
    in_group, in_private = len(w.fake.bot_messages(w.group)), len(w.fake.bot_messages(w.admin))
    await w.admin.send(f"/history {req.number}", chat=w.group)
    view = await w.fake.wait_message(w.admin, contains=ADDRESS, after=in_private)
    assert PHONE in view.text and "History:" in view.text and "received the address and phone (Li Ming)" in view.text
    note = await w.fake.wait_message(w.group, contains=NOTE, after=in_group)
    await w.fake.wait_idle()
    assert group_texts(w, in_group) == [note.text]
    assert not any(ADDRESS in t or PHONE in t for t in group_texts(w))


@pytest.mark.parametrize(
    "command,view",
    [
        ("/pending", "Waiting for a volunteer"),
        ("/teams", "Teams:"),
        ("/joins", "No join requests are waiting."),
        ("/ledger @li", "Ledger of Li Ming"),
        ("/cancelreq {number}", "Cancel request"),
        ("/my", "You have no requests yet."),  # the admin placed none
    ],
)
async def test_private_views_typed_in_a_group_go_to_the_private_chat(world: World, command: str, view: str):
    w = world
    req = await w.place()
    in_group, in_private = len(w.fake.bot_messages(w.group)), len(w.fake.bot_messages(w.admin))
    await w.admin.send(command.format(number=req.number), chat=w.group)
    await w.fake.wait_message(w.admin, contains=view, after=in_private)
    note = await w.fake.wait_message(w.group, contains=NOTE, after=in_group)
    await w.fake.wait_idle()
    assert group_texts(w, in_group) == [note.text]


async def test_a_refusal_in_a_group_is_answered_there_and_nothing_else(world: World):
    w = world
    req = await w.place()
    in_group = len(w.fake.bot_messages(w.group))
    await w.outsider.send(f"/history {req.number}", chat=w.group)
    refusal = await w.fake.wait_message(w.group, after=in_group)
    assert refusal.text == tr(w.app, w.outsider, "This is not your request.")
    await w.fake.wait_idle()
    assert group_texts(w, in_group) == [refusal.text]


async def test_history_in_a_group_when_the_bot_cannot_write_to_him(world: World):
    """Blocked the bot, or never opened a chat with it: the group is asked politely, nothing private in it."""
    w = world
    req = await w.place()
    w.admin.block()
    in_group = len(w.fake.bot_messages(w.group))
    await w.admin.send(f"/history {req.number}", chat=w.group)
    polite = await w.fake.wait_message(w.group, contains="private chat", after=in_group)
    assert polite.text == USE_PRIVATELY
    w.admin.unblock()

    zhou = w.fake.user("Zhou", language_code="zh-hans", username="zhou")
    w.group.add(zhou)
    in_group = len(w.fake.bot_messages(w.group))
    await zhou.send("/whoami", chat=w.group)  # the bot knows him from the group only
    await w.fake.wait_message(w.group, after=in_group)
    await w.st.say(w.admin, "/coordinator_add @zhou", "coordinator")
    in_group = len(w.fake.bot_messages(w.group))
    await zhou.send(f"/history {req.number}", chat=w.group)
    polite = await w.fake.wait_message(w.group, contains="私聊", after=in_group)
    assert polite.text == tr(w.app, zhou, USE_PRIVATELY)
    await w.fake.wait_idle()
    assert group_texts(w, in_group) == [polite.text]
    assert not any(ADDRESS in t or PHONE in t for t in group_texts(w))


async def test_a_private_views_button_in_a_group_is_refused(world: World):
    w = world
    req = await w.place()
    card = await w.card(req)
    answer = await forge(w.fake, w.admin, card, f"a1:ok:{req.id}")
    assert answer.text == BUTTON_PRIVATE and answer.show_alert  # the button-scope check answers first
    answer = await forge(w.fake, w.admin, card, f"d1:page:{w.vol.id}:0")
    assert answer.text == BUTTON_PRIVATE
    assert ACCEPT in " ".join((await w.card(req)).buttons)  # the card was not edited


async def test_forged_cancel_buttons_on_a_group_card_change_nothing(world: World):
    w = world
    req = await w.place()
    card = await w.card(req)
    for user, data in (
        (w.outsider, f"x1:no:{req.id}"),
        (w.outsider, f"x1:ask:{req.id}"),
        (w.outsider, f"x1:yes:{req.id}"),
        (w.res, f"x1:no:{req.id}"),  # his own request, but a group's message
    ):
        answer = await forge(w.fake, user, card, data)
        assert answer.text != tr(w.app, user, "Nothing was changed.")
        await w.fake.wait_idle()
        assert ACCEPT in " ".join((await w.card(req)).buttons)  # the card keeps its button
    assert (await request_by_number(w.app, req.number)).status == "open"
    # The resident's own buttons, in his private chat, still work.
    mine = await w.st.say(w.res, "/my", req.number)
    await w.st.tap(w.res, mine, "Cancel request")
    answer = await w.st.tap(w.res, w.fake.bot_messages(w.res)[-1], "No, keep it")
    assert answer.text == "Nothing was changed."


async def test_releases_past_the_limit_go_through_a_coordinator(world: World):
    w = world
    reqs = [await w.place(need=f"Carry rice upstairs {n}") for n in range(3)]
    for n, req in enumerate(reqs[:2]):
        task = await take(w, req)
        before = len(w.fake.bot_messages(w.admin))
        await w.st.tap(w.vol, task, "Release")
        told = await w.fake.wait_message(w.admin, contains="after receiving its address and phone", after=before)
        assert f"release number {n + 1} in 24 hours" in told.text and ADDRESS not in told.text

    third, task = reqs[2], await take(w, reqs[2])
    before = len(w.fake.bot_messages(w.admin))
    answer = await w.st.tap(w.vol, task, "Release")
    assert "already released 2 requests" in answer.text and answer.show_alert
    assert (await request_by_number(w.app, third.number)).claimer_id == w.vol.id
    ask = await w.fake.wait_message(w.admin, contains="asks to give back", after=before)
    assert "Li Ming" in ask.text and "Ask to keep" in " ".join(ask.buttons)
    answer = await w.st.tap(w.vol, task, "Release")  # again: nobody is asked twice
    assert "wait for their answer" in answer.text

    before = len(w.fake.bot_messages(w.vol))
    answer = await w.st.tap(w.admin, ask, "Release it")
    assert "released" in answer.text
    await w.fake.wait_message(w.vol, contains="A coordinator has released", after=before)
    assert await w.fake.pulse.wait_until(  # its card is open again
        lambda: any(m.text and third.number in m.text and "已放弃接单" in m.text for m in w.fake.bot_messages(w.group)),
        5,
    )
    assert (await request_by_number(w.app, third.number)).status == "open"

    history = await w.st.say(w.admin, f"/history {third.number}", "History:")
    for line in (
        "received the address and phone (Li Ming)",
        "asked a coordinator to release it (Li Ming)",
        "released (Wang): for Li Ming",
    ):
        assert line in history.text
