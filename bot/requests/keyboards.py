"""Buttons of a request's life: the card, the claimer's, the resident's, the coordinators'. Prefixes carry
a version: old buttons with an unknown version are answered as stale instead of misread."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline


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


def card(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("🙋 Accept"), CardCb(rid=rid))]])


def task(rid: int) -> InlineKeyboardMarkup:
    return inline(
        [[(_("✅ Service done"), TaskCb(action="done", rid=rid)), (_("↩️ Release"), TaskCb(action="release", rid=rid))]]
    )


def rate(rid: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [("⭐" * n, RateCb(rid=rid, stars=n)) for n in (1, 2, 3)],
            [("⭐" * n, RateCb(rid=rid, stars=n)) for n in (4, 5)],
        ]
    )


def approve(rid: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("✅ Approve hours"), ApproveCb(action="ok", rid=rid)),
                (_("✏️ Correct hours"), ApproveCb(action="fix", rid=rid)),
            ]
        ]
    )


def review(rid: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("📤 Dispatch"), ReviewCb(action="go", rid=rid)),
                (_("🔀 Other team"), ReviewCb(action="move", rid=rid)),
            ],
            [(_("❌ Reject"), ReviewCb(action="reject", rid=rid))],
        ]
    )


def cancel_ask(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Cancel request"), CancelCb(action="ask", rid=rid))]])


def cancel_confirm(rid: int) -> InlineKeyboardMarkup:
    return inline(
        [[(_("Yes, cancel it"), CancelCb(action="yes", rid=rid)), (_("No, keep it"), CancelCb(action="no", rid=rid))]]
    )


class HoursCb(CallbackData, prefix="h1"):
    """Hours picked when reporting a service done, in half hours."""

    rid: int
    half: int


def hours(rid: int, max_minutes: int) -> InlineKeyboardMarkup:
    choices = [h for h in (1, 2, 3, 4, 6, 8) if h * 30 <= max_minutes]
    return inline(
        [[(f"{h / 2:g} h", HoursCb(rid=rid, half=h)) for h in choices[i : i + 3]] for i in range(0, len(choices), 3)]
        or []
    )


class RemindCb(CallbackData, prefix="rm1"):
    """A volunteer's answer to a reminder of a claimed request."""

    action: str  # coming | missed
    rid: int


def reminder(rid: int) -> InlineKeyboardMarkup:
    """An hour before: "I am coming", or release it (the existing button) while it has not begun."""
    return inline(
        [
            [
                (_("👍 I am coming"), RemindCb(action="coming", rid=rid)),
                (_("↩️ Release"), TaskCb(action="release", rid=rid)),
            ]
        ]
    )


def reminder_release(rid: int) -> InlineKeyboardMarkup:
    """After "I am coming": releasing stays possible until the service begins."""
    return inline([[(_("↩️ Release"), TaskCb(action="release", rid=rid))]])


def overdue(rid: int) -> InlineKeyboardMarkup:
    """After the window: report it done (the existing button), or say it did not take place."""
    return inline(
        [
            [
                (_("✅ Service done"), TaskCb(action="done", rid=rid)),
                (_("❌ It did not take place"), RemindCb(action="missed", rid=rid)),
            ]
        ]
    )
