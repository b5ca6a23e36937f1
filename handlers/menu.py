"""The station's menu of services (总菜单) and the 审单 setting, edited by coordinators."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.menu import service as menu
from bot.org import service as org
from bot.org import texts as org_texts
from bot.people import profiles
from bot.people import service as people
from bot.ui import texts
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="menu")


def _names(rest: str) -> tuple[str, str | None]:
    """'中文名 | English name' or just '中文名'."""
    zh, _sep, en = rest.partition("|")
    return zh.strip(), (en.strip() or None)


@router.message(Command("services"))
async def services(message: Message, db: Database, user: User) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        scope = await org.scope_of(s, user)
        teams: dict[int | None, str] = {t.id: t.name for t in await people.list_teams(s)}
        if not scope.everything:  # a station's or 所's coordinator: his node's menu
            await message.answer(await _node_menu(s, user, scope.at, teams))
            return
        rows = [
            _("{id}. {name} – team: {team}{off}").format(
                id=sv.id,
                name=texts.service_name(sv, user.locale),
                team=teams.get(sv.team_id, "—"),
                off="" if sv.active else _(" (off)"),
            )
            for sv in await menu.all_services(s)
        ]
        review = await menu.review_enabled(s)
    rows.append("")
    rows.append(_("Review before dispatch: {state}").format(state=_("on") if review else _("off")))
    await message.answer("\n".join([_("The menu (总菜单):")] + rows))


async def _node_menu(s: AsyncSession, user: User, node_id: int | None, teams: dict[int | None, str]) -> str:
    """The services as a station (or 所) serves them: its own team, its 所's or the 中心's, else the 总菜单's."""
    node = await org.node(s, node_id)
    named = await org.menu_of(s, node_id)
    rows = []
    for sv in await menu.all_services(s):
        if not sv.active:
            continue
        name = texts.service_name(sv, user.locale)
        if sv.id in named:
            rows.append(_("{id}. {name} – team: {team}").format(id=sv.id, name=name, team=teams.get(named[sv.id], "—")))
        else:
            rows.append(
                _("{id}. {name} – team: {team} (总菜单)").format(id=sv.id, name=name, team=teams.get(sv.team_id, "—"))
            )
    title = _("The menu of {node}:").format(node=org_texts.node_line(node) if node else "—")
    hint = _("/service_team ID TEAM – the team that serves a service here")
    return "\n".join([title] + rows + ["", hint])


@router.message(Command("service_add"))
async def service_add(message: Message, command: CommandObject, db: Database, user: User) -> None:
    org.require_centre_role(user)  # the 总菜单 is the 中心's
    if not command.args:
        raise DomainError("usage", usage=_("/service_add 中文名 | English name"))
    zh, en = _names(command.args)
    async with db.tx() as s:
        service = await menu.add_service(s, user, zh, en, None)
    await message.answer(
        _("Added “{name}” (number {id}). Choose its team with /service_team {id} TEAM.").format(
            name=service.name_zh, id=service.id
        )
    )


@router.message(Command("service_team"))
async def service_team(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    service_id, team_ref = validate.command_id_value(command.args, _("/service_team SERVICE TEAM"))
    async with db.tx() as s:
        scope = await org.scope_of(s, user)
        tree = await org.load_tree(s)
        words = team_ref.split()
        at = tree.by_code(words[-1]) if len(words) > 1 else None
        if at is not None:
            team_ref = " ".join(words[:-1])
        elif not scope.everything:  # a station's or 所's coordinator names the team of his own node
            at = tree.nodes.get(scope.at) if scope.at is not None else None
        if at is None:
            service, team = await menu.assign_team(s, user, service_id, team_ref)
        else:
            service = await menu.find_service(s, service_id)
            team = await profiles.team_ref(s, team_ref)
            await org.offer_team(s, user, at.id, service.id, team)
    if at is None:
        text = _("“{service}” is now served by team “{team}”.").format(
            service=texts.service_name(service, user.locale), team=team.name
        )
    else:
        text = _("At {node}, “{service}” is now served by team “{team}”.").format(
            node=org_texts.node_line(at), service=texts.service_name(service, user.locale), team=team.name
        )
    await message.answer(text)


@router.message(Command("service_rename"))
async def service_rename(message: Message, command: CommandObject, db: Database, user: User) -> None:
    org.require_centre_role(user)  # the 总菜单 is the 中心's
    service_id, rest = validate.command_id_value(command.args, _("/service_rename SERVICE 中文名 | English name"))
    zh, en = _names(rest)
    async with db.tx() as s:
        service = await menu.rename_service(s, user, service_id, zh, en)
    await message.answer(_("Renamed: {zh} / {en}").format(zh=service.name_zh, en=service.name_en))


@router.message(Command("service_off", "service_on"))
async def service_toggle(message: Message, command: CommandObject, db: Database, user: User) -> None:
    org.require_centre_role(user)  # the 总菜单 is the 中心's
    service_id = validate.command_id(command.args, f"/{command.command} SERVICE")
    on = command.command == "service_on"
    async with db.tx() as s:
        service = await menu.set_active(s, user, service_id, on)
    text = _("“{name}” is on the menu again.") if on else _("“{name}” is off the menu; open requests are kept.")
    await message.answer(text.format(name=texts.service_name(service, user.locale)))


@router.message(Command("review"))
async def review(message: Message, command: CommandObject, db: Database, user: User) -> None:
    org.require_centre_role(user)  # the 总菜单 is the 中心's
    arg = (command.args or "").strip().lower()
    if arg not in ("on", "off"):
        raise DomainError("usage", usage="/review on|off")
    async with db.tx() as s:
        await menu.set_review(s, user, arg == "on")
    await message.answer(
        _("New requests now wait for a coordinator's review.")
        if arg == "on"
        else _("New requests now go straight to their team.")
    )
