"""The station's menu of services (总菜单) and station-wide settings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.org import service as org
from bot.people.service import find_team, require_coordinator
from storage.models import Service, StationSetting, Team, User

DEFAULT_TEAM = "综合志愿服务队"
SEED_SERVICES = [
    ("助老服务", "Help for the elderly"),
    ("家政维修", "Household repairs"),
    ("医疗保健", "Health care"),
    ("心理疏导", "Counselling"),
    ("文明劝导", "Civility guidance"),
    ("垃圾分类", "Waste sorting"),
    ("理论宣讲", "Policy talks"),
    ("文化服务", "Culture"),
    ("科普服务", "Science outreach"),
    ("健身体育", "Fitness and sports"),
    ("微心愿", "Small wishes"),
]


async def get_setting(s: AsyncSession, key: str, default: str) -> str:
    row = await s.get(StationSetting, key)
    return row.value if row else default


async def put_setting(s: AsyncSession, key: str, value: str) -> None:
    row = await s.get(StationSetting, key)
    if row:
        row.value = value
    else:
        s.add(StationSetting(key=key, value=value))


async def review_enabled(s: AsyncSession) -> bool:
    return await get_setting(s, "review", "off") == "on"


async def set_review(s: AsyncSession, actor: User, on: bool) -> None:
    require_coordinator(actor)
    org.require_centre_role(actor)
    await put_setting(s, "review", "on" if on else "off")


async def ensure_seed(s: AsyncSession, now: datetime) -> bool:
    """First start: one team serving the whole seeded menu. Runs once per database."""
    if await get_setting(s, "seeded", "") == "1":
        return False
    only = await org.default_station(s)
    team = Team(name=DEFAULT_TEAM, archived=False, created_at=now, node_id=only.id if only else None)
    s.add(team)
    await s.flush()
    for position, (zh, en) in enumerate(SEED_SERVICES, start=1):
        s.add(Service(name_zh=zh, name_en=en, team_id=team.id, active=True, position=position))
    await put_setting(s, "seeded", "1")
    return True


async def active_services(s: AsyncSession) -> list[Service]:
    rows = await s.execute(select(Service).where(Service.active.is_(True)).order_by(Service.position, Service.id))
    return list(rows.scalars())


async def all_services(s: AsyncSession) -> list[Service]:
    return list((await s.execute(select(Service).order_by(Service.position, Service.id))).scalars())


async def add_service(s: AsyncSession, actor: User, name_zh: str, name_en: str | None, team_ref: str | None) -> Service:
    require_coordinator(actor)
    org.require_centre_role(actor)
    name_zh = validate.text(name_zh, "service")
    name_en = validate.text(name_en, "service", required=False) or name_zh
    team = None
    if team_ref:
        team = await find_team(s, team_ref)
        if team is None:
            raise DomainError("no_team", ref=team_ref)
    position = (await s.execute(select(func.coalesce(func.max(Service.position), 0)))).scalar_one() + 1
    service = Service(
        name_zh=name_zh, name_en=name_en, team_id=team.id if team else None, active=True, position=position
    )
    s.add(service)
    await s.flush()
    return service


async def _service(s: AsyncSession, service_id: int) -> Service:
    service = await s.get(Service, service_id) if validate.fits_id(service_id) else None
    if service is None:
        raise DomainError("no_service", ref=service_id)
    return service


async def assign_team(s: AsyncSession, actor: User, service_id: int, team_ref: str) -> tuple[Service, Team]:
    require_coordinator(actor)
    service = await _service(s, service_id)
    team = await find_team(s, team_ref)
    if team is None:
        raise DomainError("no_team", ref=team_ref)
    await org.require_team(s, actor, team.id)
    service.team_id = team.id
    return service, team


async def rename_service(s: AsyncSession, actor: User, service_id: int, name_zh: str, name_en: str | None) -> Service:
    require_coordinator(actor)
    org.require_centre_role(actor)
    service = await _service(s, service_id)
    service.name_zh = validate.text(name_zh, "service")
    service.name_en = validate.text(name_en, "service", required=False) or service.name_en
    return service


async def set_active(s: AsyncSession, actor: User, service_id: int, active: bool) -> Service:
    require_coordinator(actor)
    org.require_centre_role(actor)
    service = await _service(s, service_id)
    service.active = active
    return service


async def find_service(s: AsyncSession, service_id: int) -> Service:
    """A service by its number, or the polite refusal."""
    return await _service(s, service_id)
