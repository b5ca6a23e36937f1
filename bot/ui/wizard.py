"""A step-by-step conversation in private chat (点单, 帮办, publishing an activity): the mechanics, no feature.

A feature declares its steps in order, each with its question, its buttons and how it reads a typed answer, and
what its summary says and what “Confirm” does. The wizard asks a step, stores the answer in the FSM data, asks the
next step (passing over those that `skip` says are not wanted), and after the last shows the summary with Confirm /
Edit / Cancel. Edit offers the steps (field_picker), re-asks the chosen one and comes back to the summary. A bad
answer raises DomainError: the middleware answers it politely and nothing is stored, nothing moves on. /cancel is
handled for every conversation by handlers/common.py; a stale or forged button falls through to the fallback.

The FSM state of a step is "<name>:<step>" (e.g. "Order:day"), of the summary "<name>:confirm"; the answers are kept
in the FSM data under the keys the steps choose, and "editing" is set while one step is re-asked from the summary.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from aiogram import F
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessageUnion,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from magic_filter import MagicFilter

from bot.core.errors import DomainError
from bot.ui.keyboards import field_picker, inline
from bot.ui.tapped import editable, origin

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None
Question = tuple[str, Markup]
Data = dict[str, Any]


class Routes(Protocol):
    """Where handlers are registered: an aiogram Router, or the blueprint a handler module declares
    (handlers/routing.py), both with `message(...)` and `callback_query(...)` decorators."""

    message: Any
    callback_query: Any


class Turn:
    """One update inside a conversation: the chat to answer in, the conversation's FSM context, and what the
    middlewares gave the handler (db, settings, clock, user, notices, ...)."""

    def __init__(self, message: MaybeInaccessibleMessageUnion, state: FSMContext, deps: dict[str, Any]):
        self.message, self.state, self.deps = message, state, deps
        self.db, self.settings, self.clock, self.user = deps["db"], deps["settings"], deps["clock"], deps["user"]

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        """Today at the station."""
        return self.now().astimezone(self.settings.tz).date()


async def _result(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


@dataclass(frozen=True)
class Hold:
    """What a step's reader returns to stay on the step: this text (and markup) is sent, or put in place of the tapped
    message, and nothing is stored (e.g. a typed day read back for a one-tap confirmation)."""

    text: str
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True)
class Button:
    """A step's buttons with one callback action. read(turn, value) checks the button's value and returns what to
    store, or (what to store, the text its question is replaced with); it is called sync or async.
    tidy: once answered, the question loses its buttons."""

    read: Callable[[Turn, str], Data | tuple[Data, str] | Hold | Awaitable[Data | tuple[Data, str] | Hold]]
    tidy: bool = False


@dataclass(frozen=True)
class Step:
    """One question. ask(turn) -> (text, reply_markup); typed(turn, message) -> what to store, for a message that
    passes `typed_filter` (default: a text message); buttons: callback action -> Button; both are called sync or
    async. label: its name in “edit which part” (None: not offered). skip(data): passed over on the way forward.
    then(turn, data): after the answer is stored, the name of a step to ask instead of going on (or None)."""

    name: str
    ask: Callable[[Turn], Question | Awaitable[Question]]
    typed: Callable[[Turn, Message], Data | Hold | Awaitable[Data | Hold]] | None = None
    typed_filter: MagicFilter | None = None
    buttons: Mapping[str, Button] = field(default_factory=dict)
    label: Any = None
    skip: Callable[[Data], Any] | None = None
    then: Callable[[Turn, Data], Awaitable[str | None]] | None = None


@dataclass(frozen=True)
class Summary:
    """The end of a conversation: text(turn, data) is the summary; confirm(turn, data) does the feature's work
    and returns the answer to the “Confirm” tap. confirm_label: that button; expected: the reply to a message sent
    while the summary waits; clear_keyboard: a line sent first with the reply keyboard removed."""

    text: Callable[[Turn, Data], Awaitable[str]]
    confirm: Callable[[Turn, Data], Awaitable[str]]
    confirm_label: Any
    expected: Any
    clear_keyboard: Any = None


class Wizard:
    """The steps of one conversation, its states and its handlers. `cb`: its CallbackData (fields action, value).
    The end is either a `summary` or `finish(turn, data)` (e.g. handing over to another conversation)."""

    def __init__(
        self,
        name: str,
        cb: type[CallbackData],
        steps: list[Step],
        *,
        summary: Summary | None = None,
        finish: Callable[[Turn, Data], Awaitable[None]] | None = None,
    ):
        assert (summary is None) != (finish is None), "a wizard ends in a summary or a hand-over"
        self.name, self.cb, self.steps = name, cb, {step.name: step for step in steps}
        self.summary, self.finish = summary, finish
        self.states = {step.name: State(step.name, group_name=name) for step in steps}
        self.confirm_state = State("confirm", group_name=name)
        self.fields = tuple((step.name, step.label) for step in steps if step.label is not None)

    # asking --------------------------------------------------------------------------------------------------

    async def ask(self, turn: Turn, name: str | None = None) -> None:
        """Ask a step (the first when None)."""
        step = self.steps[name] if name else next(iter(self.steps.values()))
        await turn.state.set_state(self.states[step.name])
        text, markup = await _result(step.ask(turn))
        await turn.message.answer(text, reply_markup=markup)

    async def _answered(self, step: Step, turn: Turn, data: Data) -> None:
        """After a step: the step `then` names, or back to the summary when editing, else the next wanted step."""
        goto = await step.then(turn, data) if step.then else None
        if goto:
            await self.ask(turn, goto)
            return
        if not data.get("editing"):
            names = list(self.steps)
            for later in names[names.index(step.name) + 1 :]:
                skip = self.steps[later].skip
                if skip is None or not skip(data):
                    await self.ask(turn, later)
                    return
        if self.finish:
            await self.finish(turn, data)
        else:
            await self._summary(turn, data)

    async def _summary(self, turn: Turn, data: Data) -> None:
        summary = self._end()
        await turn.state.update_data(editing=False)
        await turn.state.set_state(self.confirm_state)
        text = await summary.text(turn, data)
        if summary.clear_keyboard:
            await turn.message.answer(str(summary.clear_keyboard), reply_markup=ReplyKeyboardRemove())
        await turn.message.answer(
            text,
            reply_markup=inline(
                [
                    [
                        (str(summary.confirm_label), self.cb(action="confirm")),
                        (_("✏️ Edit"), self.cb(action="edit")),
                        (_("✖️ Cancel"), self.cb(action="abort")),
                    ]
                ]
            ),
        )

    # handlers ------------------------------------------------------------------------------------------------

    def attach(self, router: Routes) -> None:
        """Register the handlers on the feature's router, after its entry handlers (a command restarts the
        conversation only if it is tried before the steps' text handlers)."""
        for step in self.steps.values():
            state = self.states[step.name]
            for action, button in step.buttons.items():
                router.callback_query(state, self.cb.filter(F.action == action))(self._on_button(step, button))
            if step.typed:
                router.message(state, step.typed_filter or F.text)(self._on_typed(step))
        if self.summary:
            confirm = self.confirm_state
            router.callback_query(confirm, self.cb.filter(F.action == "confirm"))(self._confirm)
            router.callback_query(confirm, self.cb.filter(F.action == "abort"))(self._abort)
            router.callback_query(confirm, self.cb.filter(F.action == "edit"))(self._edit)
            router.callback_query(confirm, self.cb.filter(F.action == "field"))(self._edit_field)
            router.message(confirm)(self._confirm_expected)

    def _end(self) -> Summary:
        assert self.summary is not None, "only a wizard that ends in a summary has one"
        return self.summary

    def _on_typed(self, step: Step) -> Callable[..., Awaitable[None]]:
        read = step.typed
        assert read is not None

        async def typed(message: Message, state: FSMContext, **deps: Any) -> None:
            turn = Turn(message, state, deps)
            read_ = await _result(read(turn, message))
            if isinstance(read_, Hold):
                await message.answer(read_.text, reply_markup=read_.markup)
                return
            data = await state.update_data(read_)
            await self._answered(step, turn, data)

        return typed

    def _on_button(self, step: Step, button: Button) -> Callable[..., Awaitable[None]]:
        async def tapped(query: CallbackQuery, callback_data: Any, state: FSMContext, **deps: Any) -> None:
            turn = Turn(origin(query), state, deps)
            read = await _result(button.read(turn, callback_data.value))
            if isinstance(read, Hold):
                await query.answer()
                await editable(query).edit_text(read.text, reply_markup=read.markup)
                return
            updates, shown = read if isinstance(read, tuple) else (read, None)
            data = await state.update_data(updates)
            await query.answer()
            if shown is not None:
                await editable(query).edit_text(shown)
            elif button.tidy:
                await editable(query).edit_reply_markup(reply_markup=None)
            await self._answered(step, turn, data)

        return tapped

    async def _confirm(self, query: CallbackQuery, state: FSMContext, **deps: Any) -> None:
        turn = Turn(origin(query), state, deps)
        done = await self._end().confirm(turn, await state.get_data())
        await state.clear()
        await query.answer(done)
        await editable(query).edit_reply_markup(reply_markup=None)

    async def _abort(self, query: CallbackQuery, state: FSMContext) -> None:
        await state.clear()
        await query.answer()
        await editable(query).edit_text(_("Cancelled. Nothing was saved."))

    async def _edit(self, query: CallbackQuery) -> None:
        await query.answer()
        picker = field_picker(self.fields, lambda key: self.cb(action="field", value=key))
        await editable(query).edit_reply_markup(reply_markup=picker)

    async def _edit_field(self, query: CallbackQuery, callback_data: Any, state: FSMContext, **deps: Any) -> None:
        if callback_data.value not in dict(self.fields):
            raise DomainError("stale")
        await state.update_data(editing=True)
        await query.answer()
        await editable(query).edit_reply_markup(reply_markup=None)
        await self.ask(Turn(origin(query), state, deps), callback_data.value)

    async def _confirm_expected(self, message: Message) -> None:
        await message.answer(str(self._end().expected))
