"""CallbackData of profiles, teams, roles and 帮办 ordering (prefixes j1, pf1, k1, tm1, px1)."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.ui.keyboards import inline
from bot.ui.scope import ANYWHERE, PRIVATE, Scopes


class JoinCb(CallbackData, prefix="j1"):
    """A leader's or coordinator's answer to a join request."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str  # ok | no
    team: int
    user: int


class ProfileCb(CallbackData, prefix="pf1"):
    scope: ClassVar[Scopes] = PRIVATE
    action: str  # name | phone | skills | join | leave | jointo | leaveask | leaveyes | leaveno
    team: int = 0


class SkillCb(CallbackData, prefix="k1"):
    """Skill multi-select; skill 0 is “Done”."""

    scope: ClassVar[Scopes] = PRIVATE
    skill: int


class TeamAdminCb(CallbackData, prefix="tm1"):
    scope: ClassVar[Scopes] = ANYWHERE
    action: str  # archive | keep
    team: int


def join_decision(team_id: int, user_id: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("✅ Approve"), JoinCb(action="ok", team=team_id, user=user_id)),
                (_("❌ Decline"), JoinCb(action="no", team=team_id, user=user_id)),
            ]
        ]
    )


def skills(all_skills: list[tuple[int, str]], chosen: list[int]) -> InlineKeyboardMarkup:
    rows = [
        [(("✅ " if sid in chosen else "▫️ ") + name, SkillCb(skill=sid)) for sid, name in all_skills[i : i + 2]]
        for i in range(0, len(all_skills), 2)
    ]
    rows.append([(_("Done"), SkillCb(skill=0))])
    return inline(rows)


def profile() -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("✏️ Name"), ProfileCb(action="name")),
                (_("✏️ Phone"), ProfileCb(action="phone")),
                (_("✏️ Skills"), ProfileCb(action="skills")),
            ],
            [(_("➕ Join a team"), ProfileCb(action="join")), (_("➖ Leave a team"), ProfileCb(action="leave"))],
        ]
    )


def archive_confirm(team_id: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("Yes, archive it"), TeamAdminCb(action="archive", team=team_id)),
                (_("No, keep it"), TeamAdminCb(action="keep", team=team_id)),
            ]
        ]
    )


class TeamPickCb(CallbackData, prefix="p1"):
    """Team choice during volunteer registration."""

    scope: ClassVar[Scopes] = PRIVATE
    team: int


class MemberCb(CallbackData, prefix="mr1"):
    """Taking a volunteer out of a team: list (the team's members), pick (one of them), yes | no (the confirmation)."""

    scope: ClassVar[Scopes] = PRIVATE
    action: str
    team: int
    user: int = 0


def remove_buttons(teams: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    """Under /teams: a button per team to take one of its members out."""
    return inline(
        [
            [(_("➖ Remove a member: {team}").format(team=name), MemberCb(action="list", team=tid))]
            for tid, name in teams
        ]
    )


def remove_pick(team_id: int, members: list[tuple[int, str]]) -> InlineKeyboardMarkup:
    rows = [
        [(name, MemberCb(action="pick", team=team_id, user=uid)) for uid, name in members[i : i + 2]]
        for i in range(0, len(members), 2)
    ]
    return inline(rows)


def remove_confirm(team_id: int, user_id: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("Yes, remove"), MemberCb(action="yes", team=team_id, user=user_id)),
                (_("No, keep"), MemberCb(action="no", team=team_id, user=user_id)),
            ]
        ]
    )
