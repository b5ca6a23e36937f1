"""Timed work of 微心愿: a claimer whose wish's date nears without progress (still 已认领 within REMIND_BEFORE days)
is reminded once (`wish:<id>:remind`, an occurrence claimed in the transaction that queues the reminder)."""

from __future__ import annotations

import datetime as dt

from aiogram.utils.i18n import I18n

from bot.core.clock import StoppedClock
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox
from bot.settings import Settings
from bot.wishes import service as wishes
from bot.wishes.notices import WishNotices
from scheduling.occurrences import claim_in
from storage.db import Database


def remind_key(wish_id: int) -> str:
    return f"wish:{wish_id}:remind"


async def run_wish_jobs(
    db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str
) -> list[str]:
    outbox = Outbox(i18n, settings.tz, settings.default_locale, StoppedClock(now))
    notices = WishNotices(outbox, LedgerNotices(outbox))
    today = now.astimezone(settings.tz).date()
    async with db.read() as s:
        due = [w.id for w in await wishes.due_soon(s, today)]
    done: list[str] = []
    for wish_id in due:
        key = remind_key(wish_id)
        async with db.tx() as s:
            wish = await wishes.get(s, wish_id)
            if wish.status != wishes.CLAIMED:
                continue
            if await claim_in(s, key, now, now, claimed_by=claimed_by):
                await notices.remind(s, wish)
                done.append(key)
    return done
