"""Star levels (星级志愿者) by cumulative approved hours, and the congratulation when one is reached."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.ledger import service as ledger
from storage.models import TeamChat, TeamMember, Volunteer

THRESHOLDS = (100, 300, 600, 1000, 1500)  # hours for 一星 … 五星


class StarNotices(Protocol):
    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None: ...


def level_for(minutes: int) -> int:
    return sum(1 for hours in THRESHOLDS if minutes >= hours * 60)


def minutes_to_next(minutes: int) -> int | None:
    """Minutes still needed for the next level; None at the top."""
    for hours in THRESHOLDS:
        if minutes < hours * 60:
            return hours * 60 - minutes
    return None


async def team_chats_of(s: AsyncSession, volunteer_id: int) -> list[int]:
    rows = await s.execute(
        select(TeamChat.chat_id)
        .join(TeamMember, TeamMember.team_id == TeamChat.team_id)
        .where(TeamMember.user_id == volunteer_id, TeamMember.status == "active")
        .order_by(TeamChat.chat_id)
        .distinct()
    )
    return list(rows.scalars())


async def after_credit(s: AsyncSession, notices: StarNotices, volunteer_id: int, now: datetime) -> int | None:
    """Call in the transaction that credited hours (request approval, correction, activity hours).

    If the volunteer's total now reaches a level above the highest one congratulated, record it and queue
    the congratulation (private; and in his teams' groups if he agreed). Returns the new level or None.
    A level lost by a correction and regained later is not congratulated again: star_level only rises,
    by a conditional update, so two credits committing at once congratulate once.
    """
    # The volunteer's row is locked before his total is read: a credit committing at the same moment in another
    # transaction then waits for this one (or this one for it) and reads a total that includes the other's hours.
    # Without the lock, on PostgreSQL each would see only its own hours and neither might cross the level.
    # (SQLite's BEGIN IMMEDIATE already runs such transactions one after another.)
    volunteer = (
        await s.execute(
            select(Volunteer)
            .where(Volunteer.user_id == volunteer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if volunteer is None:
        return None
    level = level_for((await ledger.totals(s, volunteer_id)).minutes)
    if level <= (volunteer.star_level or 0):
        return None
    won = (
        await s.execute(
            update(Volunteer)
            .where(Volunteer.user_id == volunteer_id, Volunteer.star_level < level)
            .values(star_level=level)
            .returning(Volunteer.user_id)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if won is None:
        return None
    volunteer.star_level = level
    chats = await team_chats_of(s, volunteer_id) if volunteer.share_stars else []
    await notices.star_reached(s, volunteer, level, chats)
    return level


PREFERENCES = {"rank": "show_in_rank", "stars": "share_stars"}


async def toggle_preference(s: AsyncSession, volunteer_id: int, key: str) -> Volunteer:
    """Flip one of the volunteer's own /settings switches."""
    volunteer = await s.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise DomainError("not_volunteer")
    if key not in PREFERENCES:
        raise DomainError("stale")
    setattr(volunteer, PREFERENCES[key], not getattr(volunteer, PREFERENCES[key]))
    return volunteer
