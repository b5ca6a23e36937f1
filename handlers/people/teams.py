"""Teams' life and roles: rename, archive, leaders, the station's skill list."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.org import service as org
from bot.people import keyboards as profile_keyboards
from bot.people import moderation, profiles
from bot.people import service as people
from bot.people.keyboards import TeamAdminCb
from bot.ui.tapped import editable
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User, Volunteer

router = Blueprint(name="teams")


def _two(command: CommandObject, usage: str) -> tuple[str, str]:
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) < 2:
        raise DomainError("usage", usage=usage)
    return parts[0], parts[1]


@router.message(Command("team_rename"))
async def rename(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    ref, name = _two(command, _("/team_rename TEAM NEW_NAME"))
    async with db.tx() as s:
        old, team = await profiles.rename_team(s, user, ref, name)
    await message.answer(_("Team “{old}” is now called “{name}”.").format(old=old, name=team.name))


@router.message(Command("team_archive"))
async def archive_ask(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    if not command.args:
        raise DomainError("usage", usage=_("/team_archive TEAM"))
    async with db.read() as s:
        team = await profiles.team_ref(s, command.args)
        await org.require_team(s, user, team.id)
    await message.answer(
        _(
            "Archive team “{team}”? Its groups get no more cards and its services wait for "
            "another team; its history is kept."
        ).format(team=team.name),
        reply_markup=profile_keyboards.archive_confirm(team.id),
    )


@router.callback_query(TeamAdminCb.filter(F.action == "archive"))
async def archive(
    query: CallbackQuery, callback_data: TeamAdminCb, db: Database, user: User, notices: Notices, clock: Clock
) -> None:
    async with db.tx() as s:  # and its open requests go to review
        team = await moderation.archive_team(s, notices, user, callback_data.team, clock.now())
    await query.answer()
    await editable(query).edit_text(
        _("Team “{team}” is archived. Give its services to another team with /service_team.").format(team=team.name)
    )


@router.callback_query(TeamAdminCb.filter(F.action == "keep"))
async def keep(query: CallbackQuery, user: User) -> None:
    people.require_coordinator(user)  # the button works in groups too: nobody else removes it
    await query.answer(_("Nothing was changed."))
    await editable(query).edit_reply_markup(reply_markup=None)


@router.message(Command("leader_add", "leader_remove"))
async def leader(
    message: Message, command: CommandObject, db: Database, user: User, clock: Clock, notices: Notices
) -> None:
    people.require_coordinator(user)
    on = command.command == "leader_add"
    who, ref = _two(command, f"/{command.command} USER_ID|@username TEAM")
    async with db.tx() as s:
        target = await people.find_user(s, who)
        if target is None:
            raise DomainError("no_user")
        team = await profiles.team_ref(s, ref)
        await profiles.set_leader(s, notices.people, user, target, team, on, clock.now())
        volunteer = await s.get(Volunteer, target.id)
        assert volunteer is not None  # a leader is a member of the team, so a volunteer
        name = volunteer.name
    text = _("{name} now leads team “{team}”.") if on else _("{name} no longer leads team “{team}”.")
    await message.answer(text.format(name=name, team=team.name))


# skills -------------------------------------------------------------------------------------------


@router.message(Command("skills"))
async def skills(message: Message, db: Database, user: User) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        rows = [f"{k.id}. {k.name_zh} / {k.name_en}" for k in await profiles.active_skills(s)]
    await message.answer(
        "\n".join(
            [_("Skills volunteers can choose:")]
            + (rows or ["—"])
            + ["", _("/skill_add 中文名 | English name, /skill_remove NUMBER")]
        )
    )


@router.message(Command("skill_add"))
async def skill_add(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    if not command.args:
        raise DomainError("usage", usage=_("/skill_add 中文名 | English name"))
    zh, _sep, en = command.args.partition("|")
    async with db.tx() as s:
        skill = await profiles.add_skill(s, user, zh, en)
    await message.answer(_("Skill “{name}” added (number {id}).").format(name=skill.name_zh, id=skill.id))


@router.message(Command("skill_remove"))
async def skill_remove(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    if not command.args:
        raise DomainError("usage", usage=_("/skill_remove NUMBER"))
    async with db.tx() as s:
        skill = await profiles.remove_skill(s, user, command.args)
    await message.answer(
        _("Skill “{name}” is off the list; volunteers who chose it keep it in their record.").format(name=skill.name_zh)
    )
