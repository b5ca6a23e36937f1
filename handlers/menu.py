"""The station's menu of services (总菜单) and the 审单 setting, edited by coordinators."""

from __future__ import annotations

from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from bot.core import validate
from bot.core.errors import DomainError
from bot.menu import service as menu
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
        teams: dict[int | None, str] = {t.id: t.name for t in await people.list_teams(s)}
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


@router.message(Command("service_add"))
async def service_add(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
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
        service, team = await menu.assign_team(s, user, service_id, team_ref)
    await message.answer(
        _("“{service}” is now served by team “{team}”.").format(
            service=texts.service_name(service, user.locale), team=team.name
        )
    )


@router.message(Command("service_rename"))
async def service_rename(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    service_id, rest = validate.command_id_value(command.args, _("/service_rename SERVICE 中文名 | English name"))
    zh, en = _names(rest)
    async with db.tx() as s:
        service = await menu.rename_service(s, user, service_id, zh, en)
    await message.answer(_("Renamed: {zh} / {en}").format(zh=service.name_zh, en=service.name_en))


@router.message(Command("service_off", "service_on"))
async def service_toggle(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    service_id = validate.command_id(command.args, f"/{command.command} SERVICE")
    on = command.command == "service_on"
    async with db.tx() as s:
        service = await menu.set_active(s, user, service_id, on)
    text = _("“{name}” is on the menu again.") if on else _("“{name}” is off the menu; open requests are kept.")
    await message.answer(text.format(name=texts.service_name(service, user.locale)))


@router.message(Command("review"))
async def review(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
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
