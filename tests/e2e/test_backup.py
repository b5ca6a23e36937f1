"""Backups (storage/backup.py): `python -m bot backup` takes a consistent copy while the bot handles updates,
`python -m bot restore` puts it into a fresh database; counts and ledger sums are equal."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import sys
from datetime import datetime, timezone
from pathlib import Path

from storage import backup
from storage.db import sqlite_file
from tests.ledger_setup import seed_hours

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("users", "ledger_entries", "processed_updates", "outbox", "services", "station_settings")


async def cli(*args: str, database_url: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env={**os.environ, "BOT_TOKEN": "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz", "DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def figures(path: Path) -> dict[str, object]:
    conn = sqlite3.connect(path)
    try:
        found: dict[str, object] = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        found["ledger"] = conn.execute("SELECT sum(minutes), sum(points) FROM ledger_entries").fetchone()
        return found
    finally:
        conn.close()


async def test_backup_while_updates_are_handled_then_restore(fake, start_app, stop_app, db_url, tmp_path):
    if not db_url.startswith("sqlite"):  # PostgreSQL is backed up with pg_dump: the command says how, and fails
        code, out, _err = await cli("backup", str(tmp_path / "copy.db"), database_url=db_url)
        assert code == 2 and "pg_dump" in out and not (tmp_path / "copy.db").exists()
        return
    app = await start_app()
    live = Path(sqlite_file(db_url) or "")
    residents = [fake.user(f"居民{i}") for i in range(20)]
    for person in residents[:5]:
        await person.send("/start")
        await fake.wait_message(person, timeout=10)
        for minutes in (30, 45, 60):
            await seed_hours(app, person.id, minutes)
    before = figures(live)

    async def keep_talking() -> None:  # updates handled (and written) all through the backup
        for person in residents[5:]:
            await person.send("/start")
            await fake.wait_message(person, timeout=10)

    talking = asyncio.create_task(keep_talking())
    copy = tmp_path / "backups" / "copy.db"
    code, out, err = await cli("backup", str(copy), database_url=db_url)
    await talking
    assert code == 0, err
    assert "backup written to" in out
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600  # residents' addresses and phones: owner only
    after = figures(live)
    saved = figures(copy)
    assert saved["ledger"] == before["ledger"] == after["ledger"]
    assert before["users"] <= saved["users"] <= after["users"]  # type: ignore[operator]
    assert sqlite3.connect(copy).execute("PRAGMA integrity_check").fetchone() == ("ok",)

    fresh = tmp_path / "restored" / "station.db"
    code, out, err = await cli("restore", str(copy), database_url=f"sqlite+aiosqlite:///{fresh}")
    assert code == 0, err
    assert figures(fresh) == saved
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o600

    # a database with data is replaced only with --force, and then kept beside it
    code, _out, err = await cli("restore", str(copy), database_url=db_url)
    assert code == 2 and "--force" in err and "Traceback" not in err
    assert figures(live)["users"] == after["users"]
    await stop_app(app)
    kept = backup.restore_sqlite(copy, live, force=True, now=datetime(2026, 3, 14, 3, 0, tzinfo=timezone.utc))
    assert kept is not None and kept.name == "station.db.before-restore-20260314-030000"
    assert figures(kept)["users"] == after["users"] and figures(live) == saved
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
