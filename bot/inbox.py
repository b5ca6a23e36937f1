"""The inbox of webhook mode: nothing Telegram was told "200" about is lost when a process dies.

Telegram never posts an update again once it got 200 for it. So the webhook endpoint (bot/web.py) first records
the update in the `inbox` table (one commit; a second post of the same update_id is stored once) and only then
answers 200. Every webhook process runs an `Inbox` worker that leases pending rows and hands them to the
dispatcher:

- only the oldest pending row of each chat and person (aiogram's conversation key) may be leased, so one chat's
  updates are handled in the order Telegram numbered them, and different chats side by side;
- a lease is short (`LEASE`, 3 s) and renewed every third of it while the update is being handled, so a process
  that dies leaves its rows to the others within seconds, and a slow update is never taken from a live one;
- a handled row is marked done right after the handling (its body emptied: it may hold an address or a phone).
  If a process dies between the handling's commit and that mark, the next one hands the update over again and
  `UpdateMiddleware` skips it as processed (`processed_updates`, or for a conversation step the update's id
  stored with the step: bot/core/steps.py): it takes effect once;
- an update whose handling raised is tried again after a pause, and given up (status `failed`, logged) after
  `MAX_ATTEMPTS`; done and failed rows are deleted after `KEEP`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, Response, TelegramMethod
from aiogram.methods.base import TelegramType
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import aliased

from bot.core.clock import Clock
from bot.core.renewal import Renewal
from storage.db import Database
from storage.dialects import insert_ignore
from storage.models import InboxUpdate

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=3)
MAX_ATTEMPTS = 5
KEEP = timedelta(days=1)  # done rows are kept this long (a copy posted again meanwhile is stored once)
PRUNE_EVERY = 600.0  # seconds between deletions of old done rows
SCAN = 500
BATCH = 100  # rows in hand at once

Feed = Callable[[dict[str, Any]], Awaitable[None]]


def conversation(body: dict[str, Any]) -> tuple[int, int]:
    """(chat id, sender id) of a raw update, 0 for what it lacks: aiogram's key of a conversation."""
    event = next((v for k, v in body.items() if k != "update_id" and isinstance(v, dict)), {})
    chat = event.get("chat") or (event.get("message") or {}).get("chat") or {}
    sender = event.get("from") or event.get("user") or {}
    chat_id, user_id = chat.get("id"), sender.get("id")
    return (chat_id if type(chat_id) is int else 0), (user_id if type(user_id) is int else 0)


class LateCallbackAnswers(BaseRequestMiddleware):
    """A tap handled again after its process died may already have been answered (or be too old to answer): that
    answer is skipped, and the handler goes on to what the dead process may not have done."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType]
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not isinstance(method, AnswerCallbackQuery) or "query is too old" not in exc.message:
                raise
            log.info("callback query %s answered already or too old: answer skipped", method.callback_query_id)
            # the chain passes on the method's result (True for this method), whatever aiogram's annotation says
            return True  # type: ignore[return-value]


class Inbox:
    def __init__(self, db: Database, clock: Clock, feed: Feed, lease: timedelta = LEASE, idle: float = 1.0):
        self.db, self.clock, self.feed = db, clock, feed
        self.lease, self.idle = lease, idle
        self.wake = asyncio.Event()
        self.stopping = False
        self.busy: set[int] = set()  # update ids being handled here: their leases are renewed

    async def record(self, body: dict[str, Any]) -> None:
        """Store a posted update (once per update_id) before it is answered; raises when the database fails."""
        chat_id, user_id = conversation(body)
        now = self.clock.now()
        async with self.db.tx() as s:
            await s.execute(
                insert_ignore(s, InboxUpdate).values(
                    update_id=body["update_id"],
                    chat_id=chat_id,
                    user_id=user_id,
                    body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    status="pending",
                    attempts=0,
                    received_at=now,
                )
            )
        self.wake.set()

    def stop(self) -> None:
        """Finish the updates in hand, then return."""
        self.stopping = True
        self.wake.set()

    async def run(self) -> None:
        renewal = Renewal(self.lease.total_seconds() / 3, self._renew_leases).start()
        inflight: set[asyncio.Task[None]] = set()
        next_prune = 0.0
        loop = asyncio.get_running_loop()
        try:
            while not self.stopping:
                self.wake.clear()
                if loop.time() >= next_prune:
                    next_prune = loop.time() + PRUNE_EVERY
                    try:
                        await self.prune()
                    except Exception:
                        log.exception("inbox prune failed")
                rows: list[InboxUpdate] = []
                if BATCH > len(inflight):
                    try:
                        rows = await self._lease(BATCH - len(inflight))
                    except Exception:  # a database hiccup must not stop the worker
                        log.exception("inbox scan failed")
                for row in rows:
                    self.busy.add(row.update_id)
                    task = asyncio.create_task(self._handle(row))
                    inflight.add(task)
                    task.add_done_callback(
                        functools.partial(self._finished, inflight=inflight, update_id=row.update_id)
                    )
                if not rows and not self.stopping:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self.wake.wait(), timeout=self.idle)
            if inflight:
                await asyncio.gather(*inflight, return_exceptions=True)
        finally:
            await renewal.stop()

    def _finished(self, task: asyncio.Task[None], inflight: set[asyncio.Task[None]], update_id: int) -> None:
        inflight.discard(task)
        self.busy.discard(update_id)
        if not task.cancelled() and task.exception() is not None:
            log.error("inbox update %s failed", update_id, exc_info=task.exception())
        self.wake.set()  # the chat's next update may go now

    async def _renew_leases(self) -> None:
        """While this process lives, the updates it handles stay its own (every third of the lease)."""
        if not self.busy:
            return
        try:
            await self.db.extend_leases(InboxUpdate, self.busy, self.clock.now() + self.lease)
        except Exception:
            log.exception("inbox lease renewal failed")

    async def _handle(self, row: InboxUpdate) -> None:
        try:
            await self.feed(json.loads(row.body))
        except Exception as exc:
            attempts = row.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                log.error("inbox update %s given up after %d attempts", row.update_id, attempts, exc_info=exc)
                await self._close(row.update_id, "failed", attempts)
                return
            log.warning("inbox update %s failed (attempt %d), tried again later: %r", row.update_id, attempts, exc)
            async with self.db.tx() as s:
                await s.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.update_id == row.update_id)
                    .values(attempts=attempts, locked_until=self.clock.now() + self.lease * attempts)
                )
            return
        await self._close(row.update_id, "done", row.attempts + 1)

    async def _close(self, update_id: int, status: str, attempts: int) -> None:
        async with self.db.tx() as s:
            await s.execute(
                update(InboxUpdate)
                .where(InboxUpdate.update_id == update_id)
                .values(status=status, attempts=attempts, body="", locked_until=None, done_at=self.clock.now())
            )

    async def _lease(self, limit: int) -> list[InboxUpdate]:
        now = self.clock.now()
        due = or_(InboxUpdate.locked_until.is_(None), InboxUpdate.locked_until <= now)
        if not self.db.is_sqlite:
            return await self._lease_skip_locked(limit, due)
        async with self.db.read() as s:  # look without the write turn
            rows = (
                await s.execute(
                    select(InboxUpdate.update_id, InboxUpdate.chat_id, InboxUpdate.user_id, InboxUpdate.locked_until)
                    .where(InboxUpdate.status == "pending")
                    .order_by(InboxUpdate.update_id)
                    .limit(SCAN)
                )
            ).all()
        heads: dict[tuple[int, int], Any] = {}
        for row in rows:  # only the oldest pending row of each conversation may go
            heads.setdefault((row.chat_id, row.user_id), row)
        ids = [
            row.update_id
            for row in heads.values()
            if row.update_id not in self.busy and not (row.locked_until and row.locked_until > now)
        ][:limit]
        if not ids:
            return []
        async with self.db.tx() as s:  # conditional: another process may have leased some since the look
            won = (
                (
                    await s.execute(
                        update(InboxUpdate)
                        .where(InboxUpdate.update_id.in_(ids), InboxUpdate.status == "pending", due)
                        .values(locked_until=now + self.lease)
                        .returning(InboxUpdate.update_id)
                        .execution_options(synchronize_session=False)
                    )
                )
                .scalars()
                .all()
            )
            if not won:
                return []
            found = await s.execute(
                select(InboxUpdate).where(InboxUpdate.update_id.in_(won)).order_by(InboxUpdate.update_id)
            )
            return list(found.scalars().all())

    async def _lease_skip_locked(self, limit: int, due: Any) -> list[InboxUpdate]:
        now = self.clock.now()
        older = aliased(InboxUpdate)
        head = (
            select(func.min(older.update_id))
            .where(
                older.chat_id == InboxUpdate.chat_id, older.user_id == InboxUpdate.user_id, older.status == "pending"
            )
            .scalar_subquery()
        )
        async with self.db.tx() as s:
            rows = (
                (
                    await s.execute(
                        select(InboxUpdate)
                        .where(
                            InboxUpdate.status == "pending",
                            InboxUpdate.update_id == head,
                            InboxUpdate.update_id.not_in(self.busy),
                            due,
                        )
                        .order_by(InboxUpdate.update_id)
                        .limit(limit)
                        .with_for_update(skip_locked=True, of=InboxUpdate)
                    )
                )
                .scalars()
                .all()
            )
            if rows:
                await s.execute(
                    update(InboxUpdate)
                    .where(InboxUpdate.update_id.in_([r.update_id for r in rows]))
                    .values(locked_until=now + self.lease)
                    .execution_options(synchronize_session=False)
                )
            return list(rows)

    async def pending(self) -> int:
        async with self.db.read() as s:
            count = await s.execute(
                select(func.count()).select_from(InboxUpdate).where(InboxUpdate.status == "pending")
            )
            return int(count.scalar_one())

    async def prune(self) -> int:
        """Delete rows handled (or given up) more than KEEP ago."""
        async with self.db.tx() as s:
            result = await s.execute(
                delete(InboxUpdate).where(
                    InboxUpdate.status != "pending", InboxUpdate.done_at < self.clock.now() - KEEP
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)
