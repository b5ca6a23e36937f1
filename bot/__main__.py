"""`python -m bot`: run the bot with long polling (migrating the database first)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from bot import logs
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.org import bulk

# The rest is imported by the command that needs it: the bot itself (aiogram's models) takes seconds of CPU to
# import, which `--help`, `calendar` or a missing token should not cost.

log = logging.getLogger("bot")


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Volunteer service bot of a 新时代文明实践站. Settings come from the environment and .env "
        "(BOT_TOKEN, DATABASE_URL, TELEGRAM_API_URL, ADMIN_IDS, TIMEZONE, DEFAULT_LOCALE, "
        "POINTS_PER_HOUR); see README.md.",
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the bot with long polling (the default)")
    run.add_argument("--webhook", action="store_true", default=argparse.SUPPRESS, help="same as the --webhook option")
    sub.add_parser("migrate", help="create or upgrade the database to the newest revision, then exit")
    cal = sub.add_parser(
        "calendar",
        help="print a year's scheduled posts (themes, festivals, civic days on), "
        "reminders FESTIVAL_REMIND_DAYS days before and on the day",
    )
    cal.add_argument("year", type=int)
    back = sub.add_parser(
        "backup",
        help="write a consistent copy of the SQLite database while the bot runs (PostgreSQL: prints the pg_dump "
        "command)",
    )
    back.add_argument("file", nargs="?", help="the new file (default: station-<time>.db in BACKUP_DIR, or here)")
    rest = sub.add_parser("restore", help="copy a backup into the SQLite database (stop the bot first)")
    rest.add_argument("file")
    rest.add_argument(
        "--force", action="store_true", help="replace a database that has data (the old file is kept beside it)"
    )
    box = sub.add_parser(
        "sandbox",
        help="try the bot without Telegram: the real bot against a built-in fake Telegram, with a chat page on "
        "127.0.0.1 (personas, their chats, the team group, a next-day button); no BOT_TOKEN needed",
    )
    box.add_argument("--port", type=int, default=None, help="the page's port (default SANDBOX_PORT, 8088)")
    box.add_argument("--db", default="sandbox.sqlite3", help="its own SQLite file (default ./sandbox.sqlite3)")
    box.add_argument("--reset", action="store_true", help="delete that file first and set the station up afresh")
    orgs = sub.add_parser(
        "org",
        help="the county tree in bulk: import or export a sheet with the columns level (中心, 所 or 站), name, code, "
        "parent code",
    )
    org_sub = orgs.add_subparsers(dest="org_command", required=True)
    org_in = org_sub.add_parser(
        "import",
        help="add and update nodes from FILE.xlsx or FILE.csv (idempotent); a line per refused row; "
        "exit code 1 if a row was refused",
    )
    org_in.add_argument("file")
    org_out = org_sub.add_parser("export", help="write the tree to FILE.xlsx or FILE.csv (default: CSV on stdout)")
    org_out.add_argument("file", nargs="?")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    parser.add_argument(
        "--webhook",
        action="store_true",
        help="receive updates by webhook (WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_HOST, WEBHOOK_PORT) "
        "instead of long polling; serves /healthz on the same port",
    )
    return parser.parse_args(argv)


def settings_or_exit():
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])).upper() or 'settings'}: {e['msg']}" for e in exc.errors())
        print(f"error: {problems} (set it in the environment or .env; see .env.example)", file=sys.stderr)
        raise SystemExit(2) from None


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    logs.setup(args.log_level, "json" if os.environ.get("LOG_FORMAT", "").strip().lower() == "json" else "text")
    if args.command == "calendar":
        from scheduling.cli import year_text

        print(year_text(args.year))
        return
    if args.command == "sandbox":
        raise SystemExit(sandbox_command(args))
    settings = settings_or_exit()
    logs.setup(args.log_level, settings.log_format)  # LOG_FORMAT may come from .env
    if args.command == "migrate":
        from storage.migrate import applied_line, upgrade_sync

        log.info(applied_line(upgrade_sync(settings.database_url)))
        return
    if args.command == "backup":
        raise SystemExit(backup_command(settings, args.file))
    if args.command == "restore":
        raise SystemExit(restore_command(settings, args.file, args.force))
    if args.command == "org":
        raise SystemExit(org_command(settings, args.org_command, args.file))
    if args.webhook and not (settings.webhook_url and settings.webhook_secret):
        print(
            "error: --webhook needs WEBHOOK_URL and WEBHOOK_SECRET (set them in the environment or .env; "
            "see .env.example)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    # The imports (aiogram's and pydantic's models) leave ~1 M long-lived objects; frozen, the collector
    # stops walking them on every full collection (pauses of 100 ms and more under load otherwise).
    from bot.app import App, TelegramRefused

    gc.collect()
    gc.freeze()
    try:
        asyncio.run(App(settings).run(webhook=args.webhook))
    except KeyboardInterrupt:
        pass
    except TelegramRefused as exc:
        log.error("Telegram refused BOT_TOKEN (%s): check the token from @BotFather; exiting", exc)
        raise SystemExit(2) from None


def sandbox_command(args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.sandbox.station import serve_forever

    try:
        # .env's station settings apply (TIMEZONE, POINTS_PER_HOUR, SANDBOX_PORT, ...); the sandbox replaces the
        # token, the database, Redis, webhook, metrics and backups, so it never reaches the real bot's
        base = Settings(bot_token="100:" + "x" * 30)
    except ValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve_forever(Path(args.db), args.port, args.reset, base))
    except OSError as exc:  # the port is taken, the file cannot be written
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def backup_command(settings: Settings, file: str | None) -> int:
    from storage import backup
    from storage.db import sqlite_file

    now = datetime.now(settings.tz)
    path = sqlite_file(settings.database_url)
    if path is None:
        dest = file or backup.backup_name(now).removesuffix(backup.SUFFIX) + ".dump"
        print(
            "PostgreSQL is backed up with its own pg_dump (consistent while the bot runs); "
            "it asks for the password, or reads PGPASSWORD or ~/.pgpass:",
            file=sys.stderr,
        )
        print(backup.pg_dump_command(settings.database_url, dest))
        return 2
    dest = file or os.path.join(settings.backup_dir or ".", backup.backup_name(now))
    try:
        made = backup.backup_sqlite(path, dest)
    except (backup.BackupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"backup written to {made}")
    return 0


def restore_command(settings: Settings, file: str, force: bool) -> int:
    from storage import backup
    from storage.db import sqlite_file

    path = sqlite_file(settings.database_url)
    if path is None:
        print("PostgreSQL is restored with pg_restore (stop the bot first):", file=sys.stderr)
        print(backup.pg_restore_command(settings.database_url, file))
        return 2
    try:
        kept = backup.restore_sqlite(file, path, force=force, now=datetime.now(settings.tz))
    except (backup.BackupError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"restored {file} into {path}" + (f"; the old database is kept as {kept}" if kept else ""))
    print("the bot brings it to the newest schema when it starts")
    return 0


def org_command(settings: Settings, action: str, file: str | None) -> int:
    """`org import FILE` / `org export [FILE]` on the database of DATABASE_URL (brought to the newest schema first)."""
    from bot.org import bulk
    from storage.migrate import upgrade_sync

    upgrade_sync(settings.database_url)
    try:
        if action == "import":
            assert file is not None
            rows = bulk.read_file(file)
            outcome = asyncio.run(_org_import(settings, rows))
            for refused in outcome.refused:
                print(refused)
            print(outcome.summary())
            return 1 if outcome.refused else 0
        table = asyncio.run(_org_export(settings))
        if file is None:
            sys.stdout.buffer.write(bulk.csv_bytes(table, bom=False))
            sys.stdout.flush()
            return 0
        bulk.write_file(file, table)
        print(f"{len(table) - 1} nodes written to {file}")
        return 0
    except (bulk.SheetError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


async def _org_import(settings: Settings, rows: list[bulk.Row]) -> bulk.Outcome:
    from bot.org import bulk
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        async with db.tx() as s:
            return await bulk.import_rows(s, rows, datetime.now(settings.tz))
    finally:
        await db.dispose()


async def _org_export(settings: Settings) -> list[list[str]]:
    from bot.org import bulk
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        async with db.read() as s:
            return await bulk.export(s)
    finally:
        await db.dispose()


if __name__ == "__main__":
    main()
