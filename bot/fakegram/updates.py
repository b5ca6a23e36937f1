"""Update queue with Telegram's getUpdates semantics (offset, limit, long polling)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import ApiError

CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


class Pulse:
    """Wakes every waiter on each state change; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        event = self._event
        try:
            await asyncio.wait_for(event.wait(), max(timeout, 0))
        except TimeoutError:
            pass

    async def wait_until(self, predicate: Callable[[], Any], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await self.wait(remaining)
        return True


@dataclass
class _Queued:
    update: dict[str, Any]
    delivered: bool = False
    redelivery: bool = False  # survives confirmation until delivered once

    @property
    def update_id(self) -> int:
        return self.update["update_id"]


class UpdateQueue:
    def __init__(self, pulse: Pulse) -> None:
        self._pulse = pulse
        self._items: list[_Queued] = []
        self._last_id = 0
        self._ticket = 0
        self.waiting = 0  # getUpdates requests currently held open
        self.closed = False

    def continue_after(self, update_id: int) -> None:
        """New updates get ids after this one (Telegram's ids keep growing across restarts of a bot)."""
        self._last_id = max(self._last_id, update_id)

    def push(self, update: dict[str, Any], update_id: int | None = None) -> int:
        redelivery = update_id is not None
        if update_id is None:
            update_id = self._last_id + 1
        self._last_id = max(self._last_id, update_id)
        self._items.append(_Queued({"update_id": update_id, **update}, redelivery=redelivery))
        self._pulse.fire()
        return update_id

    @property
    def pending(self) -> int:
        return len(self._items)

    @property
    def all_fetched(self) -> bool:
        return all(item.delivered for item in self._items)

    def clear(self) -> None:
        self._items.clear()

    def take(self) -> list[dict[str, Any]]:
        """Every queued update, removed from the queue (for a bot that is fed by hand instead of polling)."""
        items = [item.update for item in self._items]
        self._items.clear()
        return items

    def close(self) -> None:
        self.closed = True
        self._pulse.fire()

    async def get(self, offset: int, limit: int, timeout: float, alive: Callable[[], bool]) -> list[dict]:
        self._confirm(offset)
        self._ticket += 1
        ticket = self._ticket
        self._pulse.fire()  # an older held request must now fail with 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.waiting += 1
        try:
            while True:
                if ticket != self._ticket and not self.closed:
                    raise ApiError(409, CONFLICT)
                batch = self._items[: min(limit, 100) if limit > 0 else 100]
                remaining = deadline - loop.time()
                if batch or remaining <= 0 or self.closed:
                    break
                await self._pulse.wait(remaining)
        finally:
            self.waiting -= 1
        if not alive():
            return []  # client went away: keep the updates for the next request
        for item in batch:
            item.delivered = True
        self._pulse.fire()
        return [item.update for item in batch]

    def _confirm(self, offset: int) -> None:
        if offset < 0:  # -N: forget everything but the last N updates
            keep = self._items[offset:]
            self._items = keep
            return
        self._items = [
            item for item in self._items if item.update_id >= offset or (item.redelivery and not item.delivered)
        ]
