"""爱心超市: the catalogue (coordinators), browsing and redeeming (volunteers), cancel and handover."""

from __future__ import annotations

from contextlib import suppress

from aiogram import F
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core import validate
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.limits import Daily
from bot.ledger import texts as ledger_texts
from bot.notices import Notices
from bot.people import service as people
from bot.settings import Settings
from bot.shop import keyboards as shop_keyboards
from bot.shop import service as shop
from bot.shop import texts as shop_texts
from bot.shop.keyboards import RedemptionCb, ShopCb
from bot.ui import texts
from bot.ui.tapped import editable, origin
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User, Volunteer

router = Blueprint(name="shop")


def _private(message: Message) -> None:
    if message.chat.type != "private":
        raise DomainError("private_only")


async def _edit(query: CallbackQuery, text: str | None = None, markup=None) -> None:
    """Edit the tapped message; a message that is already so (a repeated tap) is fine."""
    with suppress(TelegramBadRequest):
        if text is None:
            await editable(query).edit_reply_markup(reply_markup=markup)
        else:
            await editable(query).edit_text(text, reply_markup=markup)


# The catalogue (coordinators) ---------------------------------------------------------------------


@router.message(Command("shop_items"))
async def catalogue_command(message: Message, db: Database, user: User) -> None:
    await catalogue(message, db, user)


async def catalogue(message: Message, db: Database, user: User) -> None:
    people.require_coordinator(user)
    async with db.read() as s:
        items = await shop.items(s, only_active=False, viewer=user)
    lines = (
        [_("爱心超市 catalogue:")] + [shop_texts.catalogue_line(i) for i in items]
        if items
        else [_("The 爱心超市 has no items yet.")]
    )
    lines += [
        "",
        _("/shop_add NAME | PRICE | STOCK | MONTHLY LIMIT – add an item (the limit is optional)"),
        _("/shop_price ID POINTS, /shop_stock ID COUNT, /shop_limit ID COUNT|none – change an item"),
        _("/shop_off ID – withdraw an item; /shop_on ID – offer it again"),
        _("/redemptions – redemptions waiting to be handed over; /handover CODE"),
    ]
    await message.answer("\n".join(lines))


@router.message(Command("shop_add"))
async def add(message: Message, command: CommandObject, db: Database, clock: Clock, user: User) -> None:
    people.require_coordinator(user)
    parts = [p.strip() for p in (command.args or "").split("|")]
    if len(parts) not in (3, 4):
        raise DomainError(
            "usage",
            usage=_("/shop_add NAME | PRICE | STOCK | MONTHLY LIMIT, for example /shop_add 洗衣液 | 50 | 10 | 2"),
        )
    name = shop.check_name(parts[0])
    price = shop.parse_int(parts[1], low=1, high=shop.MAX_PRICE)
    stock = shop.parse_int(parts[2], low=0, high=shop.MAX_STOCK)
    limit = shop.parse_limit(parts[3]) if len(parts) == 4 else None
    async with db.tx() as s:
        item = await shop.add_item(s, user, name=name, price=price, stock=stock, limit=limit, now=clock.now())
    await message.answer(_("Added to the 爱心超市: {line}").format(line=shop_texts.catalogue_line(item)))


CHANGES = {
    # command: (column, parse, usage)
    "shop_price": ("price", lambda v: shop.parse_int(v, low=1, high=shop.MAX_PRICE), "/shop_price ID POINTS"),
    "shop_stock": ("stock", lambda v: shop.parse_int(v, low=0, high=shop.MAX_STOCK), "/shop_stock ID COUNT"),
    "shop_limit": ("monthly_limit", shop.parse_limit, "/shop_limit ID COUNT|none"),
}


@router.message(Command(*CHANGES))
async def change(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    column, parse, usage = CHANGES[command.command]
    item_id, raw = validate.command_id_value(command.args, usage)
    value = parse(raw)
    async with db.tx() as s:
        item = await shop.change_item(s, user, item_id, **{column: value})
    await message.answer(_("Changed: {line}").format(line=shop_texts.catalogue_line(item)))


@router.message(Command("shop_off", "shop_on"))
async def toggle(message: Message, command: CommandObject, db: Database, user: User) -> None:
    people.require_coordinator(user)
    item_id = validate.command_id(command.args, f"/{command.command} ID")
    on = command.command == "shop_on"
    async with db.tx() as s:
        item = await shop.change_item(s, user, item_id, active=on)
    text = (
        _("“{name}” is offered again.") if on else _("“{name}” has been withdrawn; redemptions already made are kept.")
    )
    await message.answer(text.format(name=item.name))


# Browsing and redeeming (volunteers) -----------------------------------------------------------------


@router.message(Command("shop"))
async def browse(message: Message, db: Database, user: User) -> None:
    _private(message)
    async with db.read() as s:
        volunteer = await s.get(Volunteer, user.id)
    if volunteer is None and people.is_coordinator(user):
        return await catalogue(message, db, user)  # a coordinator who is not a volunteer sees the catalogue
    if volunteer is None:
        raise DomainError("shop_not_volunteer")
    async with db.read() as s:
        items = await shop.items(s, only_active=True, viewer=user)
        points = await shop.balance(s, user.id)
    lines = [_("🛒 爱心超市 – your points: {points}").format(points=ledger_texts.points_line(points))]
    if items:
        lines += [
            shop_texts.item_line(i) if shop.on_offer(i) else _("{name} – sold out").format(name=i.name) for i in items
        ]
        if any(shop.on_offer(i) for i in items):
            lines += ["", _("Tap an item to redeem it. /redemptions shows what you have redeemed.")]
        else:  # no button to tap
            lines += ["", _("Everything is taken at the moment; please look again later.")]
    else:
        lines.append(_("There is nothing in the 爱心超市 at the moment."))
    await message.answer("\n".join(lines), reply_markup=shop_keyboards.shop_keyboard(items))


@router.callback_query(ShopCb.filter(F.action == "ask"))
async def ask(
    query: CallbackQuery, callback_data: ShopCb, db: Database, clock: Clock, settings: Settings, user: User
) -> None:
    async with db.read() as s:  # every rule, before the confirmation: a refused tap needs no write
        offer = await shop.redeem_rules(
            s,
            user_id=user.id,
            item_id=callback_data.item,
            now=clock.now(),
            tz=settings.tz,
            cancels=Daily(settings.max_shop_cancels_per_day, settings.tz),
        )
    item, points = offer.item, offer.points
    await query.answer()
    await origin(query).answer(
        _("Redeem “{name}” for {price} points? You have {points}; {left} will be left.").format(
            name=item.name, price=item.price, points=points, left=points - item.price
        ),
        reply_markup=shop_keyboards.confirm_keyboard(item),
    )


@router.callback_query(ShopCb.filter(F.action == "yes"))
async def confirm(
    query: CallbackQuery,
    callback_data: ShopCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    settings: Settings,
    user: User,
) -> None:
    try:
        async with db.tx() as s:
            r = await shop.redeem(
                s,
                notices.shop,
                user=user,
                item_id=callback_data.item,
                price=callback_data.price,
                now=clock.now(),
                tz=settings.tz,
                cancels=Daily(settings.max_shop_cancels_per_day, settings.tz),
            )
            item = await shop.get_item(s, r.item_id)
            left = await shop.balance(s, user.id)
    except DomainError as err:
        if err.code in ("shop_sold_out", "shop_withdrawn"):  # “确认兑换” can no longer do anything: take it away
            await _edit(query)
        raise
    await query.answer(_("Redeemed!"))
    await _edit(
        query,
        _(
            "✅ You redeemed “{name}” for {price} points ({left} left). Your pick-up code: {code}\n"
            "Show it at the station to collect the item. /redemptions lists your redemptions."
        ).format(name=item.name, price=r.price, left=left, code=r.code),
    )


@router.callback_query(ShopCb.filter(F.action == "no"))
async def decline(query: CallbackQuery) -> None:
    await query.answer(_("Nothing was changed."))
    await _edit(query)


# Redemptions: list, cancel, hand over ---------------------------------------------------------------


@router.message(Command("redemptions"))
async def redemptions(message: Message, db: Database, settings: Settings, user: User) -> None:
    _private(message)  # pick-up codes are for the volunteer's eyes
    async with db.read() as s:
        is_volunteer = await s.get(Volunteer, user.id) is not None
        if not is_volunteer and not people.is_coordinator(user):
            raise DomainError("shop_not_volunteer")
        mine = await shop.of_volunteer(s, user.id) if is_volunteer else []
        waiting = await shop.pending(s, user) if people.is_coordinator(user) else []
    if people.is_coordinator(user):
        await message.answer(_("Waiting to be handed over ({count}):").format(count=len(waiting)))
        for r, item, volunteer in waiting:
            await message.answer(
                _("{code} · {item} · {name} · {when}").format(
                    code=r.code, item=item.name, name=volunteer.name, when=texts.fmt_time(r.created_at, settings.tz)
                ),
                reply_markup=shop_keyboards.hand_button(r.id),
            )
    if not is_volunteer:
        return
    if not mine:
        await message.answer(_("You have not redeemed anything yet. /shop opens the 爱心超市."))
        return
    await message.answer(_("Your redemptions:"))
    for r, item in mine:
        await message.answer(
            _("{code} · {item} · {price} points · {status}").format(
                code=r.code, item=item.name, price=r.price, status=shop_texts.status_name(r.status)
            ),
            reply_markup=shop_keyboards.cancel_ask(r.id) if r.status == shop.RESERVED else None,
        )


@router.callback_query(RedemptionCb.filter(F.action == "ask"))
async def cancel_ask(query: CallbackQuery, callback_data: RedemptionCb, db: Database, user: User) -> None:
    async with db.read() as s:
        r = await shop.get_redemption(s, callback_data.rid)
    if r.volunteer_id != user.id:
        raise DomainError("shop_not_yours")
    await query.answer()
    await _edit(query, markup=shop_keyboards.cancel_confirm(r.id))


@router.callback_query(RedemptionCb.filter(F.action == "yes"))
async def cancel_yes(
    query: CallbackQuery, callback_data: RedemptionCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        r = await shop.cancel(s, notices.shop, user=user, redemption_id=callback_data.rid, now=clock.now())
    await query.answer(_("Cancelled: {points} points are back.").format(points=r.price))
    await _edit(query, _("{code} · cancelled, {points} points returned").format(code=r.code, points=r.price))


@router.callback_query(RedemptionCb.filter(F.action == "no"))
async def cancel_no(query: CallbackQuery) -> None:
    await query.answer(_("Nothing was changed."))
    await _edit(query)


async def _hand(
    db: Database, notices: Notices, clock: Clock, user: User, *, rid: int | None = None, code: str | None = None
):
    people.require_coordinator(user)
    async with db.tx() as s:
        r = await shop.get_redemption(s, rid) if rid is not None else await shop.by_code(s, code)
        await shop.hand_over(s, notices.shop, actor=user, redemption=r, now=clock.now())
        item = await shop.get_item(s, r.item_id)
    return r, item


@router.callback_query(RedemptionCb.filter(F.action == "hand"))
async def hand_button(
    query: CallbackQuery, callback_data: RedemptionCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    r, item = await _hand(db, notices, clock, user, rid=callback_data.rid)
    await query.answer(_("Marked as handed over."))
    await _edit(query)


@router.message(Command("handover"))
async def handover(
    message: Message, command: CommandObject, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    people.require_coordinator(user)
    if not command.args:
        raise DomainError("usage", usage=_("/handover CODE"))
    r, item = await _hand(db, notices, clock, user, code=command.args.split()[0])
    await message.answer(_("📦 {code}: “{item}” handed over.").format(code=r.code, item=item.name))
