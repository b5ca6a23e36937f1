"""Buttons of 公示: the photo step of the done report (ph1), the consent after rating and 撤下 in /showcase (pb1)."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline
from bot.ui.scope import PRIVATE, Scopes
from storage.models import ShowcasePost


class PhotosCb(CallbackData, prefix="ph1"):
    """The done report's photo step: skip the photos, or done sending them (the report is then made)."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str  # skip | done
    rid: int


class ShowcaseCb(CallbackData, prefix="pb1"):
    """agree: the resident's “同意匿名公示”; ask / yes / no: a coordinator's 撤下 and its confirmation."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str  # agree | ask | yes | no
    id: int  # agree: the request; else the post


def photos_skip(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Skip"), PhotosCb(action="skip", rid=rid))]])


def photos_done(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Done"), PhotosCb(action="done", rid=rid))]])


def consent(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Agree to anonymous 公示"), ShowcaseCb(action="agree", id=rid))]])


def posts(items: list[ShowcasePost]) -> InlineKeyboardMarkup | None:
    rows = [[(_("Take down No. {id}").format(id=post.id), ShowcaseCb(action="ask", id=post.id))] for post in items]
    return inline(rows) if rows else None


def confirm(post_id: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("Take it down"), ShowcaseCb(action="yes", id=post_id)),
                (_("Keep it"), ShowcaseCb(action="no", id=post_id)),
            ]
        ]
    )
