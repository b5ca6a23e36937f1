"""Running it for real: `python -m bot` as a process waits for Telegram and the database at start (one line per
attempt, no traceback), exits 2 on a token Telegram refuses, logs little at INFO (or JSON lines); polling that
loses Telegram logs one line per attempt."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
from pathlib import Path

import pytest

from tests import databases
from tests.conftest import TOKEN
from tests.fakegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
FAST = {"RETRY_BASE_SECONDS": "0.05", "RETRY_MAX_SECONDS": "0.2"}  # not 1 s doubling to 60 s


class BotProcess:
    """`python -m bot` with its stderr read line by line."""

    def __init__(self, **env: str):
        self.env = {**os.environ, "BOT_TOKEN": TOKEN, **FAST, **env}
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task | None = None

    async def start(self) -> BotProcess:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=ROOT, env=self.env, stderr=asyncio.subprocess.PIPE
        )
        self._reader = asyncio.create_task(self._read())
        return self

    async def _read(self) -> None:
        assert self.proc and self.proc.stderr
        async for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    def having(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]

    async def wait(self, check, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            if self.proc and self.proc.returncode is not None and not check():
                raise AssertionError("the bot exited:\n" + "\n".join(self.lines))
            if loop.time() > deadline:
                raise AssertionError("timed out; the bot's log:\n" + "\n".join(self.lines))
            await asyncio.sleep(0.05)

    async def finish(self, timeout: float = 30) -> int:
        assert self.proc
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader:
            await asyncio.wait_for(self._reader, timeout)
        return code


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'station.db'}"


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_telegram_down_at_start_waits_then_starts(tmp_path, log_format):
    async with FakeTelegram(token=TOKEN) as fake:
        fake.set_down()  # 502 to everything
        bot = await BotProcess(
            DATABASE_URL=sqlite_url(tmp_path), TELEGRAM_API_URL=fake.base_url, LOG_FORMAT=log_format
        ).start()
        try:
            await bot.wait(lambda: len(bot.having("Telegram unreachable, retrying in")) >= 3)
            # waiting: only getMe was tried; no polling, no command menu, no outbox yet
            assert {name for name, _ in fake.calls} == {"getMe"} and not fake.get_updates_calls
            fake.set_down(False)
            await bot.wait(lambda: bool(fake.get_updates_calls))  # polling
            await bot.wait(lambda: bool(bot.having("connected to Telegram as @station_test_bot")))
        finally:
            code = await bot.finish()
    assert code == 0
    assert not bot.having("Traceback")
    if log_format == "json":
        records = [json.loads(line) for line in bot.lines]  # every line is one JSON object
        assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
        messages = [(r["level"], r["logger"], r["message"]) for r in records]
    else:
        messages = [(line.split(" ")[2], line.split(" ")[3].rstrip(":"), line.split(": ", 1)[1]) for line in bot.lines]
    waits = [m for _level, _name, m in messages if m.startswith("Telegram unreachable")]
    assert waits[:3] == [
        "Telegram unreachable, retrying in 0.05 s: Telegram server says - Bad Gateway",
        "Telegram unreachable, retrying in 0.10 s: Telegram server says - Bad Gateway",
        "Telegram unreachable, retrying in 0.20 s: Telegram server says - Bad Gateway",
    ]
    # At INFO, only what an operator needs: no Alembic, APScheduler or aiogram chatter.
    info = [m for level, name, m in messages if level == "INFO" and name == "bot.app"]
    assert info[0].startswith("station bot ") and "database sqlite (" in info[0] and "polling mode" in info[0]
    assert info[1] == "connected to Telegram as @station_test_bot"
    assert info[2].startswith("migrations applied: ") and len(info) == 3, info
    # the rest at INFO is the bot's own daily work (e.g. the retention job after 03:00), never a library's
    assert all(name.startswith(("bot.", "scheduling.")) for level, name, _m in messages if level == "INFO"), messages


async def test_refused_token_is_one_line_and_exit_2(tmp_path):
    async with FakeTelegram(token="654321:OTHER-TOKEN-abcdefghijklmnopqrstuvwxyz") as fake:  # 401 to ours
        bot = await BotProcess(DATABASE_URL=sqlite_url(tmp_path), TELEGRAM_API_URL=fake.base_url).start()
        code = await asyncio.wait_for(bot.proc.wait(), 60)  # type: ignore[union-attr]
        await bot.finish()
    assert code == 2
    assert not bot.having("Traceback")
    errors = [line for line in bot.lines if " ERROR " in line or " WARNING " in line]
    assert len(errors) == 1 and "Telegram refused BOT_TOKEN" in errors[0], bot.lines


async def test_database_down_at_start_waits_without_traceback(tmp_path):
    """PostgreSQL that nothing listens for: one line per attempt, Telegram not even asked yet."""
    async with FakeTelegram(token=TOKEN) as fake:
        url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/station"
        bot = await BotProcess(DATABASE_URL=url, TELEGRAM_API_URL=fake.base_url).start()
        try:
            await bot.wait(lambda: len(bot.having("database unreachable, retrying in")) >= 3)
            assert not fake.calls
        finally:
            await bot.finish()
    assert not bot.having("Traceback")
    assert "Connect call failed" in bot.having("database unreachable, retrying in 0.05 s: ")[0]
    assert len(bot.lines) == len(bot.having("database unreachable")) + 1  # and the start line


@pytest.mark.skipif(not databases.PG_URL, reason=databases.SKIP_REASON)
async def test_database_created_later_then_starts():
    """The database does not exist yet at start; once it is created, the bot goes on by itself."""
    name = databases.new_pg_name()
    async with FakeTelegram(token=TOKEN) as fake:
        bot = await BotProcess(DATABASE_URL=databases.pg_url(name), TELEGRAM_API_URL=fake.base_url).start()
        try:
            await bot.wait(lambda: len(bot.having("database unreachable, retrying in")) >= 2)
            await databases.create_pg_database(name)
            await bot.wait(lambda: bool(fake.get_updates_calls))
            assert bot.having("connected to Telegram as @station_test_bot")
        finally:
            await bot.finish()
            await databases.drop_pg_database(name)
    assert not bot.having("Traceback")
    assert f'database "{name}" does not exist' in bot.having("database unreachable")[0]


async def test_polling_that_loses_telegram_logs_one_line_per_attempt(fake, start_app, caplog):
    caplog.set_level(logging.INFO)
    await start_app(retry_base_seconds=0.05, retry_max_seconds=0.2)
    fake.set_down()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 15

    def lines(text: str) -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith(text)]

    while len(lines("Telegram unreachable while polling, retrying in")) < 3:
        assert loop.time() < deadline, [r.getMessage() for r in caplog.records]
        await asyncio.sleep(0.05)
    fake.set_down(False)
    while not lines("Telegram reachable again (polling)"):
        assert loop.time() < deadline, [r.getMessage() for r in caplog.records]
        await asyncio.sleep(0.05)
    first = lines("Telegram unreachable while polling")[0]
    assert first.getMessage().endswith("TelegramServerError: Telegram server says - Bad Gateway")
    assert first.levelno == logging.WARNING and first.exc_info is None
    assert not lines("Failed to fetch updates") and not lines("Sleep for")
