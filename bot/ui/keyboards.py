"""Inline keyboards and their CallbackData factories. Prefixes carry a version: old buttons
with an unknown version are answered as stale instead of misread."""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _


class CardCb(CallbackData, prefix="c1"):
    """The 接单 button on a group card."""
    rid: int


class TaskCb(CallbackData, prefix="t1"):
    """The claimer's buttons in private chat: done or release."""
    action: str
    rid: int


class RateCb(CallbackData, prefix="r1"):
    rid: int
    stars: int


class ApproveCb(CallbackData, prefix="a1"):
    action: str  # ok | fix
    rid: int


class ReviewCb(CallbackData, prefix="v1"):
    action: str  # go | move | to | reject
    rid: int
    team: int = 0


class CancelCb(CallbackData, prefix="x1"):
    action: str  # ask | yes | no
    rid: int


class OrderCb(CallbackData, prefix="o1"):
    """Steps of the 点单 conversation."""
    action: str
    value: str = ""


class TeamPickCb(CallbackData, prefix="p1"):
    """Team choice during volunteer registration."""
    team: int


def inline(rows: list[list[tuple[str, CallbackData | str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=text, callback_data=data.pack() if isinstance(data, CallbackData) else data)
         for text, data in row] for row in rows])


def field_picker(fields, button) -> InlineKeyboardMarkup:
    """“Which part do you want to change?”: a button per (key, label), four to a row; button(key) makes its data."""
    return inline([[(str(label), button(key)) for key, label in fields[i:i + 4]] for i in range(0, len(fields), 4)])


def card(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("🙋 Accept"), CardCb(rid=rid))]])


def task(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("✅ Service done"), TaskCb(action="done", rid=rid)),
                    (_("↩️ Release"), TaskCb(action="release", rid=rid))]])


def rate(rid: int) -> InlineKeyboardMarkup:
    return inline([[("⭐" * n, RateCb(rid=rid, stars=n)) for n in (1, 2, 3)],
                   [("⭐" * n, RateCb(rid=rid, stars=n)) for n in (4, 5)]])


def approve(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("✅ Approve hours"), ApproveCb(action="ok", rid=rid)),
                    (_("✏️ Correct hours"), ApproveCb(action="fix", rid=rid))]])


def review(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("📤 Dispatch"), ReviewCb(action="go", rid=rid)),
                    (_("🔀 Other team"), ReviewCb(action="move", rid=rid))],
                   [(_("❌ Reject"), ReviewCb(action="reject", rid=rid))]])


def cancel_ask(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Cancel request"), CancelCb(action="ask", rid=rid))]])


def cancel_confirm(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Yes, cancel it"), CancelCb(action="yes", rid=rid)),
                    (_("No, keep it"), CancelCb(action="no", rid=rid))]])


def main_menu() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(resize_keyboard=True, keyboard=[
        [KeyboardButton(text=_("📝 Request a service")), KeyboardButton(text=_("📋 My requests"))],
        [KeyboardButton(text=_("🙋 Become a volunteer")), KeyboardButton(text=_("❓ Help"))],
    ])


def share_phone() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(resize_keyboard=True, one_time_keyboard=True, keyboard=[
        [KeyboardButton(text=_("📱 Share my phone number"), request_contact=True)],
        [KeyboardButton(text=_("Skip"))],
    ])


class HoursCb(CallbackData, prefix="h1"):
    """Hours picked when reporting a service done, in half hours."""
    rid: int
    half: int


def hours(rid: int, max_minutes: int) -> InlineKeyboardMarkup:
    choices = [h for h in (1, 2, 3, 4, 6, 8) if h * 30 <= max_minutes]
    return inline([[(f"{h / 2:g} h", HoursCb(rid=rid, half=h)) for h in choices[i:i + 3]]
                   for i in range(0, len(choices), 3)] or [])
