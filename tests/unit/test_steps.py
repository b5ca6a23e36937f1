"""A conversation's step and its update's id are stored together at the update's end (bot/core/steps.py). Runs when
TEST_REDIS_URL is set; each test uses its own key prefix and deletes only that."""

from __future__ import annotations

import os
import uuid

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey

REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="Redis run skipped: TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)"
)
ME = StorageKey(bot_id=1, chat_id=42, user_id=42)
OTHER = StorageKey(bot_id=1, chat_id=-100, user_id=42)


@pytest.fixture
async def storage():
    from bot.core.steps import StepRedisStorage

    prefix = f"test-{uuid.uuid4().hex[:12]}"
    made = StepRedisStorage.from_url(
        REDIS_URL, key_builder=DefaultKeyBuilder(prefix=f"{prefix}:fsm"), state_ttl=3600, data_ttl=3600
    )
    try:
        yield made
    finally:
        keys = [key async for key in made.redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await made.redis.delete(*keys)
        await made.close()


async def test_a_step_is_stored_at_its_end_with_its_update(storage):
    async with storage.step(ME, 7):
        await storage.set_state(ME, "Order:address")
        await storage.update_data(ME, {"area": "Xingfu compound"})
        await storage.update_data(OTHER, {"card": 3})
        # the handler reads its own writes; Redis has none of them yet
        assert await storage.get_state(ME) == "Order:address"
        assert await storage.get_data(ME) == {"area": "Xingfu compound"}
        assert await storage.redis.get(storage.key_builder.build(ME, "state")) is None
        assert await storage.last_update(ME) is None
    assert await storage.get_state(ME) == "Order:address"
    assert await storage.get_data(ME) == {"area": "Xingfu compound"}
    assert await storage.get_data(OTHER) == {"card": 3}
    assert await storage.last_update(ME) == 7
    assert await storage.last_update(OTHER) is None  # only the update's own conversation: OTHER's may be pending
    assert 0 < await storage.redis.ttl(f"{storage.key_builder.build(ME, 'state')}:update") <= 3600


async def test_a_cleared_conversation_and_a_failed_update(storage):
    await storage.set_state(ME, "Order:area")  # outside an update: written at once
    await storage.set_data(ME, {"service": 1})
    with pytest.raises(RuntimeError):
        async with storage.step(ME, 8):
            await storage.set_state(ME, None)
            await storage.set_data(ME, {})
            raise RuntimeError("boom")
    # stored anyway: the update is marked processed whatever happened, as before
    assert await storage.get_state(ME) is None and await storage.get_data(ME) == {}
    assert await storage.last_update(ME) == 8


async def test_a_copy_that_lost_stores_nothing(storage):
    await storage.set_state(ME, "Order:area")
    async with storage.step(ME, 9):
        await storage.set_state(ME, "Order:address")
        await storage.discard()
    assert await storage.get_state(ME) == "Order:area"
    assert await storage.last_update(ME) is None


async def test_a_step_that_changes_nothing_writes_nothing(storage):
    async with storage.step(ME, 10):
        assert await storage.get_state(ME) is None
    assert await storage.last_update(ME) is None
    assert [key async for key in storage.redis.scan_iter(match=f"{storage.key_builder.prefix}:*")] == []
