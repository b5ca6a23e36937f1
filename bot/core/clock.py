"""The one source of 'now', so tests can move time without sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo


class Clock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class StoppedClock(Clock):
    """A clock stopped at one moment: what a timed job's run queues carries the `now` it was driven with."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


def daytime_offset(now: datetime, tz: ZoneInfo) -> timedelta:
    """How far to move `now` so it reads like a station's afternoon: outside 13:00-22:00 local time, to the next
    15:00. "Tomorrow 14:00" is then between 16 and 25 hours away, whatever the hour it runs at: a day and three hours
    later, a service of tomorrow 14:00 began at least two hours before (at 12:08 it had been 68 minutes, and a test
    that reported 1.5 hours failed before 12:30)."""
    local = now.astimezone(tz)
    if 13 <= local.hour < 22:
        return timedelta()
    day = local.date() if local.hour < 13 else local.date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=tz) - now


class MovableClock(Clock):
    """Real time plus an offset moved forward by hand (the tests, the sandbox's "next day"): no sleeping."""

    def __init__(self, offset: timedelta = timedelta()) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)

    def move_to(self, when: datetime) -> None:
        """Now is `when` (and runs on from there)."""
        self.offset = when - datetime.now(timezone.utc)
