"""Inline keyboards and their CallbackData factories. Prefixes carry a version: old buttons
with an unknown version are answered as stale instead of misread."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.lazy_proxy import LazyProxy


def inline(rows: Sequence[Sequence[tuple[str, CallbackData | str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=text, callback_data=data.pack() if isinstance(data, CallbackData) else data)
                for text, data in row
            ]
            for row in rows
        ]
    )


def field_picker(
    fields: Sequence[tuple[str, str | LazyProxy]], button: Callable[[str], CallbackData]
) -> InlineKeyboardMarkup:
    """“Which part do you want to change?”: a button per (key, label), four to a row; button(key) makes its data."""
    return inline([[(str(label), button(key)) for key, label in fields[i : i + 4]] for i in range(0, len(fields), 4)])


def main_menu() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        resize_keyboard=True,
        keyboard=[
            [KeyboardButton(text=_("📝 Request a service")), KeyboardButton(text=_("📋 My requests"))],
            [KeyboardButton(text=_("🙋 Become a volunteer")), KeyboardButton(text=_("❓ Help"))],
        ],
    )


def share_phone(*, skippable: bool = True) -> ReplyKeyboardMarkup:
    """The share-my-number button, and “Skip” where the number may be left out (a request; not a volunteer's)."""
    keyboard = [[KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)]]
    if skippable:
        keyboard.append([KeyboardButton(text=_("Skip"))])
    return ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True, keyboard=keyboard)
