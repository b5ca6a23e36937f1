"""Residents' data through the chat: /forget, and a database error while placing a request logs no address or
phone (bot/requests/privacy.py, storage/db.py)."""

from __future__ import annotations

import logging

from sqlalchemy import select, text

from storage.models import OutboxMessage, Request, RequestEvent, User
from tests.helpers import Station

ADDRESS, PHONE = "Xingfu compound, building 3, flat 402", "13912345678"


async def station(fake, start_app):
    admin = fake.user("Wang", language_code="en", username="wang")
    vol = fake.user("Li Ming", language_code="en", username="liming")
    other = fake.user("Zhang", language_code="en")
    res = fake.user("Auntie Zhao", language_code="en", username="zhao_ayi")
    group = fake.group("Volunteers", members=[admin, vol, other])
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "/")
    await st.say(admin, "/bind 1", "receives", chat=group)
    return app, st, admin, vol, other, res, group


async def test_forget_cancels_erases_and_tells_the_volunteer_without_the_contact(fake, start_app):
    app, st, admin, vol, other, res, group = await station(fake, start_app)
    await st.register(vol, "Li Ming", "13800138000", ["综合志愿服务队"], done="Done", prompt_name="name")
    await st.say(other, "/start", "/")
    taken = await st.place(res, "Household repairs", "Fix a dripping tap", "Xingfu", address=ADDRESS, phone=PHONE)
    await st.tap(vol, await fake.wait_message(group, contains=taken), "🙋")
    await fake.wait_message(vol, contains=ADDRESS)  # the volunteer who took it had the contact
    waiting = await st.place(res, "Household repairs", "Change a bulb", "Xingfu", address=ADDRESS, phone=PHONE)
    await fake.wait_message(group, contains=waiting)

    ask = await st.say(res, "/forget", "Erase")
    assert "(2)" in ask.text and "cannot be undone" in ask.text

    # The buttons are the resident's: anyone else's tap (forged data) is refused, and nothing changes.
    refused = await fake.answer(await other.tap_data(fake.bot_messages(other)[-1], f"f1:yes:{res.id}"))
    assert "someone else" in refused.text
    async with app.db.read() as s:
        assert (await s.get(User, res.id)).full_name == "Auntie Zhao"
        statuses = (await s.execute(select(Request.status).order_by(Request.id))).scalars().all()
        assert statuses == ["claimed", "open"]

    before = len(fake.bot_messages(vol))
    await fake.answer(await res.tap(ask, "Yes, erase it"))
    done = await fake.wait_message(res, contains="has been erased")
    assert taken in done.text and waiting in done.text
    told = await fake.wait_message(vol, contains="cancelled", after=before)
    assert taken in told.text and ADDRESS not in told.text and PHONE not in told.text
    await fake.wait_message(group, contains="已取消")
    await fake.wait_idle()

    async with app.db.read() as s:
        user = await s.get(User, res.id)
        requests = (await s.execute(select(Request).order_by(Request.id))).scalars().all()
        events = (await s.execute(select(RequestEvent.kind).where(RequestEvent.kind == "forgotten"))).scalars().all()
        carrying = (
            (
                await s.execute(
                    select(OutboxMessage.id).where(
                        OutboxMessage.text.contains(ADDRESS) | OutboxMessage.text.contains(PHONE)
                    )
                )
            )
            .scalars()
            .all()
        )
    assert (user.full_name, user.username) == ("", None)
    assert [(r.number, r.status, r.address, r.phone) for r in requests] == [
        (taken, "cancelled", None, None),
        (waiting, "cancelled", None, None),
    ]
    assert [(r.area, r.description, r.resident_id) for r in requests] == [
        ("Xingfu", "Fix a dripping tap", res.id),
        ("Xingfu", "Change a bulb", res.id),
    ]
    assert events == ["forgotten", "forgotten"]
    assert carrying == []  # the volunteer's copy with the contact is gone from the outbox too

    history = await st.say(admin, f"/history {taken}", taken)
    assert ADDRESS not in history.text and PHONE not in history.text and "erased" in history.text


async def test_forget_changes_nothing_when_declined_and_is_for_private_chats(fake, start_app):
    app, st, admin, vol, other, res, group = await station(fake, start_app)
    number = await st.place(res, "Household repairs", "Fix a dripping tap", "Xingfu", address=ADDRESS, phone=PHONE)
    ask = await st.say(res, "/forget", "Erase")
    answer = await fake.answer(await res.tap(ask, "No, keep it"))
    assert "Nothing was changed" in answer.text
    in_group = await st.say(admin, "/forget", "private chat", chat=group)
    assert "private chat" in in_group.text
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
        assert (req.status, req.address, req.phone) == ("open", ADDRESS, PHONE)
        assert (await s.get(User, res.id)).full_name == "Auntie Zhao"


# Logs ----------------------------------------------------------------------------------------------------------


FAIL_SQLITE = "CREATE TRIGGER forced_failure BEFORE INSERT ON requests BEGIN SELECT RAISE(ABORT, 'forced'); END"
FAIL_PG = (
    "CREATE FUNCTION forced_failure() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'forced'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER forced_failure BEFORE INSERT ON requests FOR EACH ROW EXECUTE FUNCTION forced_failure()",
)


async def test_a_database_error_while_placing_a_request_logs_no_address_or_phone(fake, start_app, caplog):
    caplog.set_level(logging.DEBUG)
    app, st, admin, vol, other, res, group = await station(fake, start_app)
    async with app.db.tx() as s:  # the INSERT of a request now fails in the database, mid-transaction
        for statement in (FAIL_SQLITE,) if app.db.is_sqlite else FAIL_PG:
            await s.execute(text(statement))

    # 点单 up to the confirmation, with an address and a phone (as Station.place, which expects it to succeed)
    fake.mark_private(ADDRESS, PHONE)

    async def step(send) -> object:
        before = len(fake.bot_messages(res))
        await send()
        return await fake.wait_message(res, after=before)

    await st.say(res, "/start", "/")
    menu = await step(lambda: res.send("/request"))
    await step(lambda: res.tap(menu, "Household repairs"))
    days = await step(lambda: res.send("Fix a dripping tap"))
    day = days.reply_markup["inline_keyboard"][0][1]["callback_data"]
    slots = await step(lambda: res.tap_data(days, day))
    await step(lambda: res.tap(slots, "14:00"))
    await step(lambda: res.send("Xingfu"))
    await step(lambda: res.send(ADDRESS))
    before = len(fake.bot_messages(res))
    await res.share_contact(PHONE)
    summary = await fake.wait_message(res, contains=ADDRESS, after=before)  # after a "thank you"
    assert PHONE in summary.text
    answer = await fake.answer(await res.tap(summary, "✅"))
    assert "Sorry, something went wrong" in answer.text  # the failure happened, and was answered politely
    await fake.wait_idle()

    failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failed, "the forced database error was not logged"
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    lines = [formatter.format(record) for record in caplog.records]  # with their tracebacks
    assert any("forced" in line for line in lines)
    assert [line for line in lines if ADDRESS in line or PHONE in line] == []
    async with app.db.read() as s:
        assert (await s.execute(select(Request.id))).first() is None
