"""The process's logging: at INFO only what an operator needs (start, connected, migrations, warnings, errors);
libraries' chatter at DEBUG. LOG_FORMAT=json writes one JSON object a line for log shippers, with the update id
and the handler where there is one. No log line carries a resident's address or phone: the bot never logs them
and SQL errors are logged without their values (storage/db.py, hide_parameters)."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from storage.db import current_update

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The handler handling the current update (set by HandlerNameMiddleware), for the JSON lines.
current_handler: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_handler", default=None)

# Libraries whose INFO lines are chatter to an operator: per update, per job run, per plugin set-up.
QUIET = ("aiogram.event", "apscheduler", "alembic", "aiohttp.access")
# aiogram's dispatcher lines that are chatter; the bot logs "connected as @name" itself.
CHATTER = ("Start polling", "Run polling for bot", "Polling stopped", "Connection established")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        mark = current_update.get()
        update_id = getattr(record, "update_id", None) or (mark.update_id if mark is not None else None)
        if update_id is not None:
            line["update_id"] = update_id
        handler = getattr(record, "handler", None) or current_handler.get()
        if handler:
            line["handler"] = handler
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


class PollingFilter(logging.Filter):
    """aiogram's polling, when Telegram cannot be reached, logs two lines per attempt ("Failed to fetch updates"
    and "Sleep for … seconds"): made one ("Telegram unreachable while polling, retrying in 4 s: <reason>").
    Its start and stop lines go to DEBUG."""

    def __init__(self) -> None:
        super().__init__()
        self.failure: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        msg = str(record.msg)
        if msg.startswith("Failed to fetch updates"):
            self.failure = record.getMessage().removeprefix("Failed to fetch updates - ")
            return False
        if msg.startswith("Sleep for") and record.args and isinstance(record.args, tuple):
            delay = float(record.args[0])  # type: ignore[arg-type]  # aiogram passes the delay, a float
            record.msg, record.args = (
                "Telegram unreachable while polling, retrying in %.0f s: %s",
                (
                    delay,
                    self.failure or "?",
                ),
            )
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True
        if msg.startswith(CHATTER):
            if msg.startswith("Connection established"):
                self.failure = None
                record.msg, record.args = "Telegram reachable again (polling)", ()
                return True
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


_polling_filter = PollingFilter()


def setup(level: str = "INFO", fmt: str = "text") -> None:
    """Configure the root logger (stderr); call again to switch the format."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level.upper())
    debug = root.isEnabledFor(logging.DEBUG)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else logging.WARNING)
    quiet_polling()


def quiet_polling() -> None:
    """Install the PollingFilter on aiogram's dispatcher logger (once; App.run calls it too)."""
    dispatcher = logging.getLogger("aiogram.dispatcher")
    if _polling_filter not in dispatcher.filters:
        dispatcher.addFilter(_polling_filter)


class HandlerNameMiddleware:
    """An inner middleware: names the handler about to run (module.function) for the JSON log lines. The update's
    task keeps it until its end, so the error line of a failed update names its handler too."""

    async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        target = data.get("handler")
        callback = getattr(target, "callback", None)
        if callback is not None:
            current_handler.set(f"{getattr(callback, '__module__', '?')}.{getattr(callback, '__qualname__', '?')}")
        return await handler(event, data)
