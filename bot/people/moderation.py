"""The station's defences against a person: a volunteer taken out of a team, a user blocked or unblocked, and what
follows a team's archiving. Each is recorded (PeopleEvent: who, when, why).

What a person leaves behind is handed back as if he had let go of it himself: his requests taken and not done go
back to the pool (the card is offered again, the resident told: bot.requests.service.take_back), his activity
sign-ups are cancelled (the waiting list moves up: bot.activities.service.withdraw). His ledger stays.
Every function runs inside the caller's transaction; no aiogram here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activities import service as activities
from bot.core import validate
from bot.core.errors import DomainError
from bot.org import service as org
from bot.people import profiles
from bot.people import service as people
from bot.people.service import ACTIVE, PENDING
from bot.requests import service as requests
from storage.models import Activity, PeopleEvent, Request, Team, TeamMember, User, Volunteer

REMOVED, BLOCKED, UNBLOCKED = "removed", "blocked", "unblocked"


class PeopleNotices(Protocol):
    async def member_removed(self, s: AsyncSession, user_id: int, team: Team, reason: str) -> None: ...


class Notices(Protocol):
    """The station's notices (bot.notices.Notices), the parts these changes write through."""

    @property
    def people(self) -> PeopleNotices: ...
    @property
    def requests(self) -> requests.Notices: ...
    @property
    def activities(self) -> activities.Notices: ...


@dataclass
class Handed:
    """What a person left behind went back: requests to the pool, activity places to others."""

    requests: list[Request] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)


def record(
    s: AsyncSession,
    kind: str,
    *,
    user_id: int,
    now: datetime,
    actor_id: int | None = None,
    team_id: int | None = None,
    reason: str | None = None,
) -> None:
    s.add(PeopleEvent(user_id=user_id, kind=kind, team_id=team_id, actor_id=actor_id, reason=reason, created_at=now))


async def _hand_back(
    s: AsyncSession, notices: Notices, *, user_id: int, actor: User, now: datetime, team_id: int | None
) -> Handed:
    return Handed(
        await requests.take_back(s, notices.requests, volunteer_id=user_id, actor=actor, now=now, team_id=team_id),
        await activities.withdraw(s, notices.activities, user_id=user_id, now=now, team_id=team_id),
    )


# A volunteer taken out of a team ---------------------------------------------------------------------------


async def removable(s: AsyncSession, actor: User, *, team_id: int, user_id: int) -> tuple[Team, Volunteer]:
    """Every rule of taking `user_id` out of a team, asked before the reason and the confirmation, and again when
    it is done: the team's leader (not of another leader) or a coordinator; an active member; not oneself."""
    team = await s.get(Team, team_id) if validate.fits_id(team_id) else None
    if team is None or team.archived:
        raise DomainError("no_team", ref=team_id)
    await people.require_team_manager(s, actor, team.id)
    member = await s.get(TeamMember, (team.id, user_id)) if validate.fits_id(user_id, big=True) else None
    volunteer = await s.get(Volunteer, user_id) if member is not None else None
    if member is None or member.status != ACTIVE or volunteer is None:
        raise DomainError("not_in_this_team", team=team.name)
    if user_id == actor.id:
        raise DomainError("remove_self")
    if member.is_leader and not people.is_coordinator(actor):
        raise DomainError("remove_leader")
    return team, volunteer


async def remove_member(
    s: AsyncSession, notices: Notices, actor: User, *, team_id: int, user_id: int, reason: str | None, now: datetime
) -> tuple[Team, Volunteer, Handed]:
    """The team's leader or a coordinator takes a volunteer out of the team, with a reason he is told privately.
    His requests of that team taken and not done go back to the pool, his sign-ups to its activities are
    cancelled; his ledger stays."""
    team, volunteer = await removable(s, actor, team_id=team_id, user_id=user_id)
    reason = validate.text(reason, "reason")
    gone = await s.execute(
        delete(TeamMember)
        .where(TeamMember.team_id == team.id, TeamMember.user_id == user_id, TeamMember.status == ACTIVE)
        .returning(TeamMember.user_id)
        .execution_options(synchronize_session=False)
    )
    if gone.scalar() is None:  # someone else took him out first
        raise DomainError("not_in_this_team", team=team.name)
    record(s, REMOVED, user_id=user_id, now=now, actor_id=actor.id, team_id=team.id, reason=reason)
    handed = await _hand_back(s, notices, user_id=user_id, actor=actor, now=now, team_id=team.id)
    await notices.people.member_removed(s, user_id, team, reason)
    return team, volunteer, handed


async def removable_members(s: AsyncSession, actor: User, team_id: int) -> tuple[Team, list[Volunteer]]:
    """The members of a team the actor may take out (the buttons under /teams)."""
    team = await s.get(Team, team_id) if validate.fits_id(team_id) else None
    if team is None or team.archived:
        raise DomainError("no_team", ref=team_id)
    await people.require_team_manager(s, actor, team.id)
    rows = await s.execute(
        select(TeamMember, Volunteer)
        .join(Volunteer, Volunteer.user_id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id, TeamMember.status == ACTIVE, TeamMember.user_id != actor.id)
        .order_by(TeamMember.joined_at, TeamMember.user_id)
    )
    coordinator = people.is_coordinator(actor)
    return team, [volunteer for member, volunteer in rows.all() if coordinator or not member.is_leader]


# Blocking --------------------------------------------------------------------------------------------------


async def block(
    s: AsyncSession, notices: Notices, actor: User, target: User, *, reason: str | None, now: datetime
) -> Handed:
    """A coordinator blocks a user: from his next update on he places, takes and registers nothing (the
    middleware answers him politely). His requests taken and not done go back to the pool, his activity
    sign-ups and join requests are cancelled. Coordinators and administrators cannot be blocked."""
    people.require_coordinator(actor)
    if people.is_coordinator(target) or target.id == actor.id:
        raise DomainError("block_staff")
    await org.require_person(s, actor, target.id)
    reason = validate.text(reason, "reason", required=False)
    done = await s.execute(
        update(User)
        .where(User.id == target.id, User.is_blocked.is_(False))
        .values(is_blocked=True)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    if done.scalar() is None:
        raise DomainError("already_blocked")
    record(s, BLOCKED, user_id=target.id, now=now, actor_id=actor.id, reason=reason)
    await s.execute(delete(TeamMember).where(TeamMember.user_id == target.id, TeamMember.status == PENDING))
    return await _hand_back(s, notices, user_id=target.id, actor=actor, now=now, team_id=None)


async def unblock(s: AsyncSession, actor: User, target: User, *, now: datetime) -> None:
    people.require_coordinator(actor)
    await org.require_person(s, actor, target.id)
    done = await s.execute(
        update(User)
        .where(User.id == target.id, User.is_blocked.is_(True))
        .values(is_blocked=False)
        .returning(User.id)
        .execution_options(synchronize_session=False)
    )
    if done.scalar() is None:
        raise DomainError("not_blocked")
    record(s, UNBLOCKED, user_id=target.id, now=now, actor_id=actor.id)


def is_blocked(user: User | None) -> bool:
    """Blocked, and not (since) a coordinator: coordinators and administrators are never held back."""
    return bool(user is not None and user.is_blocked and not people.is_coordinator(user))


# Archived teams --------------------------------------------------------------------------------------------


async def archive_team(s: AsyncSession, notices: Notices, actor: User, team_id: int, now: datetime) -> Team:
    """profiles.archive_team, and its open requests go to the coordinators' review (its members can no longer
    take them, nor sign up for its activities)."""
    team = await profiles.archive_team(s, actor, team_id)
    await requests.team_archived(s, notices.requests, team_id=team.id, actor=actor, now=now)
    return team
