"""Per-update plumbing: duplicate updates, the acting user, their language, buttons tapped where they belong,
polite errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, runtime_checkable

from aiogram import BaseMiddleware
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.types import User as TgUser
from aiogram.utils.i18n import I18nMiddleware
from aiogram.utils.i18n import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.i18n import pick_locale
from bot.error_texts import error_text
from bot.people import moderation
from bot.people import service as people
from bot.ui import scope as scopes
from storage.db import Database, DuplicateUpdate, UpdateMark, current_update
from storage.models import ProcessedUpdate, User

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


@runtime_checkable
class Steps(Protocol):
    """A conversation storage whose step is stored once with its update's id (bot/core/steps.py, with Redis)."""

    def step(self, key: StorageKey, update_id: int) -> AbstractAsyncContextManager[None]: ...

    async def last_update(self, key: StorageKey) -> int | None: ...

    async def discard(self) -> None: ...


class UpdateSlots(BaseMiddleware):
    """At most `size` updates of this process are handled at once; the others wait here, in the order they came,
    holding nothing. Without it a burst (a thousand taps in a few seconds) started every update at once: each asked
    the database pool for a connection, and those still waiting after the pool's 30 s were answered with an apology.
    The pool holds `size` connections for updates and some more for the outbox sender and the scheduler
    (storage/db.py POOL_RESERVE), so an admitted update does not wait long for one.

    Registered as an outer middleware of updates after aiogram's FSM middleware, so inside the conversation's lock
    (with Redis): an update that waits for its conversation does not take a slot from one that could run."""

    def __init__(self, size: int):
        self.free = asyncio.Semaphore(size)
        self.busy = 0  # updates being handled now
        self.peak = 0  # the most ever handled at once

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        async with self.free:
            self.busy += 1
            self.peak = max(self.peak, self.busy)
            try:
                return await handler(event, data)
            finally:
                self.busy -= 1


class UpdateMiddleware(BaseMiddleware):
    """Drops redelivered updates, keeps the users table fresh, and marks each update processed
    in the same commit as its effect (see Database.tx)."""

    def __init__(self, db: Database, clock: Clock, admin_ids: set[int], default_locale: str):
        self.db, self.clock, self.admin_ids, self.default_locale = db, clock, admin_ids, default_locale
        self.handling: set[int] = set()  # update ids being handled in this process right now

    # registered as an outer middleware of updates only (App.dispatcher), so its event is an Update
    async def __call__(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:  # type: ignore[override]
        # A copy that arrives while the first is still being handled is not yet in processed_updates;
        # without this it would run too (a second prompt, a spurious "already taken" answer).
        if event.update_id in self.handling:
            log.info("update %s is being handled already; copy skipped", event.update_id)
            return None
        self.handling.add(event.update_id)
        try:
            return await self._handle(handler, event, data)
        finally:
            self.handling.discard(event.update_id)

    async def _handle(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        from_user: TgUser | None = data.get("event_from_user")
        tg_user = from_user if from_user is not None and not from_user.is_bot else None  # a person acting
        seen, known = await self._first_look(event.update_id, tg_user.id if tg_user is not None else None)
        if seen:
            log.info("update %s already processed; skipped", event.update_id)
            return None
        context: FSMContext | None = data.get("state")
        storage = data.get("fsm_storage")
        steps = storage if context is not None and isinstance(storage, Steps) else None
        if steps is not None and context is not None:
            last = await steps.last_update(context.key)
            if last is not None and last >= event.update_id:  # its step is stored; only the mark was lost
                log.info("update %s already taken by its conversation; skipped", event.update_id)
                await self.db.mark_processed(UpdateMark(event.update_id))  # the mark, this time
                return None
        if tg_user is not None:
            data["user"] = await self._user(tg_user, known)
        mark = UpdateMark(event.update_id)
        data["update_mark"] = mark  # the error handler reads it: was the change already saved?
        token = current_update.set(mark)
        try:
            if steps is None or context is None:
                return await handler(event, data)
            async with steps.step(context.key, event.update_id):  # the conversation's writes, stored at the end
                try:
                    return await handler(event, data)
                except DuplicateUpdate:
                    await steps.discard()  # the copy that won stored its own
                    raise
        except DuplicateUpdate:
            log.info("update %s was handled concurrently elsewhere; this copy rolled back", event.update_id)
            return None
        finally:
            current_update.reset(token)
            await self.db.mark_processed(mark)

    async def _first_look(self, update_id: int, user_id: int | None) -> tuple[bool, User | None]:
        """Was this update handled already, and the acting user's row: one statement for a known user
        (nearly every update), run on every update, so it is kept to a single round trip."""
        seen = exists().where(ProcessedUpdate.update_id == update_id)
        if user_id is not None:
            async with self.db.read(single=True) as s:
                row = (await s.execute(select(User, seen).where(User.id == user_id))).first()
            if row is not None:
                return bool(row[1]), row[0]
        async with self.db.read(single=True) as s:
            return bool((await s.execute(select(seen))).scalar()), None

    async def _user(self, tg_user, user):
        fields = dict(
            full_name=tg_user.full_name or "",
            username=tg_user.username,
            locale=pick_locale(tg_user.language_code, self.default_locale),
            is_admin=tg_user.id in self.admin_ids,
        )
        if not people.needs_touch(user, **fields):
            return user
        try:
            return await self._touch(tg_user.id, fields)
        except IntegrityError:  # another process added this new user at the same moment: now it is an update
            return await self._touch(tg_user.id, fields)

    async def _touch(self, user_id: int, fields: dict[str, Any]):
        async with self.db.tx() as s:
            user = await people.touch_user(s, user_id=user_id, now=self.clock.now(), **fields)
            user.blocked_bot = False  # they wrote to us, so they no longer block the bot
        return user


class LocaleMiddleware(I18nMiddleware):
    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        user = data.get("user")
        return user.locale if user is not None else self.i18n.default_locale


class ButtonScopeMiddleware(BaseMiddleware):
    """Refuses a button tapped where it does not belong, before any handler runs: a private-only button anywhere but
    the tapper's own private chat, a group button anywhere but a group bound to the team of what it acts on (see
    bot/ui/scope.py). The tapper gets a polite alert; nothing is changed or edited.

    Registered as an outer middleware of callback queries, after the locale's."""

    def __init__(self, db: Database, classes: dict[str, type[CallbackData]] | None = None):
        self.db = db
        self.classes = classes if classes is not None else scopes.button_classes()

    async def __call__(  # type: ignore[override]
        self, handler: Handler, event: CallbackQuery, data: dict[str, Any]
    ) -> Any:
        tap = scopes.read(self.classes, event.data)
        refusal = await self.refusal(event, tap) if tap is not None else None
        if refusal is None:
            return await handler(event, data)
        log.info("callback %r refused in chat %s: %s", event.data, self._chat(event), refusal)
        await event.answer(error_text(DomainError(refusal)), show_alert=True)
        return None

    @staticmethod
    def _chat(event: CallbackQuery):
        return event.message.chat if event.message is not None else None

    async def refusal(self, event: CallbackQuery, tap: scopes.Tap) -> str | None:
        """The error code a tap is refused with, None when its chat fits."""
        scope, chat = tap.scope, self._chat(event)
        if scope.where == "anywhere":
            return None
        if scope.where == "private":
            fits = chat is not None and chat.type == "private" and chat.id == event.from_user.id
            return None if fits else "button_private"
        if chat is None or chat.type not in ("group", "supergroup"):
            return "button_group"
        async with self.db.read(single=True) as s:
            fits = await people.group_fits(
                s,
                chat.id,
                request_id=tap.object_id if scope.of == "request" else None,
                activity_id=tap.object_id if scope.of == "activity" else None,
            )
        return None if fits else "button_group"


class DomainErrorMiddleware(BaseMiddleware):
    """A broken rule becomes a polite answer in the user's language; nothing was changed,
    because the service raised inside its transaction."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except DomainError as exc:
            text = error_text(exc)
            if isinstance(event, CallbackQuery):
                await event.answer(text, show_alert=True)
            elif isinstance(event, Message):
                await event.answer(text)
            return None


class BlockedMiddleware(BaseMiddleware):
    """A user a coordinator blocked (/block) changes nothing: each of his messages in private and each of his
    button taps gets one polite answer, and no handler runs; in a group he is left alone (no answer there). The
    user row is the one UpdateMiddleware read for this very update, so a block counts from the next update on.
    Registered after the locale middleware, so the answer is in his language."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not moderation.is_blocked(data.get("user")):
            return await handler(event, data)
        text = _("Sorry, your use of this bot has been suspended by the station. Please contact a coordinator.")
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        elif isinstance(event, Message) and event.chat.type == "private":
            await event.answer(text)
        return None
