"""公示's minute job: posts that waited (past the day's cap, or made at night) go out as the day's slots allow,
oldest first. Each slot is an occurrence claimed once by key (`showcase:<day>:<n>`) in the transaction that queues
the post, so several processes never post more than SHOWCASE_PER_DAY a day."""

from __future__ import annotations

import datetime as dt
import logging

from aiogram.utils.i18n import I18n

from bot.core.clock import StoppedClock
from bot.outbox import Outbox
from bot.settings import Settings
from bot.showcase import service as showcase
from storage.db import Database

log = logging.getLogger(__name__)


async def run_showcase(db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str) -> list[str]:
    if settings.public_channel_id is None or not showcase.daytime(now, settings.tz):
        return []
    async with db.read() as s:
        if not await showcase.any_waiting(s):  # the common case, every minute: one read
            return []
    outbox = Outbox(i18n, settings.tz, settings.default_locale, StoppedClock(now))
    async with db.tx() as s:
        taken = await showcase.release_waiting(s, outbox, now)
    if taken:
        log.info("showcase: %d waiting posts queued", len(taken))
    return taken
