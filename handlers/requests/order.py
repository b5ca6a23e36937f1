"""点单: a resident's request, step by step, in private chat (bot/ui/wizard.py). /cancel leaves at any step."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.core import validate
from bot.core.errors import DomainError
from bot.menu import service as menu
from bot.requests import service as requests
from bot.requests.keyboards import OrderCb
from bot.ui import keyboards, texts
from bot.ui.keyboards import inline
from bot.ui.pickers import day_step, times, window_step
from bot.ui.wizard import Button, Step, Summary, Turn, Wizard
from handlers.routing import Blueprint
from storage.models import Service

router = Blueprint(name="order")
router.message.filter(F.chat.type == "private")


async def _ask_service(turn: Turn):
    async with turn.db.read() as s:
        services = await menu.active_services(s)
    rows = [
        [
            (texts.service_name(sv, turn.user.locale), OrderCb(action="svc", value=str(sv.id)))
            for sv in services[i : i + 2]
        ]
        for i in range(0, len(services), 2)
    ]
    return _("Which service do you need? Choose from the menu:"), inline(rows)


async def _service_tapped(turn: Turn, value: str):
    async with turn.db.read() as s:
        service = await s.get(Service, int(value)) if value.isdecimal() and validate.fits_id(int(value)) else None
    if service is None or not service.active:
        raise DomainError("no_service", ref=value)
    return {"service_id": service.id}, _("Service: {service}").format(
        service=texts.service_name(service, turn.user.locale)
    )


def _phone(turn: Turn, message: Message):
    if message.text == _("Skip"):
        return {"phone": None}
    return {"phone": validate.phone(message.contact.phone_number if message.contact else message.text)}


STEPS = [
    Step("service", _ask_service, label=__("Service"), buttons={"svc": Button(_service_tapped)}),
    Step(
        "description",
        lambda turn: (
            _("Please describe what you need (at most {limit} characters).").format(
                limit=validate.LIMITS["description"]
            ),
            ReplyKeyboardRemove(),
        ),
        label=__("Need"),
        typed=lambda turn, message: {"description": validate.text(message.text, "description")},
    ),
    day_step(OrderCb, __("Day"), days=7, check=requests.check_window),
    window_step(
        OrderCb,
        __("Time"),
        __("At what time? Tap a slot or type one such as 14:00-16:00."),
        check=requests.check_window,
    ),
    Step(
        "area",
        lambda turn: (_("In which residential compound (小区) or street? Volunteers will see this."), None),
        label=__("Area"),
        typed=lambda turn, message: {"area": validate.text(message.text, "area")},
    ),
    Step(
        "address",
        lambda turn: (
            _("The exact address (building, unit, room)? Only the volunteer who takes the request will see it."),
            inline([[(_("Skip"), OrderCb(action="skip", value="address"))]]),
        ),
        label=__("Address"),
        typed=lambda turn, message: {"address": validate.text(message.text, "address")},
        buttons={"skip": Button(lambda turn, value: {"address": None}, tidy=True)},
    ),
    # 帮办 (handlers/requests/proxy.py): the resident's phone was typed in the first steps.
    Step(
        "phone",
        lambda turn: (
            _(
                "A phone number the volunteer can call? Share it, type it, or skip. Only the "
                "volunteer who takes the request will see it."
            ),
            keyboards.share_phone(),
        ),
        label=__("Phone"),
        typed=_phone,
        typed_filter=F.contact | F.text,
        skip=lambda data: data.get("proxy_for"),
    ),
]


async def _summary(turn: Turn, data: dict) -> str:
    async with turn.db.read() as s:
        service = await s.get(Service, data["service_id"])
    start, end = times(data, turn.settings.tz)
    return "\n".join(
        [
            _("Please check your request:"),
            *([_("帮办 order for {name}").format(name=data["proxy_for"])] if data.get("proxy_for") else []),
            _("Service: {service}").format(service=texts.service_name(service, turn.user.locale)),
            _("Need: {description}").format(description=data["description"]),
            _("When: {window}").format(window=texts.fmt_window(start, end, turn.settings.tz)),
            _("Area: {area}").format(area=data["area"]),
            _("Address: {address}").format(address=data.get("address") or _("(not given)")),
            _("Phone: {phone}").format(phone=data.get("phone") or _("(not given)")),
        ]
    )


async def _place(turn: Turn, data: dict) -> str:
    start, end = times(data, turn.settings.tz)
    draft = requests.Draft(
        service_id=data["service_id"],
        description=data["description"],
        window_start=start,
        window_end=end,
        area=data["area"],
        address=data.get("address"),
        phone=data.get("phone"),
        proxy_for=data.get("proxy_for"),
    )
    now = turn.now()
    async with turn.db.tx() as s:
        req = await requests.place(
            s,
            turn.deps["notices"].requests,
            resident=turn.user,
            draft=draft,
            now=now,
            year=now.astimezone(turn.settings.tz).year,
        )
    return _("Request {number} placed.").format(number=texts.number(req))


WIZARD = Wizard(
    "Order",
    OrderCb,
    STEPS,
    summary=Summary(
        _summary,
        _place,
        confirm_label=__("✅ Confirm"),
        clear_keyboard=__("Thank you."),
        expected=__("Please tap “Confirm”, “Edit” or “Cancel” above, or send /cancel."),
    ),
)


@router.message(Command("request"))
@router.message(F.text == __("📝 Request a service"))
async def begin(message: Message, state: FSMContext, **deps) -> None:
    await state.clear()
    await WIZARD.ask(Turn(message, state, deps))


WIZARD.attach(router)
