"""Test databases: a SQLite file per test, and (when TEST_DATABASE_URL is set) a PostgreSQL database per test.

Both are copies of a template the real Alembic migrations built once per test process (each pytest-xdist worker
is one and builds its own, so workers never race for a template): on SQLite a file copied into the test's
tmp_path, on PostgreSQL a database copied from it (`CREATE DATABASE … TEMPLATE …`, a fraction of a second) and
dropped afterwards, so tests never see each other's rows. The database named in TEST_DATABASE_URL must exist:
the tests connect to it only to create and drop their own databases, whose names start with its name; it is
created if missing (`python -m tests.databases` does only that, as .ci/run does before the tests).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import re
import shutil
import socket
from pathlib import Path

from sqlalchemy.engine import make_url

REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
PG_ENV = "TEST_DATABASE_URL"
PG_URL = os.environ.get(PG_ENV, "").strip()
SKIP_REASON = f"PostgreSQL run skipped: {PG_ENV} is not set (e.g. postgresql+asyncpg://postgres@127.0.0.1/station_test)"

# Names carry this host and pid, so a later run can drop what a killed run left behind, and only that.
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
_counter = itertools.count(1)
_template: str | None = None
_sqlite_template: Path | None = None


async def sqlite_database(path: Path, template_dir: Path) -> str:
    """A SQLite file at `path` with the migrated schema and no rows (a copy of this process's template, migrated
    into `template_dir` on first use); returns its URL."""
    global _sqlite_template
    if _sqlite_template is None:
        from storage.migrate import upgrade

        template = template_dir / "template.db"
        template.unlink(missing_ok=True)
        await upgrade(f"sqlite+aiosqlite:///{template}")  # the real Alembic migrations, as the bot runs them on start
        assert not template.with_name(template.name + "-wal").exists()  # the whole schema is in the one file
        _sqlite_template = template
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def _base() -> str:
    return make_url(PG_URL).database or "postgres"


def _url_for(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


async def _admin(sql: str, *args, database: str | None = None):
    import asyncpg

    url = make_url(PG_URL)
    conn = await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=database or url.database,
    )
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


async def _drop_leftovers() -> None:
    pattern = re.compile(rf"^{re.escape(_base())}_{_HOST}_(\d+)_")
    for row in await _admin("SELECT datname FROM pg_database"):
        m = pattern.match(row["datname"])
        if m and not _alive(int(m.group(1))):
            await _admin(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')


async def ensure_database() -> None:
    """Create the database TEST_DATABASE_URL names, unless it exists (through the `postgres` database)."""
    found = await _admin("SELECT 1 FROM pg_database WHERE datname = $1", _base(), database="postgres")
    if not found:
        import asyncpg

        try:
            await _admin(f'CREATE DATABASE "{_base()}"', database="postgres")
        except asyncpg.DuplicateDatabaseError:  # another run created it just now
            pass


async def _ensure_template() -> str:
    global _template
    if _template is None:
        from storage.migrate import upgrade

        await ensure_database()
        await _drop_leftovers()
        name = f"{_base()}_{_HOST}_{os.getpid()}_tpl"  # this process's own: pytest-xdist workers never share one
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await _admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        await upgrade(_url_for(name))  # the real Alembic migrations, as the bot runs them on start
        _template = name
    return _template


def new_pg_name() -> str:
    """A name for a test database of this process (dropped by a later run if this one is killed)."""
    return f"{_base()}_{_HOST}_{os.getpid()}_{next(_counter)}"


async def create_pg_database(name: str | None = None) -> str:
    """A new database with the migrated schema and no rows; returns its name."""
    template = await _ensure_template()
    name = name or new_pg_name()
    await _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


async def create_empty_pg_database() -> str:
    """A new database with no tables at all (to test upgrades from an older schema); returns its name."""
    name = new_pg_name()
    await _admin(f'CREATE DATABASE "{name}"')
    return name


async def drop_pg_database(name: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_url(name: str) -> str:
    return _url_for(name)


def drop_template() -> None:
    """At the end of the run (no event loop is running then)."""
    if _template is not None:
        asyncio.run(drop_pg_database(_template))


if __name__ == "__main__":
    if not PG_URL:
        raise SystemExit(SKIP_REASON)
    asyncio.run(ensure_database())
    print(f"database {_base()} is ready")


class RedisPerTest:
    """On the PostgreSQL run, with TEST_REDIS_URL, the apps a test starts keep conversations in Redis (the
    deployment's configuration), under a prefix of this test's own that is deleted afterwards."""

    def __init__(self, db_url: str):
        self.url = REDIS_URL if db_url.startswith("postgresql") else ""
        self.prefix = f"test-{os.getpid()}-{next(_counter)}"

    def settings(self) -> dict:
        return {"redis_url": self.url, "redis_prefix": self.prefix} if self.url else {}

    async def cleanup(self) -> None:
        if not self.url:
            return
        from redis.asyncio import Redis

        client = Redis.from_url(self.url)
        try:
            keys = [key async for key in client.scan_iter(match=f"{self.prefix}:*")]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()
