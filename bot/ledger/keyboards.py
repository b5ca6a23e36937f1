"""Buttons of the ledger features. Prefixes: d1 disputes, st1 settings, rk1 rankings, mv1 最美志愿者 vote."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline
from bot.ui.scope import PRIVATE, Scopes


class DisputeCb(CallbackData, prefix="d1"):
    """Ledger and disputes. pick: id is an entry; fix | no: id is a dispute;
    page: id is whose ledger (checked again on every tap), page the page number."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    id: int
    page: int = 0


class SettingsCb(CallbackData, prefix="st1"):
    scope: ClassVar[Scopes] = PRIVATE
    key: str  # rank | stars


class RankCb(CallbackData, prefix="rk1"):
    scope: ClassVar[Scopes] = PRIVATE
    period: str  # month | year
    team: int = 0  # 0: the whole station


class VoteCb(CallbackData, prefix="mv1"):
    scope: ClassVar[Scopes] = PRIVATE
    month: str  # YYYY-MM of the shortlist
    team: int


def ledger_pages(vid: int, page: int, older: bool) -> InlineKeyboardMarkup | None:
    row = []
    if page > 0:
        row.append((_("◀ Newer"), DisputeCb(action="page", id=vid, page=page - 1)))
    if older:
        row.append((_("Older ▶"), DisputeCb(action="page", id=vid, page=page + 1)))
    return inline([row]) if row else None


def dispute_pick(choices: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    return inline([[(label, DisputeCb(action="pick", id=entry_id))] for label, entry_id in choices])


def dispute_decide(dispute_id: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("✏️ Correct"), DisputeCb(action="fix", id=dispute_id)),
                (_("❌ Reject"), DisputeCb(action="no", id=dispute_id)),
            ]
        ]
    )


def settings(show_in_rank: bool, share_stars: bool) -> InlineKeyboardMarkup:
    def mark(on: bool) -> str:
        return "✅" if on else "⬜"

    return inline(
        [
            [(f"{mark(show_in_rank)} " + _("Show my name in rankings"), SettingsCb(key="rank"))],
            [(f"{mark(share_stars)} " + _("Announce my star level in my team's group"), SettingsCb(key="stars"))],
        ]
    )


def rank_views(period: str, team: int, teams: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    other = "year" if period == "month" else "month"
    rows = [[(_("This year") if other == "year" else _("This month"), RankCb(period=other, team=team))]]
    if team:
        rows[0].append((_("Whole station"), RankCb(period=period, team=0)))
    rows += [[(name, RankCb(period=period, team=tid))] for tid, name in teams if tid != team][:8]
    return inline(rows)


def vote(month: str, teams: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    return inline(
        [[(_("🗳 Open a vote in “{team}”").format(team=name), VoteCb(month=month, team=tid))] for tid, name in teams]
    )
