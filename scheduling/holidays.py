"""The station's calendar: 我们的节日, civic days, statutory holidays, scheduled posts.

Pure Python, no Telegram. Lunar dates and solar terms come from lunar-python,
statutory holidays and make-up workdays from chinese_calendar.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import chinese_calendar
from lunar_python import Lunar

from scheduling.themes import FESTIVAL_ACTIVITIES, default_theme

__all__ = [
    "CIVIC_KEYS",
    "EVENT_NAMES",
    "FESTIVAL_ACTIVITIES",
    "FESTIVAL_KEYS",
    "REMINDER_OFFSETS",
    "CalendarUnknown",
    "DayStatus",
    "Festival",
    "Post",
    "civic_days",
    "day_status",
    "festival_dates",
    "format_year",
    "published_years",
    "scheduled_posts",
]

REMINDER_OFFSETS: tuple[int, ...] = (7, 1, 0)


@dataclass(frozen=True)
class Festival:
    key: str
    name_zh: str
    name_en: str
    date: dt.date
    kind: str  # "festival" or "civic"


# key -> (name_zh, name_en, lunar month, lunar day); 除夕 and 清明 are special.
_LUNAR = {
    "chunjie": ("春节", "Spring Festival", 1, 1),
    "yuanxiao": ("元宵", "Lantern Festival", 1, 15),
    "duanwu": ("端午", "Dragon Boat Festival", 5, 5),
    "qixi": ("七夕", "Qixi Festival", 7, 7),
    "zhongqiu": ("中秋", "Mid-Autumn Festival", 8, 15),
    "chongyang": ("重阳", "Double Ninth Festival", 9, 9),
}
FESTIVAL_KEYS = ("chuxi", "chunjie", "yuanxiao", "qingming", "duanwu", "qixi", "zhongqiu", "chongyang")


def _solar(lunar: Lunar) -> dt.date:
    s = lunar.getSolar()
    return dt.date(s.getYear(), s.getMonth(), s.getDay())


def festival_dates(year: int) -> list[Festival]:
    """我们的节日 whose Gregorian date lies in `year`, sorted by date.

    Lunar year `year` starts with 春节 between 21 Jan and 20 Feb of `year`, so
    all its festivals through 重阳 fall in `year`. Its own 除夕 falls in `year + 1`;
    the 除夕 listed here is the eve of this year's 春节 (last day of the previous
    lunar year's 12th month, the 29th or 30th).
    """
    out = [
        Festival(key, zh, en, _solar(Lunar.fromYmd(year, m, d)), "festival") for key, (zh, en, m, d) in _LUNAR.items()
    ]
    out.append(
        Festival("chuxi", "除夕", "Chinese New Year's Eve", _solar(Lunar.fromYmd(year, 1, 1).next(-1)), "festival")
    )
    # Lunar year `year`'s jieqi table spans Dec of year-1 to Mar of year+1, so
    # its only 清明 is the April one of Gregorian `year`.
    qm = Lunar.fromYmd(year, 1, 1).getJieQiTable()["清明"]
    out.append(
        Festival("qingming", "清明", "Qingming Festival", dt.date(qm.getYear(), qm.getMonth(), qm.getDay()), "festival")
    )
    wrong = [f for f in out if f.date.year != year]
    if wrong:  # would mean the reasoning above broke, never a silent wrong list
        raise RuntimeError(f"festival outside {year}: {wrong}")
    return sorted(out, key=lambda f: f.date)


def _nth_sunday(year: int, month: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7 * (n - 1))


# key -> (name_zh, name_en, date rule)
_CIVIC = {
    "leifeng": ("学雷锋纪念日", "Learn from Lei Feng Day", lambda y: dt.date(y, 3, 5)),
    "womens_day": ("妇女节", "International Women's Day", lambda y: dt.date(y, 3, 8)),
    "reading_day": ("世界读书日", "World Book Day", lambda y: dt.date(y, 4, 23)),
    "mothers_day": ("母亲节", "Mother's Day", lambda y: _nth_sunday(y, 5, 2)),
    "fathers_day": ("父亲节", "Father's Day", lambda y: _nth_sunday(y, 6, 3)),
    "party_day": ("建党节", "Party Founding Day", lambda y: dt.date(y, 7, 1)),
    "national_day": ("国庆节", "National Day", lambda y: dt.date(y, 10, 1)),
    "volunteer_day": ("国际志愿者日", "International Volunteer Day", lambda y: dt.date(y, 12, 5)),
}
CIVIC_KEYS = tuple(_CIVIC)

# Every festival and civic day: key -> (name_zh, name_en, kind), in calendar order of a year.
EVENT_NAMES: dict[str, tuple[str, str, str]] = {
    "chuxi": ("除夕", "Chinese New Year's Eve", "festival"),
    **{k: (zh, en, "festival") for k, (zh, en, _m, _d) in list(_LUNAR.items())[:2]},
    "qingming": ("清明", "Qingming Festival", "festival"),
    **{k: (zh, en, "festival") for k, (zh, en, _m, _d) in list(_LUNAR.items())[2:]},
    **{k: (zh, en, "civic") for k, (zh, en, _rule) in _CIVIC.items()},
}


def civic_days(year: int) -> list[Festival]:
    return [Festival(key, zh, en, rule(year), "civic") for key, (zh, en, rule) in _CIVIC.items()]


# ---- statutory holidays (chinese_calendar) ----


class CalendarUnknown(LookupError):
    """The State Council's holiday schedule for `year` is not in our data."""

    def __init__(self, year: int):
        self.year = year
        self.message_zh = f"暂无 {year} 年的法定节假日安排（国务院尚未发布，或日历数据需要更新）。"
        self.message_en = (
            f"No statutory holiday schedule for {year} yet "
            "(not published by the State Council, or the calendar data needs an update)."
        )
        super().__init__(f"{self.message_zh} / {self.message_en}")


# chinese_calendar's English holiday names -> the Chinese ones people use.
_HOLIDAY_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


@dataclass(frozen=True)
class DayStatus:
    """is_holiday means a day off (weekend or statutory); holiday_name is set only
    on statutory holidays, makeup_for only on make-up workdays (调休上班)."""

    date: dt.date
    is_holiday: bool
    is_workday: bool
    is_makeup_workday: bool
    holiday_name: str | None  # chinese_calendar's English name
    makeup_for: str | None = None

    @property
    def holiday_name_zh(self) -> str | None:
        return _HOLIDAY_ZH.get(self.holiday_name, self.holiday_name) if self.holiday_name else None

    @property
    def makeup_for_zh(self) -> str | None:
        return _HOLIDAY_ZH.get(self.makeup_for, self.makeup_for) if self.makeup_for else None


def published_years() -> range:
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def day_status(d: dt.date) -> DayStatus:
    if isinstance(d, dt.datetime):
        d = d.date()
    if d.year not in published_years():
        raise CalendarUnknown(d.year)
    try:
        workday = chinese_calendar.is_workday(d)
        _, name = chinese_calendar.get_holiday_detail(d)
    except NotImplementedError as exc:  # never guess an unpublished schedule
        raise CalendarUnknown(d.year) from exc
    makeup = workday and d.weekday() >= 5
    return DayStatus(
        date=d,
        is_holiday=not workday,
        is_workday=workday,
        is_makeup_workday=makeup,
        # the package names the holiday on its make-up workdays too; keep them apart
        holiday_name=None if workday else name,
        makeup_for=name if makeup else None,
    )


# ---- scheduled posts ----


@dataclass(frozen=True)
class Post:
    date: dt.date
    kind: str  # "theme", "festival" or "civic"
    key: str
    name: str
    offset_days: int  # days before the event; 0 on the day


_KIND_ORDER = {"theme": 0, "festival": 1, "civic": 2}


def _events(year: int, enabled_civic: frozenset[str]) -> list[Festival]:
    return festival_dates(year) + [f for f in civic_days(year) if f.key in enabled_civic]


def scheduled_posts(
    year: int, offsets: Iterable[int] = REMINDER_OFFSETS, enabled_civic: Iterable[str] | None = None
) -> list[Post]:
    """Posts dated in `year`: monthly themes on the 1st, and a reminder `offset`
    days before each festival and enabled civic day (None enables all).

    Sorted by date, then theme/festival/civic, then offset, then key.
    """
    offsets = tuple(offsets)
    if any(not isinstance(o, int) or isinstance(o, bool) or o < 0 for o in offsets):
        raise ValueError(f"offsets must be non-negative integers: {offsets}")
    offsets = sorted(set(offsets))
    enabled = frozenset(CIVIC_KEYS if enabled_civic is None else enabled_civic)
    unknown = enabled - set(CIVIC_KEYS)
    if unknown:
        raise ValueError(f"unknown civic day keys: {sorted(unknown)}")

    posts = [Post(dt.date(year, m, 1), "theme", f"theme_{m:02d}", default_theme(m).title_zh, 0) for m in range(1, 13)]
    # Reminders for early next-year events (e.g. 除夕 in January) can fall in
    # December with long offsets, so look at both years and keep this year's posts.
    for event in _events(year, enabled) + _events(year + 1, enabled):
        for off in offsets:
            when = event.date - dt.timedelta(days=off)
            if when.year == year:
                posts.append(Post(when, event.kind, event.key, event.name_zh, off))
    posts.sort(key=lambda p: (p.date, _KIND_ORDER[p.kind], p.offset_days, p.key))
    return posts


def format_year(
    year: int, offsets: Iterable[int] = REMINDER_OFFSETS, enabled_civic: Iterable[str] | None = None
) -> str:
    """One line per post: `2026-06-12  festival  端午  -7d` (offset shown when not 0)."""
    lines = []
    for p in scheduled_posts(year, offsets, enabled_civic):
        line = f"{p.date.isoformat()}  {p.kind}  {p.name}"
        lines.append(f"{line}  -{p.offset_days}d" if p.offset_days else line)
    return "\n".join(lines)
