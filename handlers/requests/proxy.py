"""帮办员: a coordinator or team leader places a request for a resident who does not use Telegram.

Two extra first steps (the resident's name and phone), then the very same 点单 conversation
(handlers/requests/order.py), which leaves out its phone step. The request is the proxy's (resident_id): he gets
the notices, confirms and rates; proxy_for holds the resident's name, the phone is the request's private phone.
"""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot.core import validate
from bot.people import service as people
from bot.requests.keyboards import OrderCb
from bot.ui.wizard import Step, Turn, Wizard
from handlers.requests import order
from handlers.routing import Blueprint

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
async def begin(message: Message, state: FSMContext, **deps) -> None:
    turn = Turn(message, state, deps)
    async with turn.db.read() as s:
        await people.require_leader_or_coordinator(s, turn.user)
    await state.clear()
    await WIZARD.ask(turn)


WIZARD.attach(router)
