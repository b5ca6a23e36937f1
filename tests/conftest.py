"""Fixtures: the fake Bot API server, the real bot talking to it, and a movable clock."""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.app import App
from bot.core import clock as clock_module
from bot.settings import Settings
from tests import databases
from tests.fakegram import FakeTelegram

TOKEN = "123456:TEST-TOKEN-abcdefghijklmnopqrstuvwxyz"


STATION_TZ = ZoneInfo("Asia/Shanghai")


def daytime_offset(now: datetime) -> timedelta:
    """Tests read like a station's afternoon (bot/core/clock.py)."""
    return clock_module.daytime_offset(now, STATION_TZ)


class MovableClock(clock_module.MovableClock):
    """Real time plus an offset that tests move forward: no sleeping. Starts in the station's daytime."""

    def __init__(self) -> None:
        super().__init__(daytime_offset(datetime.now(timezone.utc)))


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def fake():
    async with FakeTelegram(token=TOKEN) as server:
        yield server
        # Privacy: no address or phone typed in any test may ever reach a group.
        assert server.group_leaks() == []


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request, tmp_path, tmp_path_factory):
    """Every test that touches the database runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL; each gets
    its own migrated database, copied from a template migrated once per test process (tests/databases.py)."""
    if request.param == "sqlite":
        yield await databases.sqlite_database(tmp_path / "station.db", tmp_path_factory.getbasetemp())
        return
    name = await databases.create_pg_database()
    try:
        yield databases.pg_url(name)
    finally:
        await databases.drop_pg_database(name)


_PG_SKIPPED = pytest.StashKey[int]()
_TESTS = Path(__file__).resolve().parent
_LAYERS = {"e2e": "e2e", "drills": "drill"}  # directory: marker; tests/unit/ is the rules' layer, unmarked


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: two workers per core, plus one. An end-to-end test spends most of its time waiting for the bot (a
    worker uses about a third of a core), and the crash drill's worker its ten minutes waiting on the bot process
    it kills and restarts; more workers than cores keep every core busy meanwhile."""
    return 2 * (os.cpu_count() or 1) + 1


def pytest_itemcollected(item):
    """A test's layer follows its directory, before -m selects: `pytest -m "not e2e and not drill"` runs the rules
    alone (tests/unit/)."""
    try:
        top = item.path.resolve().relative_to(_TESTS).parts[0]
    except ValueError:
        return
    if top in _LAYERS:
        item.add_marker(_LAYERS[top])


@pytest.hookimpl(trylast=True)  # after -k/-m, so the count below is of tests that would have run
def pytest_collection_modifyitems(config, items):
    """The longest first: the drills, then the tests marked `long`, so that with `--dist worksteal` the short ones
    fill the workers in around them instead of one long test starting last and running alone (every worker sorts
    the same way: the order stays the same in each). Without TEST_DATABASE_URL the PostgreSQL copies of the tests
    are left out, and the summary says why."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("drill") else 1 if item.get_closest_marker("long") else 2)
    if databases.PG_URL:
        return
    pg = [
        item for item in items if getattr(item, "callspec", None) and item.callspec.params.get("db_url") == "postgresql"
    ]
    if pg:
        config.hook.pytest_deselected(items=pg)
        left_out = set(pg)
        items[:] = [item for item in items if item not in left_out]
        config.stash[_PG_SKIPPED] = len(pg)
        if hasattr(config, "workeroutput"):  # a pytest-xdist worker: tell the controller, which prints the summary
            config.workeroutput["pg_left_out"] = len(pg)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist's controller collects nothing itself: each worker reports the count."""
    left_out = getattr(node, "workeroutput", {}).get("pg_left_out", 0)
    node.config.stash[_PG_SKIPPED] = max(node.config.stash.get(_PG_SKIPPED, 0), left_out)


def pytest_report_header(config):
    return (
        f"databases: sqlite, postgresql ({databases.PG_URL})"
        if databases.PG_URL
        else f"databases: sqlite; {databases.SKIP_REASON}"
    )


def pytest_terminal_summary(terminalreporter, config):
    if config.stash.get(_PG_SKIPPED, 0):
        terminalreporter.write_line(f"{databases.SKIP_REASON} ({config.stash[_PG_SKIPPED]} left out)")


def pytest_sessionfinish(session):
    if databases.PG_URL:
        databases.drop_template()


def make_settings(fake: FakeTelegram, db_url: str, **extra) -> Settings:
    return Settings(_env_file=None, bot_token=TOKEN, database_url=db_url, telegram_api_url=fake.base_url, **extra)


class Running:
    """A real App polling the fake server in this event loop."""

    def __init__(self, app: App):
        self.app = app
        self.task: asyncio.Task | None = None

    async def start(self, fake: FakeTelegram) -> None:
        self.task = asyncio.create_task(self.app.run(handle_signals=False, polling_timeout=1))
        await fake.wait_polling(timeout=15)

    async def stop(self) -> None:
        await self.app.stop()
        if self.task:
            await asyncio.wait_for(self.task, timeout=30)  # App.close waits up to 10 s twice


@pytest.fixture
def _runners() -> list[Running]:
    return []


@pytest.fixture
async def start_app(fake, db_url, clock, _runners):
    """Start (and restart) the bot: `app = await start_app(admin_ids=[...])`."""
    running = _runners
    redis = databases.RedisPerTest(db_url)

    async def start(**settings) -> App:
        app = App(make_settings(fake, db_url, **{**redis.settings(), **settings}), clock=clock)
        runner = Running(app)
        await runner.start(fake)
        running.append(runner)
        return app

    yield start
    for runner in running:
        if runner.task and not runner.task.done():
            await runner.stop()
    await redis.cleanup()


@pytest.fixture
def stop_app(_runners):
    """Stop a started app as a shutdown would: `await stop_app(app)` (then start_app again to restart)."""

    async def stop(app: App) -> None:
        for runner in _runners:
            if runner.app is app and runner.task and not runner.task.done():
                await runner.stop()

    return stop


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level(logging.WARNING)
