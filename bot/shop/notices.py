"""What the 爱心超市 owes people, written to the outbox in the caller's transaction."""
from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.requests.notices import Notices
from bot.shop.keyboards import hand_button
from storage.models import Redemption, ShopItem, Volunteer


class ShopNotices:
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
