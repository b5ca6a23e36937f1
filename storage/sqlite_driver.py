"""aiosqlite with fewer trips to its thread.

aiosqlite runs every call on a thread of its own, and SQLAlchemy makes four calls per statement (cursor,
execute, fetch, close). Each trip hands the GIL over and wakes the event loop through its self-pipe; the
profile of the bot under load put a third of its CPU there (4.5 of 8 ms an update). So:
- a statement and its rows take one trip: creating and closing a cursor do no I/O, and the rows are fetched
  with the statement;
- where `inline` is set (Database sets it for short reads and for the work inside a transaction), calls run
  on the event loop's own thread: the database is a local file and these statements take microseconds.
  Only what can wait keeps the thread: `BEGIN IMMEDIATE` (it may wait for another process's write lock,
  which must not stop the loop) and the long reads of reports.

The sqlite3 connection must never be used from both threads at once: a statement still running on aiosqlite's
thread after its awaiting task was cancelled (a timeout, a shutdown) and a close or cursor close run on the loop's
thread meanwhile finalise the statement under the running one and crash the process (a segmentation fault, seen in
CI). So while anything queued on the thread has not finished, every call queues behind it on the thread, inline
or not, and so do closing and creating cursors.

aiosqlite has no public hook for either: Connection and Cursor are subclassed and use aiosqlite's internals
(`_execute`, `_connection`, `_conn`, `_cursor`, `_thread`), within the version range pyproject.toml pins.
"""

from __future__ import annotations

import contextvars
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable
from typing import Any

import aiosqlite
from aiosqlite.context import contextmanager

# aiosqlite logs each call it runs on its thread at DEBUG, with the statement's values (a resident's address and
# phone): never, whatever level the bot's log is set to.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


class Cursor(aiosqlite.Cursor):
    def __init__(self, conn: aiosqlite.Connection, cursor: sqlite3.Cursor) -> None:
        super().__init__(conn, cursor)
        self._rows: list[Any] = []

    def _run(self, sql: str, parameters: Iterable[Any]) -> list[Any]:
        # aiosqlite's signature says Iterable; what SQLAlchemy passes is the sequence or mapping sqlite3 wants
        self._cursor.execute(sql, parameters)  # type: ignore[arg-type]
        # RETURNING rows too: SQLite finishes such a statement only when its rows are read
        return self._cursor.fetchall() if self._cursor.description else []

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        self._rows = await self._execute(  # type: ignore[no-untyped-call]  # unannotated in aiosqlite
            self._run, sql, [] if parameters is None else parameters
        )
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        size = self._cursor.arraysize if size is None else size
        rows, self._rows = self._rows[:size], self._rows[size:]
        return rows

    async def fetchall(self) -> list[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []
        conn = self._conn
        assert isinstance(conn, Connection)
        if conn.thread_busy:
            await conn.on_thread(self._cursor.close)
        else:
            self._cursor.close()


inline: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_inline", default=False)


def _may_wait(fn: Any, args: tuple[Any, ...]) -> bool:
    return bool(args) and isinstance(args[0], str) and args[0].lstrip().upper().startswith("BEGIN IMMEDIATE")


class Connection(aiosqlite.Connection):
    def __init__(self, connector: Callable[[], sqlite3.Connection], iter_chunk_size: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._queued = 0  # calls queued on aiosqlite's thread that have not finished (cancelled awaiters included)
        self._queued_lock = threading.Lock()

    @property
    def thread_busy(self) -> bool:
        return self._queued > 0

    async def on_thread(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run fn on aiosqlite's thread, counted until it has finished there (whether or not anyone still waits)."""

        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._queued_lock:
                    self._queued -= 1

        if not self._running or not self._connection:
            raise ValueError("Connection closed")  # as aiosqlite says it, before anything is queued
        with self._queued_lock:
            self._queued += 1
        return await super()._execute(counted)  # type: ignore[no-untyped-call]  # unannotated there

    def stop(self) -> Any:
        # The thread closes the connection after what is queued; nothing runs on the loop's thread from now on.
        with self._queued_lock:
            self._queued += 1
        return super().stop()

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if inline.get() and self._connection is not None and not self.thread_busy and not _may_wait(fn, args):
            return fn(*args, **kwargs)
        return await self.on_thread(fn, *args, **kwargs)

    @contextmanager
    async def cursor(self) -> aiosqlite.Cursor:  # this module's Cursor
        if self.thread_busy:
            return Cursor(self, await self.on_thread(self._conn.cursor))
        return Cursor(self, self._conn.cursor())


def connect(path: str, **kwargs: Any) -> Connection:
    """Like aiosqlite.connect. The sqlite3 connection is used from the loop's thread for cursors only,
    never at the same time as from aiosqlite's thread (one statement at a time per connection)."""

    def connector() -> sqlite3.Connection:
        conn: sqlite3.Connection = sqlite3.connect(
            path, check_same_thread=False, uri=path.startswith("file:"), **kwargs
        )
        return conn

    conn = Connection(connector, 64)
    conn._thread.daemon = True  # as SQLAlchemy does for aiosqlite's own connections
    return conn
