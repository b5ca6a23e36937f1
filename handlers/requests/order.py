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
from bot.org import service as org
from bot.org import texts as org_texts
from bot.org.station_keyboards import THEN_ORDER
from bot.org.station_keyboards import groups as station_groups
from bot.requests import media
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


async def _spoken(turn: Turn, message: Message, step: str, field: str) -> dict:
    """A typed answer, a voice message (it replaces the step's earlier one) or a photo (kept with the others; the
    step is asked again for the words). Only file ids are kept (bot/requests/media.py)."""
    data = await turn.state.get_data()
    items = list(data.get("media") or [])
    item = media.of_message(message, step)
    if item is None:
        items = [i for i in items if not (i["step"] == step and i["kind"] == media.VOICE)]
        return {field: validate.text(message.text, field), "media": items, "more": None}
    if len(media.of_step(items, step)) >= media.MAX_ITEMS:
        raise DomainError("too_many_media", limit=media.MAX_ITEMS)
    if item["kind"] == media.VOICE:
        items = [i for i in items if not (i["step"] == step and i["kind"] == media.VOICE)]
    items.append(item)
    caption = validate.text(message.caption, field, required=False)
    updates = {"media": items, field: caption if caption is not None else data.get(field) or ""}
    # a photo alone: ask for the words (or the voice) next; a voice message answers the step
    updates["more"] = step if item["kind"] == media.PHOTO and caption is None else None
    return updates


async def _more(turn: Turn, data: dict) -> str | None:
    """After a photo, the same step again (its question says the photo arrived)."""
    return {"need": "description", "address": "address"}.get(data.get("more") or "")


async def _ask_description(turn: Turn):
    if (await turn.state.get_data()).get("more") == "need":
        return _("Photo received. Now please tell me what you need: send a voice message or type it."), None
    return (
        _(
            "Please describe what you need: send a voice message, or type it (at most {limit} characters). "
            "You may also send a photo."
        ).format(limit=validate.LIMITS["description"]),
        ReplyKeyboardRemove(),
    )


async def _ask_address(turn: Turn):
    more = (await turn.state.get_data()).get("more") == "address"
    return (
        _("Photo received. Now please send the address as text or a voice message, or tap “Skip”.")
        if more
        else _(
            "The exact address (building, unit, room)? Type it or send a voice message. Only the volunteer who "
            "takes the request will see or hear it."
        ),
        inline([[(_("Skip"), OrderCb(action="skip", value="address"))]]),
    )


SPOKEN = F.text | F.voice | F.photo


def _phone(turn: Turn, message: Message):
    if message.text == _("Skip"):
        return {"phone": None}
    return {"phone": validate.phone(message.contact.phone_number if message.contact else message.text)}


STEPS = [
    Step("service", _ask_service, label=__("Service"), buttons={"svc": Button(_service_tapped)}),
    Step(
        "description",
        _ask_description,
        label=__("Need"),
        typed=lambda turn, message: _spoken(turn, message, media.NEED, "description"),
        typed_filter=SPOKEN,
        then=_more,
        skip=lambda data: data.get("again"),
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
        skip=lambda data: data.get("again"),
    ),
    Step(
        "address",
        _ask_address,
        label=__("Address"),
        typed=lambda turn, message: _spoken(turn, message, media.ADDRESS, "address"),
        typed_filter=SPOKEN,
        buttons={"skip": Button(lambda turn, value: {"address": None, "more": None}, tidy=True)},
        then=_more,
        skip=lambda data: data.get("again"),
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
        skip=lambda data: data.get("proxy_for") or data.get("again"),
    ),
]


async def _summary(turn: Turn, data: dict) -> str:
    async with turn.db.read() as s:
        service = await s.get(Service, data["service_id"])
    start, end = times(data, turn.settings.tz)
    items = data.get("media") or []
    return "\n".join(
        [
            _("Please check your request:"),
            *([_("帮办 order for {name}").format(name=data["proxy_for"])] if data.get("proxy_for") else []),
            _("Service: {service}").format(service=texts.service_name(service, turn.user.locale)),
            _("Need: {description}").format(description=media.described(data["description"], items)),
            _("When: {window}").format(window=texts.fmt_window(start, end, turn.settings.tz)),
            _("Area: {area}").format(area=data["area"]),
            _("Address: {address}").format(address=data.get("address") or _("(not given)")),
            *(
                [_("At the address step: {media}").format(media=media.label(media.of_step(items, media.ADDRESS)))]
                if media.of_step(items, media.ADDRESS)
                else []
            ),
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
        media=media.dumps(data.get("media") or []),
        station_id=data.get("station"),  # a 帮办 order for the station the proxy named (/proxy CODE)
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
            max_open=turn.settings.max_open_requests,
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
    async with deps["db"].read() as s:  # MAX_OPEN_REQUESTS: said before the steps, asked again when placing
        await requests.check_open_limit(s, deps["user"], deps["settings"].max_open_requests)
        tree = await org.load_tree(s) if await org.must_pick_station(s, deps["user"]) else None
    if tree is not None:  # first his station (handlers/stations.py), then the 点单 goes on: resume()
        await message.answer(org_texts.ask_group(), reply_markup=station_groups(tree, then=THEN_ORDER))
        return
    await WIZARD.ask(Turn(message, state, deps))


async def resume(message: Message, state: FSMContext, deps: dict) -> None:
    """The 点单 once the resident has chosen his station (message: the picker's, in his private chat)."""
    await state.clear()
    await WIZARD.ask(Turn(message, state, deps))


WIZARD.attach(router)
