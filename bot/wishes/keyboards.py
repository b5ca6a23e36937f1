"""Buttons of 微心愿: “认领心愿” on a wall card (ws1), the private buttons of review, progress, confirmation and
lists (wc1), and the steps of making a wish or registering as a donor (wd1)."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline
from bot.ui.scope import ANYWHERE, PRIVATE, Scopes


class WallCb(CallbackData, prefix="ws1"):
    """“认领心愿” on a card: on the station's wall (a group or channel bound to no team) or a team's group. Anyone
    registered may claim; the handler checks the tapper, answers with an alert and tells the details privately."""

    scope: ClassVar[Scopes] = ANYWHERE
    wid: int


class WishCb(CallbackData, prefix="wc1"):
    """Private buttons: a coordinator's review (ok_c, ok_w, edit, decline) and hours (hours); the wisher's answer to
    an edit (agree, disagree) and confirmation (confirm, thanks); the claimer's progress (prep, sent, back, photo);
    the pages of /wishes (page: wid is the page, arg the level)."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    wid: int
    arg: str = ""


class DraftCb(CallbackData, prefix="wd1"):
    """Steps of making a wish (/wish) and of registering as a donor (/donor)."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    value: str = ""


def claim(wid: int) -> InlineKeyboardMarkup:
    return inline([[(_("🎁 Claim this wish"), WallCb(wid=wid))]])


def review(wid: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [(_("✅ Approve, contact me"), WishCb(action="ok_c", wid=wid))],
            [(_("✅ Approve, contact the wisher"), WishCb(action="ok_w", wid=wid))],
            [
                (_("✏️ Propose an edit"), WishCb(action="edit", wid=wid)),
                (_("❌ Decline"), WishCb(action="decline", wid=wid)),
            ],
        ]
    )


def proposal(wid: int) -> InlineKeyboardMarkup:
    return inline(
        [[(_("Agree"), WishCb(action="agree", wid=wid)), (_("Disagree"), WishCb(action="disagree", wid=wid))]]
    )


def progress(wid: int, status: str) -> InlineKeyboardMarkup:
    rows = []
    if status == "claimed":
        rows.append([(_("📦 Preparing"), WishCb(action="prep", wid=wid))])
    rows.append([(_("🚚 Delivered"), WishCb(action="sent", wid=wid))])
    rows.append([(_("↩️ Give it back"), WishCb(action="back", wid=wid))])
    return inline(rows)


def confirm(wid: int) -> InlineKeyboardMarkup:
    return inline([[(_("🌈 Confirm it came true"), WishCb(action="confirm", wid=wid))]])


def thanks(wid: int) -> InlineKeyboardMarkup:
    return inline([[(_("💬 Say thanks"), WishCb(action="thanks", wid=wid))]])


def hours(wid: int) -> InlineKeyboardMarkup:
    return inline([[(_("🕒 Record hours"), WishCb(action="hours", wid=wid))]])


def levels(current: str) -> list[tuple[str, CallbackData]]:
    names = {"station": _("My station"), "institute": _("My 所"), "county": _("The county")}
    return [
        (("• " if key == current else "") + name, WishCb(action="page", wid=0, arg=key)) for key, name in names.items()
    ]


def page_rows(level: str, page: int, pages_count: int) -> list[list[tuple[str, CallbackData | str]]]:
    rows: list[list[tuple[str, CallbackData | str]]] = []
    nav: list[tuple[str, CallbackData | str]] = []
    if page > 0:
        nav.append((_("◀️ Newer"), WishCb(action="page", wid=page - 1, arg=level)))
    if page + 1 < pages_count:
        nav.append((_("Older ▶️"), WishCb(action="page", wid=page + 1, arg=level)))
    if nav:
        rows.append(nav)
    rows.append(list(levels(level)))
    return rows


def skip() -> InlineKeyboardMarkup:
    return inline([[(_("Skip"), DraftCb(action="skip"))]])


def mode() -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("For myself"), DraftCb(action="mode", value="self")),
                (_("For someone (帮办)"), DraftCb(action="mode", value="proxy")),
            ]
        ]
    )
