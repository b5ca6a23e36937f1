"""Prometheus metrics of one process (served on /metrics, see bot/web.py and docs/deploy.md).

Each App has its own CollectorRegistry, so that tests may build several apps in one process. The counters are
moved by the code that does the work (the update middleware below, the outbox sender, the scheduler's tick, the
database engine's error hook); the outbox's backlog is read from the database when /metrics is scraped.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import TelegramObject, Update
from aiogram.types.update import UpdateTypeLookupError
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from sqlalchemy import event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

# Seconds: most updates take a few milliseconds; a slow database or Telegram shows in the upper buckets.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
KINDS = ("message", "callback_query")  # present from the start, so "no updates for an hour" has a series at 0


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.updates = Counter(
            "bot_updates", "Telegram updates handled, by kind and outcome (ok, error, unhandled)",
            ["kind", "outcome"], registry=r,
        )  # fmt: skip
        self.update_seconds = Histogram(
            "bot_update_duration_seconds", "Time to handle one update", ["kind"], buckets=LATENCY_BUCKETS, registry=r
        )
        self.outbox_owed = Gauge("bot_outbox_owed_messages", "Outbox messages not yet delivered", registry=r)
        self.outbox_oldest = Gauge(
            "bot_outbox_oldest_owed_seconds", "Age of the oldest owed message that is due (0: none)", registry=r
        )
        self.sent = Counter("bot_outbox_sent", "Outbox messages delivered", ["method"], registry=r)
        self.retried = Counter("bot_outbox_retried", "Outbox deliveries to be tried again", ["reason"], registry=r)
        self.failed = Counter("bot_outbox_failed", "Outbox messages that failed for good", registry=r)
        self.rate_limited = Counter("bot_telegram_429", "429 Too Many Requests answers from Telegram", registry=r)
        self.occurrences = Counter(
            "bot_scheduled_occurrences", "Scheduled occurrences claimed by this process", ["outcome"], registry=r
        )
        self.db_errors = Counter(
            "bot_database_errors", "Database errors, by SQLAlchemy error class", ["error"], registry=r
        )
        for kind in KINDS:
            self.updates.labels(kind, "ok")
        for reason in ("rate_limited", "unreachable"):
            self.retried.labels(reason)
        for outcome in ("done", "skipped"):
            self.occurrences.labels(outcome)

    def watch_engine(self, engine: AsyncEngine) -> None:
        """Count every error the database raises (a lost connection, a failed statement, a refused connect)."""

        @event.listens_for(engine.sync_engine, "handle_error")
        def _error(context: ExceptionContext) -> None:
            error = context.sqlalchemy_exception or context.original_exception
            self.db_errors.labels(type(error).__name__).inc()

    def middleware(self) -> UpdateMetrics:
        return UpdateMetrics(self)


def kind_of(event: TelegramObject) -> str:
    if not isinstance(event, Update):
        return type(event).__name__
    try:
        return event.event_type
    except UpdateTypeLookupError:  # a kind newer than this aiogram
        return "unknown"


class UpdateMetrics(BaseMiddleware):
    """Outer middleware of updates, registered first after aiogram's own: counts each update by kind and outcome
    and times it (an exception passes through here before the error handler answers it)."""

    def __init__(self, metrics: Metrics):
        self.metrics = metrics

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        kind = kind_of(event)
        start = time.perf_counter()
        outcome = "error"
        try:
            result = await handler(event, data)
            outcome = "unhandled" if result is UNHANDLED else "ok"
            return result
        finally:
            self.metrics.update_seconds.labels(kind).observe(time.perf_counter() - start)
            self.metrics.updates.labels(kind, outcome).inc()
