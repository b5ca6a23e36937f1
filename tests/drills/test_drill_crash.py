"""Drill 3, crash: a real bot process (`python -m bot`, file SQLite, the fake Bot API in this test process;
forked from one that has imported the bot) is killed with SIGKILL at random moments while residents place requests
and volunteers, residents and a coordinator carry them through 接单, 结单, 评单 and approval; it is restarted each
time. Nothing is lost: every request ends approved with one event per step and one ledger entry, and every owed
message is delivered. A message goes out twice only when a kill falls between Telegram's answer and the commit that
records it: those are counted and printed.

Size: DRILL_CRASH_REQUESTS (200, the issue's size; `DRILL_CRASH_REQUESTS=25` for a quick run)."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.conftest import TOKEN
from tests.drills.common import seed_people, size
from tests.drills.forks import Child, Forks
from tests.fakegram import FakeTelegram

REQUESTS = size("CRASH_REQUESTS", 200)
RESIDENTS = VOLUNTEERS = 10  # one lane each: a volunteer's conversation (hours) is not shared between lanes
STEP_TIMEOUT = 8.0


class BotProcess:
    """The bot as `python -m bot`, forked from a process that has imported it (tests/drills/forks.py): a start
    costs milliseconds instead of seconds of CPU, so the drill spends its time on the bot's life between kills."""

    def __init__(self, fake: FakeTelegram, db_path: Path, admin_id: int, forks: Forks, logs: Path):
        self.env = dict(
            os.environ,
            BOT_TOKEN=TOKEN,
            DATABASE_URL=f"sqlite+aiosqlite:///{db_path}",
            TELEGRAM_API_URL=fake.base_url,
            ADMIN_IDS=str(admin_id),
            OUTBOX_LEASE_SECONDS="2",
            # Unpaced: 200 cards at Telegram's 20 a minute to one group would make this a ten-minute wait on the
            # pacing, which tests/e2e/test_outbox.py and the Telegram-failing drill check against enforced limits.
            OUTBOX_GROUP_PER_MINUTE="1000",
        )
        self.forks, self.logs = forks, logs
        self.proc: Child | None = None
        self.kills = 0

    async def start(self) -> None:
        self.proc = await self.forks.spawn(["--log-level", "WARNING"], self.env, self.logs / "bot.log")

    async def kill(self) -> None:
        assert self.proc is not None
        await self.proc.kill()
        self.kills += 1

    async def stop(self) -> str:
        """Stop the last process; everything every process wrote to stderr."""
        if self.proc is not None:
            await self.proc.stop()
        log = self.logs / "bot.log"
        return log.read_text(errors="replace") if log.exists() else ""


class Db:
    """The bot's SQLite file, read (and the clock of a request moved) from the test process."""

    def __init__(self, path: Path):
        self.conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.conn.execute("PRAGMA busy_timeout=30000")

    def rows(self, sql: str, *args) -> list[tuple]:
        return self.conn.execute(sql, args).fetchall()

    def request(self, need: str) -> tuple | None:
        found = self.rows("SELECT id, number, status FROM requests WHERE description = ?", need)
        assert len(found) <= 1, f"request {need!r} placed {len(found)} times"
        return found[0] if found else None

    def started(self, request_id: int) -> None:
        """The service's time window has begun (time passes; the bot's clock is the real one)."""
        start = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(tzinfo=None)
        self.conn.execute(
            "UPDATE requests SET window_start = ?, window_end = ? WHERE id = ?",
            (str(start), str(start + timedelta(hours=2)), request_id),
        )


async def wait_for(check, timeout: float):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        result = check()
        if result:
            return result
        await asyncio.sleep(0.1)
    return None


async def step(fake, user, kind, payload, expect, message=None):
    before = len(fake.bot_messages(user))
    if kind == "text":
        await user.send(payload)
    else:
        await user.tap_data(message, payload)
    return await fake.wait_message(user, contains=expect, after=before, timeout=STEP_TIMEOUT)


def button(message, row: int = 0, col: int = 0) -> str:
    return message.reply_markup["inline_keyboard"][row][col]["callback_data"]


async def place(fake, db: Db, res, need: str) -> None:
    """点单 through the whole conversation; after a kill (the conversation is lost) start again,
    unless the request was saved before the answer was lost."""
    while db.request(need) is None:
        confirm = None
        try:
            menu = await step(fake, res, "text", "/request", "Which service")
            await step(fake, res, "tap", button(menu), "describe", menu)
            days = await step(fake, res, "text", need, "On which day")
            slots = await step(fake, res, "tap", button(days, 0, 1), "At what time", days)
            await step(fake, res, "tap", button(slots), "compound", slots)
            ask = await step(fake, res, "text", "Xingfu compound", "exact address")
            await step(fake, res, "tap", button(ask), "phone", ask)
            summary = await step(fake, res, "text", "Skip", "Please check")
            before = len(fake.bot_messages(res))
            confirm = await res.tap_data(summary, button(summary))
            await fake.wait_message(res, contains="#", after=before, timeout=STEP_TIMEOUT)
        except AssertionError:  # no answer in time: the bot was killed (its updates are redelivered) or slow
            if confirm is not None:
                # The confirmation is answered only after its commit (or as stale), unless a kill fell between
                # the commit and the answer: then its copy is skipped as done, and only the request shows it.
                await wait_for(lambda: confirm in fake.callback_answers or db.request(need), 120)  # noqa: B023
            await wait_for(lambda: fake.updates.all_fetched and db.request(need), STEP_TIMEOUT)


async def carry(fake, db: Db, people, k: int) -> None:
    need = f"Need number {k}: carry rice upstairs"
    res, vol = people.residents[k % RESIDENTS], people.volunteers[k % VOLUNTEERS]
    await place(fake, db, res, need)
    rid, number, status = db.request(need)
    while status != "approved":
        if status == "open":
            # Ten lanes share the group and the bot restarts often, so a card may take a while.
            card = await fake.wait_message(people.group, contains=number, timeout=180)
            await vol.tap_data(card, f"c1:{rid}")
        elif status == "claimed":
            db.started(rid)
            try:
                ask = await step(fake, vol, "tap", f"t1:done:{rid}", "How many hours", people.anchor[vol.id])
                # the photo step only after its question: a tap ahead of the hours' answer would find no report
                photos = await step(fake, vol, "tap", f"h1:{rid}:4", "photos of the service", ask)
                await vol.tap_data(photos, f"ph1:skip:{rid}")  # no photos of the service
            except AssertionError:  # killed before the question: ask again
                pass
        elif status == "done":
            await res.tap_data(people.anchor[res.id], f"r1:{rid}:5")
        elif status == "confirmed":
            await people.admin.tap_data(people.anchor[people.admin.id], f"a1:ok:{rid}")
        else:
            raise AssertionError(f"request {number} ended {status}")
        if os.environ.get("DRILL_DEBUG"):
            print(f"{k} {number} {status} kills={people.bot.kills}", file=sys.stderr)
        before = status
        await wait_for(lambda: db.request(need)[2] != before, STEP_TIMEOUT)  # noqa: B023  (awaited here)
        status = db.request(need)[2]


async def killer(fake, bot: BotProcess, rng: random.Random, stop: asyncio.Event) -> None:
    """Kill the bot at a random moment of its life (1 to 4 s after it started polling), restart it."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), rng.uniform(1.0, 4.0))
        except TimeoutError:
            await bot.kill()
            polls = len(fake.get_updates_calls)
            await bot.start()
            await fake.pulse.wait_until(lambda: len(fake.get_updates_calls) > polls, 60)  # noqa: B023  (awaited here)


@pytest.mark.timeout(1800)  # 200 requests, dozens of restarts of a real process
async def test_kill_the_bot_at_random_moments_loses_nothing(tmp_path):
    rng = random.Random(int(os.environ.get("DRILL_SEED", "11")))
    db_path = tmp_path / "station.db"
    async with FakeTelegram(token=TOKEN) as fake, Forks() as forks:
        admin = fake.user("Wang", language_code="en")
        residents = [fake.user(f"R{i}", language_code="en") for i in range(RESIDENTS)]
        volunteers = [fake.user(f"V{i}", language_code="en") for i in range(VOLUNTEERS)]
        group = fake.group("Team 1", members=[admin, *volunteers])
        bot = BotProcess(fake, db_path, admin.id, forks, tmp_path)
        await bot.start()
        try:
            await fake.wait_polling(timeout=60)
            from bot.core.clock import Clock
            from storage.db import Database

            database = Database(f"sqlite+aiosqlite:///{db_path}")
            await seed_people(
                SimpleNamespace(db=database, clock=Clock()), admin=admin, group=group, volunteers=volunteers
            )
            await database.dispose()
            anchor = {}
            for user in [admin, *residents, *volunteers]:
                await user.send("/start")
                anchor[user.id] = await fake.wait_message(user, timeout=30)
            people = SimpleNamespace(
                bot=bot, admin=admin, residents=residents, volunteers=volunteers, group=group, anchor=anchor
            )
            db = Db(db_path)
            stop = asyncio.Event()
            kills = asyncio.create_task(killer(fake, bot, rng, stop))

            async def lane(first: int) -> None:  # one resident's requests, one after another
                for k in range(first, REQUESTS, RESIDENTS):
                    await carry(fake, db, people, k)

            try:
                async with asyncio.TaskGroup() as lanes:  # a failing lane stops the others
                    for first in range(RESIDENTS):
                        lanes.create_task(lane(first))
            finally:  # a failing lane must not leave the killer restarting the bot through the teardown
                stop.set()
                await kills
            # The last process delivers whatever is still owed.
            assert await wait_for(lambda: not db.rows("SELECT id FROM outbox WHERE status != 'sent'"), 60), db.rows(
                "SELECT id, chat_id, status, attempts, error FROM outbox WHERE status != 'sent'"
            )
            await fake.wait_idle(quiet=0.5, timeout=30)
            check(db, fake, bot.kills)
        finally:
            errors = await bot.stop()
    assert "Traceback" not in errors, errors[-3000:]


def check(db: Db, fake: FakeTelegram, kills: int) -> None:
    statuses = Counter(s for (s,) in db.rows("SELECT status FROM requests"))
    assert statuses == {"approved": REQUESTS}, statuses
    events = Counter(db.rows("SELECT request_id, kind FROM request_events"))
    assert set(events.values()) == {1} and len(events) == 5 * REQUESTS, [e for e, n in events.items() if n != 1][:5]
    ledger = Counter(r for (r,) in db.rows("SELECT request_id FROM ledger_entries WHERE kind = 'service'"))
    assert len(ledger) == REQUESTS and set(ledger.values()) == {1}
    # Every owed message arrived; count the copies a kill caught between Telegram's answer and the commit.
    owed = Counter(db.rows("SELECT chat_id, text FROM outbox WHERE method = 'send'"))
    got = Counter((m.chat_id, m.versions[0].text) for chat in list(fake.messages) for m in fake.bot_messages(chat))
    missing = [k for k, n in owed.items() if got[k] < n]
    assert missing == [], missing[:3]
    copies = sum(got[k] - n for k, n in owed.items())
    for rid, cid, text in db.rows("SELECT ref, chat_id, text FROM outbox WHERE method = 'edit'"):
        assert any(text == v.text for m in fake.bot_messages(cid) for v in m.versions), (rid, text[:60])
    print(
        f"\nDRILL crash: {REQUESTS} requests, {kills} kills, {sum(owed.values())} owed messages, "
        f"{copies} sent twice (a kill between Telegram's answer and the commit)"
    )
    assert copies <= 5 * kills
