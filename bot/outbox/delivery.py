"""What the outbox could not deliver: people who blocked the bot, for the coordinators to call."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people.service import require_coordinator
from storage.models import OutboxMessage, User


@dataclass(frozen=True)
class Undelivered:
    user_id: int
    name: str
    messages: int


async def blocked_recipients(s: AsyncSession, actor: User, limit: int = 20) -> list[Undelivered]:
    """Users who still block the bot, with how many messages owed to them failed for good."""
    require_coordinator(actor)
    rows = await s.execute(
        select(User.id, User.full_name, func.count(OutboxMessage.id))
        .join(OutboxMessage, OutboxMessage.chat_id == User.id)
        .where(User.blocked_bot.is_(True), OutboxMessage.status == "failed")
        .group_by(User.id, User.full_name)
        .order_by(func.max(OutboxMessage.id).desc())
        .limit(limit)
    )
    return [Undelivered(uid, name, count) for uid, name, count in rows.all()]
