"""The message under a tapped inline button, typed for what a handler does with it.

aiogram types `CallbackQuery.message` as Message | InaccessibleMessage | None. It is None only for buttons
on inline-mode messages, which this bot never sends; Telegram sends an InaccessibleMessage for a message
too old to be edited (48 hours). Such a message can still be answered in its chat, but not edited: an edit
of one fails here as it always did, with the apology for an unexpected error."""

from __future__ import annotations

from aiogram.types import CallbackQuery, MaybeInaccessibleMessageUnion, Message


def editable(query: CallbackQuery) -> Message:
    """The message whose button was tapped, to edit it."""
    message = query.message
    if not isinstance(message, Message):
        raise TypeError(f"callback {query.id}: the message under the button cannot be edited")
    return message


def origin(query: CallbackQuery) -> MaybeInaccessibleMessageUnion:
    """The message whose button was tapped, to answer in its chat."""
    message = query.message
    if message is None:
        raise TypeError(f"callback {query.id}: the button is not on a message of a chat")
    return message
