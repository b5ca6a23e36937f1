"""Taking a volunteer out of a team (/member_remove, or the buttons under /teams), blocking a user (/block,
/unblock). The rules are in bot/people/moderation.py."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core import validate
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.people import keyboards as profile_keyboards
from bot.people import moderation, profiles
from bot.people import service as people
from bot.people.keyboards import MemberCb
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import Team, User, Volunteer

router = Blueprint(name="moderation")


class Removing(StatesGroup):
    reason = State()


def _handed_line(requests: int, activities: int) -> str:
    return _("Handed back: {requests} request(s) taken, {activities} activity sign-up(s).").format(
        requests=requests, activities=activities
    )


async def _confirm(target: Message, state: FSMContext, team: Team, volunteer: Volunteer, reason: str) -> None:
    """The reason is kept in the conversation until the confirmation is tapped (buttons carry no text)."""
    await state.set_state(None)
    await state.update_data(remove_team=team.id, remove_user=volunteer.user_id, remove_reason=reason)
    await target.answer(
        _("Remove {name} from team “{team}”?\nReason: {reason}\nHe will be told privately.").format(
            name=volunteer.name, team=team.name, reason=reason
        ),
        reply_markup=profile_keyboards.remove_confirm(team.id, volunteer.user_id),
    )


async def _ask_reason(target: Message, state: FSMContext, team: Team, volunteer: Volunteer) -> None:
    await state.set_state(Removing.reason)
    await state.update_data(remove_team=team.id, remove_user=volunteer.user_id, remove_reason=None)
    await target.answer(
        _(
            "Why is {name} removed from team “{team}”? Please send the reason; he will read it. /cancel to go back."
        ).format(name=volunteer.name, team=team.name)
    )


@router.message(Command("member_remove"))
async def member_remove(message: Message, command: CommandObject, state: FSMContext, db: Database, user: User) -> None:
    usage = _("/member_remove USER TEAM REASON")
    parts = (command.args or "").split(maxsplit=2)
    async with db.read() as s:
        await people.require_leader_or_coordinator(s, user)
        if len(parts) < 2:
            raise DomainError("usage", usage=usage)
        target = await people.find_user(s, parts[0])
        if target is None:
            raise DomainError("no_user")
        team = await profiles.team_ref(s, parts[1])
        team, volunteer = await moderation.removable(s, user, team_id=team.id, user_id=target.id)
    if message.chat.type != "private":
        raise DomainError("private_only")
    if len(parts) == 3:
        await _confirm(message, state, team, volunteer, validate.text(parts[2], "reason"))
    else:
        await _ask_reason(message, state, team, volunteer)


@router.callback_query(MemberCb.filter(F.action == "list"))
async def member_list(query: CallbackQuery, callback_data: MemberCb, db: Database, user: User) -> None:
    async with db.read() as s:
        team, members = await moderation.removable_members(s, user, callback_data.team)
    await query.answer()
    if not members:
        await origin(query).answer(_("Team “{team}” has no member you could remove.").format(team=team.name))
        return
    await origin(query).answer(
        _("Which member of team “{team}” do you want to remove?").format(team=team.name),
        reply_markup=profile_keyboards.remove_pick(team.id, [(v.user_id, v.name) for v in members]),
    )


@router.callback_query(MemberCb.filter(F.action == "pick"))
async def member_pick(
    query: CallbackQuery, callback_data: MemberCb, state: FSMContext, db: Database, user: User
) -> None:
    async with db.read() as s:
        team, volunteer = await moderation.removable(s, user, team_id=callback_data.team, user_id=callback_data.user)
    await query.answer()
    await editable(query).edit_reply_markup(reply_markup=None)
    message = origin(query)
    assert isinstance(message, Message)  # the list was just sent
    await _ask_reason(message, state, team, volunteer)


@router.message(Removing.reason, F.text, ~F.text.startswith("/"))
async def member_reason(message: Message, state: FSMContext, db: Database, user: User) -> None:
    data = await state.get_data()
    reason = validate.text(message.text, "reason")
    async with db.read() as s:
        team, volunteer = await moderation.removable(
            s, user, team_id=data.get("remove_team", 0), user_id=data.get("remove_user", 0)
        )
    await _confirm(message, state, team, volunteer, reason)


@router.callback_query(MemberCb.filter(F.action == "yes"))
async def member_yes(
    query: CallbackQuery,
    callback_data: MemberCb,
    state: FSMContext,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
) -> None:
    data = await state.get_data()
    if (data.get("remove_team"), data.get("remove_user")) != (callback_data.team, callback_data.user) or not data.get(
        "remove_reason"
    ):
        async with db.read() as s:  # a refusal for its reason first (someone not allowed), else out of date
            await moderation.removable(s, user, team_id=callback_data.team, user_id=callback_data.user)
        raise DomainError("stale")
    async with db.tx() as s:
        team, volunteer, handed = await moderation.remove_member(
            s,
            notices,
            user,
            team_id=callback_data.team,
            user_id=callback_data.user,
            reason=data["remove_reason"],
            now=clock.now(),
        )
    await state.clear()
    await query.answer()
    await editable(query).edit_text(
        "\n".join(
            [
                _("{name} is no longer a member of team “{team}”; he has been told.").format(
                    name=volunteer.name, team=team.name
                ),
                _handed_line(len(handed.requests), len(handed.activities)),
            ]
        )
    )


@router.callback_query(MemberCb.filter(F.action == "no"))
async def member_no(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer(_("Nothing was changed."))
    await editable(query).edit_reply_markup(reply_markup=None)


# blocking --------------------------------------------------------------------------------------------------


@router.message(Command("block"))
async def block(
    message: Message, command: CommandObject, db: Database, user: User, notices: Notices, clock: Clock
) -> None:
    people.require_coordinator(user)
    parts = (command.args or "").split(maxsplit=1)
    if not parts:
        raise DomainError("usage", usage=_("/block USER [REASON]"))
    async with db.tx() as s:
        target = await people.find_user(s, parts[0])
        if target is None:
            raise DomainError("no_user")
        handed = await moderation.block(
            s, notices, user, target, reason=parts[1] if len(parts) > 1 else None, now=clock.now()
        )
    await message.answer(
        "\n".join(
            [
                _(
                    "{name} is blocked: he can no longer place, take or register anything. /unblock {id} lifts it."
                ).format(name=target.full_name or target.id, id=target.id),
                _handed_line(len(handed.requests), len(handed.activities)),
            ]
        )
    )


@router.message(Command("unblock"))
async def unblock(message: Message, command: CommandObject, db: Database, user: User, clock: Clock) -> None:
    people.require_coordinator(user)
    if not command.args:
        raise DomainError("usage", usage=_("/unblock USER"))
    async with db.tx() as s:
        target = await people.find_user(s, command.args.split()[0])
        if target is None:
            raise DomainError("no_user")
        await moderation.unblock(s, user, target, now=clock.now())
    await message.answer(_("{name} is no longer blocked.").format(name=target.full_name or target.id))
