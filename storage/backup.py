"""Backups of a SQLite database, taken while the bot runs (SQLite's online backup API: a consistent copy, the
bot's writers wait at most one step), and restoring one. PostgreSQL is backed up with its own pg_dump: the command
for the configured URL is printed, without the password.

Backups hold residents' addresses and phones: files are created readable by their owner only (0600), a new
folder 0700."""

from __future__ import annotations

import os
import shlex
import sqlite3
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from storage.db import create_private

PREFIX, SUFFIX = "station-", ".db"  # nightly backups: station-20260314-030012.db
DATA_TABLES = ("users", "requests", "ledger_entries")  # a database "has data" when one of these has a row


class BackupError(Exception):
    """A backup or restore that cannot be done; its message is for the operator."""


def backup_name(now: datetime) -> str:
    return f"{PREFIX}{now.strftime('%Y%m%d-%H%M%S')}{SUFFIX}"


def _new_private_file(dest: Path) -> None:
    if not dest.parent.exists():
        dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        dest.parent.chmod(0o700)
    try:
        os.close(os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        raise BackupError(f"{dest} exists already: choose another file") from None
    dest.chmod(0o600)  # exactly, whatever the umask


def _copy(source: Path, dest: Path) -> None:
    """SQLite's online backup of `source` into `dest`, left as one self-contained file (no -wal beside it)."""
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(dest, timeout=30)
        try:
            src.backup(dst, pages=1024)  # in steps: the bot's writers wait for one step at most
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
    finally:
        src.close()


def backup_sqlite(db_path: str | Path, dest: str | Path) -> Path:
    """A consistent copy of the SQLite database at `db_path` in the new file `dest` (0600)."""
    source, target = Path(db_path).expanduser(), Path(dest).expanduser()
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    _new_private_file(target)
    try:
        _copy(source, target)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return target


def has_data(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(path, timeout=30)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return any(conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in DATA_TABLES if t in tables)
    finally:
        conn.close()


def _check_backup(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"no backup at {path}")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            ok = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from None
    if "alembic_version" not in tables or "users" not in tables:
        raise BackupError(f"{path} is not a backup of this bot's database")
    if not ok or ok[0] != "ok":
        raise BackupError(f"{path} is damaged: {ok[0] if ok else '?'}")


def restore_sqlite(backup: str | Path, db_path: str | Path, *, force: bool = False, now: datetime) -> Path | None:
    """Copy `backup` into the database at `db_path` (stop the bot first; it migrates an older backup on start).
    A database with data is only overwritten with `force`, and then kept beside it first
    (`<file>.before-restore-<time>`), which is returned."""
    source, target = Path(backup).expanduser(), Path(db_path).expanduser()
    _check_backup(source)
    kept = None
    if has_data(target):
        if not force:
            raise BackupError(f"{target} has data: add --force to replace it (the old file is kept beside it)")
        kept = backup_sqlite(target, target.with_name(f"{target.name}.before-restore-{now.strftime('%Y%m%d-%H%M%S')}"))
    create_private(str(target))
    _copy(source, target)
    return kept


def prune(folder: str | Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` nightly backups in `folder`; returns the deleted files."""
    files = sorted(p for p in Path(folder).expanduser().glob(f"{PREFIX}*{SUFFIX}") if p.is_file())
    old = files[:-keep] if keep > 0 else files
    for path in old:
        path.unlink(missing_ok=True)
    return old


def nightly(db_path: str, folder: str, now: datetime, keep: int) -> tuple[Path, list[Path]]:
    """A backup named after `now` in `folder`, then all but the newest `keep` deleted."""
    made = backup_sqlite(db_path, Path(folder).expanduser() / backup_name(now))
    return made, prune(folder, keep)


def pg_dump_command(url: str, dest: str) -> str:
    """The pg_dump command that backs up the PostgreSQL database of `url` into `dest`, without the password
    (pg_dump asks for it, or reads PGPASSWORD or ~/.pgpass)."""
    u = make_url(url)
    args = ["pg_dump", "--format=custom", f"--file={dest}"]
    if u.host:
        args.append(f"--host={u.host}")
    if u.port:
        args.append(f"--port={u.port}")
    if u.username:
        args.append(f"--username={u.username}")
    args.append(u.database or "")
    return shlex.join(args)


def pg_restore_command(url: str, source: str) -> str:
    u = make_url(url)
    args = ["pg_restore", "--clean", "--if-exists", "--no-owner"]
    if u.host:
        args.append(f"--host={u.host}")
    if u.port:
        args.append(f"--port={u.port}")
    if u.username:
        args.append(f"--username={u.username}")
    args += [f"--dbname={u.database or ''}", source]
    return shlex.join(args)
