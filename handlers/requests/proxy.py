"""帮办员: a coordinator or team leader places a request for a resident who does not use Telegram.

Two extra first steps (the resident's name and phone), then the very same 点单 conversation
(handlers.order). The request is the proxy's (resident_id): he gets the notices, confirms and rates;
proxy_for holds the resident's name, the phone is the request's private phone.
"""
from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.people import service as people
from bot.core import validate
from bot.settings import Settings
from handlers.requests import order
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="proxy")
router.message.filter(F.chat.type == "private")


class Proxy(StatesGroup):
    name = State()
    phone = State()


@router.message(Command("proxy"))
async def begin(message: Message, state: FSMContext, db: Database, user: User) -> None:
    async with db.read() as s:
        await people.require_leader_or_coordinator(s, user)
    await state.clear()
    await state.set_state(Proxy.name)
    await message.answer(_("帮办: you are placing a request for a resident who does not use Telegram. "
                           "You will receive the notices and confirm the service for them.\n"
                           "The resident's name? (/cancel to stop)"), reply_markup=ReplyKeyboardRemove())


@router.message(Proxy.name, F.text)
async def got_name(message: Message, state: FSMContext) -> None:
    await state.update_data(proxy_for=validate.text(message.text, "name"))
    await state.set_state(Proxy.phone)
    await message.answer(_("The resident's phone number? Only the volunteer who takes the request and the "
                           "coordinators will see it."))


@router.message(Proxy.phone, F.text)
async def got_phone(message: Message, state: FSMContext, db: Database, settings: Settings, clock: Clock,
                    user: User) -> None:
    await state.update_data(phone=validate.phone(message.text))
    await order._ask("service", message, state, db=db, settings=settings, clock=clock, user=user)
