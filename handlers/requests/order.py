"""点单: a resident's request, step by step, in private chat. /cancel leaves at any step."""
from __future__ import annotations

from datetime import date, time, timedelta

from aiogram import F
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.ui import keyboards
from bot.ui import texts
from bot.core import dates as when
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.ui.keyboards import field_picker, inline
from bot.requests.keyboards import OrderCb
from bot.requests.notices import Notices
from bot.menu import service as menu
from bot.requests import service as requests
from bot.core import validate
from bot.settings import Settings
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import Service, User

router = Blueprint(name="order")
router.message.filter(F.chat.type == "private")


class Order(StatesGroup):
    service = State()
    description = State()
    day = State()
    window = State()
    area = State()
    address = State()
    phone = State()
    confirm = State()


STEPS = ("service", "description", "day", "window", "area", "address", "phone")


def _today(settings: Settings, clock: Clock) -> date:
    return clock.now().astimezone(settings.tz).date()


async def _ask(step: str, message: Message, state: FSMContext, db: Database, settings: Settings,
               clock: Clock, user: User) -> None:
    await state.set_state(getattr(Order, step))
    if step == "service":
        async with db.read() as s:
            services = await menu.active_services(s)
        rows = [[(texts.service_name(sv, user.locale), OrderCb(action="svc", value=str(sv.id)))
                 for sv in services[i:i + 2]] for i in range(0, len(services), 2)]
        await message.answer(_("Which service do you need? Choose from the menu:"), reply_markup=inline(rows))
    elif step == "description":
        await message.answer(_("Please describe what you need (at most {limit} characters).").format(
            limit=validate.LIMITS["description"]), reply_markup=ReplyKeyboardRemove())
    elif step == "day":
        today = _today(settings, clock)
        days = [today + timedelta(days=n) for n in range(7)]
        rows = [[(texts.fmt_day(d), OrderCb(action="day", value=d.isoformat())) for d in days[i:i + 3]]
                for i in range(0, 7, 3)]
        await message.answer(_("On which day? Tap one or type a date such as 2026-12-05."),
                             reply_markup=inline(rows))
    elif step == "window":
        rows = [[(f"{a}–{b}", OrderCb(action="slot", value=f"{a}-{b}".replace(":", ""))) for a, b in
                 when.SLOTS[i:i + 2]] for i in range(0, len(when.SLOTS), 2)]
        await message.answer(_("At what time? Tap a slot or type one such as 14:00-16:00."),
                             reply_markup=inline(rows))
    elif step == "area":
        await message.answer(_("In which residential compound (小区) or street? Volunteers will see this."))
    elif step == "address":
        await message.answer(_("The exact address (building, unit, room)? Only the volunteer who takes the "
                               "request will see it."),
                             reply_markup=inline([[(_("Skip"), OrderCb(action="skip", value="address"))]]))
    elif step == "phone":
        await message.answer(_("A phone number the volunteer can call? Share it, type it, or skip. Only the "
                               "volunteer who takes the request will see it."), reply_markup=keyboards.share_phone())


async def _next(step: str, message: Message, state: FSMContext, **deps) -> None:
    """After a step: back to the summary when editing, else on to the next step."""
    data = await state.get_data()
    typed_phone = data.get("proxy_for") and step == "address"  # 帮办: the phone came in the first step
    if data.get("editing") or step == STEPS[-1] or typed_phone:
        await _summary(message, state, deps["db"], deps["settings"], deps["user"])
    else:
        await _ask(STEPS[STEPS.index(step) + 1], message, state, **deps)


async def _summary(message: Message, state: FSMContext, db: Database, settings: Settings, user: User) -> None:
    data = await state.get_data()
    await state.update_data(editing=False)
    await state.set_state(Order.confirm)
    async with db.read() as s:
        service = await s.get(Service, data["service_id"])
    start, end = _window(data, settings)
    text = "\n".join([
        _("Please check your request:"),
        *([_("帮办 order for {name}").format(name=data["proxy_for"])] if data.get("proxy_for") else []),
        _("Service: {service}").format(service=texts.service_name(service, user.locale)),
        _("Need: {description}").format(description=data["description"]),
        _("When: {window}").format(window=texts.fmt_window(start, end, settings.tz)),
        _("Area: {area}").format(area=data["area"]),
        _("Address: {address}").format(address=data.get("address") or _("(not given)")),
        _("Phone: {phone}").format(phone=data.get("phone") or _("(not given)")),
    ])
    await message.answer(_("Thank you."), reply_markup=ReplyKeyboardRemove())
    await message.answer(text, reply_markup=inline([
        [(_("✅ Confirm"), OrderCb(action="confirm")), (_("✏️ Edit"), OrderCb(action="edit")),
         (_("✖️ Cancel"), OrderCb(action="abort"))]]))


def _window(data: dict, settings: Settings):
    day = date.fromisoformat(data["day"])
    start = when.to_utc(day, time.fromisoformat(data["start"]), settings.tz)
    end = when.to_utc(day, time.fromisoformat(data["end"]), settings.tz)
    return start, end


# entry ------------------------------------------------------------------------------------------

@router.message(Command("request"))
@router.message(F.text == __("📝 Request a service"))
async def begin(message: Message, state: FSMContext, db: Database, settings: Settings, clock: Clock,
                user: User) -> None:
    await state.clear()
    await _ask("service", message, state, db=db, settings=settings, clock=clock, user=user)


@router.callback_query(Order.service, OrderCb.filter(F.action == "svc"))
async def got_service(query: CallbackQuery, callback_data: OrderCb, state: FSMContext, db: Database,
                      settings: Settings, clock: Clock, user: User) -> None:
    async with db.read() as s:
        value = callback_data.value
        service = await s.get(Service, int(value)) if value.isdecimal() and validate.fits_id(int(value)) else None
    if service is None or not service.active:
        raise DomainError("no_service", ref=callback_data.value)
    await state.update_data(service_id=service.id)
    await query.answer()
    await query.message.edit_text(_("Service: {service}").format(service=texts.service_name(service, user.locale)))
    await _next("service", query.message, state, db=db, settings=settings, clock=clock, user=user)


@router.message(Order.description, F.text)
async def got_description(message: Message, state: FSMContext, **deps) -> None:
    await state.update_data(description=validate.text(message.text, "description"))
    await _next("description", message, state, **_deps(deps))


def _deps(deps: dict) -> dict:
    return {key: deps[key] for key in ("db", "settings", "clock", "user")}


async def _set_day(day: date, message: Message, state: FSMContext, deps: dict) -> None:
    if day < _today(deps["settings"], deps["clock"]):
        raise DomainError("past_time")
    await state.update_data(day=day.isoformat())
    data = await state.get_data()
    if data.get("start"):  # editing the day keeps the time, but it must still be in the future
        try:
            requests.check_window(*_window(data, deps["settings"]), deps["clock"].now())
        except DomainError:
            await state.update_data(start=None, end=None, editing=False)
            await _ask("window", message, state, **deps)
            return
    await _next("day", message, state, **deps)


@router.callback_query(Order.day, OrderCb.filter(F.action == "day"))
async def got_day_button(query: CallbackQuery, callback_data: OrderCb, state: FSMContext, **deps) -> None:
    try:
        day = date.fromisoformat(callback_data.value)
    except ValueError:
        raise DomainError("stale") from None
    await _set_day(day, query.message, state, _deps(deps))
    await query.answer()


@router.message(Order.day, F.text)
async def got_day_text(message: Message, state: FSMContext, **deps) -> None:
    deps = _deps(deps)
    await _set_day(when.parse_date(message.text, _today(deps["settings"], deps["clock"])), message, state, deps)


async def _set_window(start: time, end: time, message: Message, state: FSMContext, deps: dict) -> None:
    data = await state.get_data()
    candidate = {**data, "start": start.isoformat("minutes"), "end": end.isoformat("minutes")}
    requests.check_window(*_window(candidate, deps["settings"]), deps["clock"].now())
    await state.update_data(start=candidate["start"], end=candidate["end"])
    await _next("window", message, state, **deps)


@router.callback_query(Order.window, OrderCb.filter(F.action == "slot"))
async def got_slot(query: CallbackQuery, callback_data: OrderCb, state: FSMContext, **deps) -> None:
    v = callback_data.value
    start, end = when.parse_window(f"{v[:2]}:{v[2:4]}-{v[5:7]}:{v[7:9]}" if len(v) == 9 else "")
    await _set_window(start, end, query.message, state, _deps(deps))
    await query.answer()


@router.message(Order.window, F.text)
async def got_window_text(message: Message, state: FSMContext, **deps) -> None:
    start, end = when.parse_window(message.text)
    await _set_window(start, end, message, state, _deps(deps))


@router.message(Order.area, F.text)
async def got_area(message: Message, state: FSMContext, **deps) -> None:
    await state.update_data(area=validate.text(message.text, "area"))
    await _next("area", message, state, **_deps(deps))


@router.message(Order.address, F.text)
async def got_address(message: Message, state: FSMContext, **deps) -> None:
    await state.update_data(address=validate.text(message.text, "address"))
    await _next("address", message, state, **_deps(deps))


@router.callback_query(Order.address, OrderCb.filter(F.action == "skip"))
async def skip_address(query: CallbackQuery, state: FSMContext, **deps) -> None:
    await state.update_data(address=None)
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _next("address", query.message, state, **_deps(deps))


@router.message(Order.phone, F.text == __("Skip"))
async def skip_phone(message: Message, state: FSMContext, **deps) -> None:
    await state.update_data(phone=None)
    await _next("phone", message, state, **_deps(deps))


@router.message(Order.phone, F.contact | F.text)
async def got_phone(message: Message, state: FSMContext, **deps) -> None:
    raw = message.contact.phone_number if message.contact else message.text
    await state.update_data(phone=validate.phone(raw))
    await _next("phone", message, state, **_deps(deps))


# summary ----------------------------------------------------------------------------------------

@router.callback_query(Order.confirm, OrderCb.filter(F.action == "confirm"))
async def confirm(query: CallbackQuery, state: FSMContext, db: Database, settings: Settings, clock: Clock,
                  notices: Notices, user: User) -> None:
    data = await state.get_data()
    start, end = _window(data, settings)
    draft = requests.Draft(service_id=data["service_id"], description=data["description"], window_start=start,
                           window_end=end, area=data["area"], address=data.get("address"), phone=data.get("phone"),
                           proxy_for=data.get("proxy_for"))
    now = clock.now()
    async with db.tx() as s:
        req = await requests.place(s, notices, resident=user, draft=draft, now=now,
                                   year=now.astimezone(settings.tz).year)
    await state.clear()
    await query.answer(_("Request {number} placed.").format(number=texts.number(req)))
    await query.message.edit_reply_markup(reply_markup=None)


@router.callback_query(Order.confirm, OrderCb.filter(F.action == "abort"))
async def abort(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await query.answer()
    await query.message.edit_text(_("Cancelled. Nothing was saved."))


FIELDS = (("service", __("Service")), ("description", __("Need")), ("day", __("Day")),
          ("window", __("Time")), ("area", __("Area")), ("address", __("Address")), ("phone", __("Phone")))


@router.callback_query(Order.confirm, OrderCb.filter(F.action == "edit"))
async def edit(query: CallbackQuery) -> None:
    await query.answer()
    picker = field_picker(FIELDS, lambda key: OrderCb(action="field", value=key))
    await query.message.edit_reply_markup(reply_markup=picker)


@router.callback_query(Order.confirm, OrderCb.filter(F.action == "field"))
async def edit_field(query: CallbackQuery, callback_data: OrderCb, state: FSMContext, **deps) -> None:
    if callback_data.value not in STEPS:
        raise DomainError("stale")
    await state.update_data(editing=True)
    await query.answer()
    await query.message.edit_reply_markup(reply_markup=None)
    await _ask(callback_data.value, query.message, state, **_deps(deps))


@router.message(Order.confirm)
async def confirm_expected(message: Message) -> None:
    await message.answer(_("Please tap “Confirm”, “Edit” or “Cancel” above, or send /cancel."))
