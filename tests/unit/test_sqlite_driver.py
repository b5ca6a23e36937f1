"""storage/sqlite_driver.py: a statement abandoned by its cancelled task keeps the sqlite3 connection to itself.

A statement still running on aiosqlite's thread after its task was cancelled, and a close or cursor close run on the
loop's thread meanwhile, once crashed a CI worker (a segmentation fault in the driver). Here a SQL function holds a
statement on the thread until the test lets it go, so the order is certain, not a matter of timing.
"""

from __future__ import annotations

import asyncio
import threading

from storage import sqlite_driver


async def _blocked_connection(tmp_path):
    conn = await sqlite_driver.connect(str(tmp_path / "driver.db"))
    started, release = threading.Event(), threading.Event()

    def hold() -> int:
        started.set()
        release.wait(30)
        return 1

    await conn.create_function("hold", 0, hold)
    return conn, started, release


async def _start_held_statement(conn, started):
    cursor = await conn.cursor()
    task = asyncio.create_task(cursor.execute("SELECT hold()"))
    assert await asyncio.to_thread(started.wait, 30)  # the statement is on aiosqlite's thread, inside hold()
    task.cancel()  # as a timeout or a shutdown would: the statement runs on regardless
    try:
        await task
    except asyncio.CancelledError:
        pass
    return cursor


async def test_inline_close_waits_for_a_cancelled_statement_still_on_the_thread(tmp_path):
    conn, started, release = await _blocked_connection(tmp_path)
    cursor = await _start_held_statement(conn, started)

    token = sqlite_driver.inline.set(True)
    try:
        closing = asyncio.create_task(cursor.close())
        closing_conn = asyncio.create_task(conn.close())
        for _ in range(20):
            await asyncio.sleep(0)
        # Queued behind the running statement, not run on the loop's thread under it.
        assert not closing.done() and not closing_conn.done()
        release.set()
        await asyncio.wait_for(asyncio.gather(closing, closing_conn), 30)
    finally:
        sqlite_driver.inline.reset(token)
        release.set()
    assert conn._connection is None


async def test_inline_statements_run_on_the_loop_again_once_the_thread_is_idle(tmp_path):
    conn, started, release = await _blocked_connection(tmp_path)
    cursor = await conn.cursor()
    await _start_held_statement(conn, started)
    token = sqlite_driver.inline.set(True)
    try:
        query = asyncio.create_task(cursor.execute("SELECT 41 + 1"))
        for _ in range(20):
            await asyncio.sleep(0)
        assert not query.done()  # waits its turn on the thread
        release.set()
        await asyncio.wait_for(query, 30)
        assert await cursor.fetchall() == [(42,)]
        assert not conn.thread_busy

        seen: list[str] = []
        cursor = await conn.cursor()
        await conn.create_function("thread_of", 0, lambda: seen.append(threading.current_thread().name) or 1)
        await cursor.execute("SELECT thread_of()")
        assert seen == [threading.current_thread().name]  # idle thread: inline again, on the loop's own thread
        await cursor.close()
    finally:
        sqlite_driver.inline.reset(token)
        release.set()
        await conn.close()
