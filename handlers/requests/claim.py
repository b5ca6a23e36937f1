"""接单 in the group, releasing a claim from private chat, and a coordinator's answer to a release past the limit."""

from __future__ import annotations

from aiogram import F
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.locks import KeyedLocks
from bot.notices import Notices
from bot.requests import service as requests
from bot.requests.keyboards import CardCb, ReleaseCb, TaskCb
from bot.settings import Settings
from bot.ui import texts
from bot.ui.private import PRIVATE_VIEW
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
    query: CallbackQuery,
    callback_data: TaskCb,
    db: Database,
    notices: Notices,
    clock: Clock,
    settings: Settings,
    user: User,
) -> None:
    async with db.tx() as s:
        req = await requests.release(
            s,
            notices.requests,
            request_id=callback_data.rid,
            user=user,
            now=clock.now(),
            per_day=settings.releases_per_day,
        )
    if req.status == requests.CLAIMED:  # past RELEASES_PER_DAY: the coordinators were asked
        text = _(
            "You have already released {limit} requests in the last 24 hours. I have asked the coordinators to "
            "release request {number} for you; until they answer, it is still yours."
        ).format(limit=settings.releases_per_day, number=texts.number(req))
        await query.answer(text, show_alert=True)
        return
    await query.answer()
    await editable(query).edit_text(
        _("You released request {number}; it is open again for other volunteers.").format(number=texts.number(req))
    )


@router.callback_query(ReleaseCb.filter(F.action.in_({"ok", "keep"})), flags=PRIVATE_VIEW)
async def release_decision(
    query: CallbackQuery, callback_data: ReleaseCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    """A coordinator answers a volunteer who asked to give a request back past his limit."""
    decide = requests.release_for if callback_data.action == "ok" else requests.keep_claim
    async with db.tx() as s:
        req = await decide(
            s,
            notices.requests,
            request_id=callback_data.rid,
            volunteer_id=callback_data.uid,
            actor=user,
            now=clock.now(),
        )
    text = (
        _("↩️ Request {number} released; it is open again for other volunteers.")
        if callback_data.action == "ok"
        else _("🤝 The volunteer is asked to keep request {number}.")
    ).format(number=texts.number(req))
    await query.answer(text)
    await editable(query).edit_text(text)
