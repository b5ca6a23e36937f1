"""How a handler module declares its router, and how aiogram routers are made of it, through aiogram's public API.

A module says `router = Blueprint(name="shop")` and decorates its handlers with `@router.message(...)`,
`@router.callback_query(...)`, as on an aiogram Router (`router.message.filter(...)` and
`router.callback_query.register(...)` too). An aiogram Router belongs to one dispatcher only, and tests (or a
supervisor) build several apps in one process: `build()` makes a new Router each time, registering every handler with
`router.<event>.register(callback, *filters, flags=...)`, and the app includes them with `dp.include_routers()`.

Filters run on the event loop. aiogram calls a filter that is neither a `Filter` nor a coroutine function in a worker
thread (asyncio.to_thread): every bare `F` expression and every `State`. That is a thread hop for each such filter of
each handler tried on each update, a fifth of the bot's CPU, for checks that are pure and quick. So the blueprint
turns them into filters as they are declared: an `F` expression into `Magic` (below), a state or group of states into
aiogram's `StateFilter`. Any other plain function is refused, and so is a handler that is not a coroutine function.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from aiogram import Router
from aiogram.filters import Filter, StateFilter
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import TelegramObject
from magic_filter import MagicFilter

Handler = TypeVar("Handler", bound=Callable[..., Any])
EVENTS = ("message", "callback_query")


class Magic(Filter):
    """An `F` expression, resolved against the event on the event loop (as aiogram resolves a bare one, in a thread).
    Its result is the filter's: falsy refuses; a dict (from `.as_(name)`) is passed on to the handler."""

    __slots__ = ("magic",)

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    def __str__(self) -> str:
        return self._signature_to_string(self.magic)

    async def __call__(self, obj: TelegramObject) -> Any:
        return self.magic.resolve(obj)


def on_the_loop(item: Any) -> Any:
    """`item` as a filter that aiogram awaits on the event loop."""
    if isinstance(item, MagicFilter):
        return Magic(item)
    if isinstance(item, (State, StatesGroup)) or (inspect.isclass(item) and issubclass(item, StatesGroup)):
        return StateFilter(item)
    if isinstance(item, Filter) or inspect.iscoroutinefunction(inspect.unwrap(item)):
        return item
    raise TypeError(f"filter {item!r} would run in a worker thread: make it an aiogram Filter or a coroutine function")


class Observer:
    """The handlers of one kind of event (messages, button taps), in the order of matching."""

    def __init__(self) -> None:
        self.filters: list[Any] = []  # the router's own filters for this event, checked before any handler's
        self.handlers: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any] | None]] = []

    def filter(self, *filters: Any) -> None:
        self.filters.extend(on_the_loop(f) for f in filters)

    def register(self, callback: Handler, *filters: Any, flags: dict[str, Any] | None = None) -> Handler:
        if not inspect.iscoroutinefunction(inspect.unwrap(callback)):
            raise TypeError(f"handler {callback!r} would run in a worker thread: make it a coroutine function")
        self.handlers.append((callback, tuple(on_the_loop(f) for f in filters), flags))
        return callback

    def __call__(self, *filters: Any, flags: dict[str, Any] | None = None) -> Callable[[Handler], Handler]:
        awaited = [on_the_loop(f) for f in filters]

        def register(callback: Handler) -> Handler:
            return self.register(callback, *awaited, flags=flags)

        return register


class Blueprint:
    """A router's declaration, from which `build()` makes as many aiogram routers as there are dispatchers."""

    def __init__(self, *, name: str) -> None:
        self.name = name
        self.message = Observer()
        self.callback_query = Observer()

    def build(self) -> Router:
        router = Router(name=self.name)
        for event in EVENTS:
            declared: Observer = getattr(self, event)
            observer = getattr(router, event)  # router.message, router.callback_query
            if declared.filters:
                observer.filter(*declared.filters)
            for callback, filters, flags in declared.handlers:
                # a copy: filters such as Command add themselves to the flags of each registration
                observer.register(callback, *filters, flags=dict(flags) if flags else None)
        return router
