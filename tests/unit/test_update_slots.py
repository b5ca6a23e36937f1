"""A process handles UPDATES_AT_ONCE updates at a time (bot/middlewares.py UpdateSlots); the others wait their turn
in the order they came. The bot under a real burst: tests/e2e/test_claim_race.py."""

from __future__ import annotations

import asyncio

from bot.middlewares import UpdateSlots


async def test_a_burst_is_handled_a_few_at_a_time_in_the_order_it_came():
    slots = UpdateSlots(3)
    started: list[int] = []
    release = asyncio.Event()
    busy_seen: list[int] = []
    three_in = asyncio.Event()

    async def handler(event, data):
        started.append(event)
        if len(started) == 3:
            three_in.set()
        busy_seen.append(slots.busy)
        await release.wait()
        return event * 10

    calls = [asyncio.create_task(slots(handler, n, {})) for n in range(30)]
    await three_in.wait()  # the first three are admitted
    for _ in range(20):  # and no more, however many turns of the loop they run
        await asyncio.sleep(0)
    assert started == [0, 1, 2]
    release.set()
    assert await asyncio.gather(*calls) == [n * 10 for n in range(30)]
    assert started == list(range(30))  # admitted in the order they came
    assert max(busy_seen) == slots.peak == 3
    assert slots.busy == 0


async def test_a_failed_update_gives_its_slot_back():
    slots = UpdateSlots(1)

    async def fails(event, data):
        raise RuntimeError("boom")

    async def works(event, data):
        return "ok"

    for _ in range(3):
        try:
            await slots(fails, None, {})
        except RuntimeError:
            pass
    assert not slots.free.locked()  # its one slot is free again
    assert await slots(works, None, {}) == "ok"
    assert slots.busy == 0
