"""Many processes starting at once on an empty database: one migrates, the others wait for it under the start lock
(storage/migrate.py) and find the schema current; none fails."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from storage.migrate import alembic_config
from storage.models import Base
from tests.drills.common import drop_pg_database, fresh_pg_database

ROOT = Path(__file__).resolve().parents[2]
STARTS = 10

# Each process imports everything first, says it is ready, and waits for the go file: the upgrades then start
# within milliseconds of each other.
CHILD = """
import asyncio, sys, time
from pathlib import Path
from storage.migrate import upgrade
url, folder = sys.argv[1], Path(sys.argv[2])
print("ready", flush=True)
while not (folder / "go").exists():
    time.sleep(0.005)
asyncio.run(upgrade(url))
"""


async def start_at_once(url: str, folder: Path) -> list[tuple[int, str]]:
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", CHILD, url, str(folder), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(STARTS)
    ]
    for proc in procs:
        assert proc.stdout is not None
        await asyncio.wait_for(proc.stdout.readline(), 120)
    (folder / "go").touch()
    results = []
    for proc in procs:
        _, err = await asyncio.wait_for(proc.communicate(), 120)
        results.append((proc.returncode, err.decode(errors="replace")[-2000:]))
    return results


async def assert_at_head(url: str) -> None:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())
            diff = await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    finally:
        await engine.dispose()
    assert (current, diff) == (head, [])


@pytest.mark.timeout(300)
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_ten_processes_migrate_an_empty_database_at_once(backend, tmp_path):
    if backend == "sqlite":
        url, name = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'station.db'}", None
    else:
        url, name = await fresh_pg_database()
    try:
        results = await start_at_once(url, tmp_path)
        assert [code for code, _ in results] == [0] * STARTS, [err for code, err in results if code][:2]
        await assert_at_head(url)
    finally:
        if name is not None:
            await drop_pg_database(name)
