"""公示: /showcase lists the recent posts of the public channel with “撤下” (after a confirmation)."""

from __future__ import annotations

from aiogram import F
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.core.clock import Clock
from bot.notices import Notices
from bot.settings import Settings
from bot.showcase import keyboards as showcase_keyboards
from bot.showcase import service as showcase
from bot.showcase import texts as showcase_texts
from bot.showcase.keyboards import ShowcaseCb
from bot.ui.tapped import editable
from handlers.routing import Blueprint
from storage.db import Database
from storage.models import User

router = Blueprint(name="showcase")


@router.message(Command("showcase"))
async def recent(message: Message, db: Database, settings: Settings, user: User) -> None:
    async with db.read() as s:
        posts = await showcase.recent(s, user)
    if not posts:
        await message.answer(_("No 公示 posts yet."))
        return
    lines = [_("Recent 公示 posts:")] + [showcase_texts.post_line(post, settings.tz) for post in posts]
    await message.answer("\n".join(lines), reply_markup=showcase_keyboards.posts(posts))


@router.callback_query(ShowcaseCb.filter(F.action == "ask"))
async def ask(query: CallbackQuery, callback_data: ShowcaseCb, db: Database, settings: Settings, user: User) -> None:
    async with db.read() as s:
        post = await showcase.get(s, callback_data.id)
        await showcase.check_may_take_down(s, user, post)
    await query.answer()
    await editable(query).answer(
        _("Take down 公示 post No. {id}? It is deleted from the channel.").format(id=post.id)
        + "\n"
        + showcase_texts.post_line(post, settings.tz),
        reply_markup=showcase_keyboards.confirm(post.id),
    )


@router.callback_query(ShowcaseCb.filter(F.action == "yes"))
async def take_down(
    query: CallbackQuery, callback_data: ShowcaseCb, db: Database, notices: Notices, clock: Clock, user: User
) -> None:
    async with db.tx() as s:
        post = await showcase.takedown(s, notices.outbox, actor=user, post_id=callback_data.id, now=clock.now())
    await query.answer(_("Taken down."))
    await editable(query).edit_text(_("🗑 公示 post No. {id} is taken down.").format(id=post.id))


@router.callback_query(ShowcaseCb.filter(F.action == "no"))
async def keep(query: CallbackQuery) -> None:
    await query.answer(_("Nothing was changed."))
    await editable(query).edit_reply_markup(reply_markup=None)
