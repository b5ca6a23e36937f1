"""With REDIS_URL a resident's 点单 conversation lives in Redis: it survives a restart and can move to
another process. Runs when TEST_REDIS_URL is set; each test uses its own key prefix and deletes only that."""

from __future__ import annotations

import os
import uuid

import pytest

from tests.fakegram import FakeTelegram, FakeUser
from tests.helpers import Station, is_en, skip_label

REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="Redis run skipped: TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)"
)


@pytest.fixture
async def redis_prefix():
    from redis.asyncio import Redis

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    client = Redis.from_url(REDIS_URL)
    try:
        yield prefix, client
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def first_half(st: Station, resident: FakeUser, service: str, need: str):
    """/request, pick the service, describe the need: the bot now asks for the day."""
    fake = st.fake
    await st.say(resident, "/start", "/")
    before = len(fake.bot_messages(resident))
    await resident.send("/request")
    menu = await fake.wait_message(resident, after=before)
    await fake.answer(await resident.tap(menu, service))
    await fake.wait_idle(quiet=0.05)
    return await st.say(resident, need, "On which day" if is_en(resident) else "哪一天")


async def day_and_time(st: Station, resident: FakeUser, days) -> None:
    """Tomorrow, 14:00: the bot now asks for the area."""
    fake = st.fake
    before = len(fake.bot_messages(resident))
    await fake.answer(await resident.tap_data(days, days.reply_markup["inline_keyboard"][0][1]["callback_data"]))
    slots = await fake.wait_message(resident, contains="14:00-16:00", after=before)
    before = len(fake.bot_messages(resident))
    await fake.answer(await resident.tap(slots, "14:00"))
    await fake.wait_message(resident, after=before)


async def second_half(st: Station, resident: FakeUser, days, area: str) -> str:
    """Tomorrow, 14:00, the area, no address, no phone, confirm: returns the request's number."""
    fake = st.fake
    await day_and_time(st, resident, days)
    before = len(fake.bot_messages(resident))
    await resident.send(area)
    ask_address = await fake.wait_message(resident, after=before)
    before = len(fake.bot_messages(resident))
    await fake.answer(await resident.tap(ask_address, skip_label(resident)))
    await fake.wait_message(resident, after=before)
    before = len(fake.bot_messages(resident))
    await resident.send(skip_label(resident))
    summary = await fake.wait_message(resident, contains=area, after=before)
    before = len(fake.bot_messages(resident))
    await fake.answer(await resident.tap(summary, "✅"))
    placed = await fake.wait_message(resident, contains="#", after=before)
    return placed.text.split("#", 1)[1].split()[0]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
async def test_half_an_order_survives_a_restart(fake: FakeTelegram, start_app, stop_app, redis_prefix, language):
    prefix, redis = redis_prefix
    resident = fake.user("Zhao", language_code=language)
    service, area = ("Help for the elderly", "Xingfu compound") if is_en(resident) else ("助老服务", "幸福小区")
    st = Station(fake)
    first = await start_app(redis_url=REDIS_URL, redis_prefix=prefix)
    days = await first_half(st, resident, service, "Carry rice upstairs")
    await stop_app(first)
    keys = [key async for key in redis.scan_iter(match=f"{prefix}:fsm:*")]
    assert keys, "the conversation is not in Redis"
    # a conversation left half-way (an address and phone typed so far) expires a day after its last step
    assert [0 < await redis.ttl(key) <= 24 * 3600 for key in keys] == [True] * len(keys)

    second = await start_app(redis_url=REDIS_URL, redis_prefix=prefix)  # a restart, or another process
    number = await second_half(st, resident, days, area)
    assert number.count("-") == 1
    mine = await st.say(resident, "/my", number)
    assert area in mine.text
    assert second is not first


async def test_a_step_whose_mark_was_lost_is_not_taken_again(fake: FakeTelegram, start_app, redis_prefix):
    """A process died after a step (the area typed: the bot asked for the address) and before the update was marked
    processed; the update comes again (the inbox's next process, Telegram's redelivery). The conversation stored the
    update's id with the step, so the area is not taken as the address as well: no second answer, the same step."""
    from sqlalchemy import delete

    from storage.models import ProcessedUpdate
    from tests.chat import Updates, fsm, processed

    prefix, _redis = redis_prefix
    resident = fake.user("Zhao", language_code="en")
    st = Station(fake)
    app = await start_app(redis_url=REDIS_URL, redis_prefix=prefix)
    updates = Updates(fake)
    await day_and_time(st, resident, await first_half(st, resident, "Help for the elderly", "Carry rice upstairs"))
    ask_address = await st.say(resident, "Xingfu compound", "exact address")
    area_update = updates.last()
    await processed(app, area_update[0])
    state, data = await fsm(app, fake, resident)
    assert state == "Order:address" and data["area"] == "Xingfu compound" and not data.get("address")

    async with app.db.tx() as s:  # the mark's commit, lost with the process
        await s.execute(delete(ProcessedUpdate).where(ProcessedUpdate.update_id == area_update[0]))
    updates.again(*area_update)
    await updates.fetched()
    assert await fsm(app, fake, resident) == (state, data)
    assert fake.bot_messages(resident)[-1].message_id == ask_address.message_id  # not asked for the phone
    await processed(app, area_update[0])  # and marked, this time

    # and the order goes on from the address, as it would have
    before = len(fake.bot_messages(resident))
    await fake.answer(await resident.tap(ask_address, skip_label(resident)))
    await fake.wait_message(resident, contains="phone number", after=before)
    assert (await fsm(app, fake, resident))[0] == "Order:phone"
