"""/start, /help, /whoami, /cancel: what everyone can use."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.people.service import is_coordinator, led_team_ids, volunteer_team_ids
from bot.ui import keyboards
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="common")


def help_text(user: User | None) -> str:
    lines = [
        _("I connect residents who need help with the station's volunteers."),
        "",
        _("For residents:"),
        _("/request – request a service (点单)"),
        _("/my – your requests and their state"),
        _("/cancel – leave the current step"),
        "",
        _("For volunteers:"),
        _("/volunteer – register or change your teams"),
        _("/claims – the requests you took, your hours and points"),
        _("/me – your hours, points and star level; /ledger – every entry; /dispute – an entry is wrong"),
        _("/rank – volunteers by hours; /settings – your name in rankings, your star level in the group"),
        _("/shop – 爱心超市: exchange your points; /redemptions – your exchanges"),
        _("/certificate [FROM TO] – your 志愿服务证明 as a PDF"),
        _("/checkin CODE, /checkout – at an activity you signed up for"),
        _("/profile – your details, skills and teams: change them, join or leave a team"),
        _("Team leaders: /joins – join requests to your team; /teams – your team; /proxy – a 帮办 order"),
    ]
    if is_coordinator(user):
        lines += [
            "",
            _("For coordinators:"),
            _("/pending – requests to review, open, taken, to approve"),
            _("/newteam NAME – create a team; /teams – list teams"),
            _("/bind TEAM – in a group: bind it to a team; /unbind"),
            _("/services – the menu; /service_add, /service_team, /service_rename, /service_off, /service_on"),
            _("/review on|off – whether requests wait for a coordinator before dispatch"),
            _("/history NUMBER – what happened to a request; /cancelreq NUMBER – cancel one"),
            _("/theme, /festival, /civic – monthly themes, festival customs, civic days on or off"),
            _("/report week|month [date] – 周台账 / 月小结 with an .xlsx workbook (team leaders: their own team)"),
            _("/ledger USER – a volunteer's ledger entries"),
            _("/activity – publish an activity with places; /activity_code, /activity_close, /activity_cancel NUMBER"),
            _("/shop_items, /shop_add – the 爱心超市 catalogue; /handover CODE; /verify NUMBER – check a certificate"),
            _("/team_rename, /team_archive – rename or archive a team; /leader_add, /leader_remove USER TEAM"),
            _("/skills, /skill_add, /skill_remove – the skills volunteers can choose"),
            _("/joins – join requests; /proxy – a 帮办 order for a resident without Telegram"),
        ]
    if user is not None and user.is_admin:
        lines += [
            "",
            _("For administrators:"),
            _("/coordinator_add USER, /coordinator_remove USER – by numeric id or @username"),
        ]
    lines += ["", _("/whoami – your Telegram id")]
    return "\n".join(lines)


@router.message(CommandStart(), F.chat.type == "private")
async def start(message: Message, state: FSMContext, user: User) -> None:
    await state.clear()
    assert message.from_user is not None  # a private chat's message has its sender
    await message.answer(
        _("Hello, {name}! 👋").format(name=message.from_user.full_name) + "\n\n" + help_text(user),
        reply_markup=keyboards.main_menu(),
    )


@router.message(Command("help"))
@router.message(F.chat.type == "private", F.text == __("❓ Help"))
async def help_(message: Message, user: User) -> None:
    await message.answer(help_text(user))


@router.message(Command("whoami"))
async def whoami(message: Message, user: User, db: Database) -> None:
    role = _("administrator") if user.is_admin else _("coordinator") if user.is_coordinator else _("resident")
    if not is_coordinator(user):
        async with db.read() as s:
            if await led_team_ids(s, user.id):
                role = _("team leader")
            elif await volunteer_team_ids(s, user.id):
                role = _("volunteer")
    await message.answer(_("Your Telegram id is {id}; your role: {role}.").format(id=user.id, role=role))


@router.message(Command("cancel"))
async def cancel(message: Message, state: FSMContext) -> None:
    if await state.get_state() is None:
        await message.answer(
            _("There is nothing to cancel."),
            reply_markup=ReplyKeyboardRemove() if message.chat.type == "private" else None,
        )
        return
    await state.clear()
    await message.answer(
        _("Cancelled. Nothing was saved."),
        reply_markup=keyboards.main_menu() if message.chat.type == "private" else None,
    )
