"""One update at a time per conversation across all processes (with Redis), on a short lease.

aiogram's RedisEventIsolation holds a conversation's Redis lock for up to 60 s: when a process dies while handling
an update, that person waits a minute for his next answer. Here the lock's lease is short (`LEASE`, 3 s) and the
process that holds it renews it every third of the lease while it handles the update, so a dead process's locks
are free within seconds and a live one keeps its lock however long the update takes. Imported only when REDIS_URL
is set (redis is an optional dependency).

A conversation's updates that wait in one process queue for it in that process, in the order they came (one asyncio
lock per conversation), and only the first asks Redis. Each waiter used to poll Redis every 20 ms: a burst of taps
on one conversation kept the event loop busy polling for nothing.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import KeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisEventIsolation
from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from bot.core.locks import KeyedLocks
from bot.core.renewal import Renewal

log = logging.getLogger(__name__)

LEASE = 3.0  # seconds a dead process's lock holds a conversation at most


class LeasedRedisIsolation(RedisEventIsolation):
    def __init__(self, redis: Redis, key_builder: KeyBuilder | None = None, lease: float = LEASE):
        super().__init__(redis, key_builder, lock_kwargs={"timeout": lease, "sleep": 0.02})
        self.lease = lease
        self.waiting = KeyedLocks()  # this process's updates of one conversation, in the order they came

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        async with self.waiting.hold(key):  # the others of this conversation wait here, not polling Redis
            held = self.redis.lock(name=self.key_builder.build(key, "lock"), lock_class=Lock, **self.lock_kwargs)
            await held.acquire()
            renewal = Renewal(self.lease / 3, functools.partial(self._renew, held)).start()
            try:
                yield None
            finally:
                await renewal.stop()  # ends even when the cancel is lost (see bot/core/renewal.py)
                try:
                    await held.release()
                except LockError:  # the lease ran out (Redis unreachable meanwhile): nothing of ours to release
                    log.warning("conversation lock %s was lost before its release", held.name)

    @staticmethod
    async def _renew(held: Lock) -> bool:
        try:
            await held.reacquire()  # the lease starts again from now
        except LockError:
            log.warning("conversation lock %s lost: its lease ran out", held.name)
            return False
        except Exception as exc:  # Redis unreachable for a moment: try again at the next third
            log.warning("conversation lock %s not renewed: %r", held.name, exc)
        return True
