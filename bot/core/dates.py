"""Reading the dates and time windows residents type, in the station's time zone."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.core.errors import DomainError

SLOTS = (("08:00", "10:00"), ("10:00", "12:00"), ("14:00", "16:00"), ("16:00", "18:00"), ("19:00", "21:00"))
RELATIVE = {"今天": 0, "today": 0, "明天": 1, "tomorrow": 1, "后天": 2}


def parse_date(text: str | None, today: date) -> date:
    raw = (text or "").strip().lower()
    if raw in RELATIVE:
        return today + timedelta(days=RELATIVE[raw])
    m = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", raw) or re.fullmatch(
        r"()(\d{1,2})[-/.月](\d{1,2})[日号]?", raw
    )
    if not m:
        raise DomainError("bad_date")
    year = int(m.group(1)) if m.group(1) else today.year
    try:
        day = date(year, int(m.group(2)), int(m.group(3)))
    except ValueError:
        raise DomainError("bad_date") from None
    if not m.group(1) and day < today:  # "1-5" typed in December means next January
        day = date(year + 1, day.month, day.day)
    return day


def parse_window(text: str | None) -> tuple[time, time]:
    raw = (text or "").strip()
    for old, new in (
        ("：", ":"),
        ("—", "-"),
        ("–", "-"),
        ("~", "-"),
        ("～", "-"),
        ("到", "-"),
        ("至", "-"),
        ("点半", ":30"),
        ("点", ":00"),
        (" ", ""),
    ):
        raw = raw.replace(old, new)
    m = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?-(\d{1,2})(?::(\d{2}))?", raw)
    if not m:
        raise DomainError("bad_time")
    try:
        start = time(int(m.group(1)), int(m.group(2) or 0))
        end = time(int(m.group(3)), int(m.group(4) or 0))
    except ValueError:
        raise DomainError("bad_time") from None
    if end <= start:
        raise DomainError("bad_window")
    return start, end


def to_utc(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(timezone.utc)
