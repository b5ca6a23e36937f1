"""Writes what the bot owes people into the outbox, in the caller's transaction; OutboxSender delivers it.

Every feature's notices (bot/<feature>/notices.py) are written through one Outbox: a text is rendered in its
recipient's language (groups get the station's default language), then queued as an OutboxMessage row in the
session the state change is made in, so the message exists if and only if the change is committed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.people.service import coordinators
from storage.models import OutboxMessage, User

Rendered: TypeAlias = "str | tuple[str, InlineKeyboardMarkup | None]"
"""A message: its text, or its text and inline keyboard."""

Render: TypeAlias = "Callable[[], Rendered | Awaitable[Rendered]]"
"""Renders a message when called in its recipient's locale; may be a coroutine function."""

Method: TypeAlias = Literal["send", "edit", "poll"]
"""send: a new message; edit: edit the message sent with the same ref to that chat; poll: a JSON-encoded poll."""


class Outbox:
    """The station's outbox writer: where and in which language a message goes, queued in the caller's session.

    `tz`, `default_locale` and `clock` are the station's (timed jobs use a clock stopped at their run's `now`).
    """

    def __init__(self, i18n: I18n, tz: ZoneInfo, default_locale: str, clock: Clock):
        self.i18n = i18n
        self.tz = tz
        self.default_locale = default_locale
        self.clock = clock

    # languages ----------------------------------------------------------------------------------

    @contextmanager
    def in_locale(self, locale: str) -> Iterator[None]:
        """Texts (gettext) inside this block are rendered in `locale`."""
        with self.i18n.context(), self.i18n.use_locale(locale):
            yield

    def in_station_locale(self) -> AbstractContextManager[None]:
        """Texts inside this block are rendered in the station's default locale (what groups read)."""
        return self.in_locale(self.default_locale)

    @property
    def current_locale(self) -> str:
        """The locale texts are being rendered in right now."""
        return self.i18n.current_locale

    async def locale_of(self, s: AsyncSession, user_id: int) -> str:
        """A user's language; the station's default for someone the bot does not know."""
        user = await s.get(User, user_id)
        return user.locale if user else self.default_locale

    # writing ------------------------------------------------------------------------------------

    def to_chat(
        self,
        s: AsyncSession,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None = None,
        *,
        method: Method = "send",
        ref: str | None = None,
    ) -> None:
        """Queue one message, already rendered, to a chat (a user or a group).

        `ref` names what the message is (e.g. `card:<request id>`, `act:<activity id>`): a later `edit` with the
        same ref edits the message sent to that chat (see `sent_chats`).
        """
        now = self.clock.now()
        s.add(
            OutboxMessage(
                chat_id=chat_id,
                method=method,
                text=text,
                markup=markup.model_dump_json(exclude_none=True) if markup else None,
                ref=ref,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
        s.info["outbox"] = True  # Database.tx wakes the sender after commit

    async def to_user(self, s: AsyncSession, user_id: int, render: Render) -> None:
        """Queue a private message to a user: `render()` runs in the user's locale and returns (or awaits to)
        the text or (text, markup)."""
        with self.in_locale(await self.locale_of(s, user_id)):
            out = render()
            rendered = await out if isinstance(out, Awaitable) else out
        text, markup = rendered if isinstance(rendered, tuple) else (rendered, None)
        self.to_chat(s, user_id, text, markup)

    async def to_coordinators(self, s: AsyncSession, render: Render, *, skip: int | None = None) -> None:
        """`to_user` for every coordinator of the station but `skip` (e.g. the one whose own hours they are)."""
        for user in await coordinators(s):
            if user.id != skip:
                await self.to_user(s, user.id, render)

    # reading back -------------------------------------------------------------------------------

    async def sent_chats(self, s: AsyncSession, ref: str) -> list[int]:
        """The chats a message with this ref was queued to (method send): where later edits of it go."""
        rows = await s.execute(
            select(OutboxMessage.chat_id).where(OutboxMessage.ref == ref, OutboxMessage.method == "send").distinct()
        )
        return list(rows.scalars())
