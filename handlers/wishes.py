"""微心愿: /wish (step by step; a coordinator or team leader may make it for someone, 帮办), the review buttons,
/bind_wall, “认领心愿” on a wall card, the claimer's progress, the delivery photo, the wisher's confirmation and
thanks, hours for the volunteer, /wishes, /donor, /mywishes."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, F
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.core import validate
from bot.core.clock import Clock
from bot.core.dates import parse_date
from bot.core.errors import DomainError
from bot.core.locks import KeyedLocks
from bot.notices import Notices
from bot.org import service as org
from bot.people import service as people
from bot.settings import Settings
from bot.ui.keyboards import inline
from bot.ui.private import PRIVATE_VIEW
from bot.ui.tapped import editable, origin
from bot.ui.wizard import Button, Step, Summary, Turn, Wizard
from bot.wishes import keyboards, texts
from bot.wishes import service as wishes
from bot.wishes.keyboards import DraftCb, WallCb, WishCb
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="wishes")


class Typing(StatesGroup):
    """What a tapped button waits to be typed (or sent): the wish's id is in the FSM data."""

    edit = State()  # a coordinator's new wording
    decline = State()  # a coordinator's reason
    hours = State()  # a coordinator's hours for the volunteer
    photo = State()  # the claimer's (or coordinator's) delivery photo
    thanks = State()  # the wisher's line of thanks


# Making a wish ----------------------------------------------------------------------------------------------------


def _skip(key: str) -> Button:
    return Button(read=lambda turn, value: {key: None}, tidy=True)


def _due(turn: Turn, message: Message) -> dict[str, Any]:
    day = parse_date(message.text, turn.today())
    return {"due": wishes.check_due(day, turn.today()).isoformat()}


STEPS = [
    Step(
        "mode",
        lambda turn: (_("Is this wish for yourself, or are you making it for someone (帮办)?"), keyboards.mode()),
        buttons={
            "mode": Button(read=lambda turn, value: {"proxy": value == "proxy"}, tidy=True),
        },
        skip=lambda data: not data.get("may_proxy"),
    ),
    Step(
        "what",
        lambda turn: (
            _(
                "🌟 Make a small wish. What is the wish? Please describe it in a sentence, for example "
                "“一个新书包” (/cancel to stop)."
            ),
            ReplyKeyboardRemove(),
        ),
        typed=lambda turn, message: {"what": wishes.check_what(message.text)},
        label=__("Wish"),
    ),
    Step(
        "for_whom",
        lambda turn: (
            _(
                "Who is it for? Please give only a first name (such as 小明) or a description (such as 一位老人, "
                "一名学生), never a full name: it is shown on the wish wall."
            ),
            None,
        ),
        typed=lambda turn, message: {"for_whom": wishes.check_for_whom(message.text)},
        label=__("For"),
    ),
    Step(
        "why",
        lambda turn: (_("Why is it wished for? (optional)"), keyboards.skip()),
        typed=lambda turn, message: {"why": wishes.check_why(message.text)},
        buttons={"skip": _skip("why")},
        label=__("Why"),
    ),
    Step(
        "cost",
        lambda turn: (_("Roughly what does it cost? For example “约 100 元”. (optional)"), keyboards.skip()),
        typed=lambda turn, message: {"cost": wishes.check_cost(message.text)},
        buttons={"skip": _skip("cost")},
        label=__("Cost"),
    ),
    Step(
        "due",
        lambda turn: (_("By when is it hoped for? Please send a date, for example 12-20."), None),
        typed=_due,
        label=__("By"),
    ),
    Step(
        "phone",
        lambda turn: (
            _(
                "A phone number to arrange the delivery? Only the person who claims the wish may receive it, "
                "if the coordinator chooses so. (optional)"
            ),
            keyboards.skip(),
        ),
        typed=lambda turn, message: {"phone": validate.phone(message.text)},
        buttons={"skip": _skip("phone")},
        label=__("Phone"),
    ),
    Step(
        "photo",
        lambda turn: (
            _("A photo that shows the wish? Only the coordinators and the claimer see it. (optional)"),
            keyboards.skip(),
        ),
        typed=lambda turn, message: {"photo": message.photo[-1].file_id if message.photo else None},
        typed_filter=F.photo,
        buttons={"skip": _skip("photo")},
    ),
]


async def _summary(turn: Turn, data: dict[str, Any]) -> str:
    from datetime import date

    lines = [
        _("Please check your wish:"),
        _("Wish: {what}").format(what=data["what"]),
        _("For: {who}").format(who=data["for_whom"]),
        _("Why: {why}").format(why=data.get("why") or "—"),
        _("Roughly: {cost}").format(cost=data.get("cost") or "—"),
        _("Hoped for by: {day}").format(day=texts.day(date.fromisoformat(data["due"]))),
        _("Phone: {phone}").format(phone=data.get("phone") or "—"),
        _("Photo: {photo}").format(photo=_("yes") if data.get("photo") else "—"),
    ]
    if data.get("proxy"):
        lines.append(_("Made for someone (帮办): you will receive the notices and confirm it."))
    return "\n".join(lines)


async def _make(turn: Turn, data: dict[str, Any]) -> str:
    from datetime import date

    draft = wishes.WishDraft(
        what=data["what"],
        for_whom=data["for_whom"],
        due=date.fromisoformat(data["due"]),
        why=data.get("why"),
        cost=data.get("cost"),
        phone=data.get("phone"),
        photo=data.get("photo"),
        station_id=data.get("station"),
        proxy=bool(data.get("proxy")),
    )
    async with turn.db.tx() as s:
        wish = await wishes.make(
            s, turn.deps["notices"].wishes, wisher=turn.user, draft=draft, today=turn.today(), now=turn.now()
        )
    return _("Wish sent for review: {number}.").format(number=texts.number(wish))


WIZARD = Wizard(
    "Wish",
    DraftCb,
    STEPS,
    summary=Summary(
        _summary,
        _make,
        confirm_label=__("✅ Confirm"),
        expected=__("Please tap “Confirm”, “Edit” or “Cancel” above, or send /cancel."),
    ),
)


@router.message(Command("wish"), F.chat.type == "private")
async def begin(message: Message, command: CommandObject, state: FSMContext, **deps: Any) -> None:
    """/wish, or /wish CODE: a 帮办 names the station of the person he makes it for."""
    turn = Turn(message, state, deps)
    words = (command.args or "").split()
    async with turn.db.read() as s:
        may_proxy = people.is_coordinator(turn.user) or bool(await people.led_team_ids(s, turn.user.id))
        station = None
        if words:
            if not may_proxy:
                raise DomainError("not_team_leader")
            found = await org.find_node(s, words[0])
            if found.kind != org.STATION or found.archived:
                raise DomainError("no_station", ref=found.code)
            if not await org.may_order_for(s, turn.user, found.id):
                raise DomainError("not_your_station")
            station = found.id
        elif await org.home_station(s, turn.user) is None:  # a county, and no station of his own
            raise DomainError("wish_proxy_needs_station" if may_proxy else "wish_needs_station")
    await state.clear()
    await state.update_data(may_proxy=may_proxy, station=station, proxy=station is not None)
    await WIZARD.ask(turn, "what" if station is not None or not may_proxy else None)


@router.message(Command("wish"))
async def begin_in_group(message: Message) -> None:
    await message.answer(_("Please make a wish in a private chat with me: send /wish there."))


# Donors --------------------------------------------------------------------------------------------------------


DONOR_STEPS = [
    Step(
        "name",
        lambda turn: (
            _(
                "Register as a caring person or company (爱心人士/爱心企业) to claim wishes, without joining a team. "
                "Your name? (/cancel to stop)"
            ),
            ReplyKeyboardRemove(),
        ),
        typed=lambda turn, message: {"name": validate.text(message.text, "name")},
    ),
    Step(
        "phone",
        lambda turn: (_("Your phone number? Coordinators use it to arrange a delivery; it is never posted."), None),
        typed=lambda turn, message: {"phone": validate.phone(message.text)},
    ),
    Step(
        "org",
        lambda turn: (_("Your company or organisation, if you claim for one? (optional)"), keyboards.skip()),
        typed=lambda turn, message: {"org": validate.text(message.text, "team")},
        buttons={"skip": _skip("org")},
    ),
]


async def _register(turn: Turn, data: dict[str, Any]) -> None:
    async with turn.db.tx() as s:
        await wishes.register_donor(
            s, turn.user, name=data.get("name"), phone=data.get("phone"), organisation=data.get("org"), now=turn.now()
        )
    await turn.state.clear()
    await turn.message.answer(_("💝 Thank you! You are registered and can claim wishes: /wishes lists the open ones."))


DONOR = Wizard("Donor", DraftCb, DONOR_STEPS, finish=_register)


@router.message(Command("donor"), F.chat.type == "private")
async def donor(message: Message, state: FSMContext, **deps: Any) -> None:
    await state.clear()
    await DONOR.ask(Turn(message, state, deps))


# The wall ---------------------------------------------------------------------------------------------------------


@router.message(Command("bind_wall"), F.chat.type.in_({"group", "supergroup"}))
async def bind_wall(message: Message, command: CommandObject, db: Database, user: User, clock: Clock) -> None:
    people.require_coordinator(user)
    async with db.tx() as s:
        station = await wishes.bind_wall(
            s,
            user,
            chat_id=message.chat.id,
            title=message.chat.title or "",
            code=(command.args or "").strip() or None,
            now=clock.now(),
        )
    await message.answer(
        _(
            "This chat is now the wish wall of {station}: approved wishes are posted here with “Claim this wish”."
        ).format(station=station.name)
    )


@router.message(Command("bind_wall"), F.chat.type == "private")
async def bind_channel(
    message: Message, command: CommandObject, bot: Bot, db: Database, user: User, clock: Clock
) -> None:
    """/bind_wall CODE CHANNEL in private: a channel's posts do not say who wrote them, so a coordinator names the
    channel (@name or its id) here; he must be one of its administrators, and the bot must be able to post there."""
    words = (command.args or "").split()
    if len(words) != 2:
        await message.answer(
            _(
                "Please send /bind_wall in the group that should be the wish wall; for a channel, add the bot to it "
                "as an administrator and send here /bind_wall CODE @channel."
            )
        )
        return
    people.require_coordinator(user)
    ref = words[1]
    chat_ref: int | str = int(ref) if ref.lstrip("-").isdecimal() else ref
    try:
        chat = await bot.get_chat(chat_ref)
        member = await bot.get_chat_member(chat.id, user.id)
        own = await bot.get_chat_member(chat.id, bot.id)
    except (TelegramBadRequest, TelegramForbiddenError):
        raise DomainError("wall_channel_unreachable") from None
    if chat.type != "channel" or own.status != "administrator":
        raise DomainError("wall_channel_unreachable")
    if member.status not in ("creator", "administrator"):
        raise DomainError("wall_channel_admin")
    async with db.tx() as s:
        station = await wishes.bind_wall(
            s, user, chat_id=chat.id, title=chat.title or "", code=words[0], now=clock.now()
        )
    await message.answer(
        _(
            "“{title}” is now the wish wall of {station}: approved wishes are posted there with “Claim this wish”."
        ).format(title=chat.title or chat.id, station=station.name)
    )


@router.callback_query(WallCb.filter())
async def claim(
    query: CallbackQuery,
    callback_data: WallCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
    claiming: KeyedLocks,
) -> None:
    # taps on one card take turns in this process, as 接单's: once one has won, the others are told at once
    async with claiming.hold(("wish", callback_data.wid)) as burst:
        if burst.get("taken"):
            raise DomainError("wish_claimed")
        async with db.read() as s:
            await wishes.claim_rules(s, wish_id=callback_data.wid, user=user)
        async with db.tx() as s:
            wish = await wishes.claim(s, notices.wishes, wish_id=callback_data.wid, user=user, now=clock.now())
        burst["taken"] = True
    await query.answer(
        _("You claimed {number}. The details are in our private chat.").format(number=texts.number(wish)),
        show_alert=True,
    )


# Review -----------------------------------------------------------------------------------------------------------


@router.callback_query(WishCb.filter(F.action.in_({"ok_c", "ok_w"})), flags=PRIVATE_VIEW)
async def approve(
    query: CallbackQuery, callback_data: WishCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    contact = wishes.COORD if callback_data.action == "ok_c" else wishes.WISHER
    async with db.tx() as s:
        wish = await wishes.approve(
            s, notices.wishes, wish_id=callback_data.wid, actor=user, contact=contact, now=clock.now()
        )
    text = _("✅ {number} approved and posted to the wish wall.").format(number=texts.number(wish))
    await query.answer(text)
    await editable(query).edit_text(text)


@router.callback_query(WishCb.filter(F.action.in_({"edit", "decline", "hours"})), flags=PRIVATE_VIEW)
async def ask_coordinator(
    query: CallbackQuery, callback_data: WishCb, db: Database, state: FSMContext, user: User
) -> None:
    async with db.read() as s:
        wish = await wishes.get(s, callback_data.wid)
        await wishes.require_covers(s, user, wish)
        if callback_data.action == "hours" and wish.status != wishes.FULFILLED:
            raise DomainError(wishes.why_not(wish.status))
        if callback_data.action != "hours" and wish.status != wishes.REVIEW:
            raise DomainError(wishes.why_not(wish.status))
    states = {"edit": Typing.edit, "decline": Typing.decline, "hours": Typing.hours}
    asks = {
        "edit": _("Please type the wish as you propose it; the wisher will be asked to agree. (/cancel to stop)"),
        "decline": _("Please type the reason; only the wisher will read it. (/cancel to stop)"),
        "hours": _("How many hours for the volunteer? For example 2 or 1.5. (/cancel to stop)"),
    }
    await state.set_state(states[callback_data.action])
    await state.update_data(wid=callback_data.wid)
    await query.answer()
    await origin(query).answer(asks[callback_data.action])


@router.message(Typing.edit, F.text)
async def typed_edit(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    wid = int((await state.get_data())["wid"])
    async with db.tx() as s:
        wish = await wishes.propose(
            s, notices.wishes, wish_id=wid, actor=user, text=message.text or "", now=clock.now()
        )
    await state.clear()
    await message.answer(_("✏️ Sent to the wisher of {number} for agreement.").format(number=texts.number(wish)))


@router.message(Typing.decline, F.text)
async def typed_decline(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    wid = int((await state.get_data())["wid"])
    async with db.tx() as s:
        wish = await wishes.decline(s, notices.wishes, wish_id=wid, actor=user, reason=message.text, now=clock.now())
    await state.clear()
    await message.answer(_("{number} declined; only the wisher has been told why.").format(number=texts.number(wish)))


@router.message(Typing.hours, F.text)
async def typed_hours(
    message: Message,
    state: FSMContext,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
    settings: Settings,
) -> None:
    wid = int((await state.get_data())["wid"])
    minutes = validate.hours_to_minutes(message.text)
    async with db.tx() as s:
        wish = await wishes.give_hours(
            s,
            notices.wishes,
            wish_id=wid,
            actor=user,
            minutes=minutes,
            points_per_hour=settings.points_per_hour,
            now=clock.now(),
        )
    await state.clear()
    await message.answer(_("🕒 Hours recorded for {number}.").format(number=texts.number(wish)))


@router.callback_query(WishCb.filter(F.action.in_({"agree", "disagree"})))
async def proposal(
    query: CallbackQuery, callback_data: WishCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    agree = callback_data.action == "agree"
    async with db.tx() as s:
        wish = await wishes.answer_proposal(
            s, notices.wishes, wish_id=callback_data.wid, user=user, agree=agree, now=clock.now()
        )
    text = (_("👍 Thank you, your wish now reads: {what}") if agree else _("Your wish keeps its words: {what}")).format(
        what=wish.what
    )
    await query.answer()
    await editable(query).edit_text(text)


# The claimer ------------------------------------------------------------------------------------------------------


@router.callback_query(WishCb.filter(F.action.in_({"prep", "sent"})))
async def progress(
    query: CallbackQuery,
    callback_data: WishCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
    state: FSMContext,
) -> None:
    step = wishes.PREPARING if callback_data.action == "prep" else wishes.DELIVERED
    async with db.tx() as s:
        wish = await wishes.progress(
            s, notices.wishes, wish_id=callback_data.wid, user=user, step=step, now=clock.now()
        )
    await query.answer(_("Recorded: {status}.").format(status=texts.status_name(wish.status)))
    await editable(query).edit_reply_markup(reply_markup=None)
    if step == wishes.DELIVERED:
        await state.set_state(Typing.photo)
        await state.update_data(wid=wish.id)


@router.callback_query(WishCb.filter(F.action == "back"))
async def give_back(
    query: CallbackQuery, callback_data: WishCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        wish = await wishes.give_back(s, notices.wishes, wish_id=callback_data.wid, user=user, now=clock.now())
    await query.answer()
    await editable(query).edit_text(
        _("You gave {number} back. Thank you for letting us know.").format(number=texts.number(wish))
    )


@router.callback_query(WishCb.filter(F.action == "photo"), flags=PRIVATE_VIEW)
async def ask_photo(query: CallbackQuery, callback_data: WishCb, state: FSMContext) -> None:
    await state.set_state(Typing.photo)
    await state.update_data(wid=callback_data.wid)
    await query.answer()
    await origin(query).answer(_("📷 Please send the photo of the delivery."))


@router.message(Typing.photo, F.photo)
async def photo(message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User) -> None:
    wid = int((await state.get_data())["wid"])
    assert message.photo
    async with db.tx() as s:
        await wishes.add_photo(
            s, notices.wishes, wish_id=wid, user=user, file_id=message.photo[-1].file_id, now=clock.now()
        )
    await state.clear()


@router.message(Typing.photo)
async def not_a_photo(message: Message) -> None:
    raise DomainError("wish_photo_expected")


# The wisher -------------------------------------------------------------------------------------------------------


@router.callback_query(WishCb.filter(F.action == "confirm"))
async def confirm(
    query: CallbackQuery, callback_data: WishCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        wish = await wishes.confirm(s, notices.wishes, wish_id=callback_data.wid, user=user, now=clock.now())
    await query.answer()
    await editable(query).edit_text(_("🌈 Confirmed: {number} came true.").format(number=texts.number(wish)))


@router.callback_query(WishCb.filter(F.action == "thanks"))
async def ask_thanks(query: CallbackQuery, callback_data: WishCb, db: Database, state: FSMContext, user: User) -> None:
    async with db.read() as s:
        wish = await wishes.get(s, callback_data.wid)
        if wish.wisher_id != user.id:
            raise DomainError("not_your_wish")
    await state.set_state(Typing.thanks)
    await state.update_data(wid=callback_data.wid)
    await query.answer()
    await origin(query).answer(_("Please type your thanks in a line; I will pass it on. (/cancel to stop)"))


@router.message(Typing.thanks, F.text)
async def typed_thanks(
    message: Message, state: FSMContext, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    wid = int((await state.get_data())["wid"])
    async with db.tx() as s:
        await wishes.thank(s, notices.wishes, wish_id=wid, user=user, text=message.text, now=clock.now())
    await state.clear()
    await message.answer(_("💌 Passed on. Thank you!"))


# Views ------------------------------------------------------------------------------------------------------------


async def _page(db: Database, user: User, clock: Clock, level: str, page: int) -> tuple[str, Any]:
    async with db.read() as s:
        found, total = await wishes.open_wishes(s, user, level, page)
        names = {}
        for wish in found:
            node = await org.node(s, wish.station_id)
            names[wish.id] = node.name if node else "—"
    pages = max(1, -(-total // wishes.PAGE))
    now = clock.now()
    if not found:
        lines = [_("There are no open wishes here right now.")]
    else:
        lines = [_("Open wishes ({total}), newest first:").format(total=total)]
        for wish in found:
            lines.append(
                _("• {number}: {what} (for {who}, {station}, by {day}; waiting {waited})").format(
                    number=texts.number(wish),
                    what=wish.what,
                    who=wish.for_whom,
                    station=names[wish.id],
                    day=texts.day(wish.due),
                    waited=texts.waited(wish, now),
                )
            )
    rows: list[list[tuple[str, Any]]] = [
        [(_("🎁 Claim {number}").format(number=texts.number(w)), WallCb(wid=w.id))] for w in found
    ]
    return "\n".join(lines), inline(rows + keyboards.page_rows(level, page, pages))


@router.message(Command("wishes"), flags=PRIVATE_VIEW)
async def list_wishes(message: Message, command: CommandObject, db: Database, user: User, clock: Clock) -> None:
    word = (command.args or "").strip()
    level = {"所": wishes.INSTITUTE, "县": wishes.COUNTY, "中心": wishes.COUNTY}.get(word, wishes.STATION)
    text, markup = await _page(db, user, clock, level, 0)
    await message.answer(text, reply_markup=markup)


@router.callback_query(WishCb.filter(F.action == "page"), flags=PRIVATE_VIEW)
async def page(query: CallbackQuery, callback_data: WishCb, db: Database, user: User, clock: Clock) -> None:
    level = (
        callback_data.arg if callback_data.arg in (wishes.STATION, wishes.INSTITUTE, wishes.COUNTY) else wishes.STATION
    )
    text, markup = await _page(db, user, clock, level, max(0, callback_data.wid))
    await query.answer()
    await editable(query).edit_text(text, reply_markup=markup)


@router.message(Command("mywishes"), flags=PRIVATE_VIEW)
async def my_wishes(message: Message, db: Database, user: User, clock: Clock, settings: Settings) -> None:
    async with db.read() as s:
        made = await wishes.of_wisher(s, user.id)
        fulfilled = await wishes.of_claimer(s, user.id)
    lines = [_("🌟 Wishes I made:")]
    lines += [
        _("• {number}: {what} (status: {status})").format(
            number=texts.number(w), what=w.what, status=texts.status_name(w.status)
        )
        for w in made
    ] or [_("(none yet)")]
    lines.append(_("🎁 Wishes I claimed:"))
    lines += [
        _("• {number}: {what} (status: {status})").format(
            number=texts.number(w), what=w.what, status=texts.status_name(w.status)
        )
        + (" " + _("thank you! 💝") if w.status == wishes.FULFILLED else "")
        for w in fulfilled
    ] or [_("(none yet)")]
    await message.answer("\n".join(lines))


WIZARD.attach(router)
DONOR.attach(router)
