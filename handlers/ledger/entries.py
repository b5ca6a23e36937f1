"""/ledger (one's own entries; coordinators anyone's, team leaders their members') and /dispute."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy import select

from bot.core import validate
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.ledger import disputes
from bot.ledger import keyboards as ledger_keyboards
from bot.ledger import service as ledger
from bot.ledger import texts as ledger_texts
from bot.ledger.keyboards import DisputeCb
from bot.notices import Notices
from bot.people import service as people
from bot.settings import Settings
from bot.ui import texts
from bot.ui.private import PRIVATE_VIEW
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import LedgerEntry, Request, User, Volunteer

router = Blueprint(name="ledger")


class DisputeText(StatesGroup):
    text = State()


class DisputeFix(StatesGroup):
    hours = State()
    reason = State()


class DisputeReject(StatesGroup):
    reason = State()


# /ledger ------------------------------------------------------------------------------------------


async def _numbers(s, entries: list[LedgerEntry]) -> dict[int, str]:
    ids = {e.request_id for e in entries if e.request_id}
    if not ids:
        return {}
    return dict((await s.execute(select(Request.id, Request.number).where(Request.id.in_(ids)))).all())


async def _ledger_view(db: Database, settings: Settings, viewer: User, volunteer_id: int, page: int):
    async with db.read() as s:
        if not await ledger.may_see(s, viewer, volunteer_id):
            raise DomainError("ledger_not_allowed")
        volunteer = await s.get(Volunteer, volunteer_id)
        if volunteer is None:
            raise DomainError("not_volunteer") if volunteer_id == viewer.id else DomainError("ledger_not_volunteer")
        total = await ledger.totals(s, volunteer_id)
        entries, older = await ledger.page(s, volunteer_id, page)
        numbers = await _numbers(s, entries)
    lines = [
        _("📒 Ledger of {name}: {hours} h, {points} points in all.").format(
            name=volunteer.name, hours=texts.hours(total.minutes), points=total.points
        )
    ]
    if entries:
        lines.append(_("Newest first, page {page}:").format(page=page + 1))
        lines += [ledger_texts.entry_line(e, settings.tz, numbers) for e in entries]
    else:
        lines.append(_("No entries yet."))
    return "\n".join(lines)[: texts.TELEGRAM_LIMIT], ledger_keyboards.ledger_pages(volunteer_id, page, older)


@router.message(Command("ledger"), flags=PRIVATE_VIEW)
async def show_ledger(message: Message, command: CommandObject, db: Database, settings: Settings, user: User) -> None:
    target = user.id
    if command.args:
        async with db.read() as s:
            found = await people.find_user(s, command.args.split()[0])
        if found is None:
            raise DomainError("no_user")
        target = found.id
    text, kb = await _ledger_view(db, settings, user, target, 0)
    await message.answer(text, reply_markup=kb if message.chat.type == "private" else None)  # its pages: private


@router.callback_query(DisputeCb.filter(F.action == "page"), flags=PRIVATE_VIEW)
async def ledger_page(
    query: CallbackQuery, callback_data: DisputeCb, db: Database, settings: Settings, user: User
) -> None:
    if not validate.fits_id(callback_data.id, big=True) or not 0 <= callback_data.page < 100_000:
        raise DomainError("stale")
    text, kb = await _ledger_view(db, settings, user, callback_data.id, callback_data.page)
    await query.answer()
    await editable(query).edit_text(text, reply_markup=kb)


# /dispute: the volunteer -----------------------------------------------------------------------------


@router.message(Command("dispute"), F.chat.type == "private")
async def dispute_start(message: Message, db: Database, settings: Settings, user: User) -> None:
    async with db.read() as s:
        if await s.get(Volunteer, user.id) is None:
            raise DomainError("not_volunteer")
        entries = await ledger.disputable(s, user.id)
        numbers = await _numbers(s, entries)
    if not entries:
        await message.answer(_("You have no approved hours to dispute yet."))
        return
    choices = [(ledger_texts.entry_line(e, settings.tz, numbers).split("\n")[0][:60], e.id) for e in entries]
    await message.answer(_("Which entry is wrong? Tap it:"), reply_markup=ledger_keyboards.dispute_pick(choices))


@router.message(Command("dispute"))
async def dispute_in_group(message: Message) -> None:
    raise DomainError("private_only")


@router.callback_query(DisputeCb.filter(F.action == "pick"))
async def dispute_pick(
    query: CallbackQuery, callback_data: DisputeCb, state: FSMContext, db: Database, user: User
) -> None:
    async with db.read() as s:
        entry = await disputes.own_entry(s, user, callback_data.id)  # a forged id of another's entry stops here
    await state.set_state(DisputeText.text)
    await state.update_data(entry=entry.id)
    await query.answer()
    await origin(query).answer(
        _("Entry №{id}: please write what is wrong (at most {limit} characters), or /cancel.").format(
            id=entry.id, limit=disputes.TEXT_LIMIT
        )
    )


@router.message(DisputeText.text, F.text)
async def dispute_text(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    entry_id = (await state.get_data())["entry"]
    async with db.tx() as s:
        dispute = await disputes.open_dispute(
            s, notices.ledger, user=user, entry_id=entry_id, text=message.text, now=clock.now()
        )
    await state.clear()
    await message.answer(
        _("Thank you. Your dispute {id} has gone to the coordinators; I will tell you their answer.").format(
            id=dispute.id
        )
    )


# /dispute: the coordinator -----------------------------------------------------------------------------


@router.callback_query(DisputeCb.filter(F.action == "fix"))
async def fix_ask(query: CallbackQuery, callback_data: DisputeCb, state: FSMContext, db: Database, user: User) -> None:
    async with db.read() as s:
        dispute = await disputes.get_open(s, user, callback_data.id)
        entry = await s.get(LedgerEntry, dispute.entry_id)
    assert entry is not None  # ledger entries are never deleted
    await state.set_state(DisputeFix.hours)
    await state.update_data(dispute=dispute.id)
    await query.answer()
    await origin(query).answer(
        _(
            "Dispute {id}: the entry has {hours} h. How many hours are right? "
            "(0 if the service did not take place; /cancel to go back)"
        ).format(id=dispute.id, hours=texts.hours(entry.minutes))
    )


@router.message(DisputeFix.hours, F.text)
async def fix_hours(message: Message, state: FSMContext) -> None:
    assert message.text is not None  # F.text
    minutes = 0 if message.text.strip() in ("0", "0.0", "0h") else validate.hours_to_minutes(message.text)
    if minutes > validate.MAX_MINUTES:
        raise DomainError("hours_out_of_range", max_hours=validate.MAX_MINUTES / 60)
    await state.update_data(minutes=minutes)
    await state.set_state(DisputeFix.reason)
    await message.answer(_("Why are the hours corrected? The volunteer will see your reason."))


@router.message(DisputeFix.reason, F.text)
async def fix_reason(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, settings: Settings, user: User
) -> None:
    data = await state.get_data()
    async with db.tx() as s:
        dispute = await disputes.correct(
            s,
            notices.ledger,
            actor=user,
            dispute_id=data["dispute"],
            minutes=data["minutes"],
            reason=message.text,
            points_per_hour=settings.points_per_hour,
            now=clock.now(),
        )
    await state.clear()
    await message.answer(
        _("✅ Dispute {id} closed: the entry is corrected to {hours} h.").format(
            id=dispute.id, hours=texts.hours(data["minutes"])
        )
    )


@router.callback_query(DisputeCb.filter(F.action == "no"))
async def reject_ask(
    query: CallbackQuery, callback_data: DisputeCb, state: FSMContext, db: Database, user: User
) -> None:
    async with db.read() as s:
        dispute = await disputes.get_open(s, user, callback_data.id)
    await state.set_state(DisputeReject.reason)
    await state.update_data(dispute=dispute.id)
    await query.answer()
    await origin(query).answer(
        _("Dispute {id}: why is it rejected? The volunteer will see your reason (/cancel to go back).").format(
            id=dispute.id
        )
    )


@router.message(DisputeReject.reason, F.text)
async def reject_reason(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    data = await state.get_data()
    async with db.tx() as s:
        dispute = await disputes.reject(
            s, notices.ledger, actor=user, dispute_id=data["dispute"], reason=message.text, now=clock.now()
        )
    await state.clear()
    await message.answer(_("Dispute {id} rejected; the volunteer has been told.").format(id=dispute.id))
