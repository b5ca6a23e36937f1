"""Where a button may be tapped: every CallbackData class of bot/*/keyboards.py declares it, and
`ButtonScopeMiddleware` (bot/middlewares.py) refuses, before any handler, a tap whose chat does not fit.

A class says `scope: ClassVar[Scopes] = PRIVATE` (or GROUP, ANYWHERE, `group_of(...)`), or, when its actions are
tapped in different places, a mapping from its `action` to a scope:

- PRIVATE: only in a private chat with the bot whose id is the tapper's: the message under it is his own.
- GROUP: only in a group bound to a team; `group_of("request", "rid")` also names the field carrying the id of the
  request (or activity) the button acts on, and the group must then be bound to that object's team (any bound group
  for an activity of the whole station).
- ANYWHERE: wherever its message is; only for buttons of commands that work in groups too, whose handlers check
  the tapper's role before they change or edit anything.

`tests/unit/test_button_scopes.py` checks that every class declares one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from aiogram.filters.callback_data import CallbackData


@dataclass(frozen=True)
class Scope:
    where: Literal["private", "group", "anywhere"]
    of: Literal["request", "activity"] | None = None  # the object the button acts on, for a group button
    field: str = ""  # the field of the callback data carrying its id


PRIVATE = Scope("private")
GROUP = Scope("group")
ANYWHERE = Scope("anywhere")

Scopes: TypeAlias = "Scope | Mapping[str, Scope]"
"""A class's declaration: one scope, or one per action."""


def group_of(of: Literal["request", "activity"], field: str) -> Scope:
    """A group button acting on a request or an activity whose id is in `field`."""
    return Scope("group", of, field)


def declared(cls: type[CallbackData]) -> Scopes | None:
    """The class's own declaration (not inherited), None if it has none."""
    return cls.__dict__.get("scope")


def button_classes() -> dict[str, type[CallbackData]]:
    """Every CallbackData class defined so far, by prefix (a prefix used twice fails here)."""
    found: dict[str, type[CallbackData]] = {}
    todo = list(CallbackData.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        prefix = getattr(cls, "__prefix__", None)
        if prefix is None:
            continue
        if prefix in found and found[prefix] is not cls:
            raise RuntimeError(f"callback prefix {prefix!r} is used by {found[prefix]!r} and {cls!r}")
        found[prefix] = cls
    return found


@dataclass(frozen=True)
class Tap:
    """What a tap's data says about where it may be: its scope, and the id of the object it acts on."""

    scope: Scope
    object_id: int | None = None


def read(classes: Mapping[str, type[CallbackData]], data: str | None) -> Tap | None:
    """The scope of a tap's data; None for data no class reads (an unknown prefix, an action its class does not
    declare, fields that do not parse): no handler's filter matches such data either, and the fallback answers it
    as out of date."""
    if not data:
        return None
    cls = classes.get(data.split(":", 1)[0])
    scopes = declared(cls) if cls is not None else None
    if cls is None or scopes is None:
        return None
    try:
        unpacked = cls.unpack(data)
    except (TypeError, ValueError):
        return None
    if isinstance(scopes, Scope):
        scope = scopes
    else:
        action = getattr(unpacked, "action", None)
        if not isinstance(action, str) or action not in scopes:
            return None
        scope = scopes[action]
    if scope.of is None:
        return Tap(scope)
    value = getattr(unpacked, scope.field, None)
    return Tap(scope, value) if isinstance(value, int) else None
