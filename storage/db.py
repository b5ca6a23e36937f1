"""Engine, sessions and the one-transaction-per-change helper."""
from __future__ import annotations

import asyncio
import contextvars
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator, Callable

from sqlalchemy import delete, event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from storage.models import ProcessedUpdate


class DuplicateUpdate(Exception):
    """Another delivery of the same Telegram update already took effect."""


@dataclass
class UpdateMark:
    update_id: int
    recorded: bool = False
    changed: bool = False  # a transaction of this update committed


# Set by the update middleware; a transaction that commits records the update as processed
# in the same commit, so an update's effect and its dedup mark land together.
current_update: contextvars.ContextVar[UpdateMark | None] = contextvars.ContextVar("current_update", default=None)
# Set inside Database.read(): SQLite then begins a deferred transaction, which in WAL mode reads without
# taking the write lock (reads queued behind writes on busy_timeout's sleeps cost whole milliseconds each).
_reading: contextvars.ContextVar[bool] = contextvars.ContextVar("_reading", default=False)
# Set while this task holds the process's SQLite write turn (see Database._write_turn).
_writing: contextvars.ContextVar[bool] = contextvars.ContextVar("_writing", default=False)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:" and not path.startswith("file:"):
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _sqlite_immediate(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_immediate(engine: AsyncEngine) -> None:
    """Every SQLite transaction takes the write lock up front (BEGIN IMMEDIATE).

    Deferred transactions that read then write fail with SQLITE_BUSY under concurrency
    instead of waiting; immediate ones queue on busy_timeout. Transactions are kept short.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN" if _reading.get() else "BEGIN IMMEDIATE")


class Database:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.on_outbox: Callable[[], None] | None = None  # wakes the outbox sender after a commit
        self._write_lock = asyncio.Lock()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        """SQLite has one writer at a time. Writers of this process queue here, in order, instead of in
        SQLite's busy handler, which sleeps in steps of up to 100 ms (the tail latency under load). Another
        process still waits on busy_timeout. PostgreSQL needs no queue."""
        if not self.is_sqlite or _writing.get():
            yield
            return
        async with self._write_lock:
            token = _writing.set(True)
            try:
                yield
            finally:
                _writing.reset(token)

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on any exception."""
        mark = current_update.get()
        async with self._write_turn(), self.sessions() as session:
            async with session.begin():
                if mark is not None and not mark.recorded:
                    # First thing: on PostgreSQL a second process handling the same update waits here for
                    # the first one's commit and then stops, before its own work can clash with the first's.
                    session.add(ProcessedUpdate(update_id=mark.update_id, processed_at=_utcnow()))
                    try:
                        await session.flush()
                    except IntegrityError as exc:
                        raise DuplicateUpdate(mark.update_id) from exc
                yield session
            if mark is not None:
                mark.recorded = mark.changed = True
            if session.info.get("outbox") and self.on_outbox:
                self.on_outbox()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A short read-only session (no dedup mark)."""
        token = _reading.set(True)
        try:
            async with self.sessions() as session:
                async with session.begin():
                    await session.connection()  # begin now, while the flag is set
                    _reading.reset(token)
                    token = None
                    yield session
        finally:
            if token is not None:
                _reading.reset(token)

    async def was_processed(self, update_id: int) -> bool:
        async with self.read() as s:
            return (await s.get(ProcessedUpdate, update_id)) is not None

    async def mark_processed(self, mark: UpdateMark) -> None:
        """Record an update that changed nothing in the database (e.g. an FSM step)."""
        if mark.recorded:
            return
        try:
            async with self._write_turn(), self.sessions() as session, session.begin():
                session.add(ProcessedUpdate(update_id=mark.update_id, processed_at=_utcnow()))
        except IntegrityError:
            pass
        mark.recorded = True

    async def prune_updates(self, before: datetime) -> int:
        """Forget old update ids: Telegram never redelivers an update after a day."""
        async with self._write_turn(), self.sessions() as session, session.begin():
            result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before))
            return result.rowcount

    async def dispose(self) -> None:
        await self.engine.dispose()
