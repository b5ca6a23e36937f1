"""Days and time windows as people type them, in Chinese or English: pure functions of the text, `now` and the
station's time zone (no Telegram, no database).

    read("明天下午两点到四点", now, tz)  -> Reading(day=<tomorrow>, start=14:00, end=16:00, sure=True)
    read("3.5", now, tz)                -> Reading(day=<5 March>, sure=False)   # could be a number: read back

What is understood (after full-width characters are folded and Chinese numerals become digits with cn2an):

- days: 今天/今日/今晚, 明天/明日/明早/明晚, 后天, 大后天, today, tomorrow, the day after tomorrow;
  周六, 星期天, 礼拜三, 这周五/本周五 (this week, Monday first), 下周三/下个星期三 (next week), 下下周一;
  monday … sunday, mon … sun,
  "next monday" (the first one after today); 3月5日, 3月5号, 2026年3月5日, 2026-03-05, 2026/3/5, 3/5, 5号 (this month,
  or next month once it has passed); 3-5 or 3.5 typed alone (3.5 is read back: it could be a number);
- parts of the day, each with a default window when no hour is given (DEFAULT_WINDOWS): 凌晨 05–07, 早上/早晨 08–10,
  上午 09–11, 中午 11–13, 下午 14–16, 傍晚 17–19, 晚上 19–21 (morning, noon, afternoon, evening, tonight likewise);
  they make the hours after them afternoon or evening hours (下午2点 = 14:00, 晚上8点 = 20:00);
- times: 14:00, 14点, 2点半, 十点一刻, 十点三刻, 10点15分, 14时, 两点钟, 2pm, 2:30pm, 9am;
- ranges: 到, 至, -, ~, —, to, until; the part of the day or am/pm of one side carries to the other
  ("下午2点到4点" = 14–16, "2-4pm" = 14–16, "上午10点到下午2点" = 10–14).

A reading is not `sure`, and the chat reads it back for a one-tap confirmation, when: no day was given where a day was
asked (today if the window is still ahead, else tomorrow); a single time was given (a window of DEFAULT_LENGTH from
it); hours 1–6 were given without 上午/下午/am/pm (read as afternoon); the end was before the start without a part of
the day ("10点到2点" = 10–14); a date was typed as 3.5. A past day is refused (DomainError "past_time"); a year-less
date less than PAST_GRACE_DAYS ago is refused as past, an older one means next year ("1月5日" typed in December).
Nonsense is refused: "bad_date" (no day could be read where one is needed), "bad_time", "bad_window".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import cn2an

from bot.core.errors import DomainError

Want = Literal["day", "window"]

DEFAULT_WINDOWS: dict[str, tuple[time, time]] = {
    "凌晨": (time(5), time(7)),
    "早上": (time(8), time(10)),
    "上午": (time(9), time(11)),
    "中午": (time(11), time(13)),
    "下午": (time(14), time(16)),
    "傍晚": (time(17), time(19)),
    "晚上": (time(19), time(21)),
}
DEFAULT_LENGTH = timedelta(hours=2)
PAST_GRACE_DAYS = 60

# Words for a part of the day, longest first, and the part they mean.
_PARTS = {
    "早晨": "早上",
    "早上": "早上",
    "清早": "早上",
    "凌晨": "凌晨",
    "上午": "上午",
    "中午": "中午",
    "下午": "下午",
    "傍晚": "傍晚",
    "晚上": "晚上",
    "夜里": "晚上",
    "夜间": "晚上",
    "morning": "上午",
    "noon": "中午",
    "afternoon": "下午",
    "evening": "晚上",
    "night": "晚上",
    "早": "早上",
    "晚": "晚上",
}
_AFTERNOON = {"下午", "傍晚", "晚上"}
_RELATIVE = [
    ("the day after tomorrow", 2, None),
    ("day after tomorrow", 2, None),
    ("大后天", 3, None),
    ("后天", 2, None),
    ("明天", 1, None),
    ("明日", 1, None),
    ("明早", 1, "早上"),
    ("明晚", 1, "晚上"),
    ("tomorrow", 1, None),
    ("今天", 0, None),
    ("今日", 0, None),
    ("今晚", 0, "晚上"),
    ("tonight", 0, "晚上"),
    ("today", 0, None),
    ("前天", -2, None),
    ("昨天", -1, None),
    ("yesterday", -1, None),
]
_WEEKDAY_ZH = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6, "日": 6, "天": 6}
_WEEKDAY_EN = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_NUMERALS = re.compile(r"[零〇一二两三四五六七八九十]+")
_SEPARATOR = re.compile(r"\s*(?:到|至|~|-|—|–|－|〜|\bto\b|\buntil\b|\btill\b)\s*")
_TIME = re.compile(
    r"(?P<h>\d{1,2})(?:(?::|点|时|\.(?=\d\d))(?P<m>\d{1,2})?)?(?:分)?(?:钟)?(?P<q>半|1刻|3刻)?(?:整)?"
    r"(?P<ampm>am|pm|a\.m\.|p\.m\.)?(?:左右)?"
)


@dataclass(frozen=True)
class Reading:
    """What a text says: a day, a window (start and end, station time), or both; `sure` False when it is a guess
    to read back before it is used."""

    day: date | None
    start: time | None = None
    end: time | None = None
    sure: bool = True

    @property
    def window(self) -> tuple[time, time] | None:
        return (self.start, self.end) if self.start is not None and self.end is not None else None


def normalise(text: str | None) -> str:
    """Full-width folded, lower case, Chinese numerals as digits ("下午两点到四点" -> "下午2点到4点")."""
    raw = unicodedata.normalize("NFKC", text or "").strip().lower()
    raw = raw.replace("：", ":").replace("，", " ").replace(",", " ").replace("。", " ")

    def digits(m: re.Match[str]) -> str:
        try:
            return str(int(cn2an.cn2an(m.group(0), "smart")))
        except (ValueError, KeyError, TypeError):
            raise DomainError("bad_time") from None

    raw = _NUMERALS.sub(digits, raw)
    raw = re.sub(r"(?<=\d)点钟", "点", raw)
    for filler in ("的时候", "的", "从", "之间", "期间", "大概", "大约", "between", "from", "at ", "on "):
        raw = raw.replace(filler, " ")
    return re.sub(r"\s+", " ", raw).strip()


# days ----------------------------------------------------------------------------------------------------------


def _yearless(today: date, month: int, day: int) -> date:
    try:
        d = date(today.year, month, day)
    except ValueError:
        try:  # 2月29日 of a leap year ahead
            d = date(today.year + 1, month, day)
        except ValueError:
            raise DomainError("bad_date") from None
        return d
    if d < today:
        if (today - d).days < PAST_GRACE_DAYS:
            raise DomainError("past_time")
        try:
            d = date(today.year + 1, month, day)
        except ValueError:
            raise DomainError("bad_date") from None
    return d


def _take_day(raw: str, today: date, want: Want) -> tuple[date | None, str | None, bool, str]:
    """Find the day in the text: (day or None, a part of the day it implies, sure, the rest of the text)."""
    for word, offset, part in _RELATIVE:
        if word in raw:
            return today + timedelta(days=offset), part, True, raw.replace(word, " ", 1)
    m = re.search(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?", raw)
    if m:
        try:
            d = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise DomainError("bad_date") from None
        if d < today:
            raise DomainError("past_time")
        return d, None, True, raw[: m.start()] + " " + raw[m.end() :]
    m = re.search(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?", raw) or re.search(
        r"(?<![\d:])(\d{1,2})/(\d{1,2})(?![\d:])", raw
    )
    if m:
        return _yearless(today, int(m[1]), int(m[2])), None, True, raw[: m.start()] + " " + raw[m.end() :]
    m = re.fullmatch(r"(\d{1,2})\s*-\s*(\d{1,2})", raw) if want == "day" else None
    if m:  # "12-5" typed where a day is asked: a date, as before, read back (it could be hours)
        return _yearless(today, int(m[1]), int(m[2])), None, False, ""
    m = re.search(r"(?<![\d:.])(\d{1,2})\.(\d{1,2})(?![\d:点时])", raw) if want == "day" else None
    if m and 1 <= int(m[1]) <= 12:
        return _yearless(today, int(m[1]), int(m[2])), None, False, raw[: m.start()] + " " + raw[m.end() :]
    m = re.search(r"(下下|下个?|这个?|本|next\s*)?(?:周|星期|礼拜)([1-7日天])", raw)
    if m:
        return _weekday(today, _WEEKDAY_ZH[m[2]], m[1] or ""), None, True, raw[: m.start()] + " " + raw[m.end() :]
    m = re.search(r"\b(next\s+|this\s+)?(mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", raw)
    if m:
        prefix = (m[1] or "").strip()
        return (
            _weekday(today, _WEEKDAY_EN.index(m[2]), "next" if prefix == "next" else ""),
            None,
            True,
            raw[: m.start()] + " " + raw[m.end() :],
        )
    m = re.search(r"(?<![\d:.月])(\d{1,2})\s*[日号](?!\d)", raw)
    if m:
        n = int(m[1])
        month_start = today.replace(day=1)
        for shift in range(3):
            first = (month_start + timedelta(days=32 * shift)).replace(day=1)
            try:
                d = first.replace(day=n)
            except ValueError:
                continue
            if d >= today:
                return d, None, True, raw[: m.start()] + " " + raw[m.end() :]
        raise DomainError("bad_date")
    return None, None, True, raw


def _weekday(today: date, weekday: int, prefix: str) -> date:
    monday = today - timedelta(days=today.weekday())
    if prefix in ("下", "下个"):
        return monday + timedelta(days=7 + weekday)
    if prefix == "下下":
        return monday + timedelta(days=14 + weekday)
    if prefix in ("这", "这个", "本"):
        d = monday + timedelta(days=weekday)
        if d < today:
            raise DomainError("past_time")
        return d
    ahead = (weekday - today.weekday()) % 7
    if prefix.startswith("next") and ahead == 0:
        ahead = 7
    return today + timedelta(days=ahead)


# times ---------------------------------------------------------------------------------------------------------


@dataclass
class _Side:
    part: str | None = None
    hour: int | None = None
    minute: int = 0
    ampm: str | None = None


_MARKS = {part: chr(0xE000 + i) for i, part in enumerate(DEFAULT_WINDOWS)}
_PART_OF_MARK = {mark: part for part, mark in _MARKS.items()}


def _take_parts(raw: str) -> str:
    """Replace each word for a part of the day with one private-use character standing for that part."""
    for word in sorted(_PARTS, key=len, reverse=True):
        pattern = re.escape(word) if not word.isascii() else rf"\b{word}\b"
        raw = re.sub(pattern, _MARKS[_PARTS[word]], raw)
    return raw


def _side(text: str) -> _Side:
    side = _Side()
    here = [_PART_OF_MARK[c] for c in text if c in _PART_OF_MARK]
    if len(here) > 1:
        raise DomainError("bad_time")
    side.part = here[0] if here else None
    rest = "".join(c for c in text if c not in _PART_OF_MARK and not c.isspace())
    if not rest:
        return side
    m = _TIME.fullmatch(rest)
    if not m:
        raise DomainError("bad_time")
    side.hour = int(m["h"])
    side.minute = int(m["m"] or 0)
    if m["q"] == "半":
        side.minute = 30
    elif m["q"] == "1刻":
        side.minute = 15
    elif m["q"] == "3刻":
        side.minute = 45
    if m["ampm"]:
        side.ampm = "pm" if m["ampm"].startswith("p") else "am"
    if side.hour > 24 or side.minute > 59 or (m["q"] and m["m"]):
        raise DomainError("bad_time")
    return side


def _clock(side: _Side, part: str | None, ampm: str | None) -> int:
    """The hour on a 24-hour clock, given the side's own or carried part of the day / am-pm."""
    h = side.hour
    assert h is not None
    if ampm == "pm" and h < 12:
        return h + 12
    if ampm == "am" and h == 12:
        return 0
    if part in _AFTERNOON and h < 12:
        return h + 12
    if part == "中午" and 1 <= h <= 3:
        return h + 12
    return h


def _time(hour: int, minute: int) -> time:
    if hour == 24 and minute == 0:
        return time(23, 59)
    if hour > 23:
        raise DomainError("bad_time")
    return time(hour, minute)


def _take_window(raw: str) -> tuple[tuple[time, time] | None, bool]:
    """The window in what is left of the text once the day is taken: ((start, end) or None, sure)."""
    marked = _take_parts(raw).strip()
    if not marked:
        return None, True
    pieces = _SEPARATOR.split(marked, maxsplit=1)
    if len(pieces) == 2 and (not pieces[0].strip() or not pieces[1].strip()):  # "-16:00", "14:00-"
        raise DomainError("bad_time")
    sides = [_side(piece) for piece in pieces]
    if any(s.hour is None for s in sides):
        if len(sides) == 1 and sides[0].part:  # only a part of the day
            return DEFAULT_WINDOWS[sides[0].part], True
        raise DomainError("bad_time")
    first = sides[0]
    sure = True
    if len(sides) == 1:
        part, ampm = first.part, first.ampm
        h = _clock(first, part, ampm)
        if part is None and ampm is None and 1 <= h <= 6:
            h, sure = h + 12, False
        start = _time(h, first.minute)
        end_at = datetime.combine(date.min, start) + DEFAULT_LENGTH
        if end_at.date() != date.min:
            raise DomainError("bad_time")
        return (start, end_at.time()), False
    second = sides[1]
    part_b = second.part or first.part
    ampm_a = first.ampm or (second.ampm if first.part is None else None)
    ampm_b = second.ampm or first.ampm
    hb = _clock(second, part_b, ampm_b)
    ha = _clock(first, first.part, ampm_a)
    if first.part is None and second.part in _AFTERNOON and first.ampm is None:
        carried = _clock(first, second.part, None)  # "2到4点下午"; not "10点到下午2点"
        if carried < hb or (carried == hb and first.minute < second.minute):
            ha = carried
    if not (first.part or part_b or ampm_a or ampm_b) and 1 <= ha <= 6 and 1 <= hb <= 7:
        ha, hb, sure = ha + 12, hb + 12, False  # "2点到4点": the afternoon, read back
    start, end = _time(ha, first.minute), _time(hb, second.minute)
    if end <= start and second.part is None and second.ampm is None and hb < 12 and _time(hb + 12, 0) > start:
        end, sure = _time(hb + 12, second.minute), False  # "10点到2点"
    if end <= start:
        raise DomainError("bad_window")
    return (start, end), sure


# the whole text ------------------------------------------------------------------------------------------------


def read(text: str | None, now: datetime, tz: ZoneInfo, *, want: Want = "day") -> Reading:
    """Read a day and/or a time window. want="day": the text answers "which day?" (a window may come with it; without
    a day the reading is a guess); want="window": it answers "what time?" (a day may come with it)."""
    raw = normalise(text)
    if not raw:
        raise DomainError("bad_date" if want == "day" else "bad_time")
    local = now.astimezone(tz)
    today = local.date()
    day, implied, day_sure, rest = _take_day(raw, today, want)
    if implied and not re.search(r"\d", rest):
        rest = implied + rest  # 今晚 / 明早 alone: that part's window
    elif implied:
        rest = implied + " " + rest
    try:
        window, window_sure = _take_window(rest)
    except DomainError as err:
        if day is None and want == "day" and err.code == "bad_time":
            raise DomainError("bad_date") from None
        raise
    if day is None and window is None:
        raise DomainError("bad_date" if want == "day" else "bad_time")
    sure = day_sure and window_sure
    if day is None and want == "day":
        assert window is not None
        day = today if window[0] > local.time().replace(tzinfo=None) else today + timedelta(days=1)
        sure = False
    if day is not None and day < today:
        raise DomainError("past_time")
    if day == today and window is not None and window[1] <= local.time().replace(tzinfo=None):
        raise DomainError("past_time")
    start, end = window if window else (None, None)
    return Reading(day=day, start=start, end=end, sure=sure)
