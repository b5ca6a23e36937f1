"""The sandbox's station: the fake Telegram, the real App on its own SQLite file, the personas and the seeding."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from aiohttp import web
from sqlalchemy import func, select

from bot.app import App
from bot.core.clock import MovableClock, daytime_offset
from bot.fakegram import FakeGroup, FakeTelegram, FakeUser
from bot.menu import service as menu
from bot.people import profiles
from bot.people import service as people
from bot.settings import Settings
from storage.models import ProcessedUpdate, User

log = logging.getLogger("bot.sandbox")

TOKEN = "700000001:SANDBOX-not-a-real-token-0000000000"
SEEDED = "sandbox_seeded"  # a setting: the roles were given once to this database
CLOCK = "sandbox_clock_offset"  # a setting: seconds the sandbox's clock runs ahead of real time
TEAM_ID = 1  # the team menu.ensure_seed creates on an empty database


@dataclass(frozen=True)
class Persona:
    key: str
    name: str
    role: str  # resident, volunteer, leader, coordinator, admin
    role_label: str  # what the page shows next to the name
    phone: str


PERSONAS = (
    Persona("resident", "赵阿姨", "resident", "居民 · resident", "13900000001"),
    Persona("volunteer1", "李明", "volunteer", "志愿者 · volunteer", "13800000001"),
    Persona("volunteer2", "王芳", "volunteer", "志愿者 · volunteer", "13800000002"),
    Persona("volunteer3", "张伟", "volunteer", "志愿者 · volunteer", "13800000003"),
    Persona("leader", "陈静", "leader", "队长 · team leader", "13800000004"),
    Persona("coordinator", "刘洋", "coordinator", "协调员 · coordinator", "13800000005"),
    Persona("admin", "周强", "admin", "管理员 · administrator", "13800000006"),
)
GROUP_TITLE = "综合志愿服务队群"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"


def remove_database(path: Path) -> None:
    """--reset: the SQLite file and its journal files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Sandbox:
    """Start with `await sandbox.start()`; `sandbox.web_app()` is the chat page and its JSON endpoints."""

    def __init__(self, db_path: Path, *, locale_code: str = "zh-hans", polling_timeout: int = 10) -> None:
        self.db_path = db_path
        self.fake = FakeTelegram(token=TOKEN, bot_username="station_sandbox_bot", bot_name="文明实践站（沙盒）")
        # Fixed order, so a persona keeps its Telegram id (and its data) across restarts of the same file.
        self.users: dict[str, FakeUser] = {
            p.key: self.fake.user(p.name, language_code=locale_code, username=p.key) for p in PERSONAS
        }
        for user in self.users.values():
            user.started = True  # each has opened the bot: the notices of the set-up reach them
        members = [self.users[p.key] for p in PERSONAS if p.role != "resident"]
        self.group: FakeGroup = self.fake.group(GROUP_TITLE, members=members)
        self.clock = MovableClock()
        self.app: App | None = None
        self.ready = asyncio.Event()
        self._polling_timeout = polling_timeout
        self._task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def persona(self, key: str) -> Persona:
        return next(p for p in PERSONAS if p.key == key)

    def settings(self, base: Settings | None = None) -> Settings:
        """The station's settings from the environment, pointed at the fake Telegram and the sandbox's own file:
        no Redis, no webhook, no metrics or backups, whatever .env says for the real bot."""
        overrides = dict(
            bot_token=TOKEN,
            database_url=sqlite_url(self.db_path),
            telegram_api_url=self.fake.base_url,
            admin_ids=[self.users["admin"].id],
            redis_url=None,
            webhook_url=None,
            webhook_secret=None,
            health_port=None,
            metrics_port=None,
            backup_dir=None,
        )
        if base is None:
            return Settings(_env_file=None, **overrides)  # type: ignore[arg-type]
        return base.model_copy(update=overrides)

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, base: Settings | None = None) -> None:
        """Start the fake Telegram and the bot, then set the station up (once per database file)."""
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        await self.fake.start()
        self.app = App(self.settings(base), clock=self.clock)
        self._task = asyncio.create_task(self.app.run(handle_signals=False, polling_timeout=self._polling_timeout))
        waiting = asyncio.create_task(self.fake.wait_polling(timeout=120))
        done, _ = await asyncio.wait({waiting, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            waiting.cancel()
            await self._task  # raises what stopped the bot
            raise RuntimeError("the bot stopped while starting")
        await waiting
        await self._set_up()
        self.ready.set()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.app is not None and self._task is not None and not self._task.done():
            await self.app.stop()
            await asyncio.wait_for(self._task, timeout=30)
        await self.fake.stop()

    async def serve(self, host: str, port: int) -> int:
        """Serve the chat page; returns the port (port 0: any free one)."""
        from .web import sandbox_app

        self._runner = web.AppRunner(sandbox_app(self), access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.port = self._runner.addresses[0][1]
        return self.port

    def web_app(self) -> web.Application:
        from .web import sandbox_app

        return sandbox_app(self)

    # --- the station -----------------------------------------------------------------------

    async def _set_up(self) -> None:
        """First start of a file: the coordinator, three volunteers and a team leader in the seeded team, through
        the bot's own services; then everyone says /start and the administrator binds the group, in the chat."""
        app = self.app
        assert app is not None
        now = self.clock.now()
        async with app.db.tx() as s:
            seeded = await menu.get_setting(s, SEEDED, "") == "1"
            ahead = float(await menu.get_setting(s, CLOCK, "0") or 0)
            # the bot handles an update id once: a restarted fake Telegram goes on after the ids already seen
            seen = (await s.execute(select(func.max(ProcessedUpdate.update_id)))).scalar()
        self.fake.updates.continue_after(int(seen or 0))
        if seeded:
            self.clock.offset = timedelta(seconds=ahead)
        else:
            self.clock.offset = daytime_offset(datetime.now(timezone.utc), app.settings.tz)
            now = self.clock.now()
            async with app.db.tx() as s:
                users: dict[str, User] = {}
                for p in PERSONAS:
                    fake_user = self.users[p.key]
                    users[p.key] = await people.touch_user(
                        s,
                        user_id=fake_user.id,
                        full_name=p.name,
                        username=p.key,
                        locale=app.settings.default_locale,
                        is_admin=p.role == "admin",
                        now=now,
                    )
                await s.flush()
                admin = users["admin"]
                await profiles.set_coordinator(s, app.notices.people, admin, users["coordinator"], True)
                for p in PERSONAS:
                    if p.role in ("volunteer", "leader"):
                        await people.register_volunteer(
                            s, users[p.key], name=p.name, phone=p.phone, team_ids=[TEAM_ID], now=now
                        )
                team = await people.find_team(s, str(TEAM_ID))
                assert team is not None
                await profiles.set_leader(s, app.notices.people, admin, users["leader"], team, True, now)
                await menu.put_setting(s, CLOCK, "0")
                await menu.put_setting(s, SEEDED, "1")
            await self._save_clock()
        for p in PERSONAS:
            await self._say(self.users[p.key], "/start")
        if not seeded:
            await self._say(self.users["admin"], f"/bind {TEAM_ID}", chat=self.group)
        await self.fake.wait_idle(quiet=0.2, timeout=60)

    async def _say(self, user: FakeUser, text: str, chat: FakeGroup | None = None) -> None:
        target = chat or user
        before = len(self.fake.bot_messages(target))
        await user.send(text, chat=chat)
        await self.fake.pulse.wait_until(lambda: len(self.fake.bot_messages(target)) > before, 30)

    async def next_day(self) -> datetime:
        """Move the bot's clock a day on and let the scheduler run what fell due (reminders, escalations, posts)."""
        assert self.app is not None
        self.clock.advance(days=1)
        await self._save_clock()
        self.app.scheduler.wake()
        return self.clock.now()

    async def _save_clock(self) -> None:
        assert self.app is not None
        async with self.app.db.tx() as s:
            await menu.put_setting(s, CLOCK, str(self.clock.offset.total_seconds()))


async def serve_forever(db_path: Path, port: int | None, reset: bool, base: Settings | None = None) -> None:
    """`python -m bot sandbox`: start everything, print the address, run until Ctrl+C (or SIGTERM)."""
    import signal

    if reset:
        remove_database(db_path)
    sandbox = Sandbox(db_path)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await sandbox.start(base)
        bound = await sandbox.serve("127.0.0.1", port if port is not None else sandbox.settings(base).sandbox_port)
        print(f"sandbox ready: open http://127.0.0.1:{bound}/ (database {db_path}; Ctrl+C stops it)", flush=True)
        await stopping.wait()
    finally:
        await sandbox.stop()
