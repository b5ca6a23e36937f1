"""The nightly backup: with BACKUP_DIR set and a SQLite database, once a station day at the first tick after
03:00 station time, a consistent copy goes into BACKUP_DIR and all but the newest BACKUP_KEEP are deleted.

The day is claimed once (the station setting `backup.done_on`, like the retention job's), so several processes
back up once; a day missed while down is not made up (the next night's copy is newer anyway)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from aiogram.utils.i18n import I18n

from bot.settings import Settings
from scheduling import occurrences
from storage import backup
from storage.db import Database, sqlite_file

log = logging.getLogger(__name__)

BACKUP_HOUR = 3  # station time
DONE_ON = "backup.done_on"  # StationSetting: the station day (ISO date) of the last nightly backup


async def run_backup(db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str) -> list[str]:
    """A timed job (scheduling/jobs.py): sends nothing, so it claims no occurrence and returns no keys."""
    path = sqlite_file(settings.database_url)
    if not settings.backup_dir or path is None:
        return []
    day = await occurrences.daily_due(db, now, settings.tz, BACKUP_HOUR, DONE_ON)
    if day is None:
        return []
    async with db.tx() as s:
        if not await occurrences.claim_day(s, day, DONE_ON):
            return []
    try:
        local = now.astimezone(settings.tz)
        made, pruned = await asyncio.to_thread(backup.nightly, path, settings.backup_dir, local, settings.backup_keep)
    except (OSError, backup.BackupError) as exc:
        log.error("nightly backup of %s failed: %s", day.isoformat(), exc)
        return []
    log.info("nightly backup written to %s (%d old ones deleted)", made, len(pruned))
    return []
