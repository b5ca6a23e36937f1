"""Bring a database to the newest Alembic revision (the bot does this on start).

Several processes may start at once on an empty database: the upgrade runs under a lock, so one of them migrates
and the others wait and then find the schema current. On PostgreSQL it is an advisory lock (`pg_advisory_lock`,
scoped to the database) held by a connection of its own for the whole upgrade; on SQLite an exclusive `flock` of a
`.lock` file beside the database file. A process that dies while holding it releases it (its connection or file
goes away with it).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import create_private, sqlite_file

HERE = Path(__file__).resolve().parent
# The advisory lock's key: any fixed number, the same in every process of the bot ("station" in ASCII).
LOCK_KEY = 0x73746174696F6E


def alembic_config(url: str) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.attributes["url"] = url
    return cfg


class _Steps(logging.Handler):
    """Collects Alembic's "Running upgrade A -> B" lines, so that the bot logs one line for them all."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.steps: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith("Running upgrade"):
            self.steps.append(message.split("->", 1)[-1].split(",", 1)[0].strip())


def _upgrade_steps(url: str) -> list[str]:
    """Upgrade to the newest revision, unlocked; the revisions applied, oldest first (empty: it was up to date)."""
    steps = _Steps()
    logger = logging.getLogger("alembic.runtime.migration")
    level, propagate = logger.level, logger.propagate
    logger.addHandler(steps)
    logger.setLevel(logging.INFO)
    # Alembic's own lines are chatter to an operator (the caller says what was applied), unless debugging
    logger.propagate = logging.getLogger().isEnabledFor(logging.DEBUG)
    try:
        command.upgrade(alembic_config(url), "head")
    finally:
        logger.removeHandler(steps)
        logger.setLevel(level)
        logger.propagate = propagate
    return steps.steps


@asynccontextmanager
async def start_lock(url: str) -> AsyncIterator[None]:
    """Held while one process migrates (and seeds) the database; the others wait here. Not re-entrant."""
    path = sqlite_file(url)
    if url.startswith("sqlite"):
        if path is None:  # an in-memory database belongs to one process
            yield
            return
        create_private(path)  # the folder, and the file readable by its owner only, before anything else makes them
        fd = os.open(f"{path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return
    engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            await conn.commit()  # the lock is the session's, not the transaction's: it stays until unlocked
            try:
                yield
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                await conn.commit()
    finally:
        await engine.dispose()


async def upgrade(url: str, locked: bool = True) -> list[str]:
    """Migrate to head under the start lock (`locked=False`: the caller holds it already); returns the revisions
    applied, oldest first. env.py runs its own event loop, so it must not share ours: a thread."""
    if not locked:
        return await asyncio.to_thread(_upgrade_steps, url)
    async with start_lock(url):
        return await asyncio.to_thread(_upgrade_steps, url)


def applied_line(steps: list[str]) -> str:
    if not steps:
        return "database schema up to date"
    return f"migrations applied: {len(steps)}, now at {steps[-1]}"


def upgrade_sync(url: str) -> list[str]:
    """`python -m bot migrate`: the same upgrade under the same lock, from synchronous code."""
    return asyncio.run(upgrade(url))
