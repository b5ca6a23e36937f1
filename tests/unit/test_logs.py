"""Logging (bot/logs.py): JSON lines with the update id and the handler; a database outage in the outbox and
scheduler loops is one line when it begins and one when it ends, with the count, never a traceback each time."""

from __future__ import annotations

import asyncio
import json
import logging
from contextlib import asynccontextmanager

from bot import logs
from bot.outbox import OutboxSender
from storage.db import UpdateMark, current_update
from tests.station_db import scheduler


def test_json_lines_carry_the_update_and_the_handler():
    formatter = logs.JsonFormatter()
    record = logging.LogRecord("bot.app", logging.ERROR, __file__, 1, "update %s failed", (42,), None)
    token = current_update.set(UpdateMark(update_id=42))
    handler = logs.current_handler.set("handlers.requests.order.start")
    try:
        line = json.loads(formatter.format(record))
    finally:
        current_update.reset(token)
        logs.current_handler.reset(handler)
    assert line["level"] == "ERROR" and line["logger"] == "bot.app" and line["message"] == "update 42 failed"
    assert line["update_id"] == 42 and line["handler"] == "handlers.requests.order.start"
    plain = json.loads(formatter.format(logging.LogRecord("x", logging.INFO, __file__, 1, "中文", (), None)))
    assert plain["message"] == "中文" and "update_id" not in plain and "handler" not in plain


class FlakyDb:
    """The test's database, unreachable (as asyncpg says it: connection refused) while `down`."""

    def __init__(self, db):
        self.db, self.down = db, False

    def __getattr__(self, name):
        return getattr(self.db, name)

    def _gate(self, real):
        @asynccontextmanager
        async def session(*args, **kwargs):
            if self.down:
                raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 5432)")
            async with real(*args, **kwargs) as s:
                yield s

        return session

    @property
    def read(self):
        return self._gate(self.db.read)

    @property
    def tx(self):
        return self._gate(self.db.tx)


def outage_lines(caplog, what: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(f"{what}: database")]


async def test_scheduler_outage_is_two_lines(station_db, db_url, caplog):
    caplog.set_level(logging.DEBUG)
    flaky = FlakyDb(station_db)
    sched = scheduler(flaky, db_url)  # type: ignore[arg-type]
    flaky.down = True
    for _ in range(5):
        await sched.tick()
    flaky.down = False
    await sched.tick()
    await sched.tick()
    shown = [r for r in outage_lines(caplog, "scheduler") if r.levelno >= logging.INFO]
    assert [r.getMessage() for r in shown] == [
        "scheduler: database unreachable, retrying quietly: [Errno 111] Connect call failed ('127.0.0.1', 5432)",
        "scheduler: database reachable again after 5 failed attempts",
    ]
    assert not [r for r in caplog.records if r.exc_info]


async def test_outbox_outage_is_two_lines(station_db, caplog):
    caplog.set_level(logging.DEBUG)
    flaky = FlakyDb(station_db)
    sender = OutboxSender(flaky, bot=None, idle=0.01)  # type: ignore[arg-type]
    flaky.down = True
    task = asyncio.create_task(sender.run())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while sender.outage.failures < 5:
        assert loop.time() < deadline
        await asyncio.sleep(0.01)
    flaky.down = False
    while sender.outage.failures:
        assert loop.time() < deadline
        await asyncio.sleep(0.01)
    sender.stop()
    await asyncio.wait_for(task, 10)
    shown = [r for r in outage_lines(caplog, "outbox") if r.levelno >= logging.INFO]
    assert len(shown) == 2 and "unreachable" in shown[0].getMessage()
    assert shown[1].getMessage().startswith("outbox: database reachable again after ")
    assert not [r for r in caplog.records if r.exc_info]
