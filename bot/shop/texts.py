"""爱心超市 texts, buttons and notices (what the shop owes people, into the outbox)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from storage.models import ShopItem

ERRORS = {
    "shop_bad_number": __("“{value}” is not a whole number. Please send digits, for example 50."),
    "shop_out_of_range": __("The number must be from {low} to {high}."),
    "shop_no_item": __("There is no item {ref} in the 爱心超市. /shop_items lists them."),
    "shop_withdrawn": __("“{name}” has been withdrawn from the 爱心超市."),
    "shop_price_changed": __(
        "The price of “{name}” has just changed to {price} points. Please open /shop again and confirm the new price."
    ),
    "shop_not_enough": __("Not enough points: {price} are needed, you have {balance}."),
    "shop_owed": __(
        "Sorry, you owe {owed} points: a correction of your hours took back points you had already exchanged. "
        "You can redeem again once your points are above zero. /ledger shows every entry."
    ),
    "shop_limit_reached": __(
        "You have already redeemed “{name}” {limit} time(s) this month, the monthly limit. Please come back next month."
    ),
    "shop_sold_out": __("Sorry, “{name}” has just run out. Nothing was deducted."),
    "shop_not_volunteer": __("The 爱心超市 is for registered volunteers. Send /volunteer to register."),
    "shop_no_redemption": __("This redemption does not exist."),
    "shop_no_code": __("There is no redemption with pick-up code “{ref}”."),
    "shop_not_yours": __("This is not your redemption."),
    "shop_already_handed": __("This item has already been handed over."),
    "shop_already_cancelled": __("This redemption has already been cancelled."),
    "shop_cancel_limit": __(
        "Sorry, you have cancelled {limit} redemptions today, so you can redeem again tomorrow. "
        "Redemptions you have not cancelled stay valid."
    ),
}

STATUS = {"reserved": __("waiting to be picked up"), "handed": __("handed over"), "cancelled": __("cancelled")}


def item_line(item: ShopItem) -> str:
    limit = _(", at most {limit} a month").format(limit=item.monthly_limit) if item.monthly_limit else ""
    return _("{name} – {price} points (left: {stock}{limit})").format(
        name=item.name, price=item.price, stock=item.stock, limit=limit
    )


def catalogue_line(item: ShopItem) -> str:
    off = "" if item.active else _(" (withdrawn)")
    return f"{item.id}. {item_line(item)}{off}"


def status_name(status: str) -> str:
    return str(STATUS.get(status, status))
