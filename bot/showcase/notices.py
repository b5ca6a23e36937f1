"""What 公示 owes people: the coordinators of a post's station hear that it was taken down, and by whom."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from bot.outbox import Outbox
from storage.models import ShowcasePost, User


class ShowcaseNotices:
    def __init__(self, outbox: Outbox):
        self.outbox = outbox

    async def taken_down(self, s: AsyncSession, post: ShowcasePost, actor: User) -> None:
        name = actor.full_name or str(actor.id)
        await self.outbox.to_coordinators(
            s,
            lambda: _("🗑 公示 post No. {id} was taken down by {name}.").format(id=post.id, name=name),
            skip=actor.id,
            nodes=[post.station_id],
        )
