"""Activity buttons: sign-up on the card, the organiser's, check-in, hours."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline
from bot.ui.scope import PRIVATE, Scopes, group_of
from storage.models import Activity


class SignCb(CallbackData, prefix="ac1"):
    """Sign up / cancel sign-up on a group card."""

    scope: ClassVar[Scopes] = group_of("activity", "aid")
    action: str  # in | out
    aid: int


class PublishCb(CallbackData, prefix="ak1"):
    """Steps of the publishing conversation, and the organiser's cancel button."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    value: str = ""


class CheckinCb(CallbackData, prefix="ci1"):
    scope: ClassVar[Scopes] = {"post": PRIVATE, "in": group_of("activity", "aid"), "out": group_of("activity", "aid")}
    action: str  # post | in | out
    aid: int


class HoursOkCb(CallbackData, prefix="ah1"):
    scope: ClassVar[Scopes] = PRIVATE
    action: str  # close | ok | all | fix
    aid: int
    uid: int = 0


def card_keyboard(act: Activity) -> InlineKeyboardMarkup | None:
    if act.status != "published":
        return None
    return inline(
        [[(_("🙋 Sign up"), SignCb(action="in", aid=act.id)), (_("Cancel sign-up"), SignCb(action="out", aid=act.id))]]
    )


def organiser_keyboard(act: Activity) -> InlineKeyboardMarkup:
    return inline(
        [
            [(_("📍 Post check-in buttons"), CheckinCb(action="post", aid=act.id))],
            [(_("🏁 Close and approve hours"), HoursOkCb(action="close", aid=act.id))],
            [(_("❌ Cancel the activity"), PublishCb(action="cancel", value=str(act.id)))],
        ]
    )


def checkin_keyboard(act: Activity) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("✅ Check in"), CheckinCb(action="in", aid=act.id)),
                (_("👋 Check out"), CheckinCb(action="out", aid=act.id)),
            ]
        ]
    )
