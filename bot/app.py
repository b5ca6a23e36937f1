"""Assembly: settings → database, bot, dispatcher, outbox sender; start and stop."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import TelegramMethod
from aiogram.types import BotCommand, ErrorEvent
from aiogram.utils.backoff import BackoffConfig
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy import text

import handlers
from bot import logs, web
from bot.core import retry
from bot.core.clock import Clock
from bot.core.i18n import make_i18n
from bot.core.locks import ConversationLocks, KeyedLocks
from bot.core.metrics import Metrics
from bot.inbox import Inbox, LateCallbackAnswers
from bot.logs import HandlerNameMiddleware
from bot.menu import service as menu
from bot.middlewares import (
    BlockedMiddleware,
    ButtonScopeMiddleware,
    DomainErrorMiddleware,
    LocaleMiddleware,
    UpdateMiddleware,
    UpdateSlots,
)
from bot.notices import Notices
from bot.outbox import Outbox, OutboxSender, Pace
from bot.people import profiles
from bot.people import service as people
from bot.settings import Settings
from bot.showcase import service as showcase
from bot.telegram_types import Session
from bot.ui.private import PrivateViews
from scheduling.scheduler import Scheduler
from storage.db import POOL_RESERVE, Database, sqlite_file
from storage.migrate import applied_line, start_lock, upgrade

log = logging.getLogger(__name__)


class TelegramRefused(Exception):
    """Telegram refused the token (401 or 404 on getMe): waiting would not help."""


def telegram_down(exc: BaseException) -> bool:
    """Telegram cannot be reached for now (DNS, refused, timeout, 5xx, flood wait): worth waiting for."""
    return isinstance(exc, (TelegramNetworkError, TelegramServerError, TelegramRetryAfter, OSError))


def database_down(exc: BaseException) -> bool:
    """At start any database error of connecting is worth waiting for (down, not created yet, refusing)."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, (OSError, DBAPIError)) or retry.unreachable(exc)


def database_kind(url: str) -> str:
    path = sqlite_file(url)
    if url.startswith("sqlite"):
        return f"sqlite ({path or 'in memory'})"
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return f"{u.get_backend_name()} ({u.host or 'local'}:{u.port or 'default'}/{u.database})"


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("station-bot")
    except PackageNotFoundError:
        return "unknown"


COMMANDS = (
    ("request", __("Request a service")),
    ("my", __("My requests")),
    ("regular", __("My regular needs")),
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
        self.db = Database(settings.database_url, pool_size=settings.updates_at_once + POOL_RESERVE)
        self.metrics = Metrics()  # this app's own registry: tests build several apps in one process
        self.metrics.watch_engine(self.db.engine)
        self.i18n = make_i18n(settings.default_locale)
        api = TelegramAPIServer.from_base(settings.telegram_api_url) if settings.telegram_api_url else PRODUCTION
        self.bot = Bot(settings.bot_token, session=Session(api=api))
        self.outbox = Outbox(self.i18n, settings.tz, settings.default_locale, self.clock)
        self.notices = Notices.build(self.outbox, settings.points_per_hour)
        showcase.configure(settings.public_channel_id, settings.showcase_per_day, settings.tz, self.outbox, self.clock)
        self.sender = OutboxSender(
            self.db,
            self.bot,
            self.clock,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            pace=Pace(per_second=settings.outbox_per_second, group_per_minute=settings.outbox_group_per_minute),
            metrics=self.metrics,
        )
        self.db.on_outbox = self.sender.wake.set
        self.scheduler = Scheduler(self.db, self.i18n, settings, self.clock, metrics=self.metrics)
        isolation = None
        if storage is None and settings.redis_url:
            storage, isolation = redis_fsm(settings.redis_url, settings.redis_prefix)
        self.dp = self._dispatcher(storage or MemoryStorage(), isolation or ConversationLocks())
        self.health = web.Health(
            self.sender,
            getattr(self.dp.storage, "redis", None),  # the Redis client of RedisStorage (REDIS_URL)
            stuck_after=timedelta(minutes=settings.outbox_stuck_minutes),
            timeout=settings.health_timeout_seconds,
        )
        self.inbox = Inbox(self.db, self.clock, self._feed_raw)  # webhook mode: updates recorded before the 200
        self.bot.session.middleware(LateCallbackAnswers())
        self._tasks: list[asyncio.Task] = []
        self._servers: list = []  # aiohttp runners: the webhook and /healthz
        self._stopping = asyncio.Event()
        self.web_port: int | None = None  # where the webhook or /healthz listens, once started
        self.metrics_port: int | None = None  # where /metrics listens, once started (METRICS_PORT)

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
        dp.update.outer_middleware(self.metrics.middleware())  # first: every update counted and timed
        # inside the conversation's lock (aiogram's FSM middleware comes before): a waiting update holds nothing
        dp.update.outer_middleware(UpdateSlots(self.settings.updates_at_once))
        dp.update.outer_middleware(
            UpdateMiddleware(self.db, self.clock, set(self.settings.admin_ids), self.settings.default_locale)
        )
        LocaleMiddleware(self.i18n).setup(dp)
        dp.message.outer_middleware(BlockedMiddleware())  # after the locale: answered in the user's language
        dp.callback_query.outer_middleware(BlockedMiddleware())
        dp.callback_query.outer_middleware(ButtonScopeMiddleware(self.db))  # in the tapper's language
        dp.message.middleware(DomainErrorMiddleware())
        dp.callback_query.middleware(DomainErrorMiddleware())
        dp.message.middleware(PrivateViews())  # inside DomainErrorMiddleware: a refusal is answered where asked
        dp.callback_query.middleware(PrivateViews())
        dp.message.middleware(HandlerNameMiddleware())  # the handler's name in the JSON log lines
        dp.callback_query.middleware(HandlerNameMiddleware())
        dp.include_routers(*handlers.routers())
        dp.errors.register(self._on_error, ExceptionTypeFilter(Exception))
        return dp

    async def _feed_raw(self, body: dict) -> None:
        """Hand a recorded webhook update to the dispatcher, as aiogram's webhook handler would."""
        result = await self.dp.feed_raw_update(self.bot, body)
        if isinstance(result, TelegramMethod):
            await self.dp.silent_call_request(self.bot, result)

    async def _on_error(self, event: ErrorEvent, **data) -> None:
        """Unexpected errors: logged with the update id; the user gets an apology, never a traceback."""
        log.error(
            "update %s failed",
            event.update.update_id,
            exc_info=event.exception,
            extra={"update_id": event.update.update_id},
        )
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

    async def wait_for_database(self) -> None:
        """Until the database answers: one line per attempt, capped exponential backoff (RETRY_BASE_SECONDS)."""

        async def ping() -> None:
            async with self.db.read(single=True) as s:
                await s.execute(text("SELECT 1"))

        await retry.wait_for(
            ping,
            what="database",
            retry_on=database_down,
            log=log,
            base=self.settings.retry_base_seconds,
            cap=self.settings.retry_max_seconds,
        )

    async def wait_for_telegram(self) -> None:
        """Until Telegram answers getMe: one line per attempt; a refused token raises TelegramRefused."""

        async def get_me():
            try:
                return await self.bot.get_me()
            except (TelegramUnauthorizedError, TelegramNotFound) as exc:
                raise TelegramRefused(exc.message) from None

        me = await retry.wait_for(
            get_me,
            what="Telegram",
            retry_on=telegram_down,
            log=log,
            base=self.settings.retry_base_seconds,
            cap=self.settings.retry_max_seconds,
        )
        log.info("connected to Telegram as @%s", me.username)

    async def prepare(self) -> None:
        """Migrate the database, seed the menu, and tell Telegram the command menu."""
        # Under the start lock: processes starting together on an empty database migrate and seed it once.
        async with start_lock(self.settings.database_url):
            log.info(applied_line(await upgrade(self.settings.database_url, locked=False)))
            async with self.db.tx() as s:
                await menu.ensure_seed(s, self.clock.now())
                await profiles.ensure_skills(s)
                await people.sync_admins(s, self.settings.admin_ids)
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
        """Wait for the database and Telegram, migrate, then start the outbox, the scheduler and the updates."""
        log.info(
            "station bot %s starting: database %s, %s mode",
            version(),
            database_kind(self.settings.database_url),
            "webhook" if webhook else "polling",
        )
        if self.settings.backup_dir and sqlite_file(self.settings.database_url) is None:
            log.warning("BACKUP_DIR is for a SQLite database: back PostgreSQL up with pg_dump (python -m bot backup)")
        logs.quiet_polling()
        try:
            await self.wait_for_database()
            await self.wait_for_telegram()
            await self.prepare()
            self._tasks.append(asyncio.create_task(self.sender.run(), name="outbox"))
            if self.settings.metrics_port is not None:
                self.metrics_port = await self._serve(
                    web.metrics_app(self.metrics, self.sender, self.settings.health_timeout_seconds),
                    self.settings.metrics_host,
                    self.settings.metrics_port,
                )
            await self.scheduler.start()
            if webhook:
                await self._run_webhook(handle_signals)
                return
            if self.settings.health_port is not None:
                self.web_port = await self._serve(
                    web.health_app(self.health), self.settings.webhook_host, self.settings.health_port
                )
            await self.dp.start_polling(
                self.bot,
                handle_signals=handle_signals,
                close_bot_session=False,
                polling_timeout=polling_timeout,
                allowed_updates=self.dp.resolve_used_update_types(),
                # Telegram lost while polling: RETRY_BASE_SECONDS doubling to RETRY_MAX_SECONDS, one line per attempt
                backoff_config=BackoffConfig(
                    min_delay=self.settings.retry_base_seconds,
                    max_delay=max(self.settings.retry_max_seconds, self.settings.retry_base_seconds * 2),
                    factor=2.0,
                    jitter=0.1,
                ),
            )
        finally:
            await self.close()

    async def _serve(self, web_app, host: str, port: int) -> int:
        runner, bound = await web.serve(web_app, host, port)
        self._servers.append(runner)
        log.info("listening on %s:%s", host, bound)
        return bound

    async def _run_webhook(self, handle_signals: bool) -> None:
        """Serve Telegram's posts (and /healthz) until stopped; each process of a deployment runs this."""
        url, secret = self.settings.webhook_url, self.settings.webhook_secret
        if not url or not secret:
            raise ValueError("webhook mode needs WEBHOOK_URL and WEBHOOK_SECRET")
        self._tasks.append(asyncio.create_task(self.inbox.run(), name="inbox"))
        self.web_port = await self._serve(
            web.webhook_app(self.dp, self.bot, self.health, url, secret, self.inbox),
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

    def updates_in_hand(self) -> set[asyncio.Task[Any]]:
        """The updates polling has handed to their tasks and that are still being handled. aiogram 3.31 has no
        public way to see them: its private set is read, defensively."""
        return set(getattr(self.dp, "_handle_update_tasks", ()))

    async def close(self) -> None:
        for runner in self._servers:
            await runner.cleanup()
        self._servers.clear()
        # aiogram does not wait for updates still being handled when polling stops; let them finish (each is
        # one transaction and would be redelivered anyway) before their database and session go away.
        in_flight = self.updates_in_hand()
        if in_flight:
            await asyncio.wait(in_flight, timeout=10)
        self.scheduler.shutdown()
        self.inbox.stop()  # finish the recorded updates in hand; the rest wait for the next process
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


# A conversation left half-way (with the address and phone typed so far) expires from Redis a day after its last step.
FSM_TTL = timedelta(days=1)


def redis_fsm(url: str, prefix: str):
    """Conversation state in Redis, and one update at a time per conversation across all processes."""
    # imported here: redis is an optional dependency (the `redis` extra), needed only when REDIS_URL is set
    from bot.core.isolation import LeasedRedisIsolation
    from bot.core.steps import StepRedisStorage

    # a step and its update's id stored together (see bot/core/steps.py)
    storage = StepRedisStorage.from_url(
        url, key_builder=DefaultKeyBuilder(prefix=f"{prefix}:fsm"), state_ttl=FSM_TTL, data_ttl=FSM_TTL
    )
    # the lock of a conversation on a short lease, renewed while its update is handled (see bot/core/isolation.py)
    return storage, LeasedRedisIsolation(storage.redis, key_builder=DefaultKeyBuilder(prefix=f"{prefix}:lock"))
