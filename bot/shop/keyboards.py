"""爱心超市 buttons."""

from __future__ import annotations

from typing import ClassVar

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.shop import service as shop
from bot.ui.keyboards import inline
from bot.ui.scope import PRIVATE, Scopes
from storage.models import ShopItem


class ShopCb(CallbackData, prefix="s1"):
    scope: ClassVar[Scopes] = PRIVATE
    action: str  # ask | yes | no
    item: int
    price: int = 0


class RedemptionCb(CallbackData, prefix="rd1"):
    scope: ClassVar[Scopes] = PRIVATE
    action: str  # ask | yes | no | hand
    rid: int


def shop_keyboard(items: list[ShopItem]) -> InlineKeyboardMarkup | None:
    rows = [
        [(f"🎁 {item.name} · {item.price}", ShopCb(action="ask", item=item.id))]
        for item in items
        if shop.on_offer(item)
    ]
    return inline(rows) if rows else None


def confirm_keyboard(item: ShopItem) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("✅ Yes, redeem"), ShopCb(action="yes", item=item.id, price=item.price)),
                (_("✖️ No"), ShopCb(action="no", item=item.id)),
            ]
        ]
    )


def cancel_ask(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("Cancel redemption"), RedemptionCb(action="ask", rid=rid))]])


def cancel_confirm(rid: int) -> InlineKeyboardMarkup:
    return inline(
        [
            [
                (_("Yes, cancel it"), RedemptionCb(action="yes", rid=rid)),
                (_("No, keep it"), RedemptionCb(action="no", rid=rid)),
            ]
        ]
    )


def hand_button(rid: int) -> InlineKeyboardMarkup:
    return inline([[(_("📦 Handed over"), RedemptionCb(action="hand", rid=rid))]])
