"""In-process queues per key (e.g. per request): simultaneous taps on one card take turns here, and the
holders of one key share a small dict while any of them waits, so the first can tell the rest the outcome
(a burst of taps then costs one write, not one each). Correctness never depends on it: the database still
decides (the conditional UPDATE), across processes too."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from typing import Any

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._shared: dict[Hashable, dict[str, Any]] = {}
        self._holders: Counter[Hashable] = Counter()

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[dict[str, Any]]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        shared = self._shared.setdefault(key, {})
        self._holders[key] += 1
        try:
            async with lock:
                yield shared
        finally:
            self._holders[key] -= 1
            if not self._holders[key]:  # nobody waits: forget the key and what was shared
                del self._holders[key], self._locks[key], self._shared[key]

    def __len__(self) -> int:
        return len(self._locks)


class ConversationLocks(BaseEventIsolation):
    """One update at a time per conversation in this process, when there is no Redis (bot/core/isolation.py does it
    across processes). aiogram's default handles a person's updates all at once: two quick taps on “✅ Confirm” both
    read the summary's step and placed the request twice. Now the second waits, finds the step over, and is answered
    as a stale button. A conversation's waiters take turns in the order they came; a key nobody waits for is
    forgotten."""

    def __init__(self) -> None:
        self.waiting = KeyedLocks()

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        async with self.waiting.hold(key):
            yield

    async def close(self) -> None:
        pass
