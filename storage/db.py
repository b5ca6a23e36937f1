"""Engine, sessions and the one-transaction-per-change helper."""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, delete, event, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from storage import sqlite_driver
from storage.dialects import insert_ignore
from storage.models import InboxUpdate, OutboxMessage, ProcessedUpdate


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
# "single": one statement, which SQLite runs atomically without any BEGIN (a round trip saved per update).
_reading: contextvars.ContextVar[str] = contextvars.ContextVar("_reading", default="")
# Set while this task holds the process's SQLite write turn (see Database._write_turn).
_writing: contextvars.ContextVar[bool] = contextvars.ContextVar("_writing", default=False)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def sqlite_file(url: str) -> str | None:
    """The path of a SQLite URL's file; None for another database or an in-memory one."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[-1]
    return path if path and path != ":memory:" and not path.startswith("file:") else None


def create_private(path: str) -> None:
    """Create the SQLite file, and its folder if missing, readable by the owner only (0600, 0700) before SQLite
    would create it with the umask's modes (usually world-readable): it holds residents' addresses and phones.
    SQLite gives its -wal and -shm files the database file's mode. Existing files and folders are left as they are."""
    file = Path(path).expanduser()
    if not file.parent.exists():
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        file.parent.chmod(0o700)  # exactly, whatever the umask
    try:
        os.close(os.open(file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # an empty file is a new database
    except FileExistsError:
        return
    file.chmod(0o600)


# Connections a process keeps besides those of the updates it handles at once (UPDATES_AT_ONCE): the outbox sender,
# the scheduler, the group commit of update marks, the webhook inbox and /healthz.
POOL_RESERVE = 5
POOL_SIZE = 10 + POOL_RESERVE  # a Database made without a size (the command line, tests)
POOL_OVERFLOW = 10  # a cushion beyond the pool, closed again when idle


def make_engine(url: str, pool_size: int = POOL_SIZE) -> AsyncEngine:
    # hide_parameters: a failed statement's error (and so the log line of it) does not carry the values bound to
    # it, such as a resident's address and phone.
    path = sqlite_file(url)
    pool: dict[str, Any] = {"pool_size": pool_size, "max_overflow": POOL_OVERFLOW}  # in-memory SQLite: one, shared
    if url.startswith("sqlite"):
        if path is not None:
            create_private(path)
        target = path or url.split(":///", 1)[-1]
        engine = create_async_engine(
            url,
            async_creator=lambda: sqlite_driver.connect(target, timeout=30),
            hide_parameters=True,
            **(pool if path is not None else {}),
        )
        _sqlite_immediate(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, hide_parameters=True, **pool)


def _sqlite_immediate(engine: AsyncEngine) -> None:
    """Every SQLite transaction takes the write lock up front (BEGIN IMMEDIATE).

    Deferred transactions that read then write fail with SQLITE_BUSY under concurrency
    instead of waiting; immediate ones queue on busy_timeout. Transactions are kept short.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:  # the driver's own connection
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(conn: Connection) -> None:
        mode = _reading.get()
        if mode != "single":
            conn.exec_driver_sql("BEGIN" if mode else "BEGIN IMMEDIATE")


class Database:
    def __init__(self, url: str, pool_size: int = POOL_SIZE):
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.on_outbox: Callable[[], None] | None = None  # wakes the outbox sender after a commit
        self._write_lock = asyncio.Lock()
        self._marks: list[tuple[int, asyncio.Future[None]]] = []
        self._mark_writer: asyncio.Task[None] | None = None

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

    @contextmanager
    def _inline(self, on: bool = True) -> Iterator[None]:
        """SQLite: run this session's statements on the loop's thread (see storage/sqlite_driver.py)."""
        token = sqlite_driver.inline.set(on and self.is_sqlite)
        try:
            yield
        finally:
            sqlite_driver.inline.reset(token)

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        """One transaction: commit on success, roll back on any exception."""
        mark = current_update.get()
        with self._inline():
            async with self._tx(mark) as session:
                yield session

    @asynccontextmanager
    async def _tx(self, mark: UpdateMark | None) -> AsyncIterator[AsyncSession]:
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
    async def read(self, single: bool = False, long: bool = False) -> AsyncIterator[AsyncSession]:
        """A read-only session (no dedup mark). `single`: it runs one statement only. `long`: a report's
        scan, run off the event loop's thread on SQLite."""
        token = _reading.set("single" if single else "deferred")
        pending: contextvars.Token[str] | None = token  # not reset yet
        try:
            with self._inline(not long):
                async with self.sessions() as session:
                    async with session.begin():
                        await session.connection()  # begin now, while the flag is set
                        _reading.reset(token)
                        pending = None
                        yield session
        finally:
            if pending is not None:
                _reading.reset(pending)

    async def mark_processed(self, mark: UpdateMark) -> None:
        """Record an update that changed nothing in the database (e.g. an FSM step).

        Group commit: marks that arrive while one batch waits for the write turn go in together, one
        transaction for many updates instead of one each (under load most updates are such steps)."""
        if mark.recorded:
            return
        done = asyncio.get_running_loop().create_future()
        self._marks.append((mark.update_id, done))
        if self._mark_writer is None or self._mark_writer.done():
            # a clean context: not inside the caller's transaction or update
            self._mark_writer = asyncio.create_task(self._write_marks(), context=contextvars.Context())
        await done
        mark.recorded = True

    async def _write_marks(self) -> None:
        while self._marks:
            batch, self._marks = self._marks, []
            rows = [{"update_id": update_id, "processed_at": _utcnow()} for update_id, _ in batch]
            try:
                with self._inline():
                    async with self._write_turn(), self.sessions() as session, session.begin():
                        # a copy handled elsewhere already recorded its id: nothing to add for it
                        await session.execute(insert_ignore(self.engine, ProcessedUpdate), rows)
            except Exception as exc:
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

    async def extend_leases(
        self, queue: type[InboxUpdate] | type[OutboxMessage], ids: Collection[int], until: datetime
    ) -> None:
        """The rows `ids` of a leased queue (the inbox, the outbox) that are still pending stay this process's until
        `until`: a live process renews what it is handling; a dead one's leases run out."""
        key = InboxUpdate.update_id if queue is InboxUpdate else OutboxMessage.id
        async with self.tx() as s:
            await s.execute(
                update(queue)
                .where(key.in_(list(ids)), queue.status == "pending")
                .values(locked_until=until)
                .execution_options(synchronize_session=False)
            )

    async def prune_updates(self, before: datetime) -> int:
        """Forget old update ids: Telegram never redelivers an update after a day."""
        async with self._write_turn(), self.sessions() as session, session.begin():
            result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < before))
            return cast("CursorResult[Any]", result).rowcount  # a DML statement's result is a CursorResult

    async def dispose(self) -> None:
        await self.engine.dispose()
