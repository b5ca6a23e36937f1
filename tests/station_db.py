"""A station seeded straight in the database, for the rules' tests of timed jobs (scheduled posts, follow-ups,
reminders, activities, reports): `station_db` (one bound group, two coordinators) and `request_db` (plus a
resident, a volunteer and a service of team 1), the scheduler over it, and what it wrote into the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.core.clock import Clock
from bot.core.i18n import make_i18n
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox
from bot.requests import service as requests
from bot.requests.notices import RequestNotices
from bot.settings import Settings
from scheduling.scheduler import Scheduler
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Occurrence, OutboxMessage, Request, Service, Team, TeamChat, TeamMember, User, Volunteer
from tests.conftest import TOKEN

SHANGHAI = ZoneInfo("Asia/Shanghai")
GROUP = -1001
ZH_COORDINATOR, EN_COORDINATOR = 11, 12
RESIDENT, VOLUNTEER = 20, 30


def local(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, s, tzinfo=SHANGHAI).astimezone(timezone.utc)


def settings(db_url: str, **extra) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, database_url=db_url, **extra)


@pytest.fixture
async def station_db(db_url):
    """A migrated database with one bound group and two coordinators (one Chinese, one English)."""
    await upgrade(db_url)
    db = Database(db_url)
    now = local(2025, 12, 1)
    async with db.tx() as s:
        s.add(Team(name="Team 1", archived=False, created_at=now))  # id 1: no explicit id, so sequences stay right
        s.add(
            User(
                id=ZH_COORDINATOR,
                full_name="Li",
                locale="zh_Hans",
                is_admin=False,
                is_coordinator=True,
                blocked_bot=False,
                created_at=now,
            )
        )
        s.add(
            User(
                id=EN_COORDINATOR,
                full_name="Wang",
                locale="en",
                is_admin=True,
                is_coordinator=False,
                blocked_bot=False,
                created_at=now,
            )
        )
        await s.flush()
        s.add(TeamChat(chat_id=GROUP, team_id=1, title="Team 1", bound_by=EN_COORDINATOR, bound_at=now))
    yield db
    await db.dispose()


def scheduler(db: Database, db_url: str, process_id: str = "test", **extra) -> Scheduler:
    return Scheduler(db, make_i18n(), settings(db_url, **extra), process_id=process_id)


async def outbox(db: Database, chat_id: int | None = None) -> list[OutboxMessage]:
    async with db.read() as s:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if chat_id is not None:
            query = query.where(OutboxMessage.chat_id == chat_id)
        return list((await s.execute(query)).scalars())


async def occurrences(db: Database) -> dict[str, Occurrence]:
    async with db.read() as s:
        return {o.key: o for o in (await s.execute(select(Occurrence))).scalars()}


# requests on that station ------------------------------------------------------------------------------


@pytest.fixture
async def request_db(station_db):
    """station_db plus a resident, a volunteer of team 1 and a service of team 1."""
    now = local(2025, 12, 1)
    async with station_db.tx() as s:
        for uid, name in ((RESIDENT, "Zhao"), (VOLUNTEER, "Qian")):
            s.add(
                User(
                    id=uid,
                    full_name=name,
                    locale="zh_Hans",
                    is_admin=False,
                    is_coordinator=False,
                    blocked_bot=False,
                    created_at=now,
                )
            )
        await s.flush()
        s.add(Volunteer(user_id=VOLUNTEER, name="Qian", phone="13800000000", registered_at=now))
        s.add(TeamMember(team_id=1, user_id=VOLUNTEER, is_leader=False, joined_at=now))
        s.add(Service(name_zh="陪诊", name_en="Escort", team_id=1, active=True, position=0))
    return station_db


def notices() -> RequestNotices:
    outbox = Outbox(make_i18n(), SHANGHAI, "zh_Hans", Clock())
    return RequestNotices(outbox, LedgerNotices(outbox), 10)


async def place(db, at: datetime) -> Request:
    async with db.tx() as s:
        resident = await s.get(User, RESIDENT)
        service = (await s.execute(select(Service))).scalars().first()
        start = at + timedelta(days=3)
        draft = requests.Draft(
            service_id=service.id,
            description="Walk to the clinic",
            area="Block 3",
            window_start=start,
            window_end=start + timedelta(hours=2),
        )
        return await requests.place(s, notices(), resident=resident, draft=draft, now=at, year=at.year)


async def claim(db, req: Request, at: datetime) -> None:
    async with db.tx() as s:
        await requests.claim(s, notices(), request_id=req.id, user=await s.get(User, VOLUNTEER), chat_team_id=1, now=at)
