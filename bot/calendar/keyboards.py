"""Buttons of the calendar features: /theme and /civic."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline
from bot.ui.scope import ANYWHERE, PRIVATE, Scopes


class ThemeCb(CallbackData, prefix="th1"):
    """Save or drop a previewed theme edit."""

    scope: ClassVar[Scopes] = ANYWHERE
    action: str  # save | drop
    month: int


class CivicCb(CallbackData, prefix="cv1"):
    """Turn a civic day on or off (the wanted state, not a toggle: a replayed tap changes nothing more)."""

    scope: ClassVar[Scopes] = ANYWHERE
    key: str
    on: int


class NoticeCb(CallbackData, prefix="nt1"):
    """Send or drop a coordinator's previewed notice to his groups (the text waits in his conversation)."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str  # send | drop


def notice_confirm() -> InlineKeyboardMarkup:
    return inline([[(_("📣 Send"), NoticeCb(action="send")), (_("✖️ Discard"), NoticeCb(action="drop"))]])


def theme_confirm(month: int) -> InlineKeyboardMarkup:
    return inline(
        [[(_("✅ Save"), ThemeCb(action="save", month=month)), (_("✖️ Discard"), ThemeCb(action="drop", month=month))]]
    )


def civic_toggles(rows: list[tuple[str, str, bool]]) -> InlineKeyboardMarkup:
    """rows: (key, label, on) -> one button per day showing its state; a tap flips it."""
    return inline(
        [[(("✅ " if on else "⬜ ") + label, CivicCb(key=key, on=0 if on else 1))] for key, label, on in rows]
    )
