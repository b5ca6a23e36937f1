"""What coordinators change in the station's calendar: monthly themes and festival customs (CustomText, per
language), civic days on or off (StationSetting `civic.<key>`), and the published activities a month's post lists.

A coordinator edits the text of his own language; the other language keeps its default until edited there.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.org import service as org
from bot.people.service import require_coordinator
from scheduling.holidays import CIVIC_KEYS
from scheduling.holidays import EVENT_NAMES as EVENT_NAMES  # handlers list the festivals from here
from scheduling.themes import FESTIVAL_ACTIVITIES, default_theme
from storage.models import Activity, CustomText, StationSetting, Team, TeamChat, User

TITLE_LIMIT, TEXT_LIMIT, ACTIVITY_LIMIT, MAX_ACTIVITIES = 40, 300, 80, 6
FESTIVAL_LIMIT = 500
CIVIC_PREFIX = "civic."


def lang(locale: str) -> str:
    return "en" if locale == "en" else "zh"


def stored_locale(locale: str) -> str:
    return "en" if locale == "en" else "zh_Hans"


def _fit(value: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise DomainError("empty")
    if len(value) > limit:
        raise DomainError("too_long", length=len(value), limit=limit)
    return value


# monthly themes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeText:
    month: int
    title: str
    text: str
    activities: tuple[str, ...]
    edited: bool = False


def theme_key(month: int) -> str:
    return f"theme:{month}"


def month_of(raw: str) -> int:
    """'3', '03' or '3月' -> 3; anything else outside 1..12 is refused."""
    raw = raw.strip().removesuffix("月")
    if not raw.isdecimal() or not 1 <= int(raw) <= 12:
        raise DomainError("calendar_bad_month", month=raw[:10])
    return int(raw)


def default_theme_text(month: int, locale: str) -> ThemeText:
    t = default_theme(month)
    if lang(locale) == "en":
        return ThemeText(month, t.title_en, t.text_en, t.activities_en)
    return ThemeText(month, t.title_zh, t.text_zh, t.activities_zh)


def _decode_theme(month: int, raw: str) -> ThemeText | None:
    try:
        data = json.loads(raw)
        return ThemeText(month, str(data["title"]), str(data["text"]), tuple(map(str, data["activities"])), True)
    except (ValueError, KeyError, TypeError):  # a damaged row falls back to the default, never breaks a post
        return None


async def theme(s: AsyncSession, month: int, locale: str) -> ThemeText:
    row = await s.get(CustomText, (theme_key(month), stored_locale(locale)))
    return (row and _decode_theme(month, row.text)) or default_theme_text(month, locale)


async def themes(s: AsyncSession, locale: str) -> list[ThemeText]:
    return [await theme(s, month, locale) for month in range(1, 13)]


def check_title(value: str) -> str:
    return _fit(value, TITLE_LIMIT)


def check_text(value: str) -> str:
    return _fit(value, TEXT_LIMIT)


def check_activities(value: str) -> tuple[str, ...]:
    """Activities separated by ';' (or '；', or one per line)."""
    items = [a for a in re.split(r"[;；\n]", value) if a.strip()]
    if not items:
        raise DomainError("empty")
    if len(items) > MAX_ACTIVITIES:
        raise DomainError("calendar_too_many", count=len(items), limit=MAX_ACTIVITIES)
    return tuple(_fit(a, ACTIVITY_LIMIT) for a in items)


def parse_theme(current: ThemeText, raw: str) -> ThemeText:
    """'title | text | activity; activity' – an empty part keeps what is there now."""
    parts = re.split(r"[|｜]", raw)
    if len(parts) > 3:
        raise DomainError("usage", usage="/theme 3 title | text | activity; activity")
    parts += [""] * (3 - len(parts))
    title = check_title(parts[0]) if parts[0].strip() else current.title
    text = check_text(parts[1]) if parts[1].strip() else current.text
    activities = check_activities(parts[2]) if parts[2].strip() else current.activities
    return ThemeText(current.month, title, text, activities, True)


async def _put_text(s: AsyncSession, key: str, locale: str, text: str, actor: User, now: dt.datetime) -> None:
    row = await s.get(CustomText, (key, stored_locale(locale)))
    if row is None:
        s.add(CustomText(key=key, locale=stored_locale(locale), text=text, updated_by=actor.id, updated_at=now))
    else:
        row.text, row.updated_by, row.updated_at = text, actor.id, now


async def _drop_text(s: AsyncSession, key: str, locale: str) -> bool:
    result = await s.execute(
        delete(CustomText).where(CustomText.key == key, CustomText.locale == stored_locale(locale))
    )
    return bool(cast("CursorResult[Any]", result).rowcount)  # a DML statement's result is a CursorResult


async def save_theme(s: AsyncSession, actor: User, new: ThemeText, locale: str, now: dt.datetime) -> None:
    require_coordinator(actor)
    data = {
        "title": _fit(new.title, TITLE_LIMIT),
        "text": _fit(new.text, TEXT_LIMIT),
        "activities": [_fit(a, ACTIVITY_LIMIT) for a in new.activities][:MAX_ACTIVITIES],
    }
    await _put_text(s, theme_key(new.month), locale, json.dumps(data, ensure_ascii=False), actor, now)


async def reset_theme(s: AsyncSession, actor: User, month: int, locale: str) -> bool:
    require_coordinator(actor)
    return await _drop_text(s, theme_key(month), locale)


# festivals and civic days: customs and suggested activities -------------------------------------


def festival_key(key: str) -> str:
    return f"festival:{key}"


def event_name(key: str, locale: str) -> str:
    zh, en, _kind = EVENT_NAMES[key]
    return en if lang(locale) == "en" else zh


def find_event(args: str) -> tuple[str, str]:
    """The festival or civic day named at the start of `args` (端午, 端午节, duanwu, Dragon Boat Festival),
    and the rest of `args`."""
    text = args.strip()
    folded = text.casefold()
    best: tuple[int, str] | None = None
    for key, (zh, en, _kind) in EVENT_NAMES.items():
        for name in (key, zh + "节", zh, en):
            n = name.casefold()
            if folded.startswith(n) and (len(folded) == len(n) or folded[len(n)].isspace()):
                if best is None or len(n) > best[0]:
                    best = (len(n), key)
    if best is None:
        raise DomainError("calendar_no_festival", name=text.split()[0][:30] if text else "")
    return best[1], text[best[0] :].strip()


async def festival_text(s: AsyncSession, key: str, locale: str) -> tuple[str, bool]:
    """The customs and suggested activities of a festival or civic day, and whether they were edited."""
    row = await s.get(CustomText, (festival_key(key), stored_locale(locale)))
    if row is not None:
        return row.text, True
    return FESTIVAL_ACTIVITIES.get(key, {}).get(lang(locale), ""), False


async def set_festival(s: AsyncSession, actor: User, key: str, locale: str, text: str, now: dt.datetime) -> str:
    require_coordinator(actor)
    if key not in EVENT_NAMES:
        raise DomainError("calendar_no_festival", name=key)
    text = _fit(text, FESTIVAL_LIMIT)
    await _put_text(s, festival_key(key), locale, text, actor, now)
    return text


async def reset_festival(s: AsyncSession, actor: User, key: str, locale: str) -> bool:
    require_coordinator(actor)
    return await _drop_text(s, festival_key(key), locale)


# civic days on or off -------------------------------------------------------------------------------


async def civic_enabled(s: AsyncSession) -> frozenset[str]:
    """Civic days the station keeps; every one is on until a coordinator turns it off."""
    rows = await s.execute(
        select(StationSetting.key, StationSetting.value).where(StationSetting.key.like(f"{CIVIC_PREFIX}%"))
    )
    off = {key.removeprefix(CIVIC_PREFIX) for key, value in rows.all() if value == "off"}
    return frozenset(k for k in CIVIC_KEYS if k not in off)


async def set_civic(s: AsyncSession, actor: User, key: str, on: bool) -> None:
    """Sets (not toggles) the day's state, so a double tap or a replayed button changes nothing more."""
    require_coordinator(actor)
    if key not in CIVIC_KEYS:
        raise DomainError("stale")
    row = await s.get(StationSetting, CIVIC_PREFIX + key)
    if row is None:
        s.add(StationSetting(key=CIVIC_PREFIX + key, value="on" if on else "off"))
    else:
        row.value = "on" if on else "off"


# the month's published activities ------------------------------------------------------------------


async def month_activities(s: AsyncSession, year: int, month: int, tz: ZoneInfo) -> list[Activity]:
    """Published activities starting in the month (station time), in order."""
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    rows = await s.execute(
        select(Activity)
        .where(
            Activity.status == "published",
            Activity.starts_at >= start.astimezone(dt.timezone.utc),
            Activity.starts_at < end.astimezone(dt.timezone.utc),
        )
        .order_by(Activity.starts_at, Activity.id)
    )
    return list(rows.scalars())


# a station's own notice to its groups -------------------------------------------------------------------

NOTICE_LIMIT = 1000


def check_notice(text: str | None) -> str:
    """A coordinator's notice: plain text, at most NOTICE_LIMIT characters."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise DomainError("notice_empty")
    if len(cleaned) > NOTICE_LIMIT:
        raise DomainError("too_long", field="notice", limit=NOTICE_LIMIT, length=len(cleaned))
    return cleaned


async def notice_chats(s: AsyncSession, actor: User) -> list[int]:
    """The groups a coordinator's notice goes to: those of the teams of his station (or of the stations under his
    所; the 中心's: every team's)."""
    require_coordinator(actor)
    scope = await org.scope_of(s, actor)
    query = (
        select(TeamChat.chat_id)
        .join(Team, Team.id == TeamChat.team_id)
        .where(Team.archived.is_(False))
        .order_by(TeamChat.chat_id)
    )
    if not scope.everything:
        query = query.where(Team.node_id.in_(scope.nodes))
    return list((await s.execute(query)).scalars())
