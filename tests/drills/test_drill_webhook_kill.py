"""Drill: two webhook processes (`python -m bot --webhook`) on one PostgreSQL database and one Redis, started
together on an empty database, behind a test load balancer that posts each update Telegram (the fake Bot API)
has for the bot to either of them, as Telegram posts to a webhook; some updates are posted twice. One process or
the other is killed with SIGKILL at random moments and restarted, while residents place requests and volunteers,
residents and a coordinator carry them through 接单, 结单, 评单 and approval.

Checks: every update posted is handled exactly once (one inbox row, done; each request's events once; one ledger
entry each), every owed message is delivered (a copy only when a kill fell between Telegram's answer and the commit
that records it), and every answer comes within ANSWER_WITHIN of its step, a dead process's leases (3 s) included,
and within AFTER_KILL_WITHIN of a kill that fell meanwhile.
A step whose handling a kill cut half-way (an answer sent, the conversation moved on, the update not yet marked as
handled, so it is handled again and finds the conversation ahead) is taken again by its person: at most once a kill.

Needs TEST_DATABASE_URL and TEST_REDIS_URL. Size: DRILL_WEBHOOK_KILL_REQUESTS (9 by default, under a minute)."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from tests.conftest import TOKEN
from tests.drills.common import drop_pg_database, fresh_pg_database, seed_people, size
from tests.drills.forks import Child, Forks
from tests.fakegram import FakeTelegram

REQUESTS = size("WEBHOOK_KILL_REQUESTS", 9)
LANES = 3  # residents (and volunteers) working at once, each his own requests one after another
SECRET = "drill-secret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
REDIS_URL = os.environ.get("TEST_REDIS_URL", "").strip()
ANSWER_WITHIN = 8.0  # seconds a person waits for an answer at most: a dead process's leases (3 s) and the handling
AFTER_KILL_WITHIN = 5.0  # the promise: no one waits more than 5 s after a kill for his next answer
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="TEST_REDIS_URL is unset: the webhook kill drill needs Redis")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookProcess:
    def __init__(self, fake: FakeTelegram, db_url: str, admin_id: int, prefix: str, logs: Path, n: int, forks: Forks):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            BOT_TOKEN=TOKEN,
            DATABASE_URL=db_url,
            TELEGRAM_API_URL=fake.base_url,
            ADMIN_IDS=str(admin_id),
            REDIS_URL=REDIS_URL,
            REDIS_PREFIX=prefix,
            WEBHOOK_URL=f"{self.url}/hook",
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_HOST="127.0.0.1",
            WEBHOOK_PORT=str(self.port),
        )
        self.logs, self.n, self.runs, self.forks = logs, n, 0, forks
        self.proc: Child | None = None
        self.up = False

    async def start(self) -> None:
        """`python -m bot --webhook`, forked from a process that has imported the bot (tests/drills/forks.py)."""
        self.runs += 1
        log = self.logs / f"bot{self.n}-{self.runs}.log"
        self.proc = await self.forks.spawn(["--webhook", "--log-level", "WARNING"], self.env, log)

    async def wait_up(self, http: aiohttp.ClientSession, timeout: float = 60) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            assert self.proc is not None and self.proc.alive(), self.log_text()[-3000:]
            try:
                async with http.get(self.url + "/healthz") as resp:
                    if resp.status == 200:
                        self.up = True
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
        raise AssertionError(f"bot {self.n} did not come up")

    async def kill(self) -> None:
        self.up = False
        assert self.proc is not None
        await self.proc.kill()

    async def stop(self) -> None:
        self.up = False
        if self.proc is not None:
            await self.proc.stop()

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.logs.glob(f"bot{self.n}-*.log")))


class Balancer:
    """Telegram and the load balancer: each update the fake has for the bot is posted to a live process, chosen at
    random, until one answers 200; one in five is posted a second time."""

    def __init__(self, fake: FakeTelegram, bots: list[WebhookProcess], rng: random.Random):
        self.fake, self.bots, self.rng = fake, bots, rng
        self.posted: list[int] = []

    async def run(self, http: aiohttp.ClientSession, stop: asyncio.Event) -> None:
        offset = 0
        while not stop.is_set():
            batch = await self.fake.updates.get(offset=offset, limit=100, timeout=0.2, alive=lambda: True)
            for update in batch:
                await self.post(http, update)
                if self.rng.random() < 0.2:
                    await self.post(http, update)
                offset = update["update_id"] + 1

    async def post(self, http: aiohttp.ClientSession, update: dict) -> None:
        while True:
            live = [b for b in self.bots if b.up] or self.bots
            bot = self.rng.choice(live)
            try:
                async with http.post(bot.url + "/hook", json=update, headers=HEADERS) as resp:
                    if resp.status == 200:
                        self.posted.append(update["update_id"])
                        return
            except aiohttp.ClientError:  # that process is dead: Telegram tries again
                pass
            await asyncio.sleep(0.05)


class Db:
    """The bot's database, read (and the clock of a request moved) from the test."""

    def __init__(self, url: str):
        from sqlalchemy.ext.asyncio import create_async_engine

        self.engine = create_async_engine(url)

    async def rows(self, sql: str, **args) -> list[tuple]:
        from sqlalchemy import text

        async with self.engine.begin() as conn:
            result = await conn.execute(text(sql), args)
            return [tuple(r) for r in result.all()] if result.returns_rows else []

    async def request(self, need: str) -> tuple | None:
        found = await self.rows("SELECT id, number, status FROM requests WHERE description = :d", d=need)
        assert len(found) <= 1, f"request {need!r} placed {len(found)} times"
        return found[0] if found else None

    async def started(self, request_id: int) -> None:
        start = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(tzinfo=None)
        await self.rows(
            "UPDATE requests SET window_start = :s, window_end = :e WHERE id = :i",
            s=start,
            e=start + timedelta(hours=2),
            i=request_id,
        )


class Waits:
    """How long each person waited for each answer."""

    def __init__(self, kill_times: list[float]) -> None:
        self.kill_times = kill_times  # the killer appends to it
        self.longest = 0.0
        self.longest_after_kill = 0.0  # from the last kill that fell between a step and its answer
        self.slow = 0  # answers that took more than a second: a kill caught their update

    async def step(self, fake, user, kind, payload, expect, message=None):
        loop = asyncio.get_running_loop()
        before = len(fake.bot_messages(user))
        started = loop.time()
        if kind == "text":
            await user.send(payload)
        else:
            await user.tap_data(message, payload)
        answer = await fake.wait_message(user, contains=expect, after=before, timeout=ANSWER_WITHIN)
        done = loop.time()
        self.longest = max(self.longest, done - started)
        self.slow += done - started > 1.0
        kills = [at for at in self.kill_times if started <= at <= done]
        if kills:
            self.longest_after_kill = max(self.longest_after_kill, done - kills[-1])
        return answer


def button(message, row: int = 0, col: int = 0) -> str:
    return message.reply_markup["inline_keyboard"][row][col]["callback_data"]


class Interrupted(Exception):
    """A step went unanswered and a kill fell while it was handled."""


async def unanswered(people, started: float, error: AssertionError) -> None:
    """A step not answered in time is lost only when a kill caught its handling half-way (the answer sent, the
    conversation moved on, the update not yet marked): then the person starts the step again. Otherwise it fails."""
    if not any(at >= started - 1.0 for at in people.kill_times):
        raise error
    people.interrupted += 1


async def place(fake, db: Db, people, waits: Waits, res, need: str) -> None:
    """点单 through the whole conversation (in Redis, so a kill does not lose it); started again only after a kill
    cut a step half-way."""
    loop = asyncio.get_running_loop()
    while await db.request(need) is None:
        started = loop.time()
        try:
            menu = await waits.step(fake, res, "text", "/request", "Which service")
            await waits.step(fake, res, "tap", button(menu), "describe", menu)
            days = await waits.step(fake, res, "text", need, "On which day")
            slots = await waits.step(fake, res, "tap", button(days, 0, 1), "At what time", days)
            await waits.step(fake, res, "tap", button(slots), "compound", slots)
            ask = await waits.step(fake, res, "text", "Xingfu compound", "exact address")
            await waits.step(fake, res, "tap", button(ask), "phone", ask)
            summary = await waits.step(fake, res, "text", "Skip", "Please check")
            started = loop.time()
            await waits.step(fake, res, "tap", button(summary), "#", summary)
        except AssertionError as error:
            await unanswered(people, started, error)


async def carry(fake, db: Db, people, waits: Waits, k: int) -> None:
    """One request from 点单 to approval, each step answered within ANSWER_WITHIN."""
    need = f"Need number {k}: carry rice upstairs"
    res, vol = people.residents[k % LANES], people.volunteers[k % LANES]
    loop = asyncio.get_running_loop()
    await place(fake, db, people, waits, res, need)
    rid, number, status = await db.request(need)
    while status != "approved":
        started = loop.time()
        try:
            if status == "open":
                card = await fake.wait_message(people.group, contains=number, timeout=120)  # the group's pace
                started = loop.time()
                await vol.tap_data(card, f"c1:{rid}")
            elif status == "claimed":
                await db.started(rid)
                ask = await waits.step(fake, vol, "tap", f"t1:done:{rid}", "How many hours", people.anchor[vol.id])
                # the photo step only after its question: a tap ahead of the hours' answer would find no report
                photos = await waits.step(fake, vol, "tap", f"h1:{rid}:4", "photos of the service", ask)
                await vol.tap_data(photos, f"ph1:skip:{rid}")  # no photos of the service
            elif status == "done":
                await res.tap_data(people.anchor[res.id], f"r1:{rid}:5")
            elif status == "confirmed":
                await people.admin.tap_data(people.anchor[people.admin.id], f"a1:ok:{rid}")
            else:
                raise AssertionError(f"request {number} ended {status}")
            await until_changed(db, need, status)
        except AssertionError as error:
            await unanswered(people, started, error)
        status = (await db.request(need))[2]


async def until_changed(db: Db, need: str, status: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ANSWER_WITHIN
    while (await db.request(need))[2] == status:
        assert loop.time() < deadline, f"{need}: still {status} after {ANSWER_WITHIN}s"
        await asyncio.sleep(0.05)


async def killer(bots: list[WebhookProcess], http, rng: random.Random, stop: asyncio.Event, people) -> None:
    """Kill one of the two at a random moment (0.5 to 2.5 s after both are up), restart it; the other keeps serving."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), rng.uniform(0.5, 2.5))
        except TimeoutError:
            bot = rng.choice(bots)
            await bot.kill()
            people.kill_times.append(asyncio.get_running_loop().time())
            await bot.start()
            await bot.wait_up(http)


@pytest.mark.timeout(900)
async def test_kill_one_of_two_webhook_processes_at_random_moments(tmp_path):
    rng = random.Random(int(os.environ.get("DRILL_SEED", "18")))
    db_url, name = await fresh_pg_database()  # empty: both processes migrate it at once on start
    prefix = f"drill-{uuid.uuid4().hex[:12]}"
    async with FakeTelegram(token=TOKEN) as fake, aiohttp.ClientSession() as http, Forks() as forks:
        admin = fake.user("Wang", language_code="en")
        residents = [fake.user(f"R{i}", language_code="en") for i in range(LANES)]
        volunteers = [fake.user(f"V{i}", language_code="en") for i in range(LANES)]
        group = fake.group("Team 1", members=[admin, *volunteers])
        bots = [WebhookProcess(fake, db_url, admin.id, prefix, tmp_path, n, forks) for n in (1, 2)]
        db = Db(db_url)
        stop = asyncio.Event()
        balancer = Balancer(fake, bots, rng)
        tasks: list[asyncio.Task] = []
        try:
            for bot in bots:
                await bot.start()
            for bot in bots:
                await bot.wait_up(http)
            tasks.append(asyncio.create_task(balancer.run(http, stop)))
            from bot.core.clock import Clock
            from storage.db import Database

            database = Database(db_url)
            await seed_people(
                SimpleNamespace(db=database, clock=Clock()), admin=admin, group=group, volunteers=volunteers
            )
            await database.dispose()
            anchor = {}
            for user in [admin, *residents, *volunteers]:
                await user.send("/start")
                anchor[user.id] = await fake.wait_message(user, timeout=30)
            people = SimpleNamespace(
                admin=admin,
                residents=residents,
                volunteers=volunteers,
                group=group,
                anchor=anchor,
                kill_times=[],
                interrupted=0,
            )
            waits = Waits(people.kill_times)
            tasks.append(asyncio.create_task(killer(bots, http, rng, stop, people)))

            async def lane(first: int) -> None:
                for k in range(first, REQUESTS, LANES):
                    await carry(fake, db, people, waits, k)

            async with asyncio.TaskGroup() as lanes:  # one failing lane stops the others
                for first in range(LANES):
                    lanes.create_task(lane(first))
            stop.set()
            await asyncio.gather(*tasks)
            for bot in bots:  # a restart may still be coming up
                if not bot.up:
                    await bot.wait_up(http)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60
            while await db.rows("SELECT id FROM outbox WHERE status != 'sent'"):
                assert loop.time() < deadline, await db.rows(
                    "SELECT id, chat_id, status, attempts, error FROM outbox WHERE status != 'sent'"
                )
                await asyncio.sleep(0.1)
            await fake.wait_idle(quiet=0.5, timeout=30)
            await check(db, fake, balancer, people, waits)
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for bot in bots:
                await bot.stop()
            await db.engine.dispose()
            await cleanup_redis(prefix)
            await drop_pg_database(name)
    for bot in bots:
        assert "Traceback" not in bot.log_text(), bot.log_text()[-3000:]


async def check(db: Db, fake: FakeTelegram, balancer: Balancer, people, waits: Waits) -> None:
    kills = people.kill_times
    statuses = Counter(s for (s,) in await db.rows("SELECT status FROM requests"))
    assert statuses == {"approved": REQUESTS}, statuses
    events = Counter(await db.rows("SELECT request_id, kind FROM request_events"))
    usual = {"placed", "claimed", "reported", "confirmed", "approved"}
    assert set(events.values()) == {1} and len(events) == 5 * REQUESTS, (
        [e for e, n in events.items() if n != 1][:5],
        sorted(e for e in events if e[1] not in usual),
        sorted(Counter(kind for _id, kind in events).items()),
    )
    ledger = Counter(r for (r,) in await db.rows("SELECT request_id FROM ledger_entries WHERE kind = 'service'"))
    assert len(ledger) == REQUESTS and set(ledger.values()) == {1}
    # Every update posted is in the inbox once and was handled (none given up, none left).
    inbox = dict(await db.rows("SELECT update_id, status FROM inbox"))
    assert set(inbox) == set(balancer.posted) and set(inbox.values()) == {"done"}, Counter(inbox.values())
    processed = {u for (u,) in await db.rows("SELECT update_id FROM processed_updates")}
    assert set(balancer.posted) <= processed
    owed = Counter(await db.rows("SELECT chat_id, text FROM outbox WHERE method = 'send'"))
    got = Counter((m.chat_id, m.versions[0].text) for chat in list(fake.messages) for m in fake.bot_messages(chat))
    missing = [k for k, n in owed.items() if got[k] < n]
    assert missing == [], missing[:3]
    copies = sum(got[k] - n for k, n in owed.items())
    print(
        f"\nDRILL webhook kill: {REQUESTS} requests, {len(kills)} kills, {len(balancer.posted)} posts "
        f"({len(set(balancer.posted))} updates), {sum(owed.values())} owed messages, {copies} sent twice, "
        f"longest wait for an answer {waits.longest:.1f}s ({waits.longest_after_kill:.1f}s after a kill; "
        f"{waits.slow} answers after more than 1 s), "
        f"{people.interrupted} steps cut half-way by a kill and taken again"
    )
    assert people.interrupted <= len(kills)
    assert copies <= len(kills)
    assert waits.longest_after_kill <= AFTER_KILL_WITHIN, waits.longest_after_kill


async def cleanup_redis(prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
