"""The one source of 'now', so tests can move time without sleeping."""

from __future__ import annotations

from datetime import datetime, timezone


class Clock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class StoppedClock(Clock):
    """A clock stopped at one moment: what a timed job's run queues carries the `now` it was driven with."""

    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at
