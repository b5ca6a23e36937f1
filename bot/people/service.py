"""Users and roles, volunteers, teams and the group chats bound to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.org import service as org
from storage.models import Activity, Request, Team, TeamChat, TeamMember, User, Volunteer

ACTIVE, PENDING = "active", "pending"  # TeamMember.status: only active members are members


def is_coordinator(user: User | None) -> bool:
    return bool(user and (user.is_coordinator or user.is_admin))


def require_coordinator(user: User | None) -> None:
    if not is_coordinator(user):
        raise DomainError("not_coordinator")


def require_admin(user: User | None) -> None:
    if not (user and user.is_admin):
        raise DomainError("not_admin")


def telegram_names(full_name: str | None, username: str | None) -> tuple[str, str | None]:
    """A Telegram user's name and @username as they are stored and shown to others (validate.clean_name)."""
    return validate.clean_name(full_name)[:128], validate.clean_name(username)[:64] or None


async def touch_user(
    s: AsyncSession, *, user_id: int, full_name: str, username: str | None, locale: str, is_admin: bool, now: datetime
) -> User:
    """Create or refresh the user; writes only when something changed."""
    full_name, username = telegram_names(full_name, username)
    user = await s.get(User, user_id)
    if user is None:
        user = User(
            id=user_id,
            full_name=full_name,
            username=username,
            locale=locale,
            is_admin=is_admin,
            is_coordinator=False,
            blocked_bot=False,
            created_at=now,
        )
        s.add(user)
        return user
    # is_admin follows ADMIN_IDS both ways: an id taken off the list is no longer an administrator
    fresh: dict[str, str | bool | None] = dict(full_name=full_name, username=username, locale=locale, is_admin=is_admin)
    for key, value in fresh.items():
        if getattr(user, key) != value:
            setattr(user, key, value)
    return user


def needs_touch(user: User | None, *, full_name: str, username: str | None, locale: str, is_admin: bool) -> bool:
    if user is None:
        return True
    full_name, username = telegram_names(full_name, username)
    return (
        user.full_name != full_name
        or user.username != username
        or user.locale != locale
        or is_admin != user.is_admin
        or user.blocked_bot
    )


async def sync_admins(s: AsyncSession, admin_ids: set[int] | list[int]) -> None:
    """At start: the administrators are exactly the known users listed in ADMIN_IDS (an id taken off the list is
    no longer one, an id added is one before he writes again)."""
    ids = sorted(set(admin_ids))
    await s.execute(update(User).where(User.is_admin.is_(True), User.id.not_in(ids)).values(is_admin=False))
    if ids:
        await s.execute(update(User).where(User.is_admin.is_(False), User.id.in_(ids)).values(is_admin=True))


async def find_user(s: AsyncSession, ref: str) -> User | None:
    """By numeric Telegram id or by @username of someone who has written to the bot."""
    ref = (ref or "").strip()
    if ref.lstrip("-").isdecimal():
        return await s.get(User, int(ref)) if validate.fits_id(int(ref), big=True) else None
    name = ref.lstrip("@")
    if not name:
        return None
    return (await s.execute(select(User).where(func.lower(User.username) == name.lower()))).scalars().first()


async def coordinators(s: AsyncSession) -> list[User]:
    rows = await s.execute(
        select(User).where((User.is_coordinator.is_(True)) | (User.is_admin.is_(True))).order_by(User.id)
    )
    return list(rows.scalars())


# Teams -------------------------------------------------------------------------------------


async def create_team(s: AsyncSession, actor: User, name: str, now: datetime, node_id: int | None = None) -> Team:
    """A team of `node_id` (a coordinator's own node by default; a 中心 coordinator's: the only station, else the
    中心's 总队)."""
    require_coordinator(actor)
    name = validate.text(name, "team")
    if await team_by_name(s, name):
        raise DomainError("team_exists", name=name)
    if node_id is None:
        scope = await org.scope_of(s, actor)
        only = await org.default_station(s)
        centre = await org.root(s)
        node_id = scope.at if not scope.everything else (only.id if only else centre.id if centre else None)
    else:
        await org.require_covers(s, actor, node_id)
    team = Team(name=name, archived=False, created_at=now, node_id=node_id)
    s.add(team)
    await s.flush()
    return team


async def team_by_name(s: AsyncSession, name: str) -> Team | None:
    return (await s.execute(select(Team).where(Team.name == name.strip()))).scalars().first()


async def find_team(s: AsyncSession, ref: str) -> Team | None:
    ref = (ref or "").strip()
    if ref.isdecimal():
        team = await s.get(Team, int(ref)) if validate.fits_id(int(ref)) else None
    else:
        team = await team_by_name(s, ref)
    return team if team and not team.archived else None


async def list_teams(s: AsyncSession) -> list[Team]:
    rows = await s.execute(select(Team).where(Team.archived.is_(False)).order_by(Team.id))
    return list(rows.scalars())


async def team_chats(s: AsyncSession, team_id: int | None) -> list[int]:
    """The groups that receive a team's cards; none once the team is archived (or without a team)."""
    rows = await s.execute(
        select(TeamChat.chat_id)
        .join(Team, Team.id == TeamChat.team_id)
        .where(TeamChat.team_id == team_id, Team.archived.is_(False))
        .order_by(TeamChat.chat_id)
    )
    return list(rows.scalars())


async def group_fits(
    s: AsyncSession, chat_id: int, *, request_id: int | None = None, activity_id: int | None = None
) -> bool:
    """Whether a button may be tapped in this group: the group is bound to a team and, for a button acting on a
    request or an activity, to that object's team (an activity of the whole station: any bound group). One
    statement. A request or activity that does not exist fits: its handler answers that it is not found."""
    bound = select(TeamChat.team_id).where(TeamChat.chat_id == chat_id).scalar_subquery()
    query = select(exists().where(TeamChat.chat_id == chat_id))
    if request_id is not None and validate.fits_id(request_id):
        query = query.add_columns(
            exists().where(Request.id == request_id),
            exists().where(Request.id == request_id, Request.team_id == bound),
        )
    elif activity_id is not None and validate.fits_id(activity_id):
        query = query.add_columns(
            exists().where(Activity.id == activity_id),
            exists().where(Activity.id == activity_id, or_(Activity.team_id.is_(None), Activity.team_id == bound)),
        )
    row: tuple[bool, ...] = tuple((await s.execute(query)).one())
    if not row[0]:
        return False
    return len(row) == 1 or not row[1] or bool(row[2])  # no object, an unknown one, or one of this team


async def bind_chat(s: AsyncSession, actor: User, *, chat_id: int, title: str, team_ref: str, now: datetime) -> Team:
    require_coordinator(actor)
    team = await find_team(s, team_ref)
    if team is None:
        raise DomainError("no_team", ref=team_ref)
    await org.require_team(s, actor, team.id)
    title = validate.clean_name(title)[:128]
    existing = await s.get(TeamChat, chat_id)
    if existing:
        existing.team_id, existing.title, existing.bound_by, existing.bound_at = team.id, title, actor.id, now
    else:
        s.add(TeamChat(chat_id=chat_id, team_id=team.id, title=title, bound_by=actor.id, bound_at=now))
    return team


async def unbind_chat(s: AsyncSession, actor: User, chat_id: int) -> None:
    require_coordinator(actor)
    bound = await s.get(TeamChat, chat_id)
    if bound is None:
        raise DomainError("chat_not_bound")
    await org.require_team(s, actor, bound.team_id)
    await s.delete(bound)


# Volunteers --------------------------------------------------------------------------------


async def register_volunteer(
    s: AsyncSession, user: User, *, name: str, phone: str, team_ids: list[int], now: datetime
) -> Volunteer:
    """The station registers a volunteer straight into teams (active, no join request): seeding and
    imports. Volunteers registering themselves go through services.profiles.sign_up."""
    name = validate.text(name, "name")
    phone = validate.phone(phone)
    teams = [t for t in await list_teams(s) if t.id in set(team_ids)]
    if not teams:
        raise DomainError("no_team_chosen")
    volunteer = await s.get(Volunteer, user.id)
    if volunteer is None:
        volunteer = Volunteer(user_id=user.id, name=name, phone=phone, registered_at=now)
        s.add(volunteer)
    else:
        volunteer.name, volunteer.phone = name, phone
    await s.execute(
        delete(TeamMember).where(TeamMember.user_id == user.id, TeamMember.team_id.not_in([t.id for t in teams]))
    )
    have = set((await s.execute(select(TeamMember.team_id).where(TeamMember.user_id == user.id))).scalars())
    for team in teams:
        if team.id not in have:
            s.add(TeamMember(team_id=team.id, user_id=user.id, is_leader=False, joined_at=now, status=ACTIVE))
    await s.execute(
        update(TeamMember).where(TeamMember.user_id == user.id, TeamMember.status == PENDING).values(status=ACTIVE)
    )
    await s.flush()
    return volunteer


async def volunteer_team_ids(s: AsyncSession, user_id: int) -> list[int]:
    """Teams the user is an ACTIVE member of (a pending join request is not membership)."""
    rows = await s.execute(select(TeamMember.team_id).where(TeamMember.user_id == user_id, TeamMember.status == ACTIVE))
    return list(rows.scalars())


async def is_member(s: AsyncSession, user_id: int, team_id: int) -> bool:
    member = await s.get(TeamMember, (team_id, user_id))
    return member is not None and member.status == ACTIVE


async def is_leader(s: AsyncSession, user_id: int, team_id: int) -> bool:
    member = await s.get(TeamMember, (team_id, user_id))
    return member is not None and member.status == ACTIVE and member.is_leader


async def led_team_ids(s: AsyncSession, user_id: int) -> list[int]:
    """Active teams the user leads."""
    rows = await s.execute(
        select(TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.user_id == user_id,
            TeamMember.status == ACTIVE,
            TeamMember.is_leader.is_(True),
            Team.archived.is_(False),
        )
        .order_by(TeamMember.team_id)
    )
    return list(rows.scalars())


async def can_manage_team(s: AsyncSession, user: User | None, team_id: int) -> bool:
    """Coordinators manage the teams of their subtree; a team leader manages his own team only."""
    if user is not None and await is_leader(s, user.id, team_id):
        return True
    return is_coordinator(user) and await org.covers_team(s, user, team_id)


async def require_team_manager(s: AsyncSession, user: User | None, team_id: int) -> None:
    if not await can_manage_team(s, user, team_id):
        raise DomainError("not_your_station" if is_coordinator(user) else "not_team_leader")


async def require_leader_or_coordinator(s: AsyncSession, user: User | None) -> None:
    """Some team's leader, or a coordinator (e.g. a 帮办员 placing a request for a resident)."""
    if not (is_coordinator(user) or (user is not None and await led_team_ids(s, user.id))):
        raise DomainError("not_team_leader")
