"""The webhook inbox (bot/inbox.py): a recorded update is handled once, in order per conversation, by whichever
worker is alive; a dead worker's updates are taken over once its short lease runs out, a live worker's lease is
renewed while it handles; done rows are emptied and pruned."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import func, select

from bot.core.clock import Clock
from bot.inbox import Inbox, conversation
from storage.db import Database
from storage.models import InboxUpdate


def message(update_id: int, chat_id: int, user_id: int, text: str = "hi") -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 0,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "text": text,
        },
    }


def tap(update_id: int, chat_id: int, user_id: int) -> dict:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": {"id": user_id, "is_bot": False, "first_name": "U"},
            "chat_instance": "x",
            "data": "c1:1",
            "message": {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "supergroup"}},
        },
    }


async def until(check, timeout: float = 15.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await check()
        if result or loop.time() > deadline:
            return result
        await asyncio.sleep(0.02)


async def rows(db: Database) -> list[InboxUpdate]:
    async with db.read() as s:
        return list((await s.execute(select(InboxUpdate).order_by(InboxUpdate.update_id))).scalars())


def test_conversation_keys():
    assert conversation(message(1, 5, 5)) == (5, 5)
    assert conversation(tap(2, -100, 7)) == (-100, 7)
    assert conversation({"update_id": 3, "poll": {"id": "p"}}) == (0, 0)
    assert conversation({"update_id": 4, "my_chat_member": {"chat": {"id": -9}, "from": {"id": 3}}}) == (-9, 3)


async def test_two_workers_handle_each_update_once_in_order_per_conversation(db_url):
    dbs = [Database(db_url), Database(db_url)]
    handled: list[tuple[int, tuple[int, int]]] = []
    busy: set[tuple[int, int]] = set()
    overlaps: list[int] = []

    async def feed(body: dict) -> None:
        key = conversation(body)
        if key in busy:  # another update of this conversation is being handled right now
            overlaps.append(body["update_id"])
        busy.add(key)
        await asyncio.sleep(0.01)
        busy.discard(key)
        handled.append((body["update_id"], key))

    workers = [Inbox(db, Clock(), feed, idle=0.05) for db in dbs]
    keys = [(1, 1), (2, 2), (-100, 3), (-100, 4)]
    updates = [message(n, *keys[n % 4]) if keys[n % 4][0] > 0 else tap(n, *keys[n % 4]) for n in range(1, 41)]
    try:
        for n, body in enumerate(updates):  # every update posted twice, to either worker
            await workers[n % 2].record(body)
            await workers[(n + 1) % 2].record(body)
        assert len(await rows(dbs[0])) == 40  # a copy is stored once
        tasks = [asyncio.create_task(w.run()) for w in workers]
        assert await until(lambda: _none_pending(workers[0]))
        for w in workers:
            w.stop()
        await asyncio.gather(*tasks)
    finally:
        for db in dbs:
            await db.dispose()
    assert sorted(u for u, _ in handled) == list(range(1, 41))  # each once
    per_key = defaultdict(list)
    for update_id, key in handled:
        per_key[key].append(update_id)
    assert all(ids == sorted(ids) for ids in per_key.values()), per_key
    assert overlaps == []


async def _none_pending(inbox: Inbox) -> bool:
    return await inbox.pending() == 0


async def test_a_dead_workers_updates_are_taken_over_within_its_short_lease(db_url):
    """A process that dies while handling an update (after its 200) leaves it leased; another process handles it,
    and the conversation's next ones, as soon as the lease (here 1 s) has run out."""
    dead_db, live_db = Database(db_url), Database(db_url)
    hung: list[asyncio.Task] = []

    async def hang(body: dict) -> None:
        hung.append(asyncio.current_task())
        await asyncio.Event().wait()

    handled: list[int] = []

    async def feed(body: dict) -> None:
        handled.append(body["update_id"])

    dead = Inbox(dead_db, Clock(), hang, lease=timedelta(seconds=1), idle=0.05)
    live = Inbox(live_db, Clock(), feed, lease=timedelta(seconds=1), idle=0.05)
    try:
        for n in (1, 2, 3):
            await dead.record(message(n, 10, 10))
        dying = asyncio.create_task(dead.run())
        assert await until(lambda: _true(bool(hung)))
        dying.cancel()  # the process dies: no more renewals, the handling never ends
        await asyncio.gather(dying, return_exceptions=True)
        loop = asyncio.get_running_loop()
        started = loop.time()
        running = asyncio.create_task(live.run())
        assert await until(lambda: _true(len(handled) == 3), timeout=10)
        waited = loop.time() - started
        live.stop()
        await running
        assert handled == [1, 2, 3]
        assert waited < 3.0, waited  # the lease (1 s) and a look or two
        assert {(r.status, r.body) for r in await rows(live_db)} == {("done", "")}  # emptied once handled
    finally:
        for task in hung:
            task.cancel()
        await asyncio.gather(*hung, return_exceptions=True)
        await dead_db.dispose()
        await live_db.dispose()


async def _true(value: bool) -> bool:
    return value


async def test_a_live_workers_lease_is_renewed_while_it_handles(db_url):
    """An update that takes longer than the lease stays with the live process that handles it."""
    slow_db, other_db = Database(db_url), Database(db_url)
    calls: list[str] = []

    async def slow(body: dict) -> None:
        calls.append("slow")
        await asyncio.sleep(5.0)  # two and a half leases

    async def other(body: dict) -> None:
        calls.append("other")

    # A lease of 2 s, renewed every 2/3 s: on a busy machine one renewal may be late by a second without the
    # update going to the other process (with 0.5 s leases one slow commit was enough).
    slow_inbox = Inbox(slow_db, Clock(), slow, lease=timedelta(seconds=2), idle=0.05)
    other_inbox = Inbox(other_db, Clock(), other, lease=timedelta(seconds=2), idle=0.05)
    try:
        await slow_inbox.record(message(1, 10, 10))
        first = asyncio.create_task(slow_inbox.run())
        assert await until(lambda: _true(calls == ["slow"]))
        second = asyncio.create_task(other_inbox.run())
        assert await until(lambda: _none_pending(slow_inbox), timeout=10)
        for inbox in (slow_inbox, other_inbox):
            inbox.stop()
        await asyncio.gather(first, second)
    finally:
        await slow_db.dispose()
        await other_db.dispose()
    assert calls == ["slow"]


async def test_a_failing_update_is_tried_again_then_given_up_and_old_rows_are_pruned(db_url):
    db = Database(db_url)
    clock = Clock()
    attempts: list[int] = []

    async def broken(body: dict) -> None:
        attempts.append(body["update_id"])
        raise RuntimeError("boom")

    inbox = Inbox(db, clock, broken, lease=timedelta(seconds=0.05), idle=0.02)
    try:
        await inbox.record(message(1, 10, 10))
        task = asyncio.create_task(inbox.run())
        assert await until(lambda: _none_pending(inbox), timeout=15)
        inbox.stop()
        await task
        [row] = await rows(db)
        assert (row.status, row.attempts, row.body) == ("failed", 5, "")
        assert attempts == [1] * 5
        assert await inbox.prune() == 0  # kept a day
        inbox.clock = _Later(timedelta(days=1, minutes=1))
        assert await inbox.prune() == 1
        async with db.read() as s:
            assert (await s.execute(select(func.count()).select_from(InboxUpdate))).scalar_one() == 0
    finally:
        await db.dispose()


class _Later(Clock):
    def __init__(self, ahead: timedelta):
        self.ahead = ahead

    def now(self):
        return super().now() + self.ahead
