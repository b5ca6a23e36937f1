"""`python -m bot`: run the bot with long polling (migrating the database first)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys

from pydantic import ValidationError

from bot.app import App
from bot.settings import Settings
from scheduling.cli import year_text
from storage.migrate import upgrade_sync


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
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "calendar":
        print(year_text(args.year))
        return
    settings = settings_or_exit()
    if args.command == "migrate":
        upgrade_sync(settings.database_url)
        return
    if args.webhook and not (settings.webhook_url and settings.webhook_secret):
        print(
            "error: --webhook needs WEBHOOK_URL and WEBHOOK_SECRET (set them in the environment or .env; "
            "see .env.example)",
            file=sys.stderr,
        )
        raise SystemExit(2)
    # The imports (aiogram's and pydantic's models) leave ~1 M long-lived objects; frozen, the collector
    # stops walking them on every full collection (pauses of 100 ms and more under load otherwise).
    gc.collect()
    gc.freeze()
    try:
        asyncio.run(App(settings).run(webhook=args.webhook))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
