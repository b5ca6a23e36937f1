"""The day and time-window steps of a conversation (点单, publishing an activity), named "day" and "window": buttons
for the coming days and the usual slots, or a day or window typed as people say them (bot/core/when.py). The
answers are kept in the FSM data as "day" (ISO date) and "start", "end" ("HH:MM", station time); `check(start, end,
now)` is the feature's rule for a window (in UTC), raising DomainError."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.core import dates, when
from bot.core.errors import DomainError
from bot.ui import texts
from bot.ui.keyboards import inline
from bot.ui.wizard import Button, Data, Hold, Step, Turn

Check = Callable[[datetime, datetime, datetime], None]


def times(data: Data, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The chosen window in UTC."""
    day = date.fromisoformat(data["day"])
    return (
        dates.to_utc(day, time.fromisoformat(data["start"]), tz),
        dates.to_utc(day, time.fromisoformat(data["end"]), tz),
    )


def day_label(d: date, today: date) -> str:
    """A day button as people say it: "今天（周三）", "明天（周四）", "后天（周五）", then "12月6日（周六）"."""
    weekday = str(texts.WEEKDAYS[d.weekday()])
    near = {
        0: _("Today ({weekday})"),
        1: _("Tomorrow ({weekday})"),
        2: _("Day after tomorrow ({weekday})"),
    }.get((d - today).days)
    return near.format(weekday=weekday) if near else texts.fmt_day(d)


def slot_label(a: str, b: str) -> str:
    """A time window as people say it: "上午 9–11 点（09:00–11:00）"."""
    start, end = int(a[:2]), int(b[:2])
    part = _("Morning") if start < 12 else _("Afternoon") if start < 18 else _("Evening")

    def twelve(h: int) -> int:
        return h - 12 if h > 12 else h

    return _("{part} {start}–{end} o'clock ({a}–{b})").format(part=part, start=twelve(start), end=twelve(end), a=a, b=b)


def _when_text(reading: when.Reading) -> str:
    assert reading.day is not None
    window = reading.window
    return texts.fmt_day(reading.day) + (f"{window[0]:%H:%M}–{window[1]:%H:%M}" if window else "")


def _encode(reading: when.Reading, fallback_day: date | None) -> str:
    """A reading in a button's value: "20261206" or "20261206T1400-1600" (the day may be the one already chosen)."""
    day = reading.day or fallback_day
    assert day is not None
    window = reading.window
    return f"{day:%Y%m%d}" + (f"T{window[0]:%H%M}-{window[1]:%H%M}" if window else "")


def _decode(value: str) -> when.Reading:
    m = re.fullmatch(r"(\d{8})(?:T(\d{2})(\d{2})-(\d{2})(\d{2}))?", value)
    if not m:
        raise DomainError("stale")
    try:
        day = date(int(m[1][:4]), int(m[1][4:6]), int(m[1][6:]))
        start = time(int(m[2]), int(m[3])) if m[2] else None
        end = time(int(m[4]), int(m[5])) if m[4] else None
    except ValueError:
        raise DomainError("stale") from None
    return when.Reading(day=day, start=start, end=end)


def _read_back(cb: type[CallbackData], reading: when.Reading, fallback_day: date | None) -> Hold:
    """Ask “您是说 12月6日（周六）14:00–16:00 吗？” with 是的 / 重新输入."""
    shown = when.Reading(day=reading.day or fallback_day, start=reading.start, end=reading.end)
    return Hold(
        _("Did you mean {when}?").format(when=_when_text(shown)),
        inline(
            [
                [
                    (_("✅ Yes"), cb(action="when", value=_encode(reading, fallback_day))),
                    (_("✏️ Type again"), cb(action="retype")),
                ]
            ]
        ),
    )


def _retype(turn: Turn, value: str) -> Hold:
    return Hold(_("Please type the day and time again."))


def day_step(cb: type[CallbackData], label, *, days: int, check: Check) -> Step:
    """Today and the next days, three to a row (callback action "day", value the ISO date), or a day typed as people
    say it (bot/core/when.py), with the time window too if they like ("明天下午两点到四点": the window step is then
    passed over). A guess (no day given, "3.5") is read back with 是的 / 重新输入 (actions "when", "retype").
    A past day is refused. A new day keeps the window already chosen while it is still allowed; otherwise the
    window is asked again (and the conversation goes on from there)."""

    def ask(turn: Turn):
        today = turn.today()
        choices = [today + timedelta(days=n) for n in range(days)]
        rows = [
            [(day_label(d, today), cb(action="day", value=d.isoformat())) for d in choices[i : i + 3]]
            for i in range(0, days, 3)
        ]
        return (
            _(
                "On which day? Tap one, or type it as you would say it: tomorrow, Saturday, 12-05, or with the "
                "time too: tomorrow 2pm-4pm."
            ),
            inline(rows),
        )

    def chosen(turn: Turn, day: date) -> Data:
        if day < turn.today():
            raise DomainError("past_time")
        return {"day": day.isoformat(), "window_given": False}

    def tapped(turn: Turn, value: str) -> Data:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise DomainError("stale") from None
        return chosen(turn, day)

    async def accept(turn: Turn, reading: when.Reading) -> Data:
        assert reading.day is not None
        data = chosen(turn, reading.day)
        if reading.window:
            window = {"start": reading.window[0].isoformat("minutes"), "end": reading.window[1].isoformat("minutes")}
            check(*times({**data, **window}, turn.settings.tz), turn.now())
            data = {**data, **window, "window_given": True}
        return data

    async def typed(turn: Turn, message: Message) -> Data | Hold:
        reading = when.read(message.text, turn.now(), turn.settings.tz, want="day")
        if not reading.sure:
            return _read_back(cb, reading, None)
        return await accept(turn, reading)

    async def confirmed(turn: Turn, value: str) -> tuple[Data, str]:
        reading = _decode(value)
        return await accept(turn, reading), "✅ " + _when_text(reading)

    async def refit(turn: Turn, data: Data) -> str | None:
        if data.get("start") and not data.get("window_given"):
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
        buttons={"day": Button(tapped), "when": Button(confirmed), "retype": Button(_retype)},
        then=refit,
        typed=typed,
    )


def window_step(cb: type[CallbackData], label, question, *, check: Check) -> Step:
    """The usual slots, two to a row (callback action "slot", value like "1400-1600"), or a window typed as people say
    it ("下午两点到四点", "2pm-4pm", "上午"; a day typed with it changes the day); a guess is read back (actions "when",
    "retype"). The feature's `check` decides whether it is allowed on the chosen day. Passed over when the day's
    answer already gave a window."""

    def ask(turn: Turn):
        # one large button a row, said as people say it: "上午 8–10 点（08:00–10:00）"
        rows = [[(slot_label(a, b), cb(action="slot", value=f"{a}-{b}".replace(":", "")))] for a, b in dates.SLOTS]
        return str(question), inline(rows)

    async def chosen(turn: Turn, start: time, end: time, day: date | None = None) -> Data:
        window = {"start": start.isoformat("minutes"), "end": end.isoformat("minutes")}
        if day is not None:
            if day < turn.today():
                raise DomainError("past_time")
            window["day"] = day.isoformat()
        check(*times({**await turn.state.get_data(), **window}, turn.settings.tz), turn.now())
        return window

    def tapped(turn: Turn, v: str):
        return chosen(turn, *dates.parse_window(f"{v[:2]}:{v[2:4]}-{v[5:7]}:{v[7:9]}" if len(v) == 9 else ""))

    async def typed(turn: Turn, message: Message) -> Data | Hold:
        reading = when.read(message.text, turn.now(), turn.settings.tz, want="window")
        if reading.window is None:
            raise DomainError("bad_time")
        if not reading.sure:
            day = (await turn.state.get_data()).get("day")
            return _read_back(cb, reading, date.fromisoformat(day) if day else None)
        return await chosen(turn, *reading.window, reading.day)

    async def confirmed(turn: Turn, value: str) -> tuple[Data, str]:
        reading = _decode(value)
        if reading.window is None:
            raise DomainError("stale")
        return await chosen(turn, *reading.window, reading.day), "✅ " + _when_text(reading)

    return Step(
        "window",
        ask,
        label=label,
        buttons={"slot": Button(tapped), "when": Button(confirmed), "retype": Button(_retype)},
        typed=typed,
        skip=lambda data: data.get("window_given"),
    )
