"""最美志愿者: on the 1st of each month at the theme post hour, every coordinator gets last month's shortlist, and
the 中心's coordinators the 先进站 shortlist (the month's best stations; a county of several stations only).

Claimed once as `recognition:YYYY-MM` (the month it is sent in) in the transaction that queues the messages.
Missed by more than the catch-up grace (the bot was down), it is not sent (nothing is recorded).
"""

from __future__ import annotations

import datetime as dt
import logging

from aiogram.utils.i18n import I18n

from bot.core.clock import StoppedClock
from bot.ledger import ranking, recognition
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox
from bot.settings import Settings
from scheduling.occurrences import QUEUED, claim_in
from storage.db import Database
from storage.models import Occurrence

log = logging.getLogger(__name__)


def due_at(month_start: dt.date, settings: Settings) -> dt.datetime:
    local = dt.datetime.combine(month_start, dt.time(settings.theme_post_hour), tzinfo=settings.tz)
    return local.astimezone(dt.timezone.utc)


async def run_recognition(
    db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str
) -> list[str]:
    today = now.astimezone(settings.tz).date()
    this_month = today.replace(day=1)
    key, due = recognition.shortlist_key(this_month), due_at(this_month, settings)
    if now < due:
        return []
    async with db.read() as s:  # the common case, every minute: already done, no write
        if await s.get(Occurrence, key) is not None:
            return []
    if now - due > dt.timedelta(hours=settings.catchup_grace_hours):
        return []
    last = recognition.previous_month(this_month)
    start, end = ranking.month_bounds(last.year, last.month, settings.tz)
    notices = LedgerNotices(Outbox(i18n, settings.tz, settings.default_locale, StoppedClock(now)))
    async with db.tx() as s:
        if not await claim_in(s, key, due, now, status=QUEUED, claimed_by=claimed_by):
            return []
        await notices.shortlist(
            s,
            recognition.month_key(last),
            await ranking.shortlist(s, start, end),
            await recognition.teams_with_groups(s),
        )
        await notices.advanced_stations(
            s, recognition.month_key(last), await recognition.advanced_stations(s, last, settings.tz)
        )
    log.info("最美志愿者 shortlist %s queued", key)
    return [key]
