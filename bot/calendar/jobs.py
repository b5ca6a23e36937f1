"""What the calendar owes the station, and when: monthly theme posts and festival/civic reminders.

Every post of `scheduling.holidays.scheduled_posts` falls due at `THEME_POST_HOUR` station time
on its date. A due post is rendered per recipient: each bound group in the station's default
language, each coordinator in their own. Texts a coordinator edited (/theme, /festival) replace the
defaults in their language; a month's theme post also lists that month's published activities.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.calendar import service as calendar
from bot.calendar.service import ThemeText, default_theme_text
from bot.outbox import Outbox
from bot.people.service import coordinators
from bot.ui import texts
from scheduling.holidays import REMINDER_OFFSETS, Festival, Post, civic_days, festival_dates, scheduled_posts
from scheduling.themes import FESTIVAL_ACTIVITIES
from storage.models import Activity, TeamChat

UTC = dt.timezone.utc


@dataclass(frozen=True)
class Due:
    """One scheduled post and the moment it falls due."""

    key: str  # the occurrence key, e.g. "theme:2026-12", "festival:2026:duanwu:-7d"
    due_at: dt.datetime  # aware UTC
    post: Post

    @property
    def event_date(self) -> dt.date:
        return self.post.date + dt.timedelta(days=self.post.offset_days)


def occurrence_key(post: Post) -> str:
    if post.kind == "theme":
        return f"theme:{post.date.year}-{post.date.month:02d}"
    event = post.date + dt.timedelta(days=post.offset_days)  # keyed by the event's year
    return (
        f"{post.kind}:{event.year}:{post.key}:-{post.offset_days}d"
        if post.offset_days
        else f"{post.kind}:{event.year}:{post.key}:0d"
    )


@lru_cache(maxsize=16)
def _year_posts(year: int, offsets: tuple[int, ...], civic: frozenset[str] | None) -> tuple[Post, ...]:
    return tuple(scheduled_posts(year, offsets, civic))


def due_between(
    start: dt.datetime,
    end: dt.datetime,
    tz: ZoneInfo,
    hour: int,
    offsets: tuple[int, ...] = REMINDER_OFFSETS,
    enabled_civic: frozenset[str] | None = None,
) -> list[Due]:
    """Posts due in [start, end] (aware datetimes), in due order (calendar order within one moment)."""
    out: list[Due] = []
    first, last = start.astimezone(tz).year, end.astimezone(tz).year
    for year in range(first, last + 1):
        for post in _year_posts(year, tuple(offsets), enabled_civic):
            due_at = dt.datetime.combine(post.date, dt.time(hour), tzinfo=tz).astimezone(UTC)
            if start <= due_at <= end:
                out.append(Due(occurrence_key(post), due_at, post))
    return out  # scheduled_posts is sorted by date and every post of a date is due at the same hour


@lru_cache(maxsize=8)
def _events(year: int) -> dict[tuple[str, str], Festival]:
    return {(f.kind, f.key): f for f in festival_dates(year) + civic_days(year)}


@dataclass(frozen=True)
class Extras:
    """What the station changed or added, read before rendering: edited texts by language ("zh"/"en"),
    and a theme month's published activities."""

    themes: dict[str, ThemeText] = field(default_factory=dict)
    customs: dict[str, str] = field(default_factory=dict)
    activities: tuple[Activity, ...] = ()
    tz: ZoneInfo | None = None


def _activity_line(a: Activity, tz: dt.tzinfo) -> str:
    start = a.starts_at.astimezone(tz)
    return f"• {texts.fmt_day(start.date())} {start:%H:%M} {a.title} – {a.place}"


def days_left(due: Due, today: dt.date) -> int:
    """Days from `today` (the station's date when the post is sent) to the day the post is about."""
    return (due.event_date - today).days


def stale_reason(due: Due, today: dt.date, later_due: bool) -> str | None:
    """Why a festival or civic-day post must not be sent on `today`, or None if it may.

    Such a post only makes sense on or before its day: after the day has passed it is never sent, whatever the
    grace. A reminder ahead of the day is not sent on the day itself (the day's own post goes out that day) nor
    when a later post of the same day is due too (`later_due`): a late reminder would repeat it. A month's theme
    post has no such day; within the grace it may go out late."""
    if due.post.kind == "theme":
        return None
    if due.event_date < today:
        return f"its day {due.event_date.isoformat()} has passed"
    if due.post.offset_days and due.event_date == today:
        return "the day's own post goes out today"
    if later_due:
        return "a later post of the same day is due too"
    return None


def render(due: Due, locale: str, extras: Extras | None = None, today: dt.date | None = None) -> str:
    """The post's text, worded for `today` (the station's date when it is sent; None: the date it is due);
    call inside an i18n context set to `locale`."""
    lang = "en" if locale == "en" else "zh"
    extras = extras or Extras()
    post = due.post
    if post.kind == "theme":
        theme = extras.themes.get(lang) or default_theme_text(post.date.month, locale)
        lines = [
            _("📅 Theme of the month: {title}").format(title=theme.title),
            theme.text,
            "",
            _("Suggested activities:"),
            *(f"• {a}" for a in theme.activities),
        ]
        if extras.activities:
            lines += [
                "",
                _("This month's activities:"),
                *(_activity_line(a, extras.tz or UTC) for a in extras.activities),
            ]
        return "\n".join(lines)
    event = _events(due.event_date.year).get((post.kind, post.key))
    name = (event.name_en if lang == "en" else event.name_zh) if event else post.name
    day = texts.fmt_day(due.event_date)
    left = post.offset_days if today is None else days_left(due, today)
    if left <= 0:
        head = _("🎉 Today is {name}, {date}.").format(name=name, date=day)
    elif left == 1:
        head = _("⏰ Tomorrow is {name}, {date}.").format(name=name, date=day)
    else:
        head = _("⏰ {name} is in {days} days, {date}.").format(name=name, days=left, date=day)
    lines = [head]
    activities = extras.customs.get(lang) or FESTIVAL_ACTIVITIES.get(post.key, {}).get(lang)
    if activities:
        lines += ["", _("Customs and suggested activities:"), activities]
    return "\n".join(lines)


async def extras_for(s: AsyncSession, due: Due, tz: ZoneInfo) -> Extras:
    """The edited texts (and, for a theme, the published activities) a post shows."""
    post = due.post
    if post.kind == "theme":
        themes = {calendar.lang(loc): await calendar.theme(s, post.date.month, loc) for loc in ("zh_Hans", "en")}
        return Extras(
            themes={k: t for k, t in themes.items() if t.edited},
            tz=tz,
            activities=tuple(await calendar.month_activities(s, post.date.year, post.date.month, tz)),
        )
    customs = {}
    for loc in ("zh_Hans", "en"):
        text, edited = await calendar.festival_text(s, post.key, loc)
        if edited:
            customs[calendar.lang(loc)] = text
    return Extras(customs=customs, tz=tz)


async def queue_post(s: AsyncSession, due: Due, outbox: Outbox) -> int:
    """Write the post to the outbox for every bound group and every coordinator; returns how many."""
    rendered: dict[str, str] = {}
    extras = await extras_for(s, due, outbox.tz)
    today = outbox.clock.now().astimezone(outbox.tz).date()  # worded for the moment it is sent

    def text_in(locale: str) -> str:
        if locale not in rendered:
            with outbox.in_locale(locale):
                rendered[locale] = render(due, locale, extras, today)
        return rendered[locale]

    groups = (await s.execute(select(TeamChat.chat_id).distinct().order_by(TeamChat.chat_id))).scalars().all()
    recipients = [(chat_id, outbox.default_locale) for chat_id in groups]
    recipients += [(user.id, user.locale) for user in await coordinators(s)]
    for chat_id, locale in recipients:
        outbox.to_chat(s, chat_id, text_in(locale), ref=f"post:{due.key}"[:40])
    return len(recipients)
