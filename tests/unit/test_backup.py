"""The nightly backup (bot/backups/jobs.py): once a station day after 03:00, claimed once by several processes,
old ones pruned, files owner-only; PostgreSQL's pg_dump command without the password."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from bot.__main__ import backup_command
from bot.backups.jobs import run_backup
from bot.core.i18n import make_i18n
from storage import backup
from tests.station_db import local, settings


async def test_nightly_backup_once_a_day_pruned_owner_only(station_db, db_url, tmp_path):
    folder = tmp_path / "backups"
    conf = settings(db_url, backup_dir=str(folder), backup_keep=2)
    i18n = make_i18n()
    if not db_url.startswith("sqlite"):  # PostgreSQL is backed up with pg_dump: the nightly job writes nothing
        await run_backup(station_db, i18n, conf, now=local(2026, 3, 14, 3, 0, 30), claimed_by="p0")
        assert not folder.exists() or not any(folder.iterdir())
        return

    async def night(*at: int, processes: int = 1) -> None:
        await asyncio.gather(
            *(run_backup(station_db, i18n, conf, now=local(*at), claimed_by=f"p{n}") for n in range(processes))
        )

    def files() -> list[str]:
        return sorted(p.name for p in folder.glob("*")) if folder.exists() else []

    await night(2026, 3, 14, 2, 59)
    assert files() == []  # not before 03:00 station time
    await night(2026, 3, 14, 3, 0, 30, processes=2)  # two processes tick at once: one backup
    assert files() == ["station-20260314-030030.db"]
    await night(2026, 3, 14, 9, 0)
    assert files() == ["station-20260314-030030.db"]  # once a day
    await night(2026, 3, 15, 3, 1)
    await night(2026, 3, 16, 3, 1)
    assert files() == ["station-20260315-030100.db", "station-20260316-030100.db"]  # BACKUP_KEEP=2
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((folder / name).stat().st_mode) == 0o600 for name in files())
    restored = tmp_path / "restored.db"
    backup.restore_sqlite(folder / files()[-1], restored, now=local(2026, 3, 17))
    assert backup.has_data(restored)


async def test_no_backup_dir_no_backup(station_db, db_url, tmp_path):
    conf = settings(db_url)
    await run_backup(station_db, make_i18n(), conf, now=local(2026, 3, 14, 4), claimed_by="p")
    assert not list(Path(tmp_path).glob("**/station-*.db"))


def test_postgresql_backup_prints_pg_dump_without_the_password(capsys):
    conf = settings("postgresql://station:s3cret@db.example:5433/station")
    assert backup_command(conf, "station.dump") == 2
    out, err = capsys.readouterr()
    assert out.strip() == (
        "pg_dump --format=custom --file=station.dump --host=db.example --port=5433 --username=station station"
    )
    assert "pg_dump" in err and "s3cret" not in out + err


def test_restore_refuses_what_is_not_a_backup(tmp_path):
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"not a database at all, just some bytes" * 100)
    with pytest.raises(backup.BackupError):
        backup.restore_sqlite(bogus, tmp_path / "station.db", now=local(2026, 3, 14))
    assert not (tmp_path / "station.db").exists()
