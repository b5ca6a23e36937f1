"""Buttons and error texts of the calendar features: /theme, /civic and the answers to claimed-request reminders."""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.ui.keyboards import TaskCb, inline
from bot.ui.texts import register_errors


class ThemeCb(CallbackData, prefix="th1"):
    """Save or drop a previewed theme edit."""
    action: str  # save | drop
    month: int


class CivicCb(CallbackData, prefix="cv1"):
    """Turn a civic day on or off (the wanted state, not a toggle: a replayed tap changes nothing more)."""
    key: str
    on: int


class RemindCb(CallbackData, prefix="rm1"):
    """A volunteer's answer to a reminder of a claimed request."""
    action: str  # coming | missed
    rid: int


register_errors({
    "calendar_bad_month": __("There is no month “{month}”. Please give a month from 1 to 12."),
    "calendar_no_festival": __("I do not know the festival “{name}”. /festival lists them."),
    "calendar_too_many": __("That is {count} activities; at most {limit}. Please leave some out."),
})


def theme_confirm(month: int) -> InlineKeyboardMarkup:
    return inline([[(_("✅ Save"), ThemeCb(action="save", month=month)),
                    (_("✖️ Discard"), ThemeCb(action="drop", month=month))]])


def civic_toggles(rows: list[tuple[str, str, bool]]) -> InlineKeyboardMarkup:
    """rows: (key, label, on) -> one button per day showing its state; a tap flips it."""
    return inline([[(("✅ " if on else "⬜ ") + label, CivicCb(key=key, on=0 if on else 1))] for key, label, on in rows])


def reminder(rid: int) -> InlineKeyboardMarkup:
    """An hour before: "I am coming", or release it (the existing button) while it has not begun."""
    return inline([[(_("👍 I am coming"), RemindCb(action="coming", rid=rid)),
                    (_("↩️ Release"), TaskCb(action="release", rid=rid))]])


def reminder_release(rid: int) -> InlineKeyboardMarkup:
    """After "I am coming": releasing stays possible until the service begins."""
    return inline([[(_("↩️ Release"), TaskCb(action="release", rid=rid))]])


def overdue(rid: int) -> InlineKeyboardMarkup:
    """After the window: report it done (the existing button), or say it did not take place."""
    return inline([[(_("✅ Service done"), TaskCb(action="done", rid=rid)),
                    (_("❌ It did not take place"), RemindCb(action="missed", rid=rid))]])
