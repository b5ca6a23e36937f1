"""Benchmark: the bot against the fake Bot API server over real HTTP on 127.0.0.1.

    python -m bench.run            (or python bench/run.py; BENCH_QUICK=1 for a short run)
    python -m bench.run --county [--scale 0.1]   (the county part alone, bench/county.py; --scale sizes it)

Prints a table, then as its LAST LINE one JSON object (keys in docs/testing.md "## Benchmark"). PostgreSQL figures
(pg_*) when TEST_DATABASE_URL (or BENCH_DATABASE_URL) reaches a server. Not run by CI."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench import hooks  # noqa: E402
from tests.fakegram import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH-TOKEN-abcdefghijklmnopqrstuvwxyz"
QUICK = bool(os.environ.get("BENCH_QUICK"))
log = logging.getLogger("bench")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


class BotProcess:
    """A bot in a process of its own, as in production: the fake server and the load generator run in the
    harness's process and do not share the bot's event loop. Its CPU time is read from /proc."""

    def __init__(self, argv: list[str], env: dict[str, str]):
        self.argv, self.env = argv, env
        self.proc: subprocess.Popen | None = None

    async def start(self, fake: FakeTelegram) -> BotProcess:
        # a bot started before (the in-process set-up) must have let go of its long poll
        await fake.pulse.wait_until(lambda: fake.updates.waiting == 0, 30)
        env = dict(os.environ, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=fake.base_url, **self.env)
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env)
        await fake.wait_polling(120)
        return self

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024

    async def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            await asyncio.to_thread(self.proc.wait, 60)


def real_bot(url: str) -> BotProcess:
    env = {"DATABASE_URL": url}
    if os.environ.get("BENCH_OUTBOX_PER_SECOND"):
        env["OUTBOX_PER_SECOND"] = os.environ["BENCH_OUTBOX_PER_SECOND"]
    return BotProcess([sys.executable, "-m", "bot", "--log-level", "WARNING"], env)


class Load:
    """Virtual users, each doing one step at a time: offer an update and time the bot's answer to it (its
    first message in that chat, or its answer to the callback query), then wait for the message containing
    `expect` before the next step. `notice`: also time that message (a notice the outbox delivers)."""

    def __init__(self, fake: FakeTelegram):
        self.fake = fake
        self.latencies: list[float] = []
        self.notices: list[float] = []

    async def step(self, user, kind: str, payload, expect: str | None, message=None, chat=None, notice: bool = False):
        fake, loop = self.fake, asyncio.get_running_loop()
        target = chat or user
        before = len(fake.bot_messages(target))
        t0 = loop.time()
        if kind == "text":
            await user.send(payload, chat=chat)
            await fake.wait_message(target, after=before, timeout=60)
        else:
            query = await user.tap_data(message, payload)
            await fake.answer(query, timeout=60)
        self.latencies.append(loop.time() - t0)
        if expect is None:
            return fake.callback_answers[query]
        found = await fake.wait_message(target, contains=expect, after=before, timeout=60)
        if notice:
            self.notices.append(loop.time() - t0)
        return found


# --- bare aiogram ------------------------------------------------------------------------------


async def bare(fake: FakeTelegram, n: int, users: int) -> dict:
    proc = await BotProcess([sys.executable, str(ROOT / "bench" / "bare_bot.py")], {}).start(fake)
    try:
        load = Load(fake)
        people = [fake.user(f"B{i}") for i in range(users)]

        async def person(u, count):
            for i in range(count):
                await load.step(u, "text", f"hello {i}", "ok")

        cpu0, t0 = proc.cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(person(u, n // users) for u in people))
        elapsed, cpu = time.perf_counter() - t0, proc.cpu_seconds() - cpu0
        done = (n // users) * users
        return {"bare_updates_per_s": done / elapsed, "bare_cpu_ms_per_update": cpu * 1000 / done}
    finally:
        await proc.stop()


async def bare_rss(fake: FakeTelegram) -> float:
    """Peak RSS (VmHWM) of the bare aiogram bot after a few messages: the floor a bot process starts from."""
    proc = await BotProcess([sys.executable, str(ROOT / "bench" / "bare_bot.py")], {}).start(fake)
    try:
        u = fake.user("RssBare")
        for text in ("/start", "hello", "/help", "bye"):
            before = len(fake.bot_messages(u))
            await u.send(text)
            await fake.wait_message(u, after=before, timeout=60)
        return proc.peak_rss_mb()
    finally:
        await proc.stop()


# --- the real bot ------------------------------------------------------------------------------


async def start_app(fake: FakeTelegram, url: str):
    from bot.app import App
    from bot.settings import Settings

    extra = (
        {"outbox_per_second": float(os.environ["BENCH_OUTBOX_PER_SECOND"])}
        if os.environ.get("BENCH_OUTBOX_PER_SECOND")
        else {}
    )
    app = App(Settings(_env_file=None, bot_token=TOKEN, database_url=url, telegram_api_url=fake.base_url, **extra))
    task = asyncio.create_task(app.run(handle_signals=False, polling_timeout=1))
    await fake.wait_polling(30)
    return app, task


async def stop_app(app, task) -> None:
    await app.stop()
    await asyncio.wait_for(task, 30)


async def seed(app, fake, volunteers: int):
    from tests.drills.common import seed_people

    admin = fake.user("Admin", language_code="en")
    vols = [fake.user(f"V{i}", language_code="en") for i in range(volunteers)]
    group = fake.group("Team", members=[admin, *vols])
    for u in [admin, *vols]:
        u.started = True
    await seed_people(app, admin=admin, group=group, volunteers=vols)
    return admin, vols, group


async def resident_flow(load: Load, fake, res) -> None:
    """点单, step by step, as an English resident."""
    menu = await load.step(res, "text", "/request", "Which service")
    await load.step(res, "tap", menu.reply_markup["inline_keyboard"][0][0]["callback_data"], "describe", menu)
    days = await load.step(res, "text", "Carry rice upstairs", "On which day")
    slots = await load.step(
        res, "tap", days.reply_markup["inline_keyboard"][0][1]["callback_data"], "At what time", days
    )
    await load.step(res, "tap", slots.reply_markup["inline_keyboard"][0][0]["callback_data"], "compound", slots)
    ask = await load.step(res, "text", "Xingfu compound", "exact address")
    skip = next(b["callback_data"] for row in ask.reply_markup["inline_keyboard"] for b in row)
    await load.step(res, "tap", skip, "phone", ask)
    summary = await load.step(res, "text", "Skip", "Please check")
    confirm = summary.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await load.step(res, "tap", confirm, "#", summary, notice=True)  # "placed", with its number: a notice


async def volunteer_flow(load: Load, fake, vol, group, taps: int, deadline: float, every: float = 0.0) -> None:
    """Tap one of the newest cards, `taps` times, a tap at most every `every` seconds (0: as fast as answered);
    a card already taken gets its polite answer."""
    loop = asyncio.get_running_loop()
    done, next_at = 0, loop.time()
    while done < taps and loop.time() < deadline:
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        cards = [m for m in fake.bot_messages(group)[-5:] if m.buttons]
        if not cards:
            await fake.pulse.wait(0.2)
            continue
        card = random.choice(cards)
        data = card.reply_markup["inline_keyboard"][0][0]["callback_data"]
        await load.step(vol, "tap", data, None, card, chat=group)
        done, next_at = done + 1, next_at + every


async def with_bot(fake: FakeTelegram, url: str, volunteers: int):
    """Set up in-process (migrations, menu, people), then run the bot as `python -m bot` on that database."""
    app, task = await start_app(fake, url)
    try:
        _, vols, group = await seed(app, fake, volunteers)
    finally:
        await stop_app(app, task)
    return await real_bot(url).start(fake), vols, group


async def mixed(url: str, residents: int, volunteers: int, rounds: int, rate: float | None) -> dict:
    """Closed loop (rate None: everyone as fast as the bot answers) or open loop at `rate` updates/s."""
    async with FakeTelegram(token=TOKEN) as fake:
        proc, vols, group = await with_bot(fake, url, volunteers)
        try:
            load = Load(fake)
            people = [fake.user(f"R{i}", language_code="en") for i in range(residents)]
            loop = asyncio.get_running_loop()
            if rate is None:

                async def resident(r):  # each resident's rounds one after another
                    for _ in range(rounds):
                        await resident_flow(load, fake, r)

                cpu0, t0 = proc.cpu_seconds(), time.perf_counter()
                await asyncio.gather(
                    *(resident(r) for r in people),
                    *(volunteer_flow(load, fake, v, group, rounds * 2, loop.time() + 120) for v in vols),
                )
                elapsed, cpu = time.perf_counter() - t0, proc.cpu_seconds() - cpu0
                n = len(load.latencies)
                return {"updates_per_s": n / elapsed, "cpu_ms_per_update": cpu * 1000 / n, "n": n}
            # Open loop at `rate` updates/s in all: residents' flows (9 steps each) start evenly, and each
            # volunteer taps at an even pace over the same span.
            t0 = loop.time()
            pending = []
            taps = max(1, int(rate * 20 / (residents + volunteers)))
            span = (residents * 9 + volunteers * taps) / rate

            async def paced(flow_start: float, coro):
                await asyncio.sleep(max(0.0, flow_start - loop.time()))
                await coro

            for i, r in enumerate(people):
                pending.append(paced(t0 + i * span / residents, resident_flow(load, fake, r)))
            for v in vols:
                pending.append(
                    paced(
                        t0 + random.random() * span / taps,
                        volunteer_flow(load, fake, v, group, taps, t0 + span + 60, every=span / taps),
                    )
                )
            await asyncio.gather(*pending)
            lat = [x * 1000 for x in load.latencies]
            notices = [x * 1000 for x in load.notices]
            return {
                "p50_ms": pct(lat, 50),
                "p99_ms": pct(lat, 99),
                "n": len(lat),
                "notice_p50_ms": pct(notices, 50),
                "notice_p99_ms": pct(notices, 99),
            }
        finally:
            await proc.stop()


async def storm(url: str, taps: int = 100) -> dict:
    from tests.drills.common import place_direct

    async with FakeTelegram(token=TOKEN) as fake:
        app, task = await start_app(fake, url)
        try:
            _, vols, group = await seed(app, fake, taps)
            req = await place_direct(app, fake.user("Res", language_code="en"), "Storm")
            card = await fake.wait_message(group, contains=req.number, timeout=30)
        finally:
            await stop_app(app, task)
        proc = await real_bot(url).start(fake)
        try:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            queries = [await v.tap(card, "🙋") for v in vols]
            lat = []

            async def one(q):
                await fake.answer(q, timeout=60)
                lat.append((loop.time() - t0) * 1000)

            await asyncio.gather(*(one(q) for q in queries))
            winners = sum("You took" in (fake.callback_answers[q].text or "") for q in queries)
            return {"storm_p99_ms": pct(lat, 99), "storm_winners": winners}
        finally:
            await proc.stop()


async def broadcast(url: str, groups: int) -> dict:
    """One monthly theme to `groups` groups, the fake enforcing Telegram's limits (429 past them)."""
    async with FakeTelegram(token=TOKEN) as fake:
        fake.enforce_limits(per_second=30, group_per_minute=20, chat_interval=1.0)
        app, task = await start_app(fake, url)
        try:
            admin = fake.user("Admin", language_code="en")
            chats = [fake.group(f"G{i}", members=[admin]) for i in range(groups)]
            await fake.wait_idle(quiet=0.5, timeout=30)
            start_calls = len(fake.calls)
            async with app.db.tx() as s:
                for chat in chats:
                    app.outbox.to_chat(s, chat.id, "三月 学雷锋志愿服务月：本月主题……")
            t0 = time.perf_counter()
            ok = lambda: all(fake.bot_messages(c) for c in chats)  # noqa: E731
            while not ok():
                await fake.pulse.wait(1.0)
            elapsed = time.perf_counter() - t0
            sends = [c for c in fake.calls[start_calls:] if c[0] == "sendMessage"]
            return {
                "broadcast_msgs_per_s": groups / elapsed,
                "broadcast_429": fake.limits.refused,
                "broadcast_calls": len(sends),
            }
        finally:
            await stop_app(app, task)


# --- size: 100,000 requests, 1,000,000 ledger entries --------------------------------------------


async def fill(url: str, requests_n: int, ledger_n: int) -> int:
    from sqlalchemy import insert

    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import LedgerEntry, LedgerKind, Request, User

    await upgrade(url)
    db = Database(url)
    now = datetime.now(timezone.utc)
    users = 2000
    from bot.menu import service as menu

    async with db.tx() as s:
        await menu.ensure_seed(s, now)
    async with db.tx() as s:
        await s.execute(
            insert(User),
            [
                dict(
                    id=10_000 + i,
                    full_name=f"U{i}",
                    username=None,
                    locale="zh_Hans",
                    is_admin=False,
                    is_coordinator=False,
                    blocked_bot=False,
                    created_at=now,
                )
                for i in range(users)
            ],
        )
    chunk = 20_000
    for start in range(0, requests_n, chunk):
        async with db.tx() as s:
            rows = []
            for i in range(start, min(requests_n, start + chunk)):
                at = now - timedelta(minutes=5 * i)
                rows.append(
                    dict(
                        number=f"B-{i:07d}",
                        resident_id=10_000 + i % users,
                        service_id=1,
                        team_id=None,
                        description="买菜",
                        area="幸福小区",
                        address=None,
                        phone=None,
                        window_start=at,
                        window_end=at + timedelta(hours=2),
                        status="approved",
                        claimer_id=10_000 + (i * 7) % users,
                        created_at=at,
                        updated_at=at,
                    )
                )
            await s.execute(insert(Request), rows)
    for start in range(0, ledger_n, 50_000):
        async with db.tx() as s:
            await s.execute(
                insert(LedgerEntry),
                [
                    dict(
                        volunteer_id=10_000 + i % users,
                        minutes=60,
                        points=10,
                        kind=LedgerKind.SERVICE,
                        request_id=1 + i % requests_n,
                        created_at=now - timedelta(minutes=i // 2),
                    )
                    for i in range(start, min(ledger_n, start + 50_000))
                ],
            )
    await db.dispose()
    return users


async def big(url: str, requests_n: int, ledger_n: int) -> dict:
    from storage.db import Database

    await fill(url, requests_n, ledger_n)
    db = Database(url)
    me = []
    for i in range(20):
        t = time.perf_counter()
        await hooks.me_report(db, 10_000 + i)
        me.append((time.perf_counter() - t) * 1000)
    now = datetime.now(timezone.utc)
    month = []
    for _ in range(3):
        t = time.perf_counter()
        await hooks.month_report(db, now - timedelta(days=30), now)
        month.append((time.perf_counter() - t) * 1000)
    await db.dispose()
    return {"me_ms": statistics.median(me), "month_report_ms": statistics.median(month)}


async def rss_of_bot(url: str) -> float:
    """Peak RSS (VmHWM) of a real `python -m bot` process on the big database, after a few updates."""
    async with FakeTelegram(token=TOKEN) as fake:
        proc = await real_bot(url).start(fake)
        try:
            u = fake.user("RssUser", language_code="en")
            for text in ("/start", "/my", "/claims", "/help"):
                before = len(fake.bot_messages(u))
                await u.send(text)
                await fake.wait_message(u, after=before, timeout=60)
            return proc.peak_rss_mb()
        finally:
            await proc.stop()


# --- PostgreSQL ---------------------------------------------------------------------------------


async def pg_database() -> tuple[str, str] | None:
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base:
        return None
    try:
        from tests.drills.common import fresh_pg_database

        os.environ["TEST_DATABASE_URL"] = base
        return await fresh_pg_database()
    except Exception as exc:
        log.warning("PostgreSQL not reachable (%s): pg_ figures skipped", exc)
        return None


async def county(tmp: Path, scale: float) -> dict:
    """The county part (bench/county.py) on SQLite, then on PostgreSQL when reachable (keys pg_county_*)."""
    from bench import county as c

    out: dict = {}
    async with FakeTelegram(token=TOKEN) as fake:
        out["bare_rss_mb"] = await bare_rss(fake)
    try:
        out.update(await c.run(f"sqlite+aiosqlite:///{tmp}/county.db", scale))
    finally:  # half a gigabyte at full size
        await asyncio.to_thread(lambda: [path.unlink() for path in tmp.glob("county.db*")])
    out["county_rss_over_bare_mb"] = out["county_rss_mb"] - out["bare_rss_mb"]
    print(f"[{time.strftime('%H:%M:%S')}] county on SQLite: {json.dumps(out)}", file=sys.stderr)
    pg = await pg_database()
    if pg is None:
        print("PostgreSQL figures of the county skipped: TEST_DATABASE_URL / BENCH_DATABASE_URL unset or unreachable")
        return out
    from tests.drills.common import drop_pg_database

    url, name = pg
    try:
        r = await c.run(url, scale)
        out.update({f"pg_{k}": v for k, v in r.items()})
        out["pg_county_rss_over_bare_mb"] = out["pg_county_rss_mb"] - out["bare_rss_mb"]
    finally:
        await drop_pg_database(name)
    return out


async def main(county_only: bool = False, scale: float | None = None) -> dict:
    logging.basicConfig(level=logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    scale = scale if scale is not None else (0.1 if QUICK else 1.0)
    if county_only:
        return await county(tmp, scale)
    n_bare = 600 if QUICK else 3000
    rounds = 1 if QUICK else 3
    out: dict = {}

    def note(what: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {what}: {json.dumps(out, default=str)}", file=sys.stderr)

    async with FakeTelegram(token=TOKEN) as fake:
        out.update(await bare(fake, n_bare, 60))
    sqlite = lambda name: f"sqlite+aiosqlite:///{tmp}/{name}.db"  # noqa: E731
    r = await mixed(sqlite("mixed"), residents=40, volunteers=20, rounds=rounds, rate=None)
    out["bot_updates_per_s"], out["bot_cpu_ms_per_update"] = r["updates_per_s"], r["cpu_ms_per_update"]
    out["ratio"] = out["bot_updates_per_s"] / out["bare_updates_per_s"]
    note("throughput")
    r = await mixed(sqlite("paced"), residents=60 if QUICK else 150, volunteers=20, rounds=1, rate=50)
    out["p50_ms"], out["p99_ms"] = r["p50_ms"], r["p99_ms"]
    out["notice_p50_ms"], out["notice_p99_ms"] = r["notice_p50_ms"], r["notice_p99_ms"]
    note("latency")
    out.update(await storm(sqlite("storm")))
    note("storm")
    out.update(await broadcast(sqlite("broadcast"), 120 if QUICK else 600))
    note("broadcast")
    big_url = sqlite("big")
    out.update(await big(big_url, 10_000 if QUICK else 100_000, 100_000 if QUICK else 1_000_000))
    out["rss_mb"] = await rss_of_bot(big_url)
    pg = await pg_database()
    from tests.drills.common import drop_pg_database, fresh_pg_database

    if pg:
        url, name = pg
        try:
            r = await mixed(url, residents=40, volunteers=20, rounds=rounds, rate=None)
            out["pg_bot_updates_per_s"], out["pg_cpu_ms_per_update"] = r["updates_per_s"], r["cpu_ms_per_update"]
            out["pg_ratio"] = r["updates_per_s"] / out["bare_updates_per_s"]
            url2, name2 = await fresh_pg_database()
            try:
                r = await mixed(url2, residents=60 if QUICK else 150, volunteers=20, rounds=1, rate=50)
                out["pg_p50_ms"], out["pg_p99_ms"] = r["p50_ms"], r["p99_ms"]
                out["pg_notice_p50_ms"], out["pg_notice_p99_ms"] = r["notice_p50_ms"], r["notice_p99_ms"]
            finally:
                await drop_pg_database(name2)
            url3, name3 = await fresh_pg_database()
            try:
                r = await storm(url3)
                out["pg_storm_p99_ms"], out["pg_storm_winners"] = r["storm_p99_ms"], r["storm_winners"]
            finally:
                await drop_pg_database(name3)
        finally:
            await drop_pg_database(name)
    else:
        print("PostgreSQL figures skipped: TEST_DATABASE_URL / BENCH_DATABASE_URL unset or unreachable")
    out.update(await county(tmp, scale))
    return out


TARGETS = {
    "ratio": (">=", 0.5),
    "p99_ms": ("<", 50),
    "me_ms": ("<", 20),
    "month_report_ms": ("<", 2000),
    "storm_winners": ("==", 1),
    "broadcast_429": ("==", 0),
    "county_route_ms": ("<", 20),
    "county_pending_ms": ("<", 100),
    "county_station_pending_ms": ("<", 100),
    "county_me_ms": ("<", 20),
    "county_station_report_ms": ("<", 1000),
    "county_centre_report_ms": ("<", 5000),
    "county_tasks_ms": ("<", 100),
    "county_centre_week_report_ms": ("<", 5000),
    "county_rss_over_bare_mb": ("<", 60),
}
TARGETS.update({f"pg_{k}": v for k, v in TARGETS.items() if k.startswith("county_")})


def table(out: dict) -> str:
    lines = [f"{'metric':32} {'value':>12}  target"]
    for key, value in out.items():
        target = TARGETS.get(key)
        mark = ""
        if target:
            op, limit = target
            ok = {">=": value >= limit, "<": value < limit, "==": value == limit}[op]
            mark = f"{op} {limit}  {'ok' if ok else 'MISSED'}"
        if key == "broadcast_msgs_per_s":
            mark = f"30 ± 5 %  {'ok' if 28.5 <= value <= 31.5 else 'MISSED'}"
        lines.append(f"{key:32} {value:12.2f}  {mark}" if isinstance(value, float) else f"{key:32} {value:>12}  {mark}")
    return "\n".join(lines)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The benchmark (docs/testing.md, Benchmark).")
    parser.add_argument("--county", action="store_true", help="only the county part (bench/county.py)")
    parser.add_argument("--scale", type=float, default=None, help="the county's size, 1 = the issue's (default)")
    args = parser.parse_args()
    result = asyncio.run(main(args.county, args.scale))
    print(table(result))
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}))
