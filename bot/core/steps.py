"""A conversation's step takes effect once, even when its process dies before the update is marked processed.

An update that only moves a conversation on (the resident typed his area: the bot now asks for the address) writes
the conversation's state and data in Redis and nothing in the database, so the update is marked processed only after
its handler (`Database.mark_processed`). A process killed between the two left the conversation one step on and the
update unmarked; the update was then handled again (the inbox's next process, Telegram's redelivery) in the new state,
and the area was taken as the address as well.

`StepRedisStorage` keeps what a handler writes to the conversations' state and data in memory while the update is
handled (the handler reads its own writes) and writes it all at the end in one Redis transaction (MULTI/EXEC), with the
update's id beside the conversation's state. `UpdateMiddleware` skips an update whose conversation has already recorded
its id, or a later one (a conversation's updates are handled in the order Telegram numbered them). Either the step and
its id are stored, or neither is and the update is handled again from the same state, as if it were new.

Imported only when REDIS_URL is set (redis is an optional dependency); without Redis the state lives in the process
and dies with it.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage

_UNSET = object()


@dataclass
class _Writes:
    state: Any = _UNSET  # str | None once written
    data: Any = _UNSET  # dict once written


@dataclass
class _Step:
    key: StorageKey  # the update's own conversation
    update_id: int
    writes: dict[StorageKey, _Writes] = field(default_factory=dict)
    open: bool = True


_step: contextvars.ContextVar[_Step | None] = contextvars.ContextVar("fsm_step", default=None)


class StepRedisStorage(RedisStorage):
    """aiogram's RedisStorage, whose writes during an update go to Redis together at its end (see the module)."""

    def _buffer(self, key: StorageKey) -> _Writes | None:
        step = _step.get()
        if step is None or not step.open:  # outside an update, or a task that outlived it: written at once
            return None
        return step.writes.setdefault(key, _Writes())

    def _pending(self, key: StorageKey) -> _Writes | None:
        step = _step.get()
        return step.writes.get(key) if step is not None and step.open else None

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        writes = self._buffer(key)
        if writes is None:
            return await super().set_state(key, state)
        writes.state = cast(str, state.state) if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        writes = self._pending(key)
        if writes is not None and writes.state is not _UNSET:
            return cast(str | None, writes.state)
        return await super().get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        writes = self._buffer(key)
        if writes is None:
            return await super().set_data(key, data)
        if not isinstance(data, dict):
            raise DataNotDictLikeError(f"Data must be a dict or dict-like object, got {type(data).__name__}")
        writes.data = self.json_loads(self.json_dumps(data))  # a copy, as Redis would give it back

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        writes = self._pending(key)
        if writes is not None and writes.data is not _UNSET:
            return cast(dict[str, Any], self.json_loads(self.json_dumps(writes.data)))
        return await super().get_data(key)

    def _done_key(self, key: StorageKey) -> str:
        return f"{self.key_builder.build(key, 'state')}:update"

    async def last_update(self, key: StorageKey) -> int | None:
        """The id of the last update whose step this conversation stored (None: none within the state's lifetime)."""
        value = await self.redis.get(self._done_key(key))
        return int(value) if value is not None else None

    @asynccontextmanager
    async def step(self, key: StorageKey, update_id: int) -> AsyncIterator[None]:
        """Handle update `update_id` of conversation `key` inside: its writes are stored at the end, in one
        transaction with the update's id. An exception still stores them (the update is marked processed anyway)."""
        step = _Step(key, update_id)
        token = _step.set(step)
        try:
            yield
        finally:
            _step.reset(token)
            step.open = False
            await self._store(step)

    async def discard(self) -> None:
        """Forget the current update's writes: another process handled this update (its copy rolled back)."""
        step = _step.get()
        if step is not None:
            step.writes.clear()

    async def _store(self, step: _Step) -> None:
        if not step.writes:
            return  # nothing moved: the update's mark in the database is enough
        async with self.redis.pipeline(transaction=True) as tx:
            for key, writes in step.writes.items():
                if writes.state is not _UNSET:
                    state_key = self.key_builder.build(key, "state")
                    if writes.state is None:
                        tx.delete(state_key)
                    else:
                        tx.set(state_key, writes.state, ex=self.state_ttl)
                if writes.data is not _UNSET:
                    data_key = self.key_builder.build(key, "data")
                    if not writes.data:
                        tx.delete(data_key)
                    else:
                        tx.set(data_key, self.json_dumps(writes.data), ex=self.data_ttl)
            tx.set(self._done_key(step.key), step.update_id, ex=self.state_ttl)
            await tx.execute()
