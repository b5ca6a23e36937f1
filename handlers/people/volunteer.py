"""Volunteer registration in private chat: name, phone, skills, teams (each a join request)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.core import validate
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.limits import Daily
from bot.notices import Notices
from bot.people import keyboards as profile_keyboards
from bot.people import profiles
from bot.people import service as people
from bot.people.keyboards import SkillCb, TeamPickCb
from bot.settings import Settings
from bot.ui import keyboards
from bot.ui.keyboards import inline
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User, Volunteer

router = Blueprint(name="volunteer")
DONE = 0  # TeamPickCb.team value of the "Done" button


class Signup(StatesGroup):
    name = State()
    phone = State()
    skills = State()
    teams = State()


@router.message(Command("volunteer"), F.chat.type == "private")
@router.message(F.chat.type == "private", F.text == __("🙋 Become a volunteer"))
async def begin(message: Message, state: FSMContext, db: Database) -> None:
    async with db.read() as s:
        if not await people.list_teams(s):
            raise DomainError("no_teams_yet")
    await state.set_state(Signup.name)
    await message.answer(
        _("Thank you for volunteering! What is your name? (as it should appear to residents)"),
        reply_markup=ReplyKeyboardRemove(),
    )


@router.message(Signup.name, F.text)
async def got_name(message: Message, state: FSMContext) -> None:
    name = validate.text(message.text, "name")
    await state.update_data(name=name)
    await state.set_state(Signup.phone)
    await message.answer(
        _("Your phone number? Coordinators use it to reach you; it is never shown in groups."),
        reply_markup=keyboards.share_phone(skippable=False),
    )


@router.message(Signup.phone, F.contact | F.text)
async def got_phone(message: Message, state: FSMContext, db: Database, user: User) -> None:
    if message.contact and message.contact.user_id not in (None, user.id):
        raise DomainError("bad_phone")
    if message.text == _("Skip"):  # typed, or tapped on an old keyboard: a volunteer's phone is needed
        raise DomainError("phone_needed")
    phone = validate.phone(message.contact.phone_number if message.contact else message.text)
    async with db.read() as s:
        chosen = [m.team_id for m, _t in await profiles.memberships(s, user.id)]
        skills = profiles.skill_ids(await s.get(Volunteer, user.id))
    await state.update_data(phone=phone, teams=chosen, skills=skills)
    await state.set_state(Signup.skills)
    await message.answer(_("Thank you."), reply_markup=ReplyKeyboardRemove())
    await message.answer(
        _("What can you offer? Tap your skills (any number), then “Done”."),
        reply_markup=await skill_keyboard(db, user, skills),
    )


async def skill_keyboard(db: Database, user: User, chosen: list[int]):
    async with db.read() as s:
        skills = [(k.id, profiles.skill_name(k, user.locale)) for k in await profiles.active_skills(s)]
    return profile_keyboards.skills(skills, chosen)


async def toggle_skill(
    query: CallbackQuery, callback_data: SkillCb, state: FSMContext, db: Database, user: User
) -> None:
    """Shared by registration and /profile: tick or untick one skill of the list."""
    async with db.read() as s:
        allowed = {k.id for k in await profiles.active_skills(s)}
    if callback_data.skill not in allowed:
        raise DomainError("stale")
    chosen = set((await state.get_data()).get("skills", [])) ^ {callback_data.skill}
    await state.update_data(skills=sorted(chosen))
    await editable(query).edit_reply_markup(reply_markup=await skill_keyboard(db, user, sorted(chosen)))
    await query.answer()


router.callback_query.register(toggle_skill, Signup.skills, SkillCb.filter(F.skill != 0))


@router.callback_query(Signup.skills, SkillCb.filter(F.skill == 0))
async def skills_done(query: CallbackQuery, state: FSMContext, db: Database) -> None:
    await state.set_state(Signup.teams)
    await editable(query).edit_reply_markup(reply_markup=None)
    await query.answer()
    chosen = (await state.get_data()).get("teams", [])
    await origin(query).answer(
        _("Which teams do you join? Tap to choose, then “Done”."), reply_markup=await _team_keyboard(db, chosen)
    )


async def _team_keyboard(db: Database, chosen: list[int]):
    async with db.read() as s:
        teams = await people.list_teams(s)
    rows = [[(("✅ " if t.id in chosen else "▫️ ") + t.name, TeamPickCb(team=t.id))] for t in teams]
    rows.append([(_("Done"), TeamPickCb(team=DONE))])
    return inline(rows)


@router.callback_query(Signup.teams, TeamPickCb.filter(F.team != DONE))
async def toggle_team(query: CallbackQuery, callback_data: TeamPickCb, state: FSMContext, db: Database) -> None:
    chosen = set((await state.get_data()).get("teams", []))
    chosen ^= {callback_data.team}
    await state.update_data(teams=sorted(chosen))
    await editable(query).edit_reply_markup(reply_markup=await _team_keyboard(db, sorted(chosen)))
    await query.answer()


@router.callback_query(Signup.teams, TeamPickCb.filter(F.team == DONE))
async def finish(
    query: CallbackQuery,
    state: FSMContext,
    db: Database,
    user: User,
    clock: Clock,
    notices: Notices,
    settings: Settings,
) -> None:
    data = await state.get_data()
    async with db.tx() as s:
        done = await profiles.sign_up(
            s,
            notices.people,
            user,
            name=data["name"],
            phone=data["phone"],
            skills=data.get("skills", []),
            team_ids=data.get("teams", []),
            now=clock.now(),
            daily=Daily(settings.max_join_requests_per_day, settings.tz),
        )
        active = set(await people.volunteer_team_ids(s, user.id))
        teams = [t.name for t in await people.list_teams(s) if t.id in active]
    await state.clear()
    await editable(query).edit_reply_markup(reply_markup=None)
    await query.answer()
    lines = [
        _("🎉 You are registered, {name}. Teams: {teams}.").format(name=data["name"], teams="、".join(teams))
        if teams
        else _("🎉 You are registered, {name}.").format(name=data["name"])  # not “teams: —” while joins wait
    ]
    if done.pending:
        lines.append(
            _(
                "Your request to join {teams} has gone to the team leader and the coordinators; "
                "I will tell you their answer."
            ).format(teams="、".join(t.name for t in done.pending))
        )
    lines.append(
        _(
            "When a request card appears in your team's group, tap “Accept” to take it. "
            "/profile shows and changes your details."
        )
    )
    await origin(query).answer("\n".join(lines), reply_markup=keyboards.main_menu())
