"""Buttons of the calendar features: /theme and /civic."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline


class ThemeCb(CallbackData, prefix="th1"):
    """Save or drop a previewed theme edit."""

    action: str  # save | drop
    month: int


class CivicCb(CallbackData, prefix="cv1"):
    """Turn a civic day on or off (the wanted state, not a toggle: a replayed tap changes nothing more)."""

    key: str
    on: int


def theme_confirm(month: int) -> InlineKeyboardMarkup:
    return inline(
        [[(_("✅ Save"), ThemeCb(action="save", month=month)), (_("✖️ Discard"), ThemeCb(action="drop", month=month))]]
    )


def civic_toggles(rows: list[tuple[str, str, bool]]) -> InlineKeyboardMarkup:
    """rows: (key, label, on) -> one button per day showing its state; a tap flips it."""
    return inline(
        [[(("✅ " if on else "⬜ ") + label, CivicCb(key=key, on=0 if on else 1))] for key, label, on in rows]
    )
