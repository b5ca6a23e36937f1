"""What a new station still has to do before residents can be served, read from the database (no Telegram).

Each item is done (True), left (False), or not available yet (None: the feature it needs does not exist). The QR
poster counts as done once a coordinator made one with /qr (`poster_made`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Service, StationSetting, Team, TeamChat, TeamMember, User

POSTER_MADE = "setup.poster"  # StationSetting: "1" once a coordinator made a station's QR poster (/qr)


async def poster_made(s: AsyncSession) -> None:
    if await s.get(StationSetting, POSTER_MADE) is None:
        s.add(StationSetting(key=POSTER_MADE, value="1"))


GROUP, SERVICES, TEAMS_BOUND, COORDINATOR, VOLUNTEERS, QR = (
    "group",
    "services",
    "teams_bound",
    "coordinator",
    "volunteers",
    "qr",
)


@dataclass(frozen=True)
class Item:
    key: str
    done: bool | None  # None: not available yet
    count: int = 0  # what is there (groups, services, coordinators, volunteers)
    missing: tuple[str, ...] = ()  # what is left: names of services without a team, teams without a group


async def checklist(s: AsyncSession) -> list[Item]:
    """The checklist in the order a new station works through it."""
    groups = await s.scalar(
        select(func.count()).select_from(TeamChat).join(Team, Team.id == TeamChat.team_id).where(~Team.archived)
    )
    services = list(
        (await s.execute(select(Service).where(Service.active).order_by(Service.position, Service.id))).scalars()
    )
    live_teams = {t.id: t for t in (await s.execute(select(Team).where(~Team.archived))).scalars()}
    orphans = tuple(sv.name_zh for sv in services if sv.team_id not in live_teams)
    serving = {sv.team_id for sv in services if sv.team_id in live_teams}
    bound = set((await s.execute(select(TeamChat.team_id).distinct())).scalars())
    unbound = tuple(live_teams[t].name for t in sorted(serving - bound))
    coordinators = await s.scalar(select(func.count()).select_from(User).where(User.is_coordinator))
    volunteers = await s.scalar(
        select(func.count(func.distinct(TeamMember.user_id)))
        .join(Team, Team.id == TeamMember.team_id)
        .where(TeamMember.status == "active", ~Team.archived)
    )
    qr = await s.get(StationSetting, POSTER_MADE) is not None
    return [
        Item(GROUP, bool(groups), groups or 0),
        Item(SERVICES, bool(services) and not orphans, len(services), orphans),
        Item(TEAMS_BOUND, bool(serving) and not unbound, len(serving), unbound),
        Item(COORDINATOR, bool(coordinators), coordinators or 0),
        Item(VOLUNTEERS, bool(volunteers), volunteers or 0),
        Item(QR, qr),
    ]
