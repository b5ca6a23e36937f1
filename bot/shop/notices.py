"""What the 爱心超市 owes people, written to the outbox in the caller's transaction."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import Outbox
from bot.shop.keyboards import hand_button
from storage.models import Redemption, ShopItem, Volunteer


class ShopNotices:
    """Redemptions: the coordinators hear of them, the volunteer of the hand-over."""

    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    async def redeemed(self, s: AsyncSession, r: Redemption, item: ShopItem, volunteer: Volunteer) -> None:
        await self.outbox.to_coordinators(
            s,
            lambda: (
                _(
                    "🎁 爱心超市: {name} redeemed “{item}” for {points} points. Pick-up code {code}. "
                    "Hand it over, then tap the button or send /handover {code}."
                ).format(name=volunteer.name, item=item.name, points=r.price, code=r.code),
                hand_button(r.id),
            ),
        )

    async def handed(self, s: AsyncSession, r: Redemption, item: ShopItem) -> None:
        await self.outbox.to_user(
            s,
            r.volunteer_id,
            lambda: _(
                "📦 “{item}” (pick-up code {code}) has been handed over to you. Thank you for your service!"
            ).format(item=item.name, code=r.code),
        )

    async def cancelled(self, s: AsyncSession, r: Redemption, item: ShopItem, volunteer: Volunteer) -> None:
        await self.outbox.to_coordinators(
            s,
            lambda: _(
                "↩️ 爱心超市: {name} cancelled the redemption of “{item}” (code {code}); the item is back in stock."
            ).format(name=volunteer.name, item=item.name, code=r.code),
        )
