"""Watching the bot: /metrics (Prometheus) moves with the traffic, /healthz covers every dependency it needs."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.app import App
from storage.models import OutboxMessage
from tests import databases
from tests.conftest import Running, make_settings
from tests.tcp_proxy import TcpProxy

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(http: aiohttp.ClientSession, url: str) -> Samples:
    async with http.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        body = await resp.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def until(probe, condition, timeout: float = 10.0):
    """Ask `probe()` until `condition(answer)` holds; the last answer (the test asserts on it)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        answer = await probe()
        if condition(answer) or loop.time() > deadline:
            return answer
        await asyncio.sleep(0.02)


def owed(chat_id: int, text_: str, at, *, due_in: timedelta = timedelta()) -> OutboxMessage:
    return OutboxMessage(
        chat_id=chat_id,
        method="send",
        text=text_,
        status="pending",
        attempts=0,
        next_attempt_at=at + due_in,
        created_at=at,
    )


async def test_metrics_move_with_the_traffic(fake, db_url, clock, start_app):
    """/metrics, on its own listener on localhost: updates by kind and outcome and their latency, messages sent,
    retried after a 429, failed for good, the backlog, database errors; never on the public (health) port."""
    app = await start_app(metrics_port=0, health_port=0, webhook_host="127.0.0.1")
    assert app.settings.metrics_host == "127.0.0.1"
    metrics = f"http://127.0.0.1:{app.metrics_port}/metrics"
    li, zhao = fake.user("Li", language_code="en"), fake.user("Zhao", language_code="en")
    li.started = zhao.started = True
    zhao.block()
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{app.web_port}/metrics") as resp:
            assert resp.status == 404  # the public port has /healthz only
        before = await scrape(http, metrics)
        assert value(before, "bot_updates_total", kind="message", outcome="ok") == 0

        await li.send("/start")
        await fake.wait_message(li, contains="Hello")
        await li.send("/whoami")
        await fake.wait_message(li, contains=str(li.id))
        after = await until(
            lambda: scrape(http, metrics),
            lambda m: value(m, "bot_updates_total", kind="message", outcome="ok") >= 2,
        )
        assert value(after, "bot_updates_total", kind="message", outcome="ok") == 2
        assert value(after, "bot_update_duration_seconds_count", kind="message") == 2
        assert value(after, "bot_update_duration_seconds_sum", kind="message") > 0

        # The outbox: one message Telegram answers 429 first, one to a user who blocked the bot, one due later.
        fake.fail("sendMessage", status=429, retry_after=1, chat_id=li)
        async with app.db.tx() as s:
            s.add_all([owed(li.id, "owed 1", clock.now()), owed(zhao.id, "owed 2", clock.now())])
            s.add(owed(li.id + 1000, "later", clock.now(), due_in=timedelta(hours=1)))
        app.sender.wake.set()
        after = await until(
            lambda: scrape(http, metrics),
            lambda m: (
                value(m, "bot_outbox_sent_total", method="send") >= 1
                and value(m, "bot_outbox_failed_total") >= 1
                # read at the scrape, within a second: on a busy machine one scrape may keep the figure before
                and value(m, "bot_outbox_owed_messages") <= 1
            ),
        )
        assert [m.text for m in fake.bot_messages(li) if m.text == "owed 1"] == ["owed 1"]
        assert value(after, "bot_outbox_sent_total", method="send") == 1
        assert value(after, "bot_outbox_failed_total") == 1
        assert value(after, "bot_telegram_429_total") == 1
        assert value(after, "bot_outbox_retried_total", reason="rate_limited") == 1
        assert value(after, "bot_outbox_owed_messages") == 1  # the one due in an hour
        assert value(after, "bot_outbox_oldest_owed_seconds") == 0  # and nothing due is waiting

        with pytest.raises(DBAPIError):  # no such table
            async with app.db.read() as s:
                await s.execute(text("SELECT * FROM no_such_table"))
        after = await scrape(http, metrics)
        errors = sum(v for (name, _labels), v in after.items() if name == "bot_database_errors_total")
        assert errors >= 1
        assert value(after, "bot_scheduled_occurrences_total", outcome="done") >= 0  # present from the start


# /healthz: every dependency ------------------------------------------------------------------------


@pytest.fixture
async def redis_server(tmp_path) -> AsyncIterator[str]:
    """A Redis to take away: TEST_REDIS_URL's, or a throwaway redis-server when one is installed."""
    if databases.REDIS_URL:
        yield databases.REDIS_URL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("needs TEST_REDIS_URL or redis-server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = await asyncio.create_subprocess_exec(*args, "--dir", str(tmp_path), stdout=asyncio.subprocess.DEVNULL)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            try:
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                assert loop.time() < deadline and process.returncode is None, "redis-server did not start"
                await asyncio.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)


def through(proxy: TcpProxy, url: str) -> str:
    parts = urlsplit(url)
    netloc = f"{parts.netloc.rsplit('@', 1)[0]}@" if "@" in parts.netloc else ""
    return urlunsplit(parts._replace(netloc=f"{netloc}127.0.0.1:{proxy.port}"))


async def health(http: aiohttp.ClientSession, base: str) -> tuple[int, dict]:
    async with http.get(base + "/healthz") as resp:
        return resp.status, await resp.json()


async def test_healthz_goes_503_within_a_second_of_redis_going_away(fake, db_url, start_app, redis_server):
    parts = urlsplit(redis_server)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379)
    await proxy.start()
    app = await start_app(
        health_port=0,
        webhook_host="127.0.0.1",
        redis_url=through(proxy, redis_server),
        redis_prefix=f"observe-{os.getpid()}",
    )
    base = f"http://127.0.0.1:{app.web_port}"
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession() as http:
            assert await health(http, base) == (200, {"database": "ok", "redis": "ok", "outbox": "ok"})
            await proxy.cut()
            gone = loop.time()
            answer = await until(lambda: health(http, base), lambda a: a[0] == 503, timeout=1.0)
            assert answer == (503, {"database": "ok", "redis": "unreachable", "outbox": "ok"})
            assert loop.time() - gone < 1.0
            await proxy.start()
            answer = await until(lambda: health(http, base), lambda a: a[0] == 200, timeout=5.0)
            assert answer == (200, {"database": "ok", "redis": "ok", "outbox": "ok"})
    finally:
        await proxy.close()


async def test_healthz_goes_503_within_a_second_of_the_database_going_away(fake, db_url, clock, _runners):
    """PostgreSQL through a proxy the test cuts; SQLite's file moved away (an open connection would go on reading
    the moved file, so the path is checked too). Back to 200 when the database is back."""
    url = make_url(db_url)
    proxy: TcpProxy | None = None
    app_url = db_url
    if url.get_backend_name() == "postgresql":
        proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        await proxy.start()
        app_url = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = App(make_settings(fake, app_url, health_port=0, webhook_host="127.0.0.1"), clock=clock)
    runner = Running(app)
    _runners.append(runner)
    await runner.start(fake)
    base = f"http://127.0.0.1:{app.web_port}"
    path = Path(url.database or "")
    away = path.with_name(path.name + ".away")
    loop = asyncio.get_running_loop()
    try:
        async with aiohttp.ClientSession() as http:
            assert await health(http, base) == (200, {"database": "ok", "outbox": "ok"})
            if proxy is not None:
                await proxy.cut()
            else:
                path.rename(away)
            gone = loop.time()
            answer = await until(lambda: health(http, base), lambda a: a[0] == 503, timeout=1.0)
            assert answer == (503, {"database": "unreachable", "outbox": "unknown"})
            assert loop.time() - gone < 1.0
            if proxy is not None:
                await proxy.start()
            else:
                away.rename(path)
            answer = await until(lambda: health(http, base), lambda a: a[0] == 200, timeout=5.0)
            assert answer == (200, {"database": "ok", "outbox": "ok"})
    finally:
        await runner.stop()
        if proxy is not None:
            await proxy.close()


async def test_healthz_says_the_outbox_is_stuck_or_stopped(fake, db_url, clock, start_app):
    """A message due for longer than OUTBOX_STUCK_MINUTES while Telegram answers: stuck (503); while Telegram does
    not answer, the old backlog is not this process's fault (200); a sender that stopped: 503."""
    app = await start_app(health_port=0, webhook_host="127.0.0.1", outbox_stuck_minutes=10)
    base = f"http://127.0.0.1:{app.web_port}"
    user = fake.user("Sun", language_code="en")
    user.started = True
    async with aiohttp.ClientSession() as http:
        # the sender is busy elsewhere: the message stays owed (its lease held) while the clock moves on
        async with app.db.tx() as s:
            row = owed(user.id, "stuck", clock.now())
            row.locked_until = clock.now() + timedelta(hours=1)
            s.add(row)
        status, body = await health(http, base)
        assert (status, body["outbox"]) == (200, "ok")
        clock.advance(minutes=11)
        status, body = await health(http, base)
        assert (status, body["outbox"]) == (503, "stuck")
        app.sender.unreachable_since = asyncio.get_running_loop().time()  # Telegram stopped answering
        status, body = await health(http, base)
        assert (status, body["outbox"]) == (200, "ok")
        app.sender.stop()
        await until(lambda: asyncio.sleep(0, app.sender.stopped), bool, timeout=5.0)
        assert await health(http, base) == (503, {"database": "ok", "outbox": "stopped"} | _redis(app))


def _redis(app: App) -> dict[str, str]:
    return {"redis": "ok"} if app.settings.redis_url else {}
