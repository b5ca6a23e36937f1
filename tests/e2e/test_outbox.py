"""The outbox sender against a misbehaving Bot API: 429, 5xx, 403, an outage, a restart, card edits.

Everything here goes through the fake server; the sender's waits are skipped by moving the app
clock (the sender compares next_attempt_at with it) and waking the sender, never by sleeping.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from sqlalchemy import select

from storage.models import OutboxMessage, Request, RequestEvent, User
from tests.fakegram import FakeGroup, FakeMessage, FakeTelegram, FakeUser
from tests.helpers import Station, until_summary_en

SERVICE = "Help for the elderly"
TEAM = "综合志愿服务队"
ACCEPT = "🙋"  # the card's button; group cards speak the station's language (Chinese by default)


# helpers -----------------------------------------------------------------------------------------


async def open_station(fake: FakeTelegram, start_app, *, groups: int = 1, volunteer: bool = True):
    """An English station: admin (coordinator), resident, optionally a registered volunteer, and
    `groups` volunteer groups all bound to team 1."""
    admin = fake.user("Wang", language_code="en", username="wang")
    vol = fake.user("Li", language_code="en")
    res = fake.user("Zhao", language_code="en")
    chats = [fake.group(f"Team 1 ({i + 1})", members=[admin, vol]) for i in range(groups)]
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "Hello")
    for chat in chats:
        await st.say(admin, "/bind 1", "receives the requests", chat=chat)
    if volunteer:
        await st.register(vol, "Li Ming", "13800138000", [TEAM], done="Done", prompt_name="name")
    return SimpleNamespace(app=app, st=st, admin=admin, vol=vol, res=res, group=chats[0], groups=chats)


async def until_summary(st: Station, resident: FakeUser, need: str, area: str) -> FakeMessage:
    return await until_summary_en(st, resident, SERVICE, need, area)


async def confirm_while_down(fake: FakeTelegram, resident: FakeUser, summary: FakeMessage) -> None:
    """Tap “Confirm”, and take the Bot API down the moment the bot has fetched that tap, so the
    request is committed but nothing it owes can be sent."""
    await resident.tap(summary, "✅")
    assert await fake.pulse.wait_until(lambda: fake.updates.all_fetched, 20), "the bot did not fetch the tap"
    fake.set_down(True)


async def eventually(check, what: str, timeout: float = 5.0):
    """Poll an async check until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def outbox(app, chat: FakeUser | FakeGroup | None = None) -> list[OutboxMessage]:
    async with app.db.read() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat is not None:
            query = query.where(OutboxMessage.chat_id == chat.id)
        return list((await s.execute(query)).scalars())


def describe(rows: list[OutboxMessage]) -> list[tuple]:
    return [(r.id, r.chat_id, r.method, r.status, r.attempts, r.error) for r in rows]


async def drain(app, clock, step: float = 61.0, timeout: float = 5.0) -> None:
    """Skip the sender's waits (at most the capped backoff per step) until nothing is pending."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await app.sender.pending():
        if loop.time() > deadline:
            raise AssertionError(f"outbox not drained: {describe(await outbox(app))}")
        clock.advance(seconds=step)
        app.sender.wake.set()
        await asyncio.sleep(0.02)


def calls(fake: FakeTelegram, method: str, chat: FakeUser | FakeGroup, since: int = 0) -> list[dict]:
    """Every call (failed or not) of `method` to that chat, from fake.calls[since:]."""
    return [p for name, p in fake.calls[since:] if name == method and p.get("chat_id") == chat.id]


def containing(fake: FakeTelegram, chat, text: str) -> list[FakeMessage]:
    """Bot messages in the chat whose original text contains `text` (edits not counted)."""
    return [m for m in fake.bot_messages(chat) if text in (m.versions[0].text or "")]


# 429 ----------------------------------------------------------------------------------------------


async def test_429_on_the_card_waits_retry_after_then_the_card_arrives_once(fake, start_app, clock):
    s = await open_station(fake, start_app, volunteer=False)
    fake.fail("sendMessage", status=429, retry_after=30, chat_id=s.group)
    number = await s.st.place(s.res, SERVICE, "Need help buying groceries", "Xingfu compound")
    assert await fake.pulse.wait_until(
        lambda: (
            calls(fake, "sendMessage", s.group, 0)[-1:] and number in calls(fake, "sendMessage", s.group)[-1]["text"]
        ),
        5,
    )

    # Telegram said "not before 30 s": a wake-up must not make the sender try again early.
    s.app.sender.wake.set()
    await fake.wait_idle(quiet=0.2)
    card_sends = [p for p in calls(fake, "sendMessage", s.group) if number in p["text"]]
    assert len(card_sends) == 1 and containing(fake, s.group, number) == []
    [row] = [r for r in await outbox(s.app, s.group) if r.ref and r.ref.startswith("card:")]
    assert row.status == "pending" and "retry after" in (row.error or "").lower()

    clock.advance(seconds=31)
    s.app.sender.wake.set()
    card = await fake.wait_message(s.group, contains=number)
    await fake.wait_idle(quiet=0.1)
    assert containing(fake, s.group, number) == [card]  # exactly one card
    assert len([p for p in calls(fake, "sendMessage", s.group) if number in p["text"]]) == 2
    [row] = [r for r in await outbox(s.app, s.group) if r.ref and r.ref.startswith("card:")]
    assert (row.status, row.message_id) == ("sent", card.message_id)
    assert ACCEPT in card.buttons[0]


# 5xx ----------------------------------------------------------------------------------------------


async def test_500_and_502_are_retried_and_delivered(fake, start_app, clock):
    s = await open_station(fake, start_app)
    fake.fail("sendMessage", status=500, chat_id=s.group)
    fake.fail("sendMessage", status=502, chat_id=s.group)
    mark = len(fake.calls)
    number = await s.st.place(
        s.res,
        SERVICE,
        "Need help buying groceries",
        "Xingfu compound",
        address="Building 3, Room 402",
        phone="+8613912345678",
    )
    await drain(s.app, clock)
    card = await fake.wait_message(s.group, contains=number)
    assert containing(fake, s.group, number) == [card]
    assert len(calls(fake, "sendMessage", s.group, mark)) == 3  # 500, 502, then the card

    # The claim's card edit gets a 502, the resident's notice a 500: both still arrive, once.
    fake.fail("editMessageText", status=502, chat_id=s.group)
    fake.fail("sendMessage", status=500, chat_id=s.res)
    mark = len(fake.calls)
    answer = await s.st.tap(s.vol, card, ACCEPT)
    assert "You took" in answer.text
    await fake.wait_message(s.vol, contains="Building 3, Room 402")
    await drain(s.app, clock)
    await fake.wait_message(s.group, contains="Li Ming")
    await fake.wait_message(s.res, contains="Good news")
    await fake.wait_idle(quiet=0.1)
    assert len(calls(fake, "editMessageText", s.group, mark)) == 2
    assert len(calls(fake, "sendMessage", s.res, mark)) == 2
    assert len(containing(fake, s.res, "Good news")) == 1
    assert len(card.edits) == 1 and not card.buttons
    rows = await outbox(s.app)
    assert all(r.status == "sent" for r in rows), describe(rows)


# 403 ----------------------------------------------------------------------------------------------


async def test_resident_who_blocked_the_bot_does_not_stop_the_claim(fake, start_app, clock):
    s = await open_station(fake, start_app)
    number = await s.st.place(
        s.res,
        SERVICE,
        "Need help buying groceries",
        "Xingfu compound",
        address="Building 3, Room 402",
        phone="+8613912345678",
    )
    card = await fake.wait_message(s.group, contains=number)
    s.res.block()

    answer = await s.st.tap(s.vol, card, ACCEPT)
    assert "You took" in answer.text
    await fake.wait_message(s.group, contains="Li Ming")
    await fake.wait_message(s.vol, contains="Building 3, Room 402")

    async def failed_row():
        return [r for r in await outbox(s.app, s.res) if r.status == "failed"]

    [row] = await eventually(failed_row, "the resident's notice to fail")
    assert "blocked" in row.error and "Good news" in row.text

    clock.advance(minutes=10)  # a 403 is final: no retry, however long we wait
    s.app.sender.wake.set()
    await fake.wait_idle(quiet=0.2)
    assert len([p for p in calls(fake, "sendMessage", s.res) if "Good news" in p["text"]]) == 1
    assert containing(fake, s.res, "Good news") == []
    async with s.app.db.read() as db:
        resident = await db.get(User, s.res.id)
        req = (await db.execute(select(Request).where(Request.number == number.lstrip("#")))).scalar_one()
    assert resident.blocked_bot is True
    assert (req.status, req.claimer_id) == ("claimed", s.vol.id)
    rows = await outbox(s.app)
    assert [r.id for r in rows if r.status != "sent"] == [row.id], describe(rows)

    # Writing to the bot again means they unblocked it.
    s.res.unblock()
    await s.st.say(s.res, "/my", number)
    async with s.app.db.read() as db:
        assert (await db.get(User, s.res.id)).blocked_bot is False


# outage -------------------------------------------------------------------------------------------


async def test_bot_api_down_while_a_request_is_placed_loses_nothing(fake, start_app, clock):
    s = await open_station(fake, start_app, volunteer=False)
    summary = await until_summary(s.st, s.res, "Need help buying groceries", "Xingfu compound")
    await confirm_while_down(fake, s.res, summary)

    async def tried_both():
        rows = await outbox(s.app)
        owed = [r for r in rows if r.chat_id in (s.res.id, s.group.id) and r.status == "pending"]
        return len(owed) == 2 and all(r.attempts >= 1 for r in owed) and owed

    await eventually(tried_both, "both notices to be tried while down")
    async with s.app.db.read() as db:
        req = (await db.execute(select(Request))).scalar_one()
    number = f"#{req.number}"
    assert req.status == "open"

    # A long outage: many failed rounds. The backoff is capped at a minute, so each round is at
    # most a minute of (app) time away, however many attempts came before.
    for _ in range(8):
        tried = len(fake.calls_to("sendMessage"))
        clock.advance(seconds=61)
        s.app.sender.wake.set()
        # The budget is wall time on a busy CI machine, not the backoff (that is app time, moved above).
        assert await fake.pulse.wait_until(lambda tried=tried: len(fake.calls_to("sendMessage")) >= tried + 2, 20), (
            f"the sender stopped retrying within a minute: {describe(await outbox(s.app))}"
        )
    await fake.wait_idle(quiet=0.1)
    assert containing(fake, s.res, number) == [] and containing(fake, s.group, number) == []

    fake.set_down(False)
    clock.advance(seconds=61)
    s.app.sender.wake.set()
    await fake.wait_message(s.res, contains=number)
    await fake.wait_message(s.group, contains=number)
    await fake.wait_idle(quiet=0.1)
    assert len(containing(fake, s.res, f"{number} has been placed")) == 1
    assert len(containing(fake, s.group, number)) == 1
    rows = await outbox(s.app)
    assert all(r.status == "sent" for r in rows), describe(rows)


# restart ------------------------------------------------------------------------------------------


async def test_pending_messages_survive_a_restart_and_go_out_once(fake, start_app, stop_app, clock):
    s = await open_station(fake, start_app, volunteer=False)
    first = await s.st.place(s.res, SERVICE, "Carry rice upstairs", "Xingfu compound")
    await fake.wait_message(s.group, contains=first)
    summary = await until_summary(s.st, s.res, "Need help buying groceries", "Xingfu compound")
    await confirm_while_down(fake, s.res, summary)

    async def owed():
        rows = [r for r in await outbox(s.app) if r.status == "pending"]
        return len(rows) == 2 and all(r.attempts >= 1 for r in rows) and rows

    await eventually(owed, "the second request's notices to be tried while down")
    async with s.app.db.read() as db:
        second = "#" + (await db.execute(select(Request.number).order_by(Request.id.desc()))).scalars().first()
    assert second != first

    await stop_app(s.app)
    fake.set_down(False)
    sent_before = len(fake.calls_to("sendMessage"))
    app = await start_app(admin_ids=[s.admin.id])  # same database
    await drain(app, clock)
    await fake.wait_message(s.res, contains=second)
    await fake.wait_message(s.group, contains=second)
    await fake.wait_idle(quiet=0.1)

    # Exactly the two owed messages went out after the restart; nothing sent before was repeated.
    assert len(fake.calls_to("sendMessage")) - sent_before == 2
    for number in (first, second):
        assert len(containing(fake, s.res, f"{number} has been placed")) == 1, number
        assert len(containing(fake, s.group, number)) == 1, number
    rows = await outbox(app)
    assert all(r.status == "sent" for r in rows), describe(rows)

    # The restarted bot works on the card it delivered: the claim edits it.
    await s.st.register(s.vol, "Li Ming", "13800138000", [TEAM], done="Done", prompt_name="name")
    [card] = containing(fake, s.group, second)
    answer = await s.st.tap(s.vol, card, ACCEPT)
    assert "You took" in answer.text
    await fake.wait_message(s.group, contains="Li Ming")


# card edits ---------------------------------------------------------------------------------------


async def test_card_edit_waits_for_its_card(fake, start_app, clock):
    s = await open_station(fake, start_app, groups=2)
    a, b = s.groups
    fake.fail("sendMessage", status=429, retry_after=30, chat_id=b)
    mark = len(fake.calls)
    number = await s.st.place(s.res, SERVICE, "Need help buying groceries", "Xingfu compound")
    card_a = await fake.wait_message(a, contains=number)
    assert await fake.pulse.wait_until(lambda: calls(fake, "sendMessage", b, mark), 20)

    # Group B's card is held back by the 429; meanwhile a volunteer takes the request in group A.
    answer = await s.st.tap(s.vol, card_a, ACCEPT)
    assert "You took" in answer.text
    await fake.wait_message(a, contains="Li Ming")
    await fake.wait_message(s.vol, contains="You have taken")
    s.app.sender.wake.set()
    await fake.wait_idle(quiet=0.2)
    assert containing(fake, b, number) == []
    assert calls(fake, "editMessageText", b, mark) == []  # the edit waits behind its card

    clock.advance(seconds=31)
    s.app.sender.wake.set()
    await fake.wait_message(b, contains="Li Ming")
    await fake.wait_idle(quiet=0.1)
    [card_b] = containing(fake, b, number)
    assert "Li Ming" not in card_b.versions[0].text and card_b.versions[0].reply_markup  # the card first
    assert len(card_b.edits) == 1 and "Li Ming" in card_b.text and not card_b.buttons
    assert [name for name, p in fake.calls[mark:] if p.get("chat_id") == b.id] == [
        "sendMessage",
        "sendMessage",
        "editMessageText",
    ]
    rows = await outbox(s.app)
    assert all(r.status == "sent" for r in rows), describe(rows)
    async with s.app.db.read() as db:
        claims = (await db.execute(select(RequestEvent).where(RequestEvent.kind == "claimed"))).scalars().all()
    assert len(claims) == 1


async def test_failure_after_the_change_was_saved_does_not_claim_nothing_changed(fake, start_app):
    """If answering fails after the commit, the apology must not invite a second request."""
    s = await open_station(fake, start_app, volunteer=False)
    summary = await until_summary(s.st, s.res, "Change a light bulb", "Xingfu compound")
    fake.fail("answerCallbackQuery", status=500, times=1)
    answer = await fake.answer(await s.res.tap(summary, "✅"))
    assert "was saved" in answer.text and "Nothing was changed" not in answer.text
    async with s.app.db.read() as session:
        assert len((await session.execute(select(Request))).scalars().all()) == 1
