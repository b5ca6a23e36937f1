"""Writes what the bot owes people into the outbox, in the caller's transaction; OutboxSender delivers it.

Every feature's notices (bot/<feature>/notices.py) are written through one Outbox: a text is rendered in its
recipient's language (groups get the station's default language), then queued as an OutboxMessage row in the
session the state change is made in, so the message exists if and only if the change is committed.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.org import service as org
from bot.people.service import coordinators
from storage.models import ActivityCard, OutboxMessage, RequestCard, User, WishCard

Rendered: TypeAlias = "str | tuple[str, InlineKeyboardMarkup | None]"
"""A message: its text, or its text and inline keyboard."""

Render: TypeAlias = "Callable[[], Rendered | Awaitable[Rendered]]"
"""Renders a message when called in its recipient's locale; may be a coroutine function."""

Method: TypeAlias = Literal["send", "edit", "poll", "voice", "photo", "upload", "delete"]
"""send: a new message; edit: edit the message sent with the same ref to that chat; poll: a JSON-encoded poll;
voice, photo: a voice message or photo sent on by its Telegram file id (JSON {"file_id", "caption"}, see `media`);
upload: a photo or document the bot made (a report's chart), its bytes carried in the row (see `upload`);
delete: delete the message sent with the same ref to that chat (a 公示 post taken down, see `channel_post`)."""


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

    def media(self, s: AsyncSession, chat_id: int, kind: Literal["voice", "photo"], file_id: str, caption: str) -> None:
        """Queue a voice message or photo, sent on by the file id Telegram gave us (nothing is downloaded), with a
        caption already rendered. Only ever to a private chat: a resident's voice or photo is never posted to a
        group."""
        assert chat_id > 0, "a resident's media go to private chats only"
        self.to_chat(s, chat_id, json.dumps({"file_id": file_id, "caption": caption}, ensure_ascii=False), method=kind)

    def upload(
        self,
        s: AsyncSession,
        chat_id: int,
        kind: Literal["photo", "document"],
        data: bytes,
        filename: str,
        caption: str,
        *,
        ref: str | None = None,
    ) -> None:
        """Queue a photo or document the bot generated (e.g. a 月小结's chart), uploaded when it is sent: the bytes
        ride in the row (base64 JSON), so the file is queued in the caller's transaction like any message and
        deleted with it after OUTBOX_KEEP_DAYS. Meant for files of some kilobytes, and for private chats only."""
        assert chat_id > 0, "generated files go to private chats only"
        payload = {"kind": kind, "filename": filename, "caption": caption, "data": base64.b64encode(data).decode()}
        self.to_chat(s, chat_id, json.dumps(payload, ensure_ascii=False), method="upload", ref=ref)

    def channel_post(
        self, s: AsyncSession, chat_id: int, text: str, photo_file_id: str | None = None, *, ref: str
    ) -> None:
        """Queue a post to the public channel (公示, bot/showcase): a text, or a photo (by its Telegram file id) with
        the text as its caption. Its text is already anonymised by the caller; `ref` names the post, so that
        `delete` with the same ref takes it down again."""
        if photo_file_id is None:
            self.to_chat(s, chat_id, text, ref=ref)
        else:
            payload = json.dumps({"file_id": photo_file_id, "caption": text}, ensure_ascii=False)
            self.to_chat(s, chat_id, payload, method="photo", ref=ref)

    def delete(self, s: AsyncSession, chat_id: int, *, ref: str) -> None:
        """Queue the deletion of the message sent to `chat_id` with this ref (after it, in the chat's order)."""
        self.to_chat(s, chat_id, "", method="delete", ref=ref)

    async def to_coordinators(
        self, s: AsyncSession, render: Render, *, skip: int | None = None, nodes: Iterable[int | None] | None = None
    ) -> None:
        """`to_user` for every coordinator but `skip` (e.g. the one whose own hours they are); with `nodes`, only
        those whose scope holds one of them (a station's, its 所's, the 中心's)."""
        for user in await (coordinators(s) if nodes is None else org.coordinators_of(s, nodes)):
            if user.id != skip:
                await self.to_user(s, user.id, render)

    # reading back -------------------------------------------------------------------------------

    async def sent_chats(self, s: AsyncSession, ref: str) -> list[int]:
        """The chats a message with this ref was queued to (method send): where later edits of it go.

        Delivered outbox rows are deleted after OUTBOX_KEEP_DAYS (bot/requests/privacy.py); a delivered card
        stays known by its RequestCard or ActivityCard row."""
        queued = select(OutboxMessage.chat_id).where(OutboxMessage.ref == ref, OutboxMessage.method == "send")
        kind, _sep, ref_id = ref.partition(":")
        if kind == "card" and ref_id.isdecimal():
            rows = await s.execute(
                queued.union(select(RequestCard.chat_id).where(RequestCard.request_id == int(ref_id)))
            )
        elif kind == "act" and ref_id.isdecimal():
            rows = await s.execute(
                queued.union(select(ActivityCard.chat_id).where(ActivityCard.activity_id == int(ref_id)))
            )
        elif kind == "wish" and ref_id.isdecimal():
            rows = await s.execute(queued.union(select(WishCard.chat_id).where(WishCard.wish_id == int(ref_id))))
        else:
            rows = await s.execute(queued.distinct())
        return sorted(set(rows.scalars()))
