"""最美志愿者: the monthly shortlist for the coordinators, and the vote they open in a team's group."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.errors import DomainError
from bot.ledger import ranking
from bot.org import service as org
from bot.people.service import list_teams, require_coordinator, team_chats
from scheduling.occurrences import QUEUED, claim_in
from storage.models import User


async def advanced_stations(s: AsyncSession, month_start: date, tz) -> list:
    """The month's 先进站 shortlist for the 中心's coordinators (bot.reports.service.advanced_stations)."""
    from bot.reports import service as reports

    return await reports.advanced_stations(s, reports.month_of(month_start.year, month_start.month), tz)


class VoteNotices(Protocol):
    async def vote_poll(self, s: AsyncSession, chat_id: int, month: str, names: list[str]) -> None: ...


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def previous_month(d: date) -> date:
    return date(d.year - 1, 12, 1) if d.month == 1 else date(d.year, d.month - 1, 1)


def shortlist_key(month_start: date) -> str:
    """Occurrence key of the shortlist sent at the start of `month_start`'s month: recognition:2026-11."""
    return f"recognition:{month_key(month_start)}"


def poll_key(month: str, team_id: int) -> str:
    return f"recognition:poll:{month}:{team_id}"


async def teams_with_groups(s: AsyncSession) -> list[tuple[int, str]]:
    return [(t.id, t.name) for t in await list_teams(s) if await team_chats(s, t.id)]


async def open_vote(
    s: AsyncSession, notices: VoteNotices, *, actor: User, month: str, team_id: int, tz, now: datetime
) -> int:
    """Queue a poll of `month`'s shortlist in the team's groups, once per team and month; returns its size.

    Only volunteers who agreed to appear by name are options: a group poll is public.
    """
    require_coordinator(actor)
    try:
        year, mon = (int(x) for x in month.split("-"))
        start, end = ranking.month_bounds(year, mon, tz)
    except ValueError:
        raise DomainError("stale") from None
    await org.require_team(s, actor, team_id)
    chats = await team_chats(s, team_id)
    if not chats:
        raise DomainError("vote_no_group")
    names = [row.name for row in await ranking.shortlist(s, start, end) if row.public]
    if len(names) < 2:
        raise DomainError("vote_too_few")
    if not await claim_in(s, poll_key(month, team_id), now, now, status=QUEUED):
        raise DomainError("vote_already_open")
    for chat_id in chats:
        await notices.vote_poll(s, chat_id, month, names)
    return len(names)
