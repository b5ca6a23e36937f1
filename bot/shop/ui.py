"""爱心超市 texts, buttons and notices (what the shop owes people, into the outbox)."""
from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from bot.ui.keyboards import inline
from bot.requests.notices import Notices
from bot.ui.texts import register_errors
from storage.models import Redemption, ShopItem, Volunteer

register_errors({
    "shop_bad_number": __("“{value}” is not a whole number. Please send digits, for example 50."),
    "shop_out_of_range": __("The number must be from {low} to {high}."),
    "shop_no_item": __("There is no item {ref} in the 爱心超市. /shop_items lists them."),
    "shop_withdrawn": __("“{name}” has been withdrawn from the 爱心超市."),
    "shop_price_changed": __("The price of “{name}” has just changed to {price} points. "
                             "Please open /shop again and confirm the new price."),
    "shop_not_enough": __("Not enough points: {price} are needed, you have {balance}."),
    "shop_limit_reached": __("You have already redeemed “{name}” {limit} time(s) this month, "
                             "the monthly limit. Please come back next month."),
    "shop_sold_out": __("Sorry, “{name}” has just run out. Nothing was deducted."),
    "shop_not_volunteer": __("The 爱心超市 is for registered volunteers. Send /volunteer to register."),
    "shop_no_redemption": __("This redemption does not exist."),
    "shop_no_code": __("There is no redemption with pick-up code “{ref}”."),
    "shop_not_yours": __("This is not your redemption."),
    "shop_already_handed": __("This item has already been handed over."),
    "shop_already_cancelled": __("This redemption has already been cancelled."),
})

STATUS = {"reserved": __("waiting to be picked up"), "handed": __("handed over"), "cancelled": __("cancelled")}


class ShopCb(CallbackData, prefix="s1"):
    action: str  # ask | yes | no
    item: int
    price: int = 0


class RedemptionCb(CallbackData, prefix="rd1"):
    action: str  # ask | yes | no | hand
    rid: int


def item_line(item: ShopItem) -> str:
    limit = _(", at most {limit} a month").format(limit=item.monthly_limit) if item.monthly_limit else ""
    return _("{name} – {price} points (left: {stock}{limit})").format(
        name=item.name, price=item.price, stock=item.stock, limit=limit)


def catalogue_line(item: ShopItem) -> str:
    off = "" if item.active else _(" (withdrawn)")
    return f"{item.id}. {item_line(item)}{off}"


def status_name(status: str) -> str:
    return str(STATUS.get(status, status))


def shop_keyboard(items: list[ShopItem]) -> InlineKeyboardMarkup | None:
    rows = [[(f"🎁 {item.name} · {item.price}", ShopCb(action="ask", item=item.id))]
            for item in items if item.stock > 0]
    return inline(rows) if rows else None


def confirm_keyboard(item: ShopItem) -> InlineKeyboardMarkup:
    return inline([[(_("✅ Yes, redeem"), ShopCb(action="yes", item=item.id, price=item.price)),
                    (_("✖️ No"), ShopCb(action="no", item=item.id))]])


def cancel_ask(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Cancel redemption"), RedemptionCb(action="ask", rid=rid))]])


def cancel_confirm(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Yes, cancel it"), RedemptionCb(action="yes", rid=rid)),
                    (_("No, keep it"), RedemptionCb(action="no", rid=rid))]])


def hand_button(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("📦 Handed over"), RedemptionCb(action="hand", rid=rid))]])


class ShopNoticesImpl:
    """Built on the station's Notices: the same outbox, locales and coordinator list."""

    def __init__(self, notices: Notices):
        self.n = notices

    async def redeemed(self, s: AsyncSession, r: Redemption, item: ShopItem, volunteer: Volunteer) -> None:
        await self.n._to_coordinators(s, lambda: (_(
            "🎁 爱心超市: {name} redeemed “{item}” for {points} points. Pick-up code {code}. "
            "Hand it over, then tap the button or send /handover {code}.").format(
            name=volunteer.name, item=item.name, points=r.price, code=r.code), hand_button(r.id)))

    async def handed(self, s: AsyncSession, r: Redemption, item: ShopItem) -> None:
        await self.n._to_user(s, r.volunteer_id, lambda: _(
            "📦 “{item}” (pick-up code {code}) has been handed over to you. Thank you for your service!").format(
            item=item.name, code=r.code))

    async def cancelled(self, s: AsyncSession, r: Redemption, item: ShopItem, volunteer: Volunteer) -> None:
        await self.n._to_coordinators(s, lambda: _(
            "↩️ 爱心超市: {name} cancelled the redemption of “{item}” (code {code}); "
            "the item is back in stock.").format(name=volunteer.name, item=item.name, code=r.code))
