"""A conversation's Redis lock (bot/core/isolation.py) is on a short lease: a lock a dead process took is free
within the lease (3 s), a lock a live process holds is renewed for as long as it handles the update. Runs when
TEST_REDIS_URL is set."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey

REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
pytestmark = pytest.mark.skipif(
    not REDIS_URL, reason="Redis run skipped: TEST_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/15)"
)
ROOT = Path(__file__).resolve().parents[2]
KEY = StorageKey(bot_id=1, chat_id=42, user_id=42)

# A bot process that takes a conversation's lock as it would for an update, and is killed while it holds it.
HOLDER = """
import asyncio, sys
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from redis.asyncio import Redis
from bot.core.isolation import LeasedRedisIsolation

async def main():
    iso = LeasedRedisIsolation(Redis.from_url(sys.argv[1]), DefaultKeyBuilder(prefix=sys.argv[2]))
    async with iso.lock(StorageKey(bot_id=1, chat_id=42, user_id=42)):
        print("held", flush=True)
        await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.fixture
async def isolation():
    from redis.asyncio import Redis

    from bot.core.isolation import LeasedRedisIsolation

    prefix = f"test-{uuid.uuid4().hex[:12]}:lock"
    client = Redis.from_url(REDIS_URL)

    def make(lease: float | None = None) -> LeasedRedisIsolation:
        builder = DefaultKeyBuilder(prefix=prefix)
        return LeasedRedisIsolation(client, builder) if lease is None else LeasedRedisIsolation(client, builder, lease)

    try:
        yield make, prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.mark.timeout(60)
async def test_a_lock_a_killed_process_held_is_free_within_the_lease(isolation):
    from bot.core.isolation import LEASE

    make, prefix = isolation
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, REDIS_URL, prefix, cwd=ROOT, stdout=subprocess.PIPE
    )
    assert holder.stdout is not None
    assert (await asyncio.wait_for(holder.stdout.readline(), 30)).strip() == b"held"
    holder.kill()
    await holder.wait()
    loop = asyncio.get_running_loop()
    killed = loop.time()
    async with asyncio.timeout(15), make().lock(KEY):  # the person's next update
        waited = loop.time() - killed
    assert waited < LEASE + 0.5, waited  # aiogram's own lock: 60 s


async def test_a_lock_held_and_renewed_stays_held_longer_than_its_lease(isolation):
    make, _ = isolation
    first, second = make(lease=0.6), make(lease=0.6)
    loop = asyncio.get_running_loop()
    held = asyncio.Event()
    released_at: list[float] = []

    async def slow_update() -> None:
        async with first.lock(KEY):
            held.set()
            await asyncio.sleep(2.0)  # more than three leases
            released_at.append(loop.time())

    task = asyncio.create_task(slow_update())
    await held.wait()
    async with asyncio.timeout(10), second.lock(KEY):
        got_at = loop.time()
    await task
    assert released_at and got_at >= released_at[0], (got_at, released_at)
