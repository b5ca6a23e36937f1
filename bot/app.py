"""Assembly: settings → database, bot, dispatcher, outbox sender; start and stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, ErrorEvent
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

import handlers
from bot import web
from bot.core.clock import Clock
from bot.core.i18n import make_i18n
from bot.core.locks import KeyedLocks
from bot.menu import service as menu
from bot.middlewares import DomainErrorMiddleware, LocaleMiddleware, UpdateMiddleware
from bot.notices import Notices
from bot.outbox import Outbox, OutboxSender, Pace
from bot.people import profiles
from bot.settings import Settings
from bot.telegram_types import Session
from scheduling.scheduler import Scheduler
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)

COMMANDS = (
    ("request", __("Request a service")),
    ("my", __("My requests")),
    ("volunteer", __("Register as a volunteer")),
    ("claims", __("Requests I took, my hours")),
    ("me", __("My hours, points and star level")),
    ("profile", __("My volunteer profile and teams")),
    ("pending", __("Coordinators: requests to handle")),
    ("shop", __("爱心超市: exchange my points")),
    ("certificate", __("My volunteer service certificate (PDF)")),
    ("help", __("What I can do")),
    ("cancel", __("Leave the current step")),
)


class App:
    def __init__(self, settings: Settings, clock: Clock | None = None, storage: BaseStorage | None = None):
        self.settings = settings
        self.clock = clock or Clock()
        self.db = Database(settings.database_url)
        self.i18n = make_i18n(settings.default_locale)
        api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else PRODUCTION
        self.bot = Bot(settings.bot_token, session=Session(api=api))
        self.outbox = Outbox(self.i18n, settings.tz, settings.default_locale, self.clock)
        self.notices = Notices.build(self.outbox, settings.points_per_hour)
        self.sender = OutboxSender(
            self.db,
            self.bot,
            self.clock,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            pace=Pace(per_second=settings.outbox_per_second, group_per_minute=settings.outbox_group_per_minute),
        )
        self.db.on_outbox = self.sender.wake.set
        self.scheduler = Scheduler(self.db, self.i18n, settings, self.clock)
        isolation = None
        if storage is None and settings.redis_url:
            storage, isolation = redis_fsm(settings.redis_url, settings.redis_prefix)
        self.dp = self._dispatcher(storage or MemoryStorage(), isolation)
        self._tasks: list[asyncio.Task] = []
        self._servers: list = []  # aiohttp runners: the webhook and /healthz
        self._stopping = asyncio.Event()
        self.web_port: int | None = None  # where the webhook or /healthz listens, once started

    def _dispatcher(self, storage: BaseStorage, isolation: BaseEventIsolation | None = None) -> Dispatcher:
        dp = Dispatcher(
            storage=storage,
            events_isolation=isolation,
            db=self.db,
            notices=self.notices,
            clock=self.clock,
            settings=self.settings,
            i18n=self.i18n,
            claiming=KeyedLocks(),
        )
        dp.update.outer_middleware(
            UpdateMiddleware(self.db, self.clock, set(self.settings.admin_ids), self.settings.default_locale)
        )
        LocaleMiddleware(self.i18n).setup(dp)
        dp.message.middleware(DomainErrorMiddleware())
        dp.callback_query.middleware(DomainErrorMiddleware())
        dp.include_routers(*handlers.routers())
        dp.errors.register(self._on_error, ExceptionTypeFilter(Exception))
        return dp

    async def _on_error(self, event: ErrorEvent, **data) -> None:
        """Unexpected errors: logged with the update id; the user gets an apology, never a traceback."""
        log.error("update %s failed", event.update.update_id, exc_info=event.exception)
        user = data.get("user")
        with self.i18n.context(), self.i18n.use_locale(user.locale if user else self.settings.default_locale):
            mark = data.get("update_mark")
            text = (
                _("Your action was saved, but I could not finish my answer. /my shows the current state.")
                if mark is not None and mark.changed
                else _("Sorry, something went wrong on my side. Nothing was changed; please try again.")
            )
        try:
            if event.update.callback_query:
                await event.update.callback_query.answer(text, show_alert=True)
            elif event.update.message and event.update.message.chat.type == "private":
                await event.update.message.answer(text)
        except Exception:  # the apology itself failed: the log already has the cause
            log.warning("could not apologise for update %s", event.update.update_id)

    async def prepare(self) -> None:
        """Migrate the database, seed the menu, and tell Telegram the command menu."""
        await upgrade(self.settings.database_url)
        async with self.db.tx() as s:
            await menu.ensure_seed(s, self.clock.now())
            await profiles.ensure_skills(s)
        await self.db.prune_updates(self.clock.now() - timedelta(days=7))
        await self.set_commands()

    async def set_commands(self) -> None:
        try:
            for locale, language_code in (("zh_Hans", None), ("en", "en")):
                with self.i18n.context(), self.i18n.use_locale(locale):
                    commands = [BotCommand(command=c, description=str(d)) for c, d in COMMANDS]
                await self.bot.set_my_commands(commands, language_code=language_code)
        except Exception as exc:  # a menu is a nicety; the bot works without it
            log.warning("could not set the command menu: %s", exc)

    async def run(self, handle_signals: bool = True, polling_timeout: int = 30, webhook: bool = False) -> None:
        await self.prepare()
        self._tasks.append(asyncio.create_task(self.sender.run(), name="outbox"))
        try:
            await self.scheduler.start()
            if webhook:
                await self._run_webhook(handle_signals)
                return
            if self.settings.health_port is not None:
                await self._serve(web.health_app(self.db), self.settings.webhook_host, self.settings.health_port)
            await self.dp.start_polling(
                self.bot,
                handle_signals=handle_signals,
                close_bot_session=False,
                polling_timeout=polling_timeout,
                allowed_updates=self.dp.resolve_used_update_types(),
            )
        finally:
            await self.close()

    async def _serve(self, web_app, host: str, port: int) -> None:
        runner, self.web_port = await web.serve(web_app, host, port)
        self._servers.append(runner)
        log.info("listening on %s:%s", host, self.web_port)

    async def _run_webhook(self, handle_signals: bool) -> None:
        """Serve Telegram's posts (and /healthz) until stopped; each process of a deployment runs this."""
        url, secret = self.settings.webhook_url, self.settings.webhook_secret
        if not url or not secret:
            raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
        await self._serve(
            web.webhook_app(self.dp, self.bot, self.db, url, secret),
            self.settings.webhook_host,
            self.settings.webhook_port,
        )
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=self.dp.resolve_used_update_types())
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, self._stopping.set)
        # The webhook stays set when this process stops: the other processes keep serving it.
        await self._stopping.wait()

    async def stop(self) -> None:
        self._stopping.set()
        try:
            await self.dp.stop_polling()
        except RuntimeError:  # polling had not started
            pass

    async def close(self) -> None:
        for runner in self._servers:
            await runner.cleanup()
        self._servers.clear()
        # aiogram does not wait for updates still being handled when polling stops; let them finish (each is
        # one transaction and would be redelivered anyway) before their database and session go away.
        # aiogram 3.31 has no public way to see those tasks: its private set is read, defensively.
        in_flight = set(getattr(self.dp, "_handle_update_tasks", ()))
        if in_flight:
            await asyncio.wait(in_flight, timeout=10)
        self.scheduler.shutdown()
        self.sender.stop()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.bot.session.close()
        await self.dp.storage.close()
        await self.dp.fsm.events_isolation.close()
        await self.db.dispose()


def redis_fsm(url: str, prefix: str):
    """Conversation state in Redis, and one update at a time per conversation across all processes."""
    # imported here: redis is an optional dependency (the `redis` extra), needed only when REDIS_URL is set
    from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage

    storage = RedisStorage.from_url(url, key_builder=DefaultKeyBuilder(prefix=f"{prefix}:fsm"))
    return storage, RedisEventIsolation(storage.redis, key_builder=DefaultKeyBuilder(prefix=f"{prefix}:lock"))
