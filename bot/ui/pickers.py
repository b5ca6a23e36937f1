"""The day and time-window steps of a conversation (点单, publishing an activity), named "day" and "window": buttons
for the coming days and the usual slots, or a date or window typed as people write them (bot/core/dates.py). The
answers are kept in the FSM data as "day" (ISO date) and "start", "end" ("HH:MM", station time); `check(start, end,
now)` is the feature's rule for a window (in UTC), raising DomainError."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _

from bot.core import dates as when
from bot.core.errors import DomainError
from bot.ui import texts
from bot.ui.keyboards import inline
from bot.ui.wizard import Button, Data, Step, Turn

Check = Callable[[datetime, datetime, datetime], None]


def times(data: Data, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The chosen window in UTC."""
    day = date.fromisoformat(data["day"])
    return (
        when.to_utc(day, time.fromisoformat(data["start"]), tz),
        when.to_utc(day, time.fromisoformat(data["end"]), tz),
    )


def day_step(cb: type[CallbackData], label, *, days: int, check: Check) -> Step:
    """Today and the next days, three to a row (callback action "day", value the ISO date), or a date typed.
    A past day is refused. A new day keeps the window already chosen while it is still allowed; otherwise the
    window is asked again (and the conversation goes on from there)."""

    def ask(turn: Turn):
        today = turn.today()
        choices = [today + timedelta(days=n) for n in range(days)]
        rows = [
            [(texts.fmt_day(d), cb(action="day", value=d.isoformat())) for d in choices[i : i + 3]]
            for i in range(0, days, 3)
        ]
        return _("On which day? Tap one or type a date such as 2026-12-05."), inline(rows)

    def chosen(turn: Turn, day: date) -> Data:
        if day < turn.today():
            raise DomainError("past_time")
        return {"day": day.isoformat()}

    def tapped(turn: Turn, value: str) -> Data:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise DomainError("stale") from None
        return chosen(turn, day)

    async def refit(turn: Turn, data: Data) -> str | None:
        if data.get("start"):
            try:
                check(*times(data, turn.settings.tz), turn.now())
            except DomainError:
                await turn.state.update_data(start=None, end=None, editing=False)
                return "window"
        return None

    return Step(
        "day",
        ask,
        label=label,
        buttons={"day": Button(tapped)},
        then=refit,
        typed=lambda turn, message: chosen(turn, when.parse_date(message.text, turn.today())),
    )


def window_step(cb: type[CallbackData], label, question, *, check: Check) -> Step:
    """The usual slots, two to a row (callback action "slot", value like "1400-1600"), or a window typed; the
    feature's `check` decides whether it is allowed on the chosen day."""

    def ask(turn: Turn):
        rows = [
            [(f"{a}–{b}", cb(action="slot", value=f"{a}-{b}".replace(":", ""))) for a, b in when.SLOTS[i : i + 2]]
            for i in range(0, len(when.SLOTS), 2)
        ]
        return str(question), inline(rows)

    async def chosen(turn: Turn, start: time, end: time) -> Data:
        window = {"start": start.isoformat("minutes"), "end": end.isoformat("minutes")}
        check(*times({**await turn.state.get_data(), **window}, turn.settings.tz), turn.now())
        return window

    def tapped(turn: Turn, v: str):
        return chosen(turn, *when.parse_window(f"{v[:2]}:{v[2:4]}-{v[5:7]}:{v[7:9]}" if len(v) == 9 else ""))

    return Step(
        "window",
        ask,
        label=label,
        buttons={"slot": Button(tapped)},
        typed=lambda turn, message: chosen(turn, *when.parse_window(message.text)),
    )
