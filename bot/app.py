"""Assembly: settings → database, bot, dispatcher, outbox sender; start and stop."""
from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import BotCommand, ErrorEvent
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

import handlers
from bot.clock import Clock
from bot.i18n import make_i18n
from bot.middlewares import DomainErrorMiddleware, LocaleMiddleware, UpdateMiddleware
from bot.notices import Notices
from bot.outbox import OutboxSender, Pace
from bot.services import menu
from bot.settings import Settings
from scheduling.scheduler import Scheduler
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)

COMMANDS = (
    ("request", __("Request a service")),
    ("my", __("My requests")),
    ("volunteer", __("Register as a volunteer")),
    ("claims", __("Requests I took, my hours")),
    ("pending", __("Coordinators: requests to handle")),
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
        self.bot = Bot(settings.bot_token, session=AiohttpSession(api=api))
        self.notices = Notices(self.i18n, settings.tz, settings.default_locale, settings.points_per_hour,
                               self.clock)
        self.sender = OutboxSender(self.db, self.bot, self.clock,
                                   lease=timedelta(seconds=settings.outbox_lease_seconds),
                                   pace=Pace(per_second=settings.outbox_per_second))
        self.db.on_outbox = self.sender.wake.set
        self.scheduler = Scheduler(self.db, self.i18n, settings, self.clock)
        self.dp = self._dispatcher(storage or MemoryStorage())
        self._tasks: list[asyncio.Task] = []

    def _dispatcher(self, storage: BaseStorage) -> Dispatcher:
        dp = Dispatcher(storage=storage, db=self.db, notices=self.notices, clock=self.clock,
                        settings=self.settings, i18n=self.i18n)
        dp.update.outer_middleware(UpdateMiddleware(self.db, self.clock, set(self.settings.admin_ids),
                                                    self.settings.default_locale))
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
            text = (_("Your action was saved, but I could not finish my answer. /my shows the current state.")
                    if mark is not None and mark.changed else
                    _("Sorry, something went wrong on my side. Nothing was changed; please try again."))
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

    async def run(self, handle_signals: bool = True, polling_timeout: int = 30) -> None:
        await self.prepare()
        self._tasks.append(asyncio.create_task(self.sender.run(), name="outbox"))
        try:
            await self.scheduler.start()
            await self.dp.start_polling(self.bot, handle_signals=handle_signals, close_bot_session=False,
                                        polling_timeout=polling_timeout,
                                        allowed_updates=self.dp.resolve_used_update_types())
        finally:
            await self.close()

    async def stop(self) -> None:
        try:
            await self.dp.stop_polling()
        except RuntimeError:  # polling had not started
            pass

    async def close(self) -> None:
        self.scheduler.shutdown()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self.bot.session.close()
        await self.db.dispose()
