"""Telegram may deliver an update again (after a crash before the offset was confirmed): each update
takes effect once. The same update is pushed again with the same update_id through the fake."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import func, select

from storage.models import OutboxMessage, Request, RequestEvent
from tests.chat import Updates, processed
from tests.fakegram import FakeMessage, FakeTelegram
from tests.helpers import Station, until_summary_en

SERVICE = "Help for the elderly"
TEAM = "综合志愿服务队"
ACCEPT = "🙋"  # the card's button; group cards speak the station's language (Chinese by default)


async def open_station(fake: FakeTelegram, start_app):
    admin = fake.user("Wang", language_code="en", username="wang")
    vol = fake.user("Li", language_code="en")
    res = fake.user("Zhao", language_code="en")
    group = fake.group("Team 1", members=[admin, vol])
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "Hello")
    await st.say(admin, "/bind 1", "receives the requests", chat=group)
    await st.register(vol, "Li Ming", "13800138000", [TEAM], done="Done", prompt_name="name")
    return SimpleNamespace(app=app, st=st, admin=admin, vol=vol, res=res, group=group, updates=Updates(fake))


async def count(app, model, *where) -> int:
    async with app.db.read() as s:
        return (await s.execute(select(func.count()).select_from(model).where(*where))).scalar()


def answers_to(fake: FakeTelegram, query_id: str) -> list[dict]:
    return [p for p in fake.calls_to("answerCallbackQuery") if str(p.get("callback_query_id")) == query_id]


def containing(fake: FakeTelegram, chat, text: str) -> list[FakeMessage]:
    return [m for m in fake.bot_messages(chat) if text in (m.versions[0].text or "")]


async def until_summary(s: SimpleNamespace, need: str, area: str, area_twice: bool = False) -> FakeMessage:
    """The resident's 点单 conversation up to the summary. area_twice: the area message is delivered
    a second time while the bot asks for the address, and must change nothing."""
    fake, resident = s.st.fake, s.res

    async def deliver_area_again():
        update_id, update = s.updates.last()
        assert update["message"]["text"] == area
        await processed(s.app, update_id)
        before = len(fake.chat_messages(resident))
        s.updates.again(update_id, update)
        await s.updates.fetched()
        # Not taken as the address, no new question: the conversation did not move.
        assert fake.chat_messages(resident)[before:] == []

    return await until_summary_en(
        s.st, resident, SERVICE, need, area, after_area=deliver_area_again if area_twice else None
    )


async def test_claim_tap_delivered_twice_claims_once(fake, start_app):
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
    query = await s.vol.tap(card, ACCEPT)
    update_id, update = s.updates.last()
    assert update["callback_query"]["id"] == query
    assert "You took" in (await fake.answer(query)).text
    await fake.wait_message(s.vol, contains="Building 3, Room 402")
    await fake.wait_message(s.res, contains="Good news")
    await fake.wait_message(s.group, contains="Li Ming")
    await processed(s.app, update_id)
    await fake.wait_idle(quiet=0.1)

    s.updates.again(update_id, update)
    await s.updates.fetched()

    assert await count(s.app, RequestEvent, RequestEvent.kind == "claimed") == 1
    assert len(containing(fake, s.vol, "You have taken")) == 1
    assert len(containing(fake, s.res, "Good news")) == 1
    assert len(card.edits) == 1
    assert len(answers_to(fake, query)) == 1  # the copy was not even answered ("already taken")
    assert await count(s.app, OutboxMessage, OutboxMessage.status != "sent") == 0
    await processed(s.app, update_id)  # still one row for it


async def test_confirm_tap_delivered_twice_places_one_request(fake, start_app):
    s = await open_station(fake, start_app)
    summary = await until_summary(s, "Need help buying groceries", "Xingfu compound")
    before = len(fake.bot_messages(s.res))
    query = await s.res.tap(summary, "✅")
    update_id, update = s.updates.last()
    assert "Request #" in (await fake.answer(query)).text
    placed = await fake.wait_message(s.res, contains="has been placed", after=before)
    number = placed.text.split("#", 1)[1].split()[0]
    await fake.wait_message(s.group, contains=number)
    await processed(s.app, update_id)
    await fake.wait_idle(quiet=0.1)

    s.updates.again(update_id, update)
    await s.updates.fetched()

    assert await count(s.app, Request) == 1
    assert await count(s.app, RequestEvent, RequestEvent.kind == "placed") == 1
    assert len(containing(fake, s.res, "has been placed")) == 1
    assert len(containing(fake, s.group, "#")) == 1
    assert len(answers_to(fake, query)) == 1
    assert fake.bot_messages(s.res)[-1].message_id == placed.message_id  # nothing said after


async def test_confirm_tapped_twice_at_once_places_one_request(fake, start_app):
    """A resident taps “✅ Confirm” twice in quick succession (two updates, fetched together): one request, and the
    second tap is answered as a button that is no longer current. Without Redis, a person's two updates used to be
    handled at once in the process, both read the summary's step, and the request was placed twice."""
    s = await open_station(fake, start_app)
    summary = await until_summary(s, "Need help buying groceries", "Xingfu compound")
    first = await s.res.tap(summary, "✅")
    second = await s.res.tap(summary, "✅")  # both queued before the bot fetches either
    answers = [(await fake.answer(first)).text or "", (await fake.answer(second)).text or ""]
    assert "Request #" in answers[0], answers
    assert "Request #" not in answers[1], answers
    await fake.wait_message(s.group, contains="#")
    assert await count(s.app, Request) == 1
    assert await count(s.app, RequestEvent, RequestEvent.kind == "placed") == 1


async def test_message_delivered_twice_advances_the_conversation_once(fake, start_app):
    s = await open_station(fake, start_app)
    summary = await until_summary(s, "Need help buying groceries", "Xingfu compound", area_twice=True)
    assert "Area: Xingfu compound" in summary.text
    assert "Address: (not given)" in summary.text  # the second copy of the area was not taken as address
    before = len(fake.bot_messages(s.res))
    await fake.answer(await s.res.tap(summary, "✅"))
    await fake.wait_message(s.res, contains="has been placed", after=before)
    async with s.app.db.read() as db:
        req = (await db.execute(select(Request))).scalar_one()
    assert (req.area, req.address) == ("Xingfu compound", None)


async def test_same_update_twice_in_one_batch_takes_effect_once(fake, start_app):
    """Both copies reach the bot together (e.g. a webhook retry while the first is still running)."""
    s = await open_station(fake, start_app)
    summary = await until_summary(s, "Need help buying groceries", "Xingfu compound")
    before = len(fake.bot_messages(s.res))
    query = await s.res.tap(summary, "✅")
    update_id, update = s.updates.last()
    s.updates.again(update_id, update)  # queued before the bot fetches either copy
    assert "Request #" in (await fake.answer(query)).text
    placed = await fake.wait_message(s.res, contains="has been placed", after=before)
    number = placed.text.split("#", 1)[1].split()[0]
    await fake.wait_message(s.group, contains=number)
    await s.updates.fetched()

    assert await count(s.app, Request) == 1
    assert len(containing(fake, s.res, "has been placed")) == 1
    assert len(containing(fake, s.group, "#")) == 1
    assert len(answers_to(fake, query)) == 1
    await processed(s.app, update_id)

    card = containing(fake, s.group, number)[0]
    query = await s.vol.tap(card, ACCEPT)
    update_id, update = s.updates.last()
    s.updates.again(update_id, update)
    assert "You took" in (await fake.answer(query)).text
    await fake.wait_message(s.vol, contains="You have taken")
    await s.updates.fetched()
    assert await count(s.app, RequestEvent, RequestEvent.kind == "claimed") == 1
    assert len(containing(fake, s.vol, "You have taken")) == 1
    assert len(answers_to(fake, query)) == 1
    assert len(card.edits) == 1


async def test_message_twice_in_one_batch_advances_the_conversation_once(fake, start_app):
    s = await open_station(fake, start_app)
    await s.st.say(s.res, "/start", "/")
    before = len(fake.bot_messages(s.res))
    await s.res.send("/request")
    menu = await fake.wait_message(s.res, contains="Which service", after=before)
    await fake.answer(await s.res.tap(menu, SERVICE))
    await fake.wait_message(s.res, contains="describe")
    await fake.wait_idle(quiet=0.05)
    before = len(fake.bot_messages(s.res))
    await s.res.send("Need help buying groceries")
    s.updates.again(*s.updates.last())  # both copies in the bot's next batch
    await fake.wait_message(s.res, contains="On which day", after=before)
    await s.updates.fetched()
    assert [m.text.split("\n")[0] for m in fake.bot_messages(s.res)[before:]] == [
        (
            "On which day? Tap one, or type it as you would say it: tomorrow, Saturday, 12-05, or with the "
            "time too: tomorrow 2pm-4pm."
        )
    ]


async def test_update_redelivered_after_a_restart_is_skipped(fake, start_app, stop_app):
    """The usual case: the bot stopped before confirming the update, and Telegram sends it again."""
    s = await open_station(fake, start_app)
    number = await s.st.place(s.res, SERVICE, "Need help buying groceries", "Xingfu compound")
    card = await fake.wait_message(s.group, contains=number)
    query = await s.vol.tap(card, ACCEPT)
    update_id, update = s.updates.last()
    assert "You took" in (await fake.answer(query)).text
    await fake.wait_message(s.vol, contains="You have taken")
    await fake.wait_message(s.res, contains="Good news")
    await fake.wait_message(s.group, contains="已接单")  # the card edit, sent before the stop
    await processed(s.app, update_id)

    await stop_app(s.app)
    app = await start_app(admin_ids=[s.admin.id])  # same database, fresh process state
    s.updates.again(update_id, update)
    await s.updates.fetched()

    assert await count(app, RequestEvent, RequestEvent.kind == "claimed") == 1
    assert len(containing(fake, s.vol, "You have taken")) == 1
    assert len(containing(fake, s.res, "Good news")) == 1
    assert len(answers_to(fake, query)) == 1
    assert len(card.edits) == 1
