"""Several processes on one database: the outbox and updates are each handled once; webhook mode; /healthz."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.__main__ import main
from bot.app import App
from bot.settings import Settings
from storage.models import OutboxMessage, Team
from tests.conftest import TOKEN, Running, make_settings
from tests.fakegram import FakeTelegram

HOOK = "https://bot.example.org/tg/hook"
SECRET = "s3cret-token_1"


async def test_two_senders_deliver_each_message_once_in_chat_order(fake, db_url, clock):
    users = [fake.user(f"U{i}", language_code="en") for i in range(4)]
    for user in users:
        user.started = True  # they have a private chat with the bot
    a, b = App(make_settings(fake, db_url), clock=clock), App(make_settings(fake, db_url), clock=clock)
    try:
        await a.prepare()
        async with a.db.tx() as s:
            for n in range(10):
                for user in users:
                    s.add(
                        OutboxMessage(
                            chat_id=user.id,
                            method="send",
                            text=f"{user.first_name}-{n}",
                            status="pending",
                            attempts=0,
                            next_attempt_at=clock.now(),
                            created_at=clock.now(),
                        )
                    )
        # Two processes (their own engines and connections) drain the same outbox at once.
        while await a.sender.pending():
            await asyncio.gather(
                a.sender.drain_once(), b.sender.drain_once(), a.sender.drain_once(), b.sender.drain_once()
            )
        for user in users:
            texts = [m.text for m in fake.bot_messages(user)]
            assert texts == [f"{user.first_name}-{n}" for n in range(10)]
        sends = [p for name, p in fake.calls if name == "sendMessage"]
        assert len(sends) == 40
    finally:
        await a.close()
        await b.close()


async def test_two_processes_handle_each_update_once(fake, db_url, clock):
    """The same updates reach two bot processes on one database at once: each takes effect and is answered once."""
    async with FakeTelegram(token=TOKEN) as other:
        # The same person on both servers; the same messages get the same update ids there.
        admin, admin_there = fake.user("Wang", language_code="en"), other.user("Wang", language_code="en")
        assert admin.id == admin_there.id
        first = Running(App(make_settings(fake, db_url, admin_ids=[admin.id]), clock=clock))
        second = Running(App(make_settings(other, db_url, admin_ids=[admin.id]), clock=clock))
        await first.start(fake)
        await second.start(other)
        try:
            for text in ["/start", *(f"/newteam Team {n}" for n in range(5))]:
                await admin.send(text)
                await admin_there.send(text)
            for n in range(5):  # each answer comes from whichever process won
                waits = [
                    asyncio.ensure_future(f.wait_message(user, contains=f"Team {n}", timeout=15))
                    for f, user in ((fake, admin), (other, admin_there))
                ]
                done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                for w in pending:
                    w.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
                assert any(not w.cancelled() and w.exception() is None for w in done), f"no answer for Team {n}"
            await fake.wait_idle()
            await other.wait_idle()
            async with first.app.db.read() as s:
                names = (await s.execute(select(Team.name).where(Team.name.like("Team %")))).scalars().all()
        finally:
            await first.stop()
            await second.stop()
    assert sorted(names) == [f"Team {n}" for n in range(5)]
    for n in range(5):
        answers = [
            m.text
            for f, user in ((fake, admin), (other, admin_there))
            for m in f.bot_messages(user)
            if f"Team {n}" in (m.text or "")
        ]
        assert len(answers) == 1, answers
    apologies = [
        m.text
        for f, user in ((fake, admin), (other, admin_there))
        for m in f.bot_messages(user)
        if "Sorry" in (m.text or "") or "already" in (m.text or "")
    ]
    assert apologies == []


# webhook ------------------------------------------------------------------------------------------


async def start_webhook(fake: FakeTelegram, db_url: str, clock, **extra) -> tuple[Running, str]:
    app = App(
        make_settings(
            fake, db_url, webhook_url=HOOK, webhook_secret=SECRET, webhook_host="127.0.0.1", webhook_port=0, **extra
        ),
        clock=clock,
    )
    runner = Running(app)
    runner.task = asyncio.create_task(app.run(handle_signals=False, webhook=True))
    assert await fake.pulse.wait_until(lambda: fake.webhook.get("url") == HOOK or runner.task.done(), 15)
    assert not runner.task.done(), runner.task.exception()
    return runner, f"http://127.0.0.1:{app.web_port}"


async def next_update(fake: FakeTelegram) -> dict:
    """What Telegram would post to the webhook: the update a fake user just produced."""
    [update] = await fake.updates.get(offset=0, limit=1, timeout=0, alive=lambda: True)
    await fake.updates.get(offset=update["update_id"] + 1, limit=1, timeout=0, alive=lambda: True)  # confirm it
    return update


async def test_webhook_checks_the_secret_and_answers_through_the_bot_api(fake, db_url, clock):
    runner, base = await start_webhook(fake, db_url, clock)
    zh, en = fake.user("李", language_code="zh-hans"), fake.user("Li", language_code="en")
    try:
        assert fake.webhook["secret_token"] == SECRET
        async with aiohttp.ClientSession() as http:
            await en.send("/start")
            update = await next_update(fake)
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with http.post(base + "/tg/hook", json=update, headers=headers) as resp:
                    assert resp.status == 403
            await fake.wait_idle()
            assert fake.bot_messages(en) == []  # refused updates do nothing
            async with http.post(
                base + "/tg/hook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as resp:
                assert resp.status == 200
            assert "Hello, Li" in (await fake.wait_message(en, contains="Hello")).text
            await zh.send("/start")
            async with http.post(
                base + "/tg/hook", json=await next_update(fake), headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
            ) as resp:
                assert resp.status == 200
            assert "李，您好" in (await fake.wait_message(zh, contains="您好")).text
            async with http.get(base + "/healthz") as resp:
                assert resp.status == 200
                assert await resp.json() == {"database": "ok", "outbox": "ok"}
    finally:
        await runner.stop()
    assert fake.webhook["url"] == HOOK  # left set for the other processes


async def test_webhook_answers_400_to_a_body_that_is_not_an_update(fake, db_url, clock, caplog):
    """With the right secret, broken JSON or JSON that is not an update object is a client's error: 400, no
    traceback in the log, nothing handled; the next real update is handled as usual."""
    runner, base = await start_webhook(fake, db_url, clock)
    en = fake.user("Li", language_code="en")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    caplog.clear()
    try:
        async with aiohttp.ClientSession() as http:
            for body in (b"{not json", b"", b"\xff\xfe", b"[1, 2]", b'"update"', b"42", b"null", b'{"no": "id"}'):
                async with http.post(base + "/tg/hook", data=body, headers=headers) as resp:
                    assert (body, resp.status) == (body, 400)
            assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
            await en.send("/start")
            async with http.post(base + "/tg/hook", json=await next_update(fake), headers=headers) as resp:
                assert resp.status == 200
            await fake.wait_message(en, contains="Hello")
    finally:
        await runner.stop()


# /healthz -----------------------------------------------------------------------------------------


async def make_unreachable(app: App, db_url: str) -> None:
    """Take the database away for real: drop it (PostgreSQL) or put a directory where the file was."""
    url = make_url(db_url)
    await app.db.engine.dispose()
    if url.get_backend_name() == "postgresql":
        from tests import databases

        await databases.drop_pg_database(url.database)
    else:
        path = Path(url.database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.mkdir()


async def test_healthz_in_polling_mode_says_only_ok_then_503(fake, db_url, clock, start_app, caplog):
    """/healthz is public: it says whether each dependency answers, no figures; the backlog goes to the log."""
    caplog.set_level(logging.INFO, logger="bot.web")
    app = await start_app(health_port=0, webhook_host="127.0.0.1")
    base = f"http://127.0.0.1:{app.web_port}"
    user = fake.user("Zhao", language_code="en")
    async with app.db.tx() as s:  # a message owed but not yet due
        s.add(
            OutboxMessage(
                chat_id=user.id,
                method="send",
                text="later",
                status="pending",
                attempts=0,
                next_attempt_at=clock.now() + timedelta(hours=1),
                created_at=clock.now(),
            )
        )
    redis = {"redis": "ok"} if app.settings.redis_url else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/healthz") as resp:
            assert resp.status == 200
            assert await resp.json() == {"database": "ok", **redis, "outbox": "ok"}
        assert "outbox backlog 1" in caplog.text
        await make_unreachable(app, db_url)
        async with http.get(base + "/healthz") as resp:
            assert resp.status == 503
            assert await resp.json() == {"database": "unreachable", **redis, "outbox": "unknown"}


# settings and the command line -----------------------------------------------------------------------


def test_scale_settings_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "BOT_TOKEN": TOKEN,
        "DATABASE_URL": "postgres://station:pw@db:5432/station",
        "REDIS_URL": "redis://cache:6379/2",
        "WEBHOOK_URL": HOOK,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": "8443",
        "HEALTH_PORT": "",
    }.items():
        monkeypatch.setenv(key, value)
    s = Settings()
    assert s.database_url == "postgresql+asyncpg://station:pw@db:5432/station"
    assert (s.redis_url, s.redis_prefix, s.webhook_url, s.webhook_secret) == (
        "redis://cache:6379/2",
        "station",
        HOOK,
        SECRET,
    )
    assert (s.webhook_host, s.webhook_port, s.health_port) == ("0.0.0.0", 8443, None)
    monkeypatch.setenv("WEBHOOK_SECRET", "no spaces allowed")
    with pytest.raises(ValidationError):
        Settings()


def test_webhook_mode_without_url_and_secret_stops_with_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    for key in ("WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(key, raising=False)
    for argv in (["--webhook"], ["run", "--webhook"]):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "WEBHOOK_URL" in err and "WEBHOOK_SECRET" in err


def test_env_example_is_valid_settings(tmp_path, monkeypatch):
    """.env.example, with only the token filled in, gives the defaults: SQLite, polling, no Redis, no /healthz."""
    for key in ("DATABASE_URL", "REDIS_URL", "WEBHOOK_URL", "WEBHOOK_SECRET", "HEALTH_PORT", "WEBHOOK_PORT"):
        monkeypatch.delenv(key, raising=False)
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text(encoding="utf-8")
    env = tmp_path / ".env"
    env.write_text(example.replace("BOT_TOKEN=\n", f"BOT_TOKEN={TOKEN}\n"), encoding="utf-8")
    s = Settings(_env_file=env)
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert (s.redis_url, s.webhook_url, s.webhook_secret, s.health_port) == (None, None, None, None)
    assert (s.redis_prefix, s.webhook_host, s.webhook_port) == ("station", "0.0.0.0", 8080)
