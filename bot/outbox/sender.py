"""Delivers the outbox: retries 429 (after retry_after), 5xx and network errors; records
permanent failures (403: the user blocked the bot) without touching the state change.

Messages to one chat go out in the order they were written (a card before its edits).
Rows are leased (locked_until) so several senders, in several processes, never send one row twice:
on PostgreSQL with `SELECT … FOR UPDATE SKIP LOCKED` of each chat's oldest pending row, elsewhere
with a conditional update per row. A lease is short (OUTBOX_LEASE_SECONDS, 3 s) and renewed every third of it
while the row is in hand, so a process that dies holds its rows, and the chats queued behind them, for
seconds only, and a slow send is never taken from a live process.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import logging
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from sqlalchemy import case, func, or_, select, type_coerce, update
from sqlalchemy.orm import aliased

from bot.core.clock import Clock
from bot.core.metrics import Metrics
from bot.core.renewal import Renewal
from bot.core.retry import Outage, unreachable
from storage.db import Database
from storage.models import ActivityCard, OutboxMessage, RequestCard, ShowcasePost, User, WishCard

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=5)
MAX_BACKOFF = 60.0
SCAN = 500
RESCAN = 0.005
GROUP_DEFER = 2.0  # seconds: a group message due later than this is not leased (nor held) now


class Pace:
    """Telegram's flood limits, kept by the sender itself so that it never earns a 429: at most
    `per_second` calls overall (evenly spaced), and in one group at most `group_per_minute` messages a
    minute, one per `group_interval` seconds. Real (monotonic) time: the app clock may be moved by tests."""

    def __init__(self, per_second: float = 29.0, group_per_minute: int = 20, group_interval: float = 1.0):
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.group_per_minute, self.group_interval = group_per_minute, group_interval
        self.next_slot = 0.0
        self.groups: dict[int, deque[float]] = {}
        self._lock = asyncio.Lock()

    def group_wait(self, chat_id: int, now: float) -> float:
        """Seconds until a new message may go to this group (0 for private chats)."""
        if chat_id >= 0:
            return 0.0
        sent = self.groups.get(chat_id)
        if not sent:
            return 0.0
        while sent and sent[0] <= now - 60.0:
            sent.popleft()
        at = sent[-1] + self.group_interval if sent else now
        if len(sent) >= self.group_per_minute:
            at = max(at, sent[0] + 60.0)
        return max(0.0, at - now)

    async def slot(self, chat_id: int, counts_for_group: bool) -> None:
        loop = asyncio.get_running_loop()
        if counts_for_group and chat_id < 0:
            wait = self.group_wait(chat_id, loop.time())
            if wait > 0:
                await asyncio.sleep(wait)
        # Slots are taken one at a time from the real clock: after a stall the senders do not burst.
        async with self._lock:
            target = self.next_slot
            delay = target - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            now = loop.time()
            # Keep the cadence (a late wake-up does not slow the rate) unless a whole slot was missed.
            self.next_slot = (target if now - target < self.interval else now) + self.interval
        if counts_for_group and chat_id < 0:
            self.groups.setdefault(chat_id, deque()).append(now)


@dataclass(frozen=True)
class Backlog:
    owed: int  # messages not yet delivered
    oldest_due_age: float  # seconds the oldest owed message that is due has waited (0: none)


class OutboxSender:
    def __init__(
        self,
        db: Database,
        bot: Bot,
        clock: Clock | None = None,
        idle: float = 1.0,
        lease: timedelta = LEASE,
        pace: Pace | None = None,
        metrics: Metrics | None = None,
    ):
        self.db = db
        self.bot = bot
        self.clock = clock or Clock()
        self.idle = idle
        self.lease = lease
        self.pace = pace or Pace()
        # Leased rows must all be sent well within the lease, at the paced rate.
        self.batch = max(10, min(SCAN, int(lease.total_seconds() / 2 / (self.pace.interval or 0.001))))
        self.wake = asyncio.Event()
        self.stopping = False
        self.stopped = False  # run() has returned (or died): nothing in this process sends
        self.busy: set[int] = set()  # rows being delivered by this sender: never leased again meanwhile
        self.outage = Outage("outbox", log)  # a database that is down: one line when it begins, one when it ends
        self.metrics = metrics or Metrics()
        # monotonic time since which every call to Telegram failed to get an answer (5xx, network); None while it
        # answers. /healthz calls an old backlog stuck only while Telegram answers.
        self.unreachable_since: float | None = None

    def stop(self) -> None:
        """Finish the current round, then return: cancelling mid-transaction can leave SQLite locked."""
        self.stopping = True
        self.wake.set()

    async def run(self) -> None:
        """Lease and send continuously, each row in its own task, so that a card waiting for its group's
        turn never holds up a private answer leased with it. At most `batch` rows are in flight: all of
        them go out well within their lease."""
        try:
            await self._run()
        finally:
            self.stopped = True

    async def _run(self) -> None:
        inflight: set[asyncio.Task[None]] = set()
        renewal = Renewal(self.lease.total_seconds() / 3, self._renew_leases).start()
        try:
            await self._send_loop(inflight)
        finally:
            await renewal.stop()

    async def _renew_leases(self) -> None:
        """While this process lives, the rows it is sending stay its own (every third of the lease)."""
        if not self.busy:
            return
        try:
            await self.db.extend_leases(OutboxMessage, self.busy, self.clock.now() + self.lease)
        except Exception:
            log.exception("outbox lease renewal failed")

    async def _send_loop(self, inflight: set[asyncio.Task[None]]) -> None:
        while not self.stopping:
            self.wake.clear()  # anything that sets it from here on makes the next round look again
            rows: list[OutboxMessage] = []
            room = self.batch - len(inflight)
            if room > 0:
                try:
                    rows = await self._lease(room)
                except Exception as exc:  # a database hiccup must not kill the sender
                    if unreachable(exc):
                        self.outage.failed(exc)
                    else:
                        log.exception("outbox scan failed")
                else:
                    self.outage.ok()
            for row in rows:
                task = asyncio.create_task(self._deliver(row))
                inflight.add(task)
                self.busy.add(row.id)
                task.add_done_callback(functools.partial(self._finished, inflight=inflight, row_id=row.id))
            if not rows and not self.stopping:
                try:
                    await asyncio.wait_for(self.wake.wait(), timeout=self.idle)
                except TimeoutError:
                    pass
                if inflight:  # while messages go out, look again at most every RESCAN s, not after each one
                    await asyncio.sleep(RESCAN)
        if inflight:
            await asyncio.gather(*inflight, return_exceptions=True)

    def _finished(self, task: asyncio.Task[None], inflight: set[asyncio.Task[None]], row_id: int) -> None:
        inflight.discard(task)
        self.busy.discard(row_id)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox delivery failed", exc_info=task.exception())
        self.wake.set()  # the chat's next message may go now

    async def drain_once(self) -> int:
        """One round: lease what is due and deliver it (tests and the two-process check use this)."""
        rows = await self._lease(self.batch)
        await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def pending(self) -> int:
        async with self.db.read() as s:
            rows = await s.execute(select(OutboxMessage.id).where(OutboxMessage.status == "pending"))
            return len(rows.all())

    async def backlog(self) -> Backlog:
        """Messages owed (pending), and how long the oldest of those already due has waited since it was written."""
        now = self.clock.now()
        async with self.db.read() as s:
            count, oldest = (
                await s.execute(
                    select(
                        func.count(),
                        type_coerce(
                            func.min(case((OutboxMessage.next_attempt_at <= now, OutboxMessage.created_at))),
                            OutboxMessage.created_at.type,
                        ),
                    ).where(OutboxMessage.status == "pending")
                )
            ).one()
        return Backlog(int(count), max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)

    async def _lease(self, limit: int) -> list[OutboxMessage]:
        if not self.db.is_sqlite:
            return await self._lease_skip_locked(limit)
        now, clock = self.clock.now(), asyncio.get_running_loop().time()
        async with self.db.read() as s:  # look without the write turn, at a few columns only
            rows = (
                await s.execute(
                    select(
                        OutboxMessage.id,
                        OutboxMessage.chat_id,
                        OutboxMessage.method,
                        OutboxMessage.next_attempt_at,
                        OutboxMessage.locked_until,
                    )
                    .where(OutboxMessage.status == "pending")
                    .order_by(OutboxMessage.id)
                    .limit(SCAN)
                )
            ).all()
            heads: dict[int, Any] = {}
            for row in rows:  # only the oldest pending row of each chat may go
                heads.setdefault(row.chat_id, row)
            due_ids = [
                row.id
                for row in heads.values()
                if row.id not in self.busy
                and row.next_attempt_at <= now
                and not (row.locked_until and row.locked_until > now)
                # a group that had its 20 a minute is left alone, without a write, until its turn
                and not (row.method == "send" and self.pace.group_wait(row.chat_id, clock) > GROUP_DEFER)
            ][:limit]
            if not due_ids:
                return []
            due = (
                (await s.execute(select(OutboxMessage).where(OutboxMessage.id.in_(due_ids)).order_by(OutboxMessage.id)))
                .scalars()
                .all()
            )
        async with self.db.tx() as s:  # conditional: another process may have leased some since the look
            result = await s.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id.in_([row.id for row in due]),
                    OutboxMessage.status == "pending",
                    or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
                )
                .values(locked_until=now + self.lease)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
            won = set(result.scalars().all())
        return [row for row in due if row.id in won]

    async def _lease_skip_locked(self, limit: int) -> list[OutboxMessage]:
        """Lock the due head rows (the oldest pending row of each chat) no other sender holds, lease them."""
        now = self.clock.now()
        older = aliased(OutboxMessage)
        head = (
            select(func.min(older.id))
            .where(older.chat_id == OutboxMessage.chat_id, older.status == "pending")
            .scalar_subquery()
        )
        async with self.db.tx() as s:
            rows = (
                (
                    await s.execute(
                        select(OutboxMessage)
                        .where(
                            OutboxMessage.status == "pending",
                            OutboxMessage.id == head,
                            OutboxMessage.next_attempt_at <= now,
                            OutboxMessage.id.not_in(self.busy),
                            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
                        )
                        .order_by(OutboxMessage.id)
                        .limit(limit)
                        .with_for_update(skip_locked=True, of=OutboxMessage)
                    )
                )
                .scalars()
                .all()
            )
            if rows:
                await s.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_([r.id for r in rows]))
                    .values(locked_until=now + self.lease)
                    .execution_options(synchronize_session=False)
                )
            return list(rows)

    async def _deliver(self, row: OutboxMessage) -> None:
        markup = InlineKeyboardMarkup.model_validate_json(row.markup) if row.markup else None
        sends = row.method == "send"
        wait = self.pace.group_wait(row.chat_id, asyncio.get_running_loop().time()) if sends else 0.0
        if wait > GROUP_DEFER:  # this group had its 20 a minute: try again later, not holding the lease
            await self._retry(row, wait, "paced: group limit", count=False, quiet=True)
            return
        await self.pace.slot(row.chat_id, counts_for_group=sends)
        try:
            if row.method == "send":
                message = await self.bot.send_message(row.chat_id, row.text, reply_markup=markup)
                await self.record_sent(row, message.message_id)
            elif row.method == "poll":
                # A poll (最美志愿者 vote) goes through the outbox like any message: it is queued in the
                # transaction that claims the vote once, so it survives a crash and is never sent twice.
                poll = json.loads(row.text)
                message = await self.bot.send_poll(row.chat_id, poll["question"], poll["options"])
                await self.record_sent(row, message.message_id)
            elif row.method in ("voice", "photo"):
                # A resident's voice message or photo, sent on by its Telegram file id: never downloaded.
                media = json.loads(row.text)
                send = self.bot.send_voice if row.method == "voice" else self.bot.send_photo
                message = await send(row.chat_id, media["file_id"], caption=media.get("caption") or None)
                await self.record_sent(row, message.message_id)
            elif row.method == "upload":
                # A file the bot made (a 月小结's chart): uploaded from the bytes the row carries.
                item = json.loads(row.text)
                upload = BufferedInputFile(base64.b64decode(item["data"]), filename=item["filename"])
                caption = item.get("caption") or None
                message = await (
                    self.bot.send_photo(row.chat_id, upload, caption=caption)
                    if item["kind"] == "photo"
                    else self.bot.send_document(row.chat_id, upload, caption=caption)
                )
                await self.record_sent(row, message.message_id)
            elif row.method == "delete":
                # A 公示 post taken down: the channel message its post row was delivered as.
                message_id = await self.post_message_id(row)
                if message_id is None:
                    await self._failed(row, "no message to delete (the post was never delivered)")
                    return
                await self.bot.delete_message(row.chat_id, message_id)
                await self.record_sent(row, message_id)
            else:
                message_id = await self.card_message_id(row)
                if message_id is None:
                    await self._failed(row, "no message to edit (the card was never delivered)")
                    return
                await self.bot.edit_message_text(
                    text=row.text, chat_id=row.chat_id, message_id=message_id, reply_markup=markup
                )
                await self.record_sent(row, message_id)
        except TelegramRetryAfter as exc:
            self.unreachable_since = None
            self.metrics.rate_limited.inc()
            self.metrics.retried.labels("rate_limited").inc()
            await self._retry(row, float(exc.retry_after), str(exc.message), count=False)
        except TelegramForbiddenError as exc:
            self.unreachable_since = None
            await self._failed(row, exc.message, blocked=row.chat_id > 0)
        except TelegramBadRequest as exc:
            self.unreachable_since = None
            if "not modified" in exc.message:
                await self.record_sent(row, row.message_id)
            else:
                await self._failed(row, exc.message)
        except TelegramNotFound as exc:
            self.unreachable_since = None
            await self._failed(row, exc.message)
        except (TelegramServerError, TelegramNetworkError, TimeoutError, OSError) as exc:
            if self.unreachable_since is None:
                self.unreachable_since = asyncio.get_running_loop().time()
            self.metrics.retried.labels("unreachable").inc()
            await self._retry(row, min(MAX_BACKOFF, 2.0**row.attempts), str(exc))
        except Exception as exc:  # unknown: keep the message, try later, say so in the log
            log.exception("outbox row %s failed unexpectedly", row.id)
            self.metrics.retried.labels("unknown").inc()
            await self._retry(row, min(MAX_BACKOFF, 2.0**row.attempts), repr(exc))

    async def card_message_id(self, row: OutboxMessage) -> int | None:
        """The message an edit row goes to: its card's message in that chat, None while the card was never
        delivered (act:<activity id> is an activity's card, card:<request id> a request's)."""
        if row.ref is None:
            raise ValueError("an edit without a ref")
        kind, ref_id = row.ref.split(":", 1)
        key = (int(ref_id), row.chat_id)
        async with self.db.read() as s:
            if kind == "wish":
                wish_card = await s.get(WishCard, key)
                return wish_card.message_id if wish_card else None
            card = await s.get(ActivityCard, key) if kind == "act" else await s.get(RequestCard, key)
            return card.message_id if card else None

    async def post_message_id(self, row: OutboxMessage) -> int | None:
        """The channel message of a 公示 post (ref show:<post id>), None while it was never delivered."""
        kind, _sep, ref_id = (row.ref or "").partition(":")
        if kind != "show" or not ref_id.isdecimal():
            return None
        async with self.db.read() as s:
            post = await s.get(ShowcasePost, int(ref_id))
            return post.message_id if post else None

    async def record_sent(self, row: OutboxMessage, message_id: int | None) -> None:
        """Record a row as delivered as Telegram message `message_id`; a card's send also records that
        message as the one its later edits go to."""
        self.unreachable_since = None
        await self._record_sent(row, message_id)
        self.metrics.sent.labels(row.method).inc()  # counted once recorded: /metrics's backlog agrees

    async def _record_sent(self, row: OutboxMessage, message_id: int | None) -> None:
        now = self.clock.now()
        async with self.db.tx() as s:
            await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    status="sent",
                    sent_at=now,
                    message_id=message_id,
                    locked_until=None,
                    attempts=OutboxMessage.attempts + 1,
                )
            )
            if row.method in ("send", "photo") and row.ref and row.ref.startswith("show:") and message_id is not None:
                # a 公示 post keeps its channel message: a coordinator may take it down later
                await s.execute(
                    update(ShowcasePost)
                    .where(ShowcasePost.id == int(row.ref.split(":", 1)[1]))
                    .values(
                        message_id=message_id,
                        status=case((ShowcasePost.status == "queued", "sent"), else_=ShowcasePost.status),
                    )
                )
                return
            if row.method != "send" or not row.ref or message_id is None:  # a sent message has an id
                return
            if row.ref.startswith("card:"):
                request_id = int(row.ref.split(":", 1)[1])
                card = await s.get(RequestCard, (request_id, row.chat_id))
                if card is None:
                    s.add(RequestCard(request_id=request_id, chat_id=row.chat_id, message_id=message_id))
                else:  # the card was posted again (an unclaimed follow-up): later edits go to the new one
                    card.message_id = message_id
            if row.ref.startswith("act:"):
                activity_id = int(row.ref.split(":", 1)[1])
                act_card = await s.get(ActivityCard, (activity_id, row.chat_id))
                if act_card is None:
                    s.add(ActivityCard(activity_id=activity_id, chat_id=row.chat_id, message_id=message_id))
                else:
                    act_card.message_id = message_id
            if row.ref.startswith("wish:"):
                wish_id = int(row.ref.split(":", 1)[1])
                wish_card = await s.get(WishCard, (wish_id, row.chat_id))
                if wish_card is None:
                    s.add(WishCard(wish_id=wish_id, chat_id=row.chat_id, message_id=message_id))
                else:
                    wish_card.message_id = message_id

    async def _retry(
        self, row: OutboxMessage, delay: float, error: str, count: bool = True, quiet: bool = False
    ) -> None:
        at = self.clock.now() + timedelta(seconds=delay)
        (log.debug if quiet else log.warning)(
            "outbox row %s to %s: retry in %.1fs (%s)", row.id, row.chat_id, delay, error
        )
        async with self.db.tx() as s:
            await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(
                    next_attempt_at=at,
                    locked_until=None,
                    error=error[:300],
                    attempts=OutboxMessage.attempts + (1 if count else 0),
                )
            )

    async def _failed(self, row: OutboxMessage, error: str, blocked: bool = False) -> None:
        log.warning("outbox row %s to %s failed for good: %s", row.id, row.chat_id, error)
        async with self.db.tx() as s:
            await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status="failed", error=error[:300], locked_until=None, attempts=OutboxMessage.attempts + 1)
            )
            if blocked:
                await s.execute(update(User).where(User.id == row.chat_id).values(blocked_bot=True))
        self.metrics.failed.inc()
