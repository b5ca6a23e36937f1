"""A lease kept alive in the background: a step run every period until its owner stops it.

Stopping sets an event as well as cancelling the task. On Python 3.11 `asyncio.wait_for`, which redis-py and the
database drivers use around each call, swallows a cancel that arrives as the awaited call completes; a renewal
that lost its cancel that way ran for ever, and whoever awaited its end (a conversation's update, a process
stopping) waited with it. The event ends the loop at its next look, whatever became of the cancel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class Renewal:
    def __init__(self, period: float, step: Callable[[], Awaitable[bool | None]]) -> None:
        """`step` runs every `period` seconds; it returns False when there is nothing left to renew."""
        self.period = period
        self.step = step
        self._done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Renewal:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while not self._done.is_set():
            await asyncio.sleep(self.period)
            if self._done.is_set() or await self.step() is False:
                return

    async def stop(self) -> None:
        """Return once the renewal has ended: no step runs after this."""
        self._done.set()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
