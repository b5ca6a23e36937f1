"""帮办员: a coordinator or team leader places a request for a resident who does not use Telegram.

Two extra first steps (the resident's name and phone), then the very same 点单 conversation
(handlers/requests/order.py), which leaves out its phone step. The request is the proxy's (resident_id): he gets
the notices, confirms and rates; proxy_for holds the resident's name, the phone is the request's private phone.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.org import service as org
from bot.people import service as people
from bot.requests.keyboards import OrderCb
from bot.ui.wizard import Step, Turn, Wizard
from handlers.requests import order
from handlers.routing import Blueprint
from storage.models import User

router = Blueprint(name="proxy")
router.message.filter(F.chat.type == "private")

STEPS = [
    Step(
        "name",
        lambda turn: (
            _(
                "帮办: you are placing a request for a resident who does not use Telegram. "
                "You will receive the notices and confirm the service for them.\n"
                "The resident's name? (/cancel to stop)"
            ),
            ReplyKeyboardRemove(),
        ),
        typed=lambda turn, message: {"proxy_for": validate.text(message.text, "name")},
    ),
    Step(
        "phone",
        lambda turn: (
            _(
                "The resident's phone number? Only the volunteer who takes the request and the "
                "coordinators will see it."
            ),
            None,
        ),
        typed=lambda turn, message: {"phone": validate.phone(message.text)},
    ),
]


async def _to_order(turn: Turn, data: dict) -> None:
    await order.WIZARD.ask(turn, "service")


WIZARD = Wizard("Proxy", OrderCb, STEPS, finish=_to_order)


@router.message(Command("proxy"))
async def begin(message: Message, command: CommandObject, state: FSMContext, **deps) -> None:
    """/proxy [CODE]: for a resident of the proxy's own station, or of the station CODE within his scope (a 所's or
    the 中心's coordinator, who has no station of his own in a county, names one)."""
    turn = Turn(message, state, deps)
    async with turn.db.read() as s:
        await people.require_leader_or_coordinator(s, turn.user)
        station = await _station(s, turn.user, (command.args or "").split())
    await state.clear()
    if station is not None:
        await state.update_data(station=station)
    await WIZARD.ask(turn)


async def _station(s: AsyncSession, user: User, words: list[str]) -> int | None:
    if words:
        found = await org.find_node(s, words[0])
        if found.kind != org.STATION or found.archived:
            raise DomainError("no_station", ref=found.code)
        if not await org.may_order_for(s, user, found.id):
            raise DomainError("not_your_station")
        return found.id
    if await org.home_station(s, user) is None:  # a county, and no station of his own: he names one
        raise DomainError("proxy_needs_station")
    return None


WIZARD.attach(router)
