"""Volunteer registration in private chat: name, phone, teams."""
from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot import keyboards
from bot.clock import Clock
from bot.errors import DomainError
from bot.keyboards import TeamPickCb, inline
from bot.services import people, validate
from storage.db import Database
from storage.models import User

router = Router(name="volunteer")
DONE = 0  # TeamPickCb.team value of the "Done" button


class Signup(StatesGroup):
    name = State()
    phone = State()
    teams = State()


@router.message(Command("volunteer"), F.chat.type == "private")
@router.message(F.chat.type == "private", F.text == __("🙋 Become a volunteer"))
async def begin(message: Message, state: FSMContext, db: Database) -> None:
    async with db.read() as s:
        if not await people.list_teams(s):
            raise DomainError("no_teams_yet")
    await state.set_state(Signup.name)
    await message.answer(_("Thank you for volunteering! What is your name? (as it should appear to residents)"),
                         reply_markup=ReplyKeyboardRemove())


@router.message(Signup.name, F.text)
async def got_name(message: Message, state: FSMContext) -> None:
    name = validate.text(message.text, "name")
    await state.update_data(name=name)
    await state.set_state(Signup.phone)
    await message.answer(_("Your phone number? Coordinators use it to reach you; it is never shown in groups."),
                         reply_markup=keyboards.share_phone())


@router.message(Signup.phone, F.contact | F.text)
async def got_phone(message: Message, state: FSMContext, db: Database, user: User) -> None:
    if message.contact and message.contact.user_id not in (None, user.id):
        raise DomainError("bad_phone")
    phone = validate.phone(message.contact.phone_number if message.contact else message.text)
    async with db.read() as s:
        chosen = await people.volunteer_team_ids(s, user.id)
    await state.update_data(phone=phone, teams=chosen)
    await state.set_state(Signup.teams)
    await message.answer(_("Thank you."), reply_markup=ReplyKeyboardRemove())
    await message.answer(_("Which teams do you join? Tap to choose, then “Done”."),
                         reply_markup=await _team_keyboard(db, chosen))


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
    await query.message.edit_reply_markup(reply_markup=await _team_keyboard(db, sorted(chosen)))
    await query.answer()


@router.callback_query(Signup.teams, TeamPickCb.filter(F.team == DONE))
async def finish(query: CallbackQuery, state: FSMContext, db: Database, user: User, clock: Clock) -> None:
    data = await state.get_data()
    async with db.tx() as s:
        await people.register_volunteer(s, user, name=data["name"], phone=data["phone"],
                                        team_ids=data.get("teams", []), now=clock.now())
        names = [t.name for t in await people.list_teams(s) if t.id in set(data["teams"])]
    await state.clear()
    await query.message.edit_reply_markup(reply_markup=None)
    await query.answer()
    await query.message.answer(_("🎉 You are registered, {name}. Teams: {teams}.\nWhen a request card appears in "
                                 "your team's group, tap “Accept” to take it.").format(
        name=data["name"], teams="、".join(names)), reply_markup=keyboards.main_menu())
