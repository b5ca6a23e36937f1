"""Limits per person and per station-local day (MAX_…_PER_DAY settings), as the services take them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Daily:
    """At most `count` a day, the day being the station's calendar day in `tz`."""

    count: int
    tz: ZoneInfo

    def since(self, now: datetime) -> datetime:
        """The first moment of the station's day containing `now`, as aware UTC."""
        return datetime.combine(now.astimezone(self.tz).date(), time(0), tzinfo=self.tz).astimezone(UTC)
