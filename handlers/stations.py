"""Residents belong to a station: `/start CODE` (a poster's deep link), the picker (所, then 站) on first contact and
before the first 点单, /mystation, and /qr, the station's printable poster for coordinators."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InaccessibleMessage, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.core.errors import DomainError
from bot.error_texts import error_text
from bot.org import service as org
from bot.org import texts
from bot.org.station_keyboards import THEN_ORDER, StationCb
from bot.org.station_keyboards import change as change_keyboard
from bot.org.station_keyboards import groups as groups_keyboard
from bot.org.station_keyboards import stations as stations_keyboard
from bot.people.service import require_coordinator
from bot.settings import Settings
from bot.setup import service as setup
from bot.ui import keyboards
from handlers.requests import order
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

log = logging.getLogger(__name__)
router = Blueprint(name="stations")


async def offer_picker(message: Message, db: Database, then: str = "", lead: str | None = None) -> None:
    """The picker's first list, as a new message (after `lead`, a line said before the question)."""
    async with db.read() as s:
        tree = await org.load_tree(s)
    question = texts.ask_group()
    await message.answer(f"{lead}\n\n{question}" if lead else question, reply_markup=groups_keyboard(tree, then=then))


async def ask_first(message: Message, db: Database, user: User, then: str = "") -> bool:
    """First contact: offers the picker when this person still has to choose his station; True if it did."""
    async with db.read() as s:
        if not await org.must_pick_station(s, user):
            return False
    await offer_picker(message, db, then)
    return True


@router.message(CommandStart(deep_link=True), F.chat.type == "private")
async def start_at(message: Message, command: CommandObject, state: FSMContext, db: Database, user: User) -> None:
    """`/start CODE`, from a station's poster: he belongs to that station from now on."""
    await state.clear()
    assert message.from_user is not None  # a private chat's message has its sender
    hello = _("Hello, {name}! 👋").format(name=message.from_user.full_name)
    try:
        async with db.tx() as s:
            me = await s.get(User, user.id)
            assert me is not None  # UpdateMiddleware saved him
            station = await org.place_resident(s, me, (command.args or "").strip())
    except DomainError as exc:  # an unknown or archived code: said politely, then the picker (if there is a choice)
        async with db.read() as s:
            choose = await org.must_pick_station(s, user)
        if choose:
            await offer_picker(message, db, lead=f"{hello}\n{error_text(exc)}")
        else:
            await message.answer(f"{hello}\n{error_text(exc)}\n\n/help", reply_markup=keyboards.main_menu())
        return
    await message.answer(
        f"{hello}\n\n{texts.welcome_placed(station)}\n\n" + _("/request – request a service (点单)") + "\n/help",
        reply_markup=keyboards.main_menu(),
    )


@router.message(Command("mystation"), F.chat.type == "private")
async def my_station(message: Message, db: Database, user: User) -> None:
    async with db.read() as s:
        tree = await org.load_tree(s)
        mine = await org.home_station(s, user) if user.station_id is None else user.station_id
    station = tree.nodes.get(mine) if mine is not None else None
    above = tree.ancestors(station.id)[1] if station is not None and len(tree.ancestors(station.id)) > 1 else None
    text = texts.my_station(station, above)
    if station is None and len(tree.stations()) > 1:
        await message.answer(f"{text}\n\n{texts.ask_group()}", reply_markup=groups_keyboard(tree))
        return
    await message.answer(text, reply_markup=change_keyboard() if len(tree.stations()) > 1 else None)


@router.callback_query(StationCb.filter())
async def picked(
    query: CallbackQuery, callback_data: StationCb, state: FSMContext, db: Database, user: User, **deps
) -> None:
    message = query.message
    if message is None or isinstance(message, InaccessibleMessage):
        raise DomainError("stale")
    then = callback_data.then if callback_data.then == THEN_ORDER else ""
    if callback_data.action == "pick":
        async with db.tx() as s:
            me = await s.get(User, user.id)
            assert me is not None
            station = await org.place_resident(s, me, callback_data.node)
        await query.answer()
        await message.edit_text(texts.placed(station), reply_markup=None)
        if then == THEN_ORDER:
            await order.resume(message, state, {**deps, "db": db, "user": user})
        return
    async with db.read() as s:
        tree = await org.load_tree(s)
    if callback_data.action == "groups":
        await query.answer()
        await message.edit_text(texts.ask_group(), reply_markup=groups_keyboard(tree, callback_data.page, then))
        return
    group = tree.nodes.get(callback_data.node) if callback_data.action == "group" else None
    if group is None or not org.pick_stations(tree, group.id):
        raise DomainError("stale")
    await query.answer()
    await message.edit_text(
        texts.ask_station(group), reply_markup=stations_keyboard(tree, group, callback_data.page, then)
    )


@router.message(Command("qr"))
async def qr(
    message: Message, command: CommandObject, bot: Bot, db: Database, settings: Settings, i18n: I18n, user: User
) -> None:
    """The station's poster: a PNG for A4, sent as a file so that it is printed at full resolution."""
    require_coordinator(user)
    code = (command.args or "").split()
    async with db.read() as s:
        station = await org.poster_station(s, user, code[0] if code else None)
        tree = await org.load_tree(s)
    if station is None:
        raise DomainError("usage", usage=texts.qr_usage())
    # The QR and image libraries (segno, Pillow) are imported on first use: the bot does not carry them until then.
    from bot.core import fonts
    from bot.org import poster as posters

    me = await bot.me()
    link = org.deep_link(me.username or "", station)
    above = tree.ancestors(station.id)[1:2]
    with i18n.use_locale(settings.default_locale):  # the poster speaks to the station's residents
        sheet = posters.Poster(
            link=link,
            title=station.name,
            subtitle=above[0].name if above else "",
            how=texts.poster_how(),
            footer=texts.poster_footer(station.code, link.removeprefix("https://")),
        )
    try:
        font = fonts.chinese_font(settings.font_path)
    except fonts.FontMissing as exc:
        log.error("/qr: %s", exc)
        raise DomainError("poster_font") from None
    png = await asyncio.to_thread(posters.render, sheet, font)
    # /setup's checklist: a poster was made. Recorded before it is sent, so that a /setup sent as soon as the poster
    # arrives already counts it (it was read before the record's commit now and then).
    async with db.tx() as s:
        await setup.poster_made(s)
    await message.answer_document(
        BufferedInputFile(png, filename=f"poster-{station.code}.png"), caption=texts.qr_caption(station)
    )
