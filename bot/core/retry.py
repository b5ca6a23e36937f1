"""Waiting for what the bot depends on (Telegram, the database): capped exponential backoff, one log line per
attempt at start, and one line when an outage begins and one when it ends while running (never a traceback a
second)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

T = TypeVar("T")


def delays(base: float, cap: float) -> Iterator[float]:
    """base, 2·base, 4·base, … capped at `cap` (1 s doubling to 60 s by default)."""
    delay = base
    while True:
        yield min(delay, cap)
        delay = min(delay * 2, cap)


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached (down, refusing connections, a lost connection), as
    opposed to a bug or a broken rule: such errors are an outage, logged once, not a traceback each time."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (OSError, OperationalError, InterfaceError)):  # OSError covers timeouts and DNS
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__
    return False


def reason(exc: BaseException) -> str:
    """One line for the log: the error's first line, or its type when it says nothing."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


async def wait_for(
    attempt: Callable[[], Awaitable[T]],
    *,
    what: str,
    retry_on: Callable[[BaseException], bool],
    log: logging.Logger,
    base: float = 1.0,
    cap: float = 60.0,
) -> T:
    """Call `attempt` until it returns; an error `retry_on` accepts is logged as one line ("<what> unreachable,
    retrying in 8 s: <reason>") and retried after the next delay. Other errors propagate."""
    for delay in delays(base, cap):
        try:
            return await attempt()
        except Exception as exc:
            if not retry_on(exc):
                raise
            log.warning("%s unreachable, retrying in %s: %s", what, seconds(delay), reason(exc))
        await asyncio.sleep(delay)
    raise AssertionError("unreachable")  # delays() never ends


def seconds(delay: float) -> str:
    return f"{delay:.0f} s" if delay >= 1 else f"{delay:.2f} s"


class Outage:
    """While running: a loop that keeps failing for one cause logs one line when the failures begin and one when
    they end, with their count, instead of a line (and traceback) each time."""

    def __init__(self, what: str, log: logging.Logger):
        self.what, self.log = what, log
        self.failures = 0

    def failed(self, exc: BaseException) -> None:
        self.failures += 1
        if self.failures == 1:
            self.log.error("%s: database unreachable, retrying quietly: %s", self.what, reason(exc))
        else:
            self.log.debug("%s: database still unreachable (%d failures): %s", self.what, self.failures, reason(exc))

    def ok(self) -> None:
        if self.failures:
            self.log.warning("%s: database reachable again after %d failed attempts", self.what, self.failures)
            self.failures = 0
