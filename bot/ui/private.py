"""Views that can show private fields (a resident's address and phone, members' names, a volunteer's ledger) are
answered in the viewer's private chat only, whatever chat they are asked for in.

A handler declares it: `@router.message(Command("history"), flags=PRIVATE_VIEW)` (and the same on a button's
handler). `PrivateViews`, a middleware of messages and button taps set up once in bot/app.py, does the rest:

- a command typed in a group runs with its message moved to the sender's private chat, so every answer the handler
  gives goes there; the group gets one short neutral line. If the bot cannot write to him (he has never opened a
  chat with it, or blocked it), the group is asked politely to use the command in private, and gets nothing else;
- a refusal (a broken rule) is answered where it was asked, as everywhere: it holds nothing private;
- a button of such a view tapped outside the tapper's private chat (forged, or left from before) is refused with
  the same polite line, and its handler does not run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.dispatcher.flags import get_flag
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

FLAG = "private_view"
PRIVATE_VIEW: dict[str, Any] = {FLAG: True}
"""The flags of a handler whose answer may hold private fields."""

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def use_privately() -> str:
    return _("Please use this command in a private chat with the bot (open a chat with me and send /start first).")


def _unreachable(exc: TelegramBadRequest) -> bool:
    """The user's private chat does not exist for the bot: he never opened it."""
    return "chat not found" in exc.message.lower()


class PrivateViews(BaseMiddleware):
    """Moves a private view asked for in a group to the asker's private chat (see the module's docstring)."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not get_flag(data, FLAG):
            return await handler(event, data)
        if isinstance(event, CallbackQuery):
            chat = event.message.chat if event.message is not None else None
            if chat is not None and chat.type == "private" and chat.id == event.from_user.id:
                return await handler(event, data)
            await event.answer(use_privately(), show_alert=True)
            return None
        if not isinstance(event, Message) or event.chat.type == "private":
            return await handler(event, data)
        sender = event.from_user
        if sender is None or sender.is_bot:  # an anonymous group admin or a channel: nobody to answer in private
            await event.answer(use_privately())
            return None
        moved = event.model_copy(
            update={
                "chat": Chat(id=sender.id, type="private", first_name=sender.first_name, username=sender.username),
                "message_thread_id": None,
                "is_topic_message": None,
                "business_connection_id": None,
            }
        ).as_(data["bot"])
        try:
            result = await handler(moved, data)
        except TelegramForbiddenError:
            await event.answer(use_privately())
            return None
        except TelegramBadRequest as exc:
            if not _unreachable(exc):
                raise
            await event.answer(use_privately())
            return None
        await event.answer(_("I have answered you in our private chat."))
        return result
