"""Shared pieces of the drills: a fresh PostgreSQL database, a station seeded straight in the
database (the chat flows that build one are tested elsewhere), and requests placed through the
services so that a drill spends its time on the part it drills."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import select

from bot.people import service as people
from bot.requests import service as requests
from storage.models import Request, Service, TeamChat, User

SERVICE_ID = 1  # the seeded menu's first service, served by team 1


def size(name: str, default: int) -> int:
    """A drill's size from the environment (DRILL_<NAME>), so the full size can be run by hand."""
    return int(os.environ.get(f"DRILL_{name}", default))


def pg_admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def fresh_pg_database() -> tuple[str, str]:
    """CREATE DATABASE drill_<random> on TEST_DATABASE_URL's server; returns (url, name). Skips with a
    printed reason when TEST_DATABASE_URL is unset."""
    base = pg_admin_url()
    if not base:
        print("TEST_DATABASE_URL is unset: the PostgreSQL variant of this drill is skipped")
        pytest.skip("TEST_DATABASE_URL is unset (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/postgres)")
    import asyncpg

    name = f"drill_{uuid.uuid4().hex[:12]}"
    raw = base.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_db(base, name), name


async def drop_pg_database(name: str) -> None:
    import asyncpg

    raw = pg_admin_url().replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def seed_people(app, *, admin, group, volunteers, team_id: int = 1) -> None:
    """A coordinator (`admin`: not in the app's ADMIN_IDS, so a coordinator rather than an administrator, which the
    bot would undo at his first message), a bound group and registered volunteers, written in one transaction."""
    now = app.clock.now()
    async with app.db.tx() as s:
        for f in [admin, *volunteers]:
            if await s.get(User, f.id) is None:
                s.add(
                    User(
                        id=f.id,
                        full_name=f.first_name,
                        username=None,
                        locale="en",
                        is_admin=False,
                        is_coordinator=f is admin,
                        blocked_bot=False,
                        created_at=now,
                    )
                )
        await s.flush()
        if await s.get(TeamChat, group.id) is None:
            s.add(TeamChat(chat_id=group.id, team_id=team_id, title=group.title, bound_by=admin.id, bound_at=now))
        for i, f in enumerate(volunteers):
            user = await s.get(User, f.id)
            await people.register_volunteer(
                s, user, name=f"Vol{i:03d}", phone=f"138{i:08d}", team_ids=[team_id], now=now
            )


async def ensure_user(s, fake_user, now) -> User:
    user = await s.get(User, fake_user.id)
    if user is None:
        user = User(
            id=fake_user.id,
            full_name=fake_user.first_name,
            username=None,
            locale="en",
            is_admin=False,
            is_coordinator=False,
            blocked_bot=False,
            created_at=now,
        )
        s.add(user)
        await s.flush()
    return user


async def place_direct(
    app, resident, need: str, area: str = "Xingfu compound", address: str | None = None, phone: str | None = None
) -> Request:
    """点单 through the service (one transaction, outbox included): the card goes to the team's groups."""
    now = app.clock.now()
    async with app.db.tx() as s:
        user = await ensure_user(s, resident, now)
        start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        draft = requests.Draft(
            service_id=SERVICE_ID,
            description=need,
            window_start=start,
            window_end=start + timedelta(hours=2),
            area=area,
            address=address,
            phone=phone,
        )
        return await requests.place(s, app.notices.requests, resident=user, draft=draft, now=now, year=now.year)


async def request_by_number(app, number: str) -> Request:
    async with app.db.read() as s:
        return (await s.execute(select(Request).where(Request.number == number))).scalar_one()


async def service_name(app) -> str:
    async with app.db.read() as s:
        return (await s.get(Service, SERVICE_ID)).name_en


class Bots:
    """Real Apps against the fake server: polling ones (as `python -m bot` runs) and fed ones (as
    several webhook processes behind a balancer would: the test hands each update to one of them)."""

    def __init__(self, fake, clock):
        self.fake, self.clock = fake, clock
        self.apps: list = []
        self._tasks: list = []

    def settings(self, url: str, **extra):
        from tests.conftest import make_settings

        return make_settings(self.fake, url, **extra)

    async def polling(self, url: str, timeout: float | None = None, **extra):
        import asyncio

        from bot.app import App

        app = App(self.settings(url, **extra), clock=self.clock)
        if timeout is not None:  # the bot's HTTP timeout (aiogram's default is 60 s)
            app.bot.session.timeout = timeout
        self.apps.append(app)
        self._tasks.append((app, asyncio.create_task(app.run(handle_signals=False, polling_timeout=1)), True))
        await self.fake.wait_polling(timeout=15)
        return app

    async def fed(self, url: str, **extra):
        import asyncio

        from bot.app import App

        app = App(self.settings(url, **extra), clock=self.clock)
        await app.prepare()
        self.apps.append(app)
        self._tasks.append((app, asyncio.create_task(app.sender.run()), False))
        return app

    async def feed(self, app, raw: dict) -> None:
        from aiogram.types import Update

        await app.dp.feed_update(app.bot, Update.model_validate(raw, context={"bot": app.bot}))

    def take_queued(self) -> list[dict]:
        """Updates the fake queued for the bot (nobody polls in fed mode): hand them out by hand."""
        return self.fake.updates.take()

    async def close(self) -> None:
        import asyncio

        for app, task, polls in self._tasks:
            if polls:
                await app.stop()
                await asyncio.wait_for(task, timeout=10)
            else:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await app.close()
        self._tasks.clear()
