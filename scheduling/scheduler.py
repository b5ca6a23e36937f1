"""The station's calendar clock: every minute, queue whatever scheduled post has fallen due.

APScheduler only provides the tick, with an in-memory job store: a shared job store is not
supported across processes, and a replaced job silently drops its missed runs. The database is
the truth: each post is an occurrence claimed once by key (scheduling.occurrences), so several
processes, overlapping ticks and restarts send it once. After downtime, posts due within
CATCHUP_GRACE_HOURS are still sent; older ones that were never claimed are recorded as skipped.
A civic day a coordinator turned off (/civic) is not posted: when its reminder falls due it is recorded
with status `disabled`, so turning the day on again later never sends a late reminder; the next
reminders of that day (e.g. on the day itself) are sent if it is on by then. Reminders go out
FESTIVAL_REMIND_DAYS days before each festival and civic day, and on the day.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from aiogram.utils.i18n import I18n
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.calendar.jobs import Due, due_between, queue_post, stale_reason
from bot.calendar.service import civic_enabled
from bot.core.clock import Clock, StoppedClock
from bot.core.metrics import Metrics
from bot.core.retry import Outage, unreachable
from bot.outbox import Outbox
from bot.settings import Settings
from scheduling import jobs
from scheduling.occurrences import DISABLED, PROCESS_ID, QUEUED, SKIPPED, claim
from storage.db import Database
from storage.models import Occurrence, StationSetting

log = logging.getLogger(__name__)

JOB_ID = "run_due"
TICK = timedelta(minutes=1)
WATERMARK = "scheduler.checked_until"  # StationSetting: the latest `now` run_due has covered
WATERMARK_EVERY = timedelta(hours=1)  # a slightly stale watermark only rescans claimed posts
HORIZON = timedelta(days=366)  # never look further back than this for missed posts


@dataclass
class RunResult:
    queued: list[str] = field(default_factory=list)  # keys this call claimed and queued
    skipped: list[str] = field(default_factory=list)  # keys this call recorded as skipped
    reasons: dict[str, str] = field(default_factory=dict)  # skipped key -> why
    disabled: list[str] = field(default_factory=list)  # civic-day posts not sent: the day is turned off (/civic)
    followups: list[str] = field(default_factory=list)  # keys the timed jobs (scheduling.jobs) claimed


class Scheduler:
    def __init__(
        self,
        db: Database,
        i18n: I18n,
        settings: Settings,
        clock: Clock | None = None,
        process_id: str = PROCESS_ID,
        metrics: Metrics | None = None,
    ):
        self.db = db
        self.i18n = i18n
        self.settings = settings
        self.clock = clock or Clock()
        self.process_id = process_id
        self.grace = timedelta(hours=settings.catchup_grace_hours)
        self._aps: AsyncIOScheduler | None = None
        self._ticking = False  # a tick is running (APScheduler would skip a run asked for meanwhile)
        self._again = False  # woken during a tick: look once more when it ends
        self.outage = Outage("scheduler", log)  # a database that is down: one line when it begins, one when it ends
        self.metrics = metrics or Metrics()

    # the tick -----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Catch up once (posts missed while down), then tick every minute."""
        await self.tick()
        self._aps = AsyncIOScheduler(timezone=timezone.utc)
        self._aps.add_job(
            self.tick,
            IntervalTrigger(seconds=TICK.total_seconds()),
            id=JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        self._aps.start()

    def wake(self) -> None:
        """Run the check now instead of at the next minute. Woken while a tick runs (APScheduler skips a job whose
        one instance is running), that tick looks once more when it ends: a wake is never lost."""
        if self._ticking:
            self._again = True
        elif self._aps is not None:
            self._aps.modify_job(JOB_ID, next_run_time=datetime.now(timezone.utc))

    def shutdown(self) -> None:
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
        self._aps = None

    async def tick(self) -> None:
        self._ticking = True
        try:
            while True:
                self._again = False
                await self._tick_once()
                if not self._again:
                    return
        finally:
            self._ticking = False

    async def _tick_once(self) -> None:
        try:
            result = await self.run_due(self.clock.now())
        except Exception as exc:  # a database hiccup must not stop the calendar: the next tick catches up
            if unreachable(exc):
                self.outage.failed(exc)
            else:
                log.exception("scheduled posts: run failed")
            return
        self.outage.ok()
        self.metrics.occurrences.labels("done").inc(len(result.queued) + len(result.followups))
        self.metrics.occurrences.labels("skipped").inc(len(result.skipped))
        if result.disabled:
            self.metrics.occurrences.labels("disabled").inc(len(result.disabled))

    # what is due --------------------------------------------------------------------------------

    def due(self, start: datetime, end: datetime) -> list[Due]:
        return due_between(
            start, end, self.settings.tz, self.settings.theme_post_hour, offsets=self.settings.reminder_offsets
        )

    async def run_due(self, now: datetime | None = None) -> RunResult:
        """Claim and queue every post due in [now - grace, now]; record older unclaimed ones as skipped."""
        now = now or self.clock.now()
        cutoff = now - self.grace
        async with self.db.read() as s:
            mark = await s.get(StationSetting, WATERMARK)
            checked = datetime.fromisoformat(mark.value) if mark else None
            scan_from = max(min(checked, cutoff), now - HORIZON) if checked else cutoff
            done = set((await s.execute(select(Occurrence.key).where(Occurrence.due_at >= scan_from))).scalars())
            civic_on = await civic_enabled(s)

        result = RunResult()
        outbox = Outbox(self.i18n, self.settings.tz, self.settings.default_locale, StoppedClock(now))
        items = self.due(scan_from, now)
        today = now.astimezone(self.settings.tz).date()
        # the days (kind, key, date) each due post is about, with its days ahead: a reminder is superseded by a
        # later post of the same day that is due too
        ahead = [(i.post.kind, i.post.key, i.event_date, i.post.offset_days) for i in items]
        for item in items:
            if item.key in done:
                continue
            if item.post.kind == "civic" and item.post.key not in civic_on:
                # recorded, so that turning the day on again later never sends a stale reminder
                if await claim(self.db, item.key, item.due_at, now, status=DISABLED, claimed_by=self.process_id):
                    result.disabled.append(item.key)
                    log.info("scheduled post %s not sent: the civic day is turned off", item.key)
                continue
            if item.due_at < cutoff:
                if await claim(self.db, item.key, item.due_at, now, status=SKIPPED, claimed_by=self.process_id):
                    result.skipped.append(item.key)
                    result.reasons[item.key] = f"missed by more than {self.grace}"
                    log.warning(
                        "scheduled post %s (due %s) skipped: missed by more than %s",
                        item.key,
                        item.due_at.isoformat(),
                        self.grace,
                    )
                continue
            post = item.post
            later = any(
                k == post.kind and key == post.key and day == item.event_date and days < post.offset_days
                for k, key, day, days in ahead
            )
            reason = stale_reason(item, today, later)
            if reason is not None:
                if await claim(self.db, item.key, item.due_at, now, status=SKIPPED, claimed_by=self.process_id):
                    result.skipped.append(item.key)
                    result.reasons[item.key] = reason
                    log.warning("scheduled post %s (due %s) skipped: %s", item.key, item.due_at.isoformat(), reason)
                continue

            async def queue(s, item=item):
                count = await queue_post(s, item, outbox)
                log.info("scheduled post %s queued for %d chats", item.key, count)

            if await claim(self.db, item.key, item.due_at, now, queue=queue, status=QUEUED, claimed_by=self.process_id):
                result.queued.append(item.key)

        if checked is None or now - checked >= WATERMARK_EVERY:
            await self._mark(now)
        for job in jobs.JOBS:
            try:
                result.followups += await job(self.db, self.i18n, self.settings, now=now, claimed_by=self.process_id)
            except Exception as exc:  # one failing job must not stop the others; the next tick retries it
                if unreachable(exc):  # the database is down: the tick says so once
                    raise
                log.exception("timed job %s failed", getattr(job, "__name__", job))
        return result

    async def _mark(self, now: datetime) -> None:
        try:
            async with self.db.tx() as s:
                row = await s.get(StationSetting, WATERMARK)
                if row is None:
                    s.add(StationSetting(key=WATERMARK, value=now.isoformat()))
                elif datetime.fromisoformat(row.value) < now:
                    row.value = now.isoformat()
        except IntegrityError:  # another process wrote the first mark at the same moment
            pass
