"""接单 in the group, and releasing a claim from private chat."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.locks import KeyedLocks
from bot.notices import Notices
from bot.requests import service as requests
from bot.requests.keyboards import CardCb, TaskCb
from bot.ui import texts
from bot.ui.tapped import editable
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import TeamChat, User

router = Blueprint(name="claim")


@router.callback_query(CardCb.filter())
async def claim(
    query: CallbackQuery,
    callback_data: CardCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    user: User,
    claiming: KeyedLocks,
) -> None:
    chat_id = query.message.chat.id if query.message else 0
    # Taps on one card take turns in this process: once one has won, those still waiting are told at once,
    # without reading or writing (a storm of taps costs one claim, not a hundred).
    async with claiming.hold(callback_data.rid) as burst:
        if burst.get("taken"):
            raise DomainError("already_claimed")
        async with db.read() as s:  # every rule, without the write turn: a refused tap needs no write
            bound = await s.get(TeamChat, chat_id)
            team_id = bound.team_id if bound else 0
            await requests.claim_rules(s, request_id=callback_data.rid, user=user, chat_team_id=team_id)
        async with db.tx() as s:
            req = await requests.claim(
                s, notices.requests, request_id=callback_data.rid, user=user, chat_team_id=team_id, now=clock.now()
            )
        burst["taken"] = True
    await query.answer(
        _("You took request {number}. The details are in our private chat.").format(number=texts.number(req))
    )


@router.callback_query(TaskCb.filter(F.action == "release"))
async def release(
    query: CallbackQuery, callback_data: TaskCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        req = await requests.release(s, notices.requests, request_id=callback_data.rid, user=user, now=clock.now())
    await query.answer()
    await editable(query).edit_text(
        _("You released request {number}; it is open again for other volunteers.").format(number=texts.number(req))
    )
