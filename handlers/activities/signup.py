"""Activities after publishing: sign up on the card, cancel, check in/out, close and approve hours."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, MaybeInaccessibleMessageUnion, Message
from aiogram.utils.i18n import gettext as _

from bot.activities import service as activities
from bot.activities.keyboards import CheckinCb, HoursOkCb, PublishCb, SignCb
from bot.core import validate
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.notices import Notices
from bot.org import service as org
from bot.people.service import is_coordinator
from bot.settings import Settings
from bot.ui import texts
from bot.ui.keyboards import inline
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import TeamChat, User

router = Blueprint(name="activities")


class Adjust(StatesGroup):
    hours = State()


def _private(message: Message) -> None:
    if message.chat.type != "private":
        raise DomainError("private_only")


def _arg(command: CommandObject, usage: str) -> str:
    if not command.args or not command.args.strip():
        raise DomainError("usage", usage=usage)
    return command.args.strip()


# sign up on the card ---------------------------------------------------------------------------------------


@router.callback_query(SignCb.filter(F.action == "in"))
async def sign_up(
    query: CallbackQuery, callback_data: SignCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    chat_id = query.message.chat.id if query.message else 0
    async with db.tx() as s:
        bound = await s.get(TeamChat, chat_id)
        result = await activities.sign_up(
            s,
            notices.activities,
            activity_id=callback_data.aid,
            user_id=user.id,
            chat_team_id=bound.team_id if bound else None,
            now=clock.now(),
        )
    if result.status == activities.SIGNED:
        await query.answer(
            _("You are signed up. Thank you! I will remind you the day before and an hour before."), show_alert=True
        )
    else:
        await query.answer(
            _(
                "All places are taken; you are number {position} on the waiting list. I will tell "
                "you if a place frees up."
            ).format(position=result.position),
            show_alert=True,
        )


@router.callback_query(SignCb.filter(F.action == "out"))
async def leave(
    query: CallbackQuery, callback_data: SignCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        await activities.leave(s, notices.activities, activity_id=callback_data.aid, user_id=user.id, now=clock.now())
    await query.answer(_("Your sign-up is cancelled."), show_alert=True)


# cancelling the activity ----------------------------------------------------------------------------------


async def _ask_cancel(target: MaybeInaccessibleMessageUnion, act, user: User, db: Database) -> None:
    async with db.read() as s:
        allowed = user.id == act.created_by or (
            is_coordinator(user) and await org.covers_any_of(s, user, await activities.activity_nodes(s, act))
        )
    if not allowed:
        raise DomainError("act_not_manager")
    await target.answer(
        _("Cancel the activity {number} “{title}”? Everyone signed up will be told.").format(
            number=act.number, title=act.title
        ),
        reply_markup=inline(
            [
                [
                    (_("Yes, cancel it"), PublishCb(action="cancel_yes", value=str(act.id))),
                    (_("No, keep it"), PublishCb(action="cancel_no", value=str(act.id))),
                ]
            ]
        ),
    )


def _aid(value: str) -> int:
    if not value.isdecimal() or not validate.fits_id(int(value)):
        raise DomainError("stale")
    return int(value)


@router.callback_query(PublishCb.filter(F.action == "cancel"))
async def cancel_ask(query: CallbackQuery, callback_data: PublishCb, db: Database, user: User) -> None:
    async with db.read() as s:
        act = await activities.get(s, _aid(callback_data.value))
    await _ask_cancel(origin(query), act, user, db)
    await query.answer()


@router.message(Command("activity_cancel"))
async def cancel_command(message: Message, command: CommandObject, db: Database, user: User) -> None:
    _private(message)
    async with db.read() as s:
        act = await activities.by_number(s, _arg(command, "/activity_cancel A2026-001"))
    await _ask_cancel(message, act, user, db)


@router.callback_query(PublishCb.filter(F.action == "cancel_yes"))
async def cancel_yes(
    query: CallbackQuery, callback_data: PublishCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        act = await activities.cancel(
            s, notices.activities, activity_id=_aid(callback_data.value), actor=user, now=clock.now()
        )
    await query.answer()
    await editable(query).edit_text(
        _("❌ Activity {number} is cancelled; those signed up are being told.").format(number=act.number)
    )


@router.callback_query(PublishCb.filter(F.action == "cancel_no"))
async def cancel_no(query: CallbackQuery) -> None:
    await query.answer()
    await editable(query).edit_text(_("Nothing was changed."))


# the check-in code and check-in/out ---------------------------------------------------------------------------


@router.message(Command("activity_code"))
async def show_code(message: Message, command: CommandObject, db: Database, user: User) -> None:
    _private(message)
    async with db.read() as s:
        act = await activities.by_number(s, _arg(command, "/activity_code A2026-001"))
        await activities.require_manager(s, user, act)
    await message.answer(
        _("Check-in code of activity {number}: {code}").format(number=act.number, code=act.checkin_code)
    )


def _checked_in(act, settings: Settings) -> str:
    return _(
        "✅ Checked in to “{title}”. Send /checkout when you leave (or I will check you out at the end, {end})."
    ).format(title=act.title, end=f"{act.ends_at.astimezone(settings.tz):%H:%M}")


def _checked_out(act, signup) -> str:
    return _("👋 Checked out of “{title}”: {hours} h proposed. The organiser will approve them.").format(
        title=act.title, hours=texts.hours(signup.proposed_minutes)
    )


@router.message(Command("checkin"))
async def checkin(
    message: Message, command: CommandObject, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    _private(message)
    code = _arg(command, "/checkin 123456")
    async with db.tx() as s:
        act = await activities.by_code(s, code)
        await activities.check_in(s, act=act, user_id=user.id, now=clock.now())
    await message.answer(_checked_in(act, settings))


@router.message(Command("checkout"))
async def checkout(message: Message, db: Database, clock: Clock, user: User) -> None:
    _private(message)
    async with db.tx() as s:
        act, signup = await activities.check_out(s, user_id=user.id, now=clock.now())
    await message.answer(_checked_out(act, signup))


@router.callback_query(CheckinCb.filter(F.action == "post"))
async def post_buttons(
    query: CallbackQuery, callback_data: CheckinCb, db: Database, notices: Notices, user: User
) -> None:
    async with db.tx() as s:
        act = await activities.get(s, callback_data.aid)
        await activities.require_manager(s, user, act)
        if act.status != activities.PUBLISHED:
            raise DomainError("act_finished" if act.status == activities.FINISHED else "act_cancelled")
        chats = await notices.activities.checkin_buttons(s, act)
    await query.answer(_("Posted to {count} group(s).").format(count=len(chats)), show_alert=True)


@router.callback_query(CheckinCb.filter(F.action.in_({"in", "out"})))
async def checkin_button(
    query: CallbackQuery, callback_data: CheckinCb, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    async with db.tx() as s:
        act = await activities.get(s, callback_data.aid)
        if callback_data.action == "in":
            await activities.check_in(s, act=act, user_id=user.id, now=clock.now())
            text = _checked_in(act, settings)
        else:
            act, signup = await activities.check_out(s, user_id=user.id, now=clock.now())
            if act.id != callback_data.aid:
                raise DomainError("act_not_checked_in")
            text = _checked_out(act, signup)
    await query.answer(text, show_alert=True)


# closing and approving hours ----------------------------------------------------------------------------------


async def _close(act_id: int, db: Database, notices: Notices, clock: Clock, user: User):
    async with db.tx() as s:
        return await activities.close(s, notices.activities, activity_id=act_id, actor=user, now=clock.now())


@router.callback_query(HoursOkCb.filter(F.action == "close"))
async def close_button(
    query: CallbackQuery, callback_data: HoursOkCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    act = await _close(callback_data.aid, db, notices, clock, user)
    await query.answer(_("Activity {number} is closed.").format(number=act.number))


@router.message(Command("activity_close"))
async def close_command(
    message: Message, command: CommandObject, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    _private(message)
    async with db.read() as s:
        act = await activities.by_number(s, _arg(command, "/activity_close A2026-001"))
    await _close(act.id, db, notices, clock, user)


async def _approve(
    aid: int,
    uid: int | None,
    minutes: int | None,
    db: Database,
    notices: Notices,
    clock: Clock,
    settings: Settings,
    user: User,
):
    an = notices.activities
    async with db.tx() as s:
        done = await activities.approve(
            s,
            an,
            activity_id=aid,
            actor=user,
            user_id=uid,
            minutes=minutes,
            points_per_hour=settings.points_per_hour,
            now=clock.now(),
        )
        act = await activities.get(s, aid)
        text, kb = await an.approval_text(s, act)
    return done, text, kb


@router.callback_query(HoursOkCb.filter(F.action.in_({"ok", "all"})))
async def approve_button(
    query: CallbackQuery,
    callback_data: HoursOkCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    settings: Settings,
    user: User,
) -> None:
    uid = callback_data.uid if callback_data.action == "ok" else None
    done, text, kb = await _approve(callback_data.aid, uid, None, db, notices, clock, settings, user)
    await query.answer(_("Approved for {count} volunteer(s).").format(count=len(done)))
    await editable(query).edit_text(text, reply_markup=kb)


@router.callback_query(HoursOkCb.filter(F.action == "fix"))
async def adjust_ask(
    query: CallbackQuery, callback_data: HoursOkCb, state: FSMContext, db: Database, user: User
) -> None:
    async with db.read() as s:
        act = await activities.get(s, callback_data.aid)
        await activities.require_manager(s, user, act)
    if callback_data.uid == user.id:
        raise DomainError("own_hours")
    await state.set_state(Adjust.hours)
    await state.update_data(aid=act.id, uid=callback_data.uid)
    await query.answer()
    await origin(query).answer(
        _("How many hours should be approved for this volunteer? (in half hours, /cancel to go back)")
    )


@router.message(Adjust.hours, F.text)
async def adjust_hours(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, settings: Settings, user: User
) -> None:
    data = await state.get_data()
    minutes = validate.hours_to_minutes(message.text)
    _done, text, kb = await _approve(data["aid"], data["uid"], minutes, db, notices, clock, settings, user)
    await state.clear()
    await message.answer(text, reply_markup=kb)
