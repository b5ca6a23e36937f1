"""Buttons of a request's life: the card, the claimer's, the resident's, the coordinators'. Prefixes carry
a version: old buttons with an unknown version are answered as stale instead of misread."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline
from bot.ui.scope import PRIVATE, Scopes, group_of


class CardCb(CallbackData, prefix="c1"):
    """The 接单 button on a group card."""

    scope: ClassVar[Scopes] = group_of("request", "rid")
    rid: int


class TaskCb(CallbackData, prefix="t1"):
    """The claimer's buttons in private chat: done or release."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    rid: int


class RateCb(CallbackData, prefix="r1"):
    scope: ClassVar[Scopes] = PRIVATE
    rid: int
    stars: int


class ApproveCb(CallbackData, prefix="a1"):
    scope: ClassVar[Scopes] = PRIVATE
    action: str  # ok | fix
    rid: int


class ReviewCb(CallbackData, prefix="v1"):
    scope: ClassVar[Scopes] = PRIVATE
    action: str  # go | move | to | reject
    rid: int
    team: int = 0


class CancelCb(CallbackData, prefix="x1"):
    scope: ClassVar[Scopes] = PRIVATE
    action: str  # ask | yes | no
    rid: int


class ReleaseCb(CallbackData, prefix="rl1"):
    """A coordinator answers a volunteer who asks to give a request back past RELEASES_PER_DAY."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str  # ok (release it for him) | keep
    rid: int
    uid: int  # the volunteer: the answer holds only while the request is still his


class OrderCb(CallbackData, prefix="o1"):
    """Steps of the 点单 conversation."""

    scope: ClassVar[Scopes] = PRIVATE
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


def release_decision(rid: int, uid: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("↩️ Release it"), ReleaseCb(action="ok", rid=rid, uid=uid)),
                (_("🤝 Ask to keep"), ReleaseCb(action="keep", rid=rid, uid=uid)),
            ]
        ]
    )


class HoursCb(CallbackData, prefix="h1"):
    """Hours picked when reporting a service done, in half hours."""

    scope: ClassVar[Scopes] = PRIVATE
    rid: int
    half: int


def hours(rid: int, max_minutes: int) -> InlineKeyboardMarkup:
    choices = [h for h in (1, 2, 3, 4, 6, 8) if h * 30 <= max_minutes]
    return inline(
        [
            [(_("{hours:g} h").format(hours=h / 2), HoursCb(rid=rid, half=h)) for h in choices[i : i + 3]]
            for i in range(0, len(choices), 3)
        ]
        or []
    )


class RemindCb(CallbackData, prefix="rm1"):
    """A volunteer's answer to a reminder of a claimed request."""

    scope: ClassVar[Scopes] = PRIVATE
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


class ForgetCb(CallbackData, prefix="f1"):
    """/forget's confirmation: `uid` is whose data it erases; only he may tap it."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str  # yes | no
    uid: int


def forget_confirm(uid: int) -> InlineKeyboardMarkup:
    return inline(
        [[(_("Yes, erase it"), ForgetCb(action="yes", uid=uid)), (_("No, keep it"), ForgetCb(action="no", uid=uid))]]
    )


class AgainCb(CallbackData, prefix="ag1"):
    """再来一单 on a past request (/my, the done-and-rated message): the same request, a new day."""

    scope: ClassVar[Scopes] = PRIVATE
    rid: int


class RegularCb(CallbackData, prefix="rg1"):
    """Regular needs (bot/requests/regular.py): make one from a past request (action "make", value: how often),
    stop one or turn the same volunteer on or off ("stop", "same"; rid: the regular need), skip one occurrence
    ("skip"; value: its day), and the previous volunteer's answer to the next occurrence ("take", "pass"; rid: the
    request)."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    rid: int
    value: str = ""


def again(rid: int, *, regular: bool = True) -> InlineKeyboardMarkup:
    rows: list[list[tuple[str, CallbackData]]] = [[(_("🔁 Order again"), AgainCb(rid=rid))]]
    if regular:
        rows.append([(_("📅 Make it regular"), RegularCb(action="ask", rid=rid))])
    return inline(rows)


def regular_every(rid: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [(_("Every week"), RegularCb(action="make", rid=rid, value="week"))],
            [(_("Every two weeks"), RegularCb(action="make", rid=rid, value="2weeks"))],
            [(_("Every month"), RegularCb(action="make", rid=rid, value="month"))],
        ]
    )


def regular_need(regular_id: int, same_volunteer: bool, skip_day: str | None) -> InlineKeyboardMarkup:
    rows = []
    if skip_day:
        rows.append([(_("Not needed this time"), RegularCb(action="skip", rid=regular_id, value=skip_day))])
    rows.append(
        [
            (
                _("Same volunteer: on") if same_volunteer else _("Same volunteer: off"),
                RegularCb(action="same", rid=regular_id),
            ),
            (_("Stop it"), RegularCb(action="stop", rid=regular_id)),
        ]
    )
    return inline(rows)


def regular_until(regular_id: int) -> InlineKeyboardMarkup:
    """Until when: until stopped (as made), or a date a month, three months or six months ahead."""
    return inline(
        [
            [(_("End in 1 month"), RegularCb(action="until", rid=regular_id, value="1"))],
            [(_("End in 3 months"), RegularCb(action="until", rid=regular_id, value="3"))],
            [(_("End in 6 months"), RegularCb(action="until", rid=regular_id, value="6"))],
        ]
    )


def skip_occurrence(regular_id: int, day: str) -> InlineKeyboardMarkup:
    return inline([[(_("Not needed this time"), RegularCb(action="skip", rid=regular_id, value=day))]])


def offer(rid: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("I'll take it"), RegularCb(action="take", rid=rid)),
                (_("Not this time"), RegularCb(action="pass", rid=rid)),
            ]
        ]
    )
