"""/start, /help, /whoami, /cancel: what everyone can use."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.org import service as org
from bot.org import texts as org_texts
from bot.org.station_keyboards import groups as station_groups
from bot.people.service import is_coordinator, led_team_ids, volunteer_team_ids
from bot.ui import keyboards
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="common")


async def role_of(db: Database, user: User | None) -> str:
    """resident, volunteer, leader, coordinator or admin: the most a person may do."""
    if user is None:
        return "resident"
    if user.is_admin:
        return "admin"
    if is_coordinator(user):
        return "coordinator"
    async with db.read() as s:
        if await led_team_ids(s, user.id):
            return "leader"
        if await volunteer_team_ids(s, user.id):
            return "volunteer"
    return "resident"


def role_help(role: str) -> str:
    """What this person can do now, a few lines, the most used first; /help all has every command."""
    if role == "resident":
        lines = [
            _("I connect residents who need help with the station's volunteers."),
            "",
            _("/request – request a service (点单)"),
            _("/my – your requests and their state"),
            _("/volunteer – become a volunteer"),
            _("/cancel – leave the current step"),
        ]
    elif role in ("volunteer", "leader"):
        lines = [
            _("For volunteers:"),
            _("Tap “接单” on a card in your team's group to take a request."),
            _("/claims – the requests you took, your hours and points"),
            _("/me – your hours, points and star level"),
            _("/shop – 爱心超市: exchange your points"),
            _("/profile – your details, skills and teams"),
        ]
        if role == "leader":
            lines += [
                "",
                _("Team leaders: /joins – join requests to your team; /teams – your team; /proxy – a 帮办 order"),
            ]
        lines += [_("/request – request a service (点单)")]
    else:
        lines = [
            _("For coordinators:"),
            _("/pending – requests to review, open, taken, to approve"),
            _("/setup – what a new station still has to do"),
            _("/joins – join requests; /proxy – a 帮办 order for a resident without Telegram"),
            _("/report week|month [date] – 周台账 / 月小结 with an .xlsx workbook (team leaders: their own team)"),
            _("/services – the menu; /teams – the teams; /activity – publish an activity"),
        ]
        if role == "admin":
            lines += [
                "",
                _("For administrators:"),
                _("/coordinator_add USER, /coordinator_remove USER – by numeric id or @username"),
            ]
    lines += ["", _("/help all – every command you may use")]
    return "\n".join(lines)


def help_text(user: User | None) -> str:
    """Every command this person may use (/help all)."""
    lines = [
        _("I connect residents who need help with the station's volunteers."),
        "",
        _("For residents:"),
        _("/request – request a service (点单)"),
        _("/my – your requests and their state"),
        _("/mystation – your station (实践站): see or change it"),
        _("/regular – your regular needs: skip one, stop them"),
        _("/cancel – leave the current step"),
        _("/forget – erase your data from the bot (after a confirmation)"),
        _("/wish – make a small wish (微心愿); /wishes – the open wishes; /mywishes – yours"),
        _("/donor – register as 爱心人士 or 爱心企业 to claim wishes, without joining a team"),
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
            _("/qr [CODE] – a printable poster with the station's QR code: residents who scan it belong to it"),
            _("/setup – what a new station still has to do"),
            _("/newteam NAME – create a team; /teams – list teams"),
            _("/bind TEAM – in a group: bind it to a team; /unbind"),
            _("/services – the menu; /service_add, /service_team, /service_rename, /service_off, /service_on"),
            _("/review on|off – whether requests wait for a coordinator before dispatch"),
            _("/history NUMBER – what happened to a request; /cancelreq NUMBER – cancel one"),
            _("/transfer NUMBER CODE REASON – hand a request on (转派); /notice TEXT – a notice to your teams' groups"),
            _("/theme, /festival, /civic – monthly themes, festival customs, civic days on or off"),
            _("/report week|month [date] – 周台账 / 月小结 with an .xlsx workbook (team leaders: their own team)"),
            _("/ledger USER – a volunteer's ledger entries"),
            _("/activity – publish an activity with places; /activity_code, /activity_close, /activity_cancel NUMBER"),
            _("/task – issue a task order (任务单) to stations (中心, 所); /tasks – task orders and their progress"),
            _("/shop_items, /shop_add – the 爱心超市 catalogue; /handover CODE; /verify NUMBER – check a certificate"),
            _("/showcase – 公示: the recent posts of the public channel, to take one down"),
            _("/team_rename, /team_archive – rename or archive a team; /leader_add, /leader_remove USER TEAM"),
            _("/skills, /skill_add, /skill_remove – the skills volunteers can choose"),
            _("/joins – join requests; /proxy – a 帮办 order for a resident without Telegram"),
            _("/bind_wall [CODE] – in a group: make it the station's wish wall (心愿墙); /wish CODE – a 帮办 wish"),
            _("/member_remove USER TEAM REASON – remove a volunteer from a team; /block USER [REASON], /unblock USER"),
            _(
                "/org – the county's 中心, 所 and 站 with their codes; the 中心 changes it: /org_add, /org_rename, "
                "/org_move, /org_archive"
            ),
        ]
    if user is not None and user.is_admin:
        lines += [
            "",
            _("For administrators:"),
            _("/coordinator_add USER, /coordinator_remove USER – by numeric id or @username"),
            _("/coordinator_add USER NODE_CODE – a coordinator of that 站 or 所 only (without a code: of the 中心)"),
        ]
    lines += ["", _("/whoami – your Telegram id")]
    return "\n".join(lines)


@router.message(CommandStart(), F.chat.type == "private")
async def start(message: Message, state: FSMContext, user: User, db: Database) -> None:
    await state.clear()
    assert message.from_user is not None  # a private chat's message has its sender
    await message.answer(
        _("Hello, {name}! 👋").format(name=message.from_user.full_name) + "\n\n" + role_help(await role_of(db, user)),
        reply_markup=keyboards.main_menu(),
    )
    async with db.read() as s:  # first contact in a county: his station (所, then 站), see handlers/stations.py
        tree = await org.load_tree(s) if await org.must_pick_station(s, user) else None
    if tree is not None:
        await message.answer(org_texts.ask_group(), reply_markup=station_groups(tree))


@router.message(Command("help"))
@router.message(F.chat.type == "private", F.text == __("❓ Help"))
async def help_(message: Message, user: User, db: Database, command: CommandObject | None = None) -> None:
    if command is not None and (command.args or "").strip().lower() in ("all", "全部"):
        await message.answer(help_text(user))
        return
    await message.answer(role_help(await role_of(db, user)))


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
