"""Volunteers' profiles, skills, join requests, team leaders and the teams' own life (rename, archive).

No aiogram here: messages owed are written through `notices` (bot.people.notices) in the caller's
transaction. Races (two approvers tapping at once) are settled by conditional UPDATE/DELETE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.core.limits import Daily
from bot.org import service as org
from bot.people import service as people
from bot.people.service import ACTIVE, PENDING
from storage.models import PeopleEvent, Service, Skill, StationSetting, Team, TeamChat, TeamMember, User, Volunteer

JOIN_ASKED = "join_asked"  # PeopleEvent.kind: a join request sent (counted against MAX_JOIN_REQUESTS_PER_DAY)

validate.LIMITS.setdefault("skill", 20)
validate.LIMITS.setdefault("skill_en", 40)

SEED_SKILLS = [
    ("助老", "Elderly care"),
    ("陪诊", "Hospital escort"),
    ("家电维修", "Appliance repair"),
    ("理发", "Haircuts"),
    ("心理疏导", "Counselling"),
    ("法律咨询", "Legal advice"),
    ("文艺", "Arts"),
    ("教育辅导", "Tutoring"),
    ("医疗保健", "Health care"),
    ("环境整治", "Neighbourhood clean-up"),
]


class Notices(Protocol):
    async def join_requested(
        self, s: AsyncSession, member: TeamMember, team: Team, volunteer: Volunteer, approvers: list[int]
    ) -> None: ...
    async def join_decided(self, s: AsyncSession, user_id: int, team: Team, approved: bool) -> None: ...
    async def leader_changed(self, s: AsyncSession, user_id: int, team: Team, on: bool) -> None: ...
    async def coordinator_changed(self, s: AsyncSession, user_id: int, on: bool, waiting_joins: int) -> None: ...


# Skills ----------------------------------------------------------------------------------------


async def ensure_skills(s: AsyncSession) -> None:
    """Seed the default skill list once per database; afterwards the list is the station's."""
    if await s.get(StationSetting, "skills_seeded"):
        return
    for position, (zh, en) in enumerate(SEED_SKILLS, start=1):
        s.add(Skill(name_zh=zh, name_en=en, active=True, position=position))
    s.add(StationSetting(key="skills_seeded", value="1"))


async def active_skills(s: AsyncSession) -> list[Skill]:
    rows = await s.execute(select(Skill).where(Skill.active.is_(True)).order_by(Skill.position, Skill.id))
    return list(rows.scalars())


def skill_name(skill: Skill, locale: str) -> str:
    return skill.name_en if locale == "en" else skill.name_zh


async def add_skill(s: AsyncSession, actor: User, name_zh: str, name_en: str | None) -> Skill:
    people.require_coordinator(actor)
    await org.require_centre(s, actor)
    name_zh = validate.text(name_zh, "skill")
    name_en = validate.text(name_en, "skill_en", required=False) or name_zh
    if any(k.name_zh == name_zh for k in await active_skills(s)):
        raise DomainError("skill_exists", name=name_zh)
    position = (await s.execute(select(func.coalesce(func.max(Skill.position), 0)))).scalar_one() + 1
    skill = Skill(name_zh=name_zh, name_en=name_en, active=True, position=position)
    s.add(skill)
    await s.flush()
    return skill


async def remove_skill(s: AsyncSession, actor: User, ref: str) -> Skill:
    """Off the list for new choices; volunteers who ticked it keep it in their record."""
    people.require_coordinator(actor)
    await org.require_centre(s, actor)
    ref = (ref or "").strip()
    skill = None
    if ref.isdecimal() and validate.fits_id(int(ref)):
        skill = await s.get(Skill, int(ref))
    elif ref:
        skill = (await s.execute(select(Skill).where(Skill.name_zh == ref))).scalars().first()
    if skill is None or not skill.active:
        raise DomainError("no_skill", ref=ref)
    skill.active = False
    return skill


def skill_ids(volunteer: Volunteer | None) -> list[int]:
    raw = (volunteer.skills if volunteer else "") or ""
    return [int(x) for x in raw.split(",") if x.isdecimal()]


async def check_skills(s: AsyncSession, ids: list[int]) -> list[int]:
    """Only skills on the station's list; a forged or removed id is dropped."""
    allowed = {k.id for k in await active_skills(s)}
    return sorted({i for i in ids if i in allowed})


async def skill_names(s: AsyncSession, ids: list[int], locale: str) -> list[str]:
    if not ids:
        return []
    rows = await s.execute(select(Skill).where(Skill.id.in_(ids)).order_by(Skill.position, Skill.id))
    return [skill_name(k, locale) for k in rows.scalars()]


# Registration and join requests -----------------------------------------------------------------


@dataclass
class SignUp:
    volunteer: Volunteer
    pending: list[Team]  # join requests now waiting for a leader or coordinator
    joined: list[Team]  # active at once (a coordinator joining)


async def _team(s: AsyncSession, team_id: int) -> Team:
    team = await s.get(Team, team_id) if validate.fits_id(team_id) else None
    if team is None or team.archived:
        raise DomainError("no_team", ref=team_id)
    return team


async def approvers(s: AsyncSession, team_id: int, skip: int | None = None) -> list[int]:
    """Who decides a join request: the team's leaders and the station's coordinators."""
    rows = await s.execute(
        select(TeamMember.user_id).where(
            TeamMember.team_id == team_id, TeamMember.status == ACTIVE, TeamMember.is_leader.is_(True)
        )
    )
    ids = list(rows.scalars()) + [u.id for u in await people.coordinators(s)]
    return [i for i in dict.fromkeys(ids) if i != skip]


async def sign_up(
    s: AsyncSession,
    notices: Notices,
    user: User,
    *,
    name: str,
    phone: str,
    skills: list[int],
    team_ids: list[int],
    now: datetime,
    daily: Daily | None = None,
) -> SignUp:
    """A volunteer registers himself (or changes his registration): teams newly chosen become join
    requests; teams left unticked are left."""
    name = validate.text(name, "name")
    phone = validate.phone(phone)
    teams = [t for t in await people.list_teams(s) if t.id in set(team_ids)]
    if not teams:
        raise DomainError("no_team_chosen")
    volunteer = await s.get(Volunteer, user.id)
    skill_text = ",".join(map(str, await check_skills(s, skills)))
    if volunteer is None:
        volunteer = Volunteer(user_id=user.id, name=name, phone=phone, skills=skill_text, registered_at=now)
        s.add(volunteer)
    else:
        volunteer.name, volunteer.phone, volunteer.skills = name, phone, skill_text
    await s.flush()
    chosen = [t.id for t in teams]
    await s.execute(delete(TeamMember).where(TeamMember.user_id == user.id, TeamMember.team_id.not_in(chosen)))
    out = SignUp(volunteer, [], [])
    for team in teams:
        status = await _join(s, notices, user, volunteer, team, now, daily)
        if status == PENDING:
            out.pending.append(team)
        elif status == "joined":
            out.joined.append(team)
    return out


async def request_join(
    s: AsyncSession, notices: Notices, user: User, team_id: int, now: datetime, daily: Daily | None = None
) -> str:
    volunteer = await s.get(Volunteer, user.id)
    if volunteer is None:
        raise DomainError("not_registered")
    team = await _team(s, team_id)
    member = await s.get(TeamMember, (team.id, user.id))
    if member is not None:
        raise DomainError("join_pending" if member.status == PENDING else "already_member", team=team.name)
    return await _join(s, notices, user, volunteer, team, now, daily)


async def check_join_limit(s: AsyncSession, user: User, now: datetime, daily: Daily | None) -> None:
    """MAX_JOIN_REQUESTS_PER_DAY: join requests sent today (each one asks the team's leaders and coordinators)."""
    if daily is None:
        return
    sent = (
        await s.execute(
            select(func.count())
            .select_from(PeopleEvent)
            .where(
                PeopleEvent.user_id == user.id,
                PeopleEvent.kind == JOIN_ASKED,
                PeopleEvent.created_at >= daily.since(now),
            )
        )
    ).scalar_one()
    if sent >= daily.count:
        raise DomainError("join_limit", limit=daily.count)


async def _join(
    s: AsyncSession,
    notices: Notices,
    user: User,
    volunteer: Volunteer,
    team: Team,
    now: datetime,
    daily: Daily | None = None,
) -> str:
    """'member' (already), 'pending' (asked), 'joined' (a coordinator needs nobody's approval)."""
    member = await s.get(TeamMember, (team.id, user.id))
    if member is not None:
        return "member" if member.status == ACTIVE else PENDING
    if people.is_coordinator(user):
        s.add(
            TeamMember(
                team_id=team.id, user_id=user.id, is_leader=False, joined_at=now, status=ACTIVE, decided_by=user.id
            )
        )
        return "joined"
    await check_join_limit(s, user, now, daily)
    s.add(PeopleEvent(user_id=user.id, kind=JOIN_ASKED, team_id=team.id, created_at=now))
    member = TeamMember(team_id=team.id, user_id=user.id, is_leader=False, joined_at=now, status=PENDING)
    s.add(member)
    await s.flush()
    await notices.join_requested(s, member, team, volunteer, await approvers(s, team.id, skip=user.id))
    return PENDING


async def decide_join(
    s: AsyncSession, notices: Notices, actor: User, *, team_id: int, user_id: int, approve: bool, now: datetime
) -> tuple[Team, Volunteer | None]:
    """The team's leader or a coordinator approves or declines; the first answer wins."""
    team = await s.get(Team, team_id) if validate.fits_id(team_id) else None
    if team is None:
        raise DomainError("join_decided")
    await people.require_team_manager(s, actor, team.id)
    if not validate.fits_id(user_id, big=True):
        raise DomainError("join_decided")
    where = (TeamMember.team_id == team.id, TeamMember.user_id == user_id, TeamMember.status == PENDING)
    if approve and not team.archived:
        done = await s.execute(
            update(TeamMember)
            .where(*where)
            .values(status=ACTIVE, decided_by=actor.id, joined_at=now)
            .returning(TeamMember.user_id)
            .execution_options(synchronize_session=False)
        )
    else:
        done = await s.execute(
            delete(TeamMember).where(*where).returning(TeamMember.user_id).execution_options(synchronize_session=False)
        )
    if done.scalar() is None:
        raise DomainError("join_decided")
    await notices.join_decided(s, user_id, team, approve and not team.archived)
    return team, await s.get(Volunteer, user_id)


async def leave_team(s: AsyncSession, user: User, team_id: int) -> Team:
    if not validate.fits_id(team_id):
        raise DomainError("stale")
    team = await s.get(Team, team_id)
    done = await s.execute(
        delete(TeamMember)
        .where(TeamMember.team_id == team_id, TeamMember.user_id == user.id)
        .returning(TeamMember.team_id)
        .execution_options(synchronize_session=False)
    )
    if team is None or done.scalar() is None:
        raise DomainError("not_a_member", team=team.name if team else team_id)
    return team


async def pending_joins(s: AsyncSession, actor: User) -> list[tuple[TeamMember, Team, Volunteer]]:
    """Join requests the actor may decide: all for a coordinator, his own team's for a leader."""
    query = (
        select(TeamMember, Team, Volunteer)
        .join(Team, Team.id == TeamMember.team_id)
        .join(Volunteer, Volunteer.user_id == TeamMember.user_id)
        .where(TeamMember.status == PENDING, Team.archived.is_(False))
    )
    scope = await org.scope_of(s, actor)
    if not scope.any:
        query = query.where(TeamMember.team_id.in_(await people.led_team_ids(s, actor.id)))
    elif not scope.everything:  # his subtree's teams, and any team he leads
        query = query.where(
            Team.node_id.in_(scope.nodes) | TeamMember.team_id.in_(await people.led_team_ids(s, actor.id))
        )
    rows = await s.execute(query.order_by(TeamMember.joined_at))
    return [(member, team, volunteer) for member, team, volunteer in rows.all()]


# Profile edits ------------------------------------------------------------------------------------


async def volunteer_of(s: AsyncSession, user: User) -> Volunteer:
    volunteer = await s.get(Volunteer, user.id)
    if volunteer is None:
        raise DomainError("not_registered")
    return volunteer


async def set_name(s: AsyncSession, user: User, name: str | None) -> Volunteer:
    volunteer = await volunteer_of(s, user)
    volunteer.name = validate.text(name, "name")
    return volunteer


async def set_phone(s: AsyncSession, user: User, phone: str | None) -> Volunteer:
    volunteer = await volunteer_of(s, user)
    volunteer.phone = validate.phone(phone)
    return volunteer


async def set_skills(s: AsyncSession, user: User, ids: list[int]) -> Volunteer:
    volunteer = await volunteer_of(s, user)
    volunteer.skills = ",".join(map(str, await check_skills(s, ids)))
    return volunteer


async def memberships(s: AsyncSession, user_id: int) -> list[tuple[TeamMember, Team]]:
    rows = await s.execute(
        select(TeamMember, Team)
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.user_id == user_id, Team.archived.is_(False))
        .order_by(Team.id)
    )
    return [(member, team) for member, team in rows.all()]


# Teams and leaders --------------------------------------------------------------------------------


async def team_ref(s: AsyncSession, ref: str) -> Team:
    team = await people.find_team(s, ref)
    if team is None:
        raise DomainError("no_team", ref=ref)
    return team


async def rename_team(s: AsyncSession, actor: User, ref: str, new_name: str) -> tuple[str, Team]:
    people.require_coordinator(actor)
    team = await team_ref(s, ref)
    await org.require_team(s, actor, team.id)
    new_name = validate.text(new_name, "team")
    other = await people.team_by_name(s, new_name)
    if other is not None and other.id != team.id:
        raise DomainError("team_exists", name=new_name)
    old, team.name = team.name, new_name
    return old, team


async def archive_team(s: AsyncSession, actor: User, team_id: int) -> Team:
    """The team's history stays (requests and ledger keep team_id); its groups get no more cards, its
    services wait for a coordinator to give them to another team (new requests go to review)."""
    people.require_coordinator(actor)
    if not validate.fits_id(team_id):
        raise DomainError("no_team", ref=team_id)
    await org.require_team(s, actor, team_id)
    result = await s.execute(
        update(Team)
        .where(Team.id == team_id, Team.archived.is_(False))
        .values(archived=True)
        .returning(Team.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar() is None:
        raise DomainError("no_team", ref=team_id)
    await s.execute(update(Service).where(Service.team_id == team_id).values(team_id=None))
    team = await s.get(Team, team_id)
    assert team is not None  # just archived
    await s.refresh(team)
    return team


async def set_leader(
    s: AsyncSession, notices: Notices, actor: User, target: User, team: Team, on: bool, now: datetime
) -> None:
    people.require_coordinator(actor)
    await org.require_team(s, actor, team.id)
    if await s.get(Volunteer, target.id) is None:
        raise DomainError("leader_not_volunteer")
    member = await s.get(TeamMember, (team.id, target.id))
    if on:
        if member is None:
            s.add(
                TeamMember(
                    team_id=team.id,
                    user_id=target.id,
                    is_leader=True,
                    joined_at=now,
                    status=ACTIVE,
                    decided_by=actor.id,
                )
            )
        else:
            member.status, member.is_leader = ACTIVE, True
            member.decided_by = member.decided_by or actor.id
    else:
        if member is None or not member.is_leader:
            raise DomainError("not_leader", team=team.name)
        member.is_leader = False
    await s.flush()
    await notices.leader_changed(s, target.id, team, on)


async def set_coordinator(s: AsyncSession, notices: Notices, actor: User, target: User, on: bool) -> None:
    """An administrator appoints or removes a coordinator, who is told, with the join requests that waited
    (perhaps for nobody: a team without leaders before the station had a coordinator)."""
    people.require_admin(actor)
    if target.is_coordinator == on:
        return
    target.is_coordinator = on
    waiting = (
        await s.execute(
            select(func.count())
            .select_from(TeamMember)
            .join(Team, Team.id == TeamMember.team_id)
            .where(TeamMember.status == PENDING, Team.archived.is_(False))
        )
    ).scalar()
    await notices.coordinator_changed(s, target.id, on, int(waiting or 0))


@dataclass
class TeamInfo:
    team: Team
    leaders: list[str]
    members: int
    pending: int
    chats: list[str]
    services: list[Service]


async def team_info(s: AsyncSession, team: Team) -> TeamInfo:
    rows = (
        await s.execute(
            select(TeamMember, Volunteer)
            .outerjoin(Volunteer, Volunteer.user_id == TeamMember.user_id)
            .where(TeamMember.team_id == team.id)
        )
    ).all()
    leaders = [(v.name if v else str(m.user_id)) for m, v in rows if m.status == ACTIVE and m.is_leader]
    chats = (await s.execute(select(TeamChat).where(TeamChat.team_id == team.id).order_by(TeamChat.chat_id))).scalars()
    services = (
        await s.execute(
            select(Service)
            .where(Service.team_id == team.id, Service.active.is_(True))
            .order_by(Service.position, Service.id)
        )
    ).scalars()
    return TeamInfo(
        team,
        leaders,
        sum(m.status == ACTIVE for m, _v in rows),
        sum(m.status == PENDING for m, _v in rows),
        [c.title or str(c.chat_id) for c in chats],
        list(services),
    )


async def visible_teams(s: AsyncSession, actor: User) -> list[Team]:
    """A coordinator sees every team; a leader his own; anyone else none."""
    teams = await people.list_teams(s)
    scope = await org.scope_of(s, actor)
    if scope.everything:
        return teams
    led = set(await people.led_team_ids(s, actor.id))
    if scope.any:  # his subtree's teams (and one he leads elsewhere)
        return [t for t in teams if scope.covers(t.node_id) or t.id in led]
    if not led:
        raise DomainError("not_coordinator")
    return [t for t in teams if t.id in led]
