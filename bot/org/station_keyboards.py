"""The residents' station picker: a 所 (or 直属站), then a 站, each list paged (bot/org/service.py PICK_PAGE)."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.org import service as org
from bot.org import texts
from bot.ui.keyboards import inline
from bot.ui.scope import PRIVATE, Scopes
from storage.models import OrgNode

THEN_ORDER = "order"  # after the choice, the 点单 goes on


class StationCb(CallbackData, prefix="sp1"):
    """groups: the first list (page; also /mystation's “change”); group: a 所's stations (node, page); pick: this
    station (node). `then`: what goes on after the choice ("" or THEN_ORDER). Private: the tapper's own chat only."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    node: int = 0
    page: int = 0
    then: str = ""


def _pager(action: str, node: int, page: int, pages: int, then: str) -> list[tuple[str, StationCb]]:
    row = []
    if page > 0:
        row.append(("◀", StationCb(action=action, node=node, page=page - 1, then=then)))
    if page < pages - 1:
        row.append(("▶", StationCb(action=action, node=node, page=page + 1, then=then)))
    return row


def groups(tree: org.Tree, page: int = 0, then: str = "") -> InlineKeyboardMarkup:
    shown, page, pages = org.page_of(org.pick_groups(tree), page)
    rows = [[(texts.group_label(node), StationCb(action="group", node=node.id, then=then))] for node in shown]
    pager = _pager("groups", 0, page, pages, then)
    return inline([*rows, pager] if pager else rows)


def stations(tree: org.Tree, group: OrgNode, page: int = 0, then: str = "") -> InlineKeyboardMarkup:
    shown, page, pages = org.page_of(org.pick_stations(tree, group.id), page)
    rows = [[(node.name, StationCb(action="pick", node=node.id, then=then))] for node in shown]
    pager = _pager("group", group.id, page, pages, then)
    back = [(_("« Back"), StationCb(action="groups", then=then))]
    return inline([*rows, *([pager] if pager else []), back])


def change() -> InlineKeyboardMarkup:
    return inline([[(_("🔄 Change my station"), StationCb(action="groups"))]])
