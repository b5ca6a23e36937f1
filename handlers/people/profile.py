"""/profile: a volunteer sees and edits his details and teams; join requests are answered with buttons."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot.core import validate
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.limits import Daily
from bot.notices import Notices
from bot.people import keyboards as profile_keyboards
from bot.people import profiles
from bot.people import service as people
from bot.people.keyboards import JoinCb, ProfileCb, SkillCb
from bot.settings import Settings
from bot.ui import keyboards
from bot.ui.keyboards import inline
from bot.ui.private import PRIVATE_VIEW
from bot.ui.tapped import editable, origin
from handlers.people.volunteer import skill_keyboard, toggle_skill
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import Team, TeamMember, User

router = Blueprint(name="profile")


class ProfileEdit(StatesGroup):
    name = State()
    phone = State()
    skills = State()


async def profile_text(db: Database, user: User) -> str:
    async with db.read() as s:
        volunteer = await profiles.volunteer_of(s, user)
        skills = await profiles.skill_names(s, profiles.skill_ids(volunteer), user.locale)
        teams = await profiles.memberships(s, user.id)
    lines = [
        _("Your volunteer profile:"),
        _("Name: {name}").format(name=volunteer.name),
        _("Phone: {phone}").format(phone=volunteer.phone),
        _("Skills: {skills}").format(skills="、".join(skills) or "—"),
        _("Teams:"),
    ]
    for member, team in teams:
        state = (
            (_("leader") if member.is_leader else _("member"))
            if member.status == people.ACTIVE
            else _("waiting for approval")
        )
        lines.append(f"  · {team.name} ({state})")
    if not teams:
        lines.append("  —")
    return "\n".join(lines)


@router.message(Command("profile"), F.chat.type == "private")
async def show(message: Message, state: FSMContext, db: Database, user: User) -> None:
    await state.clear()
    await message.answer(await profile_text(db, user), reply_markup=profile_keyboards.profile())


@router.message(Command("profile"))
async def show_in_group(message: Message) -> None:
    raise DomainError("private_only")  # the profile holds the volunteer's phone


# name, phone, skills -------------------------------------------------------------------------------


@router.callback_query(ProfileCb.filter(F.action == "name"))
async def ask_name(query: CallbackQuery, state: FSMContext, db: Database, user: User) -> None:
    async with db.read() as s:
        await profiles.volunteer_of(s, user)
    await state.set_state(ProfileEdit.name)
    await query.answer()
    await origin(query).answer(_("Your new name? (/cancel keeps the old one)"))


@router.message(ProfileEdit.name, F.text)
async def got_name(message: Message, state: FSMContext, db: Database, user: User) -> None:
    name = validate.text(message.text, "name")
    async with db.tx() as s:
        await profiles.set_name(s, user, name)
    await state.clear()
    await message.answer(_("Saved.") + "\n\n" + await profile_text(db, user), reply_markup=profile_keyboards.profile())


@router.callback_query(ProfileCb.filter(F.action == "phone"))
async def ask_phone(query: CallbackQuery, state: FSMContext, db: Database, user: User) -> None:
    async with db.read() as s:
        await profiles.volunteer_of(s, user)
    await state.set_state(ProfileEdit.phone)
    await query.answer()
    await origin(query).answer(
        _("Your new phone number? (/cancel keeps the old one)"), reply_markup=keyboards.share_phone(skippable=False)
    )


@router.message(ProfileEdit.phone, F.contact | F.text)
async def got_phone(message: Message, state: FSMContext, db: Database, user: User) -> None:
    if message.contact and message.contact.user_id not in (None, user.id):
        raise DomainError("bad_phone")
    if message.text == _("Skip"):  # typed, or tapped on an old keyboard: a volunteer's phone is needed
        raise DomainError("phone_needed")
    phone = validate.phone(message.contact.phone_number if message.contact else message.text)
    async with db.tx() as s:
        await profiles.set_phone(s, user, phone)
    await state.clear()
    await message.answer(_("Saved."), reply_markup=ReplyKeyboardRemove())
    await message.answer(await profile_text(db, user), reply_markup=profile_keyboards.profile())


@router.callback_query(ProfileCb.filter(F.action == "skills"))
async def ask_skills(query: CallbackQuery, state: FSMContext, db: Database, user: User) -> None:
    async with db.read() as s:
        chosen = profiles.skill_ids(await profiles.volunteer_of(s, user))
    await state.set_state(ProfileEdit.skills)
    await state.update_data(skills=chosen)
    await query.answer()
    await origin(query).answer(
        _("What can you offer? Tap your skills (any number), then “Done”."),
        reply_markup=await skill_keyboard(db, user, chosen),
    )


router.callback_query.register(toggle_skill, ProfileEdit.skills, SkillCb.filter(F.skill != 0))


@router.callback_query(ProfileEdit.skills, SkillCb.filter(F.skill == 0))
async def skills_done(query: CallbackQuery, state: FSMContext, db: Database, user: User) -> None:
    chosen = (await state.get_data()).get("skills", [])
    async with db.tx() as s:
        await profiles.set_skills(s, user, chosen)
    await state.clear()
    await query.answer(_("Saved."))
    await editable(query).edit_text(await profile_text(db, user), reply_markup=profile_keyboards.profile())


# teams ----------------------------------------------------------------------------------------------


@router.callback_query(ProfileCb.filter(F.action == "join"))
async def choose_join(query: CallbackQuery, db: Database, user: User) -> None:
    async with db.read() as s:
        await profiles.volunteer_of(s, user)
        mine = {m.team_id for m, _t in await profiles.memberships(s, user.id)}
        teams = [t for t in await people.list_teams(s) if t.id not in mine]
    await query.answer()
    if not teams:
        await origin(query).answer(_("You are in every team already."))
        return
    await origin(query).answer(
        _("Which team do you want to join? Its leader or a coordinator will answer."),
        reply_markup=inline([[(t.name, ProfileCb(action="jointo", team=t.id))] for t in teams]),
    )


@router.callback_query(ProfileCb.filter(F.action == "jointo"))
async def join(
    query: CallbackQuery,
    callback_data: ProfileCb,
    db: Database,
    user: User,
    clock: Clock,
    notices: Notices,
    settings: Settings,
) -> None:
    async with db.tx() as s:
        status = await profiles.request_join(
            s,
            notices.people,
            user,
            callback_data.team,
            clock.now(),
            daily=Daily(settings.max_join_requests_per_day, settings.tz),
        )
        team = await s.get(Team, callback_data.team)
    assert team is not None  # request_join found it
    await query.answer()
    await editable(query).edit_text(
        (
            _("You joined team “{team}”.")
            if status == "joined"
            else _(
                "Your request to join team “{team}” has gone to its leader and the coordinators; I will tell you "
                "their answer."
            )
        ).format(team=team.name)
    )


@router.callback_query(ProfileCb.filter(F.action == "leave"))
async def choose_leave(query: CallbackQuery, db: Database, user: User) -> None:
    async with db.read() as s:
        await profiles.volunteer_of(s, user)
        teams = [t for _m, t in await profiles.memberships(s, user.id)]
    await query.answer()
    if not teams:
        await origin(query).answer(_("You are not in any team."))
        return
    await origin(query).answer(
        _("Which team do you want to leave?"),
        reply_markup=inline([[(t.name, ProfileCb(action="leaveask", team=t.id))] for t in teams]),
    )


@router.callback_query(ProfileCb.filter(F.action == "leaveask"))
async def confirm_leave(query: CallbackQuery, callback_data: ProfileCb, db: Database, user: User) -> None:
    async with db.read() as s:
        member = (
            await s.get(TeamMember, (callback_data.team, user.id)) if validate.fits_id(callback_data.team) else None
        )
        team = await s.get(Team, member.team_id) if member else None
    if team is None or team.archived:
        raise DomainError("stale")
    await query.answer()
    await editable(query).edit_text(
        _("Leave team “{team}”? You will no longer be able to accept its requests.").format(team=team.name),
        reply_markup=inline(
            [
                [
                    (_("Yes, leave"), ProfileCb(action="leaveyes", team=team.id)),
                    (_("No, stay"), ProfileCb(action="leaveno", team=team.id)),
                ]
            ]
        ),
    )


@router.callback_query(ProfileCb.filter(F.action == "leaveyes"))
async def leave(query: CallbackQuery, callback_data: ProfileCb, db: Database, user: User) -> None:
    async with db.tx() as s:
        team = await profiles.leave_team(s, user, callback_data.team)
    await query.answer()
    await editable(query).edit_text(_("You left team “{team}”.").format(team=team.name))


@router.callback_query(ProfileCb.filter(F.action == "leaveno"))
async def stay(query: CallbackQuery) -> None:
    await query.answer(_("Nothing was changed."))
    await editable(query).edit_reply_markup(reply_markup=None)


# join requests ------------------------------------------------------------------------------------


@router.callback_query(JoinCb.filter(F.action.in_({"ok", "no"})), flags=PRIVATE_VIEW)
async def decide(
    query: CallbackQuery, callback_data: JoinCb, db: Database, user: User, clock: Clock, notices: Notices
) -> None:
    approve = callback_data.action == "ok"
    async with db.tx() as s:
        team, volunteer = await profiles.decide_join(
            s,
            notices.people,
            user,
            team_id=callback_data.team,
            user_id=callback_data.user,
            approve=approve,
            now=clock.now(),
        )
    name = volunteer.name if volunteer else str(callback_data.user)
    text = (
        _("✅ {name} joined team “{team}”.")
        if approve
        else _("❌ You declined {name}'s request to join team “{team}”.")
    ).format(name=name, team=team.name)
    await query.answer(text)
    await editable(query).edit_text(text)


@router.message(Command("joins"), flags=PRIVATE_VIEW)
async def joins(message: Message, db: Database, user: User) -> None:
    async with db.read() as s:
        if not people.is_coordinator(user) and not await people.led_team_ids(s, user.id):
            raise DomainError("not_team_leader")
        rows = await profiles.pending_joins(s, user)
    if not rows:
        await message.answer(_("No join requests are waiting."))
        return
    for member, team, volunteer in rows:
        await message.answer(
            _("🙋 {name} asks to join team “{team}”.").format(name=volunteer.name, team=team.name),
            reply_markup=profile_keyboards.join_decision(team.id, member.user_id)
            if message.chat.type == "private"  # the decision buttons work in private only
            else None,
        )
