"""Administrators appoint coordinators; coordinators create teams and bind groups to them."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.org import service as org
from bot.org import texts as org_texts
from bot.people import keyboards as profile_keyboards
from bot.people import profiles
from bot.people import service as people
from bot.ui import texts
from bot.ui.private import PRIVATE_VIEW
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="roles")


@router.message(Command("coordinator_add", "coordinator_remove"))
async def coordinator(message: Message, command: CommandObject, db: Database, user: User, notices: Notices) -> None:
    on = command.command == "coordinator_add"
    people.require_admin(user)
    if not command.args:
        raise DomainError("usage", usage=f"/{command.command} USER_ID|@username")
    words = command.args.split()
    ref, node_code = (words[0], words[1]) if on and len(words) == 2 else (command.args, None)
    async with db.tx() as s:
        target = await people.find_user(s, ref)
        if target is None:
            raise DomainError("no_user")
        # where he acts: the node of the code (default: the 中心); a refusal before anything changes
        at = await org.appoint(s, target, node_code)
        await profiles.set_coordinator(s, notices.people, user, target, on)
    name = target.full_name or target.id
    if on and at is not None and at.kind != org.CENTRE:
        text = _("{name} is now a coordinator of {kind} {node}.").format(
            name=name, kind=org_texts.kind_name(at.kind), node=org_texts.node_line(at)
        )
    else:
        text = (_("{name} is now a coordinator.") if on else _("{name} is no longer a coordinator.")).format(name=name)
    await message.answer(text)


@router.message(Command("newteam"))
async def new_team(message: Message, command: CommandObject, db: Database, user: User, clock: Clock) -> None:
    people.require_coordinator(user)
    if not command.args:
        raise DomainError("usage", usage=_("/newteam NAME"))
    words = command.args.split()
    async with db.tx() as s:
        at = (await org.load_tree(s)).by_code(words[-1]) if len(words) > 1 else None
        name = " ".join(words[:-1]) if at is not None else command.args
        team = await people.create_team(s, user, name, clock.now(), node_id=at.id if at is not None else None)
    await message.answer(
        _("Team “{name}” created (number {id}). Add me to its volunteer group and send /bind {id} there.").format(
            name=team.name, id=team.id
        )
    )


@router.message(Command("teams"), flags=PRIVATE_VIEW)
async def teams(message: Message, db: Database, user: User) -> None:
    """Coordinators see every team; a team leader sees his own."""
    async with db.read() as s:
        lines = []
        shown = await profiles.visible_teams(s, user)
        for team in shown:
            info = await profiles.team_info(s, team)
            lines.append(
                _("{id}. {name} – {groups} group(s)").format(id=team.id, name=team.name, groups=len(info.chats))
                + ", "
                + _("{members} member(s), leader: {leaders}").format(
                    members=info.members, leaders="、".join(info.leaders) or "—"
                )
                + (", " + _("{pending} waiting to join").format(pending=info.pending) if info.pending else "")
            )
            if info.chats:
                lines.append("   " + _("groups: {groups}").format(groups="、".join(info.chats)))
            if info.services:
                lines.append(
                    "   "
                    + _("serves: {services}").format(
                        services="、".join(texts.service_name(sv, user.locale) for sv in info.services)
                    )
                )
    buttons = (  # taking a member out asks for a reason in this chat: private only
        profile_keyboards.remove_buttons([(t.id, t.name) for t in shown])
        if shown and message.chat.type == "private"
        else None
    )
    await message.answer(
        "\n".join([_("Teams:")] + lines) if lines else _("There are no teams yet."), reply_markup=buttons
    )


@router.message(Command("bind"), F.chat.type.in_({"group", "supergroup"}))
async def bind(message: Message, command: CommandObject, db: Database, user: User, clock: Clock) -> None:
    people.require_coordinator(user)
    if not command.args:
        raise DomainError("usage", usage=_("/bind TEAM (a team's number or name; /teams lists them)"))
    async with db.tx() as s:
        team = await people.bind_chat(
            s, user, chat_id=message.chat.id, title=message.chat.title or "", team_ref=command.args, now=clock.now()
        )
    await message.answer(
        _(
            "This group now receives the requests of team “{name}”. Volunteers: tap “Accept” "
            "on a card to take it (register first in a private chat with me: /volunteer)."
        ).format(name=team.name)
    )


@router.message(Command("unbind"), F.chat.type.in_({"group", "supergroup"}))
async def unbind(message: Message, db: Database, user: User) -> None:
    async with db.tx() as s:
        await people.unbind_chat(s, user, message.chat.id)
    await message.answer(_("This group no longer receives requests."))


@router.message(Command("bind", "unbind"))
async def bind_private(message: Message) -> None:
    raise DomainError("group_only")
