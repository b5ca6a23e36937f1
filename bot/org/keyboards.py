"""The county tree's buttons: the confirmation of /org_add, /org_rename, /org_move and /org_archive."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline
from bot.ui.scope import ANYWHERE, Scopes


class OrgCb(CallbackData, prefix="og1"):
    """yes | no under a change of the tree. The change itself waits in the conversation (a name does not fit in a
    button); the handler checks the tapper is a builder of the tree before it changes anything."""

    scope: ClassVar[Scopes] = ANYWHERE
    action: str  # yes | no
    op: str  # add | rename | move | archive
    code: str


def confirm(op: str, code: str) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("Yes, change it"), OrgCb(action="yes", op=op, code=code)),
                (_("No, keep it"), OrgCb(action="no", op=op, code=code)),
            ]
        ]
    )
