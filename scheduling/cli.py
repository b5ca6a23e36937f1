"""`python -m bot calendar YEAR`: the year's scheduled posts as this station would send them.

Reads FESTIVAL_REMIND_DAYS and DATABASE_URL from the environment or `.env` (no bot token needed) and the
civic days turned off with /civic from the database, if it exists; a missing database means all are on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.calendar.service import civic_enabled
from bot.settings import remind_days
from scheduling.holidays import CIVIC_KEYS, format_year
from storage.db import Database

log = logging.getLogger(__name__)


class CalendarSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./data/station.db"
    festival_remind_days: Annotated[tuple[int, ...], NoDecode] = (7, 1)

    @field_validator("festival_remind_days", mode="before")
    @classmethod
    def _split_days(cls, value: str | int | Iterable[int | str]) -> tuple[int, ...]:
        return remind_days(value)


def _missing_sqlite(url: str) -> bool:
    if not url.startswith("sqlite"):
        return False
    path = url.split(":///", 1)[-1]
    return not path or path == ":memory:" or not Path(path).expanduser().exists()


async def enabled_civic(url: str) -> frozenset[str]:
    if _missing_sqlite(url):
        return frozenset(CIVIC_KEYS)
    db = Database(url)
    try:
        async with db.read() as s:
            return await civic_enabled(s)
    except Exception as exc:  # not migrated yet, unreachable: the calendar still prints, with every day on
        log.warning("civic days: could not read the database (%s); all are listed", exc.__class__.__name__)
        return frozenset(CIVIC_KEYS)
    finally:
        await db.dispose()


async def station_year(year: int, settings: CalendarSettings | None = None) -> str:
    settings = settings or CalendarSettings()
    offsets = sorted(set(settings.festival_remind_days) | {0}, reverse=True)
    return format_year(year, offsets, await enabled_civic(settings.database_url))


def year_text(year: int) -> str:
    return asyncio.run(station_year(year))
