"""The county benchmark (issue 13): one deployment serving 1 中心, 17 所 and 200 站.

    python -m bench.run --county [--scale 0.1]

Seeds a database with Core bulk inserts (no ORM objects): 600 teams, 10,000 volunteers, 100,000 residents, 200,000
requests and 2,000,000 ledger entries at scale 1 (people, requests and entries scale; the tree and the teams do
not), then times the service calls the handlers make: placing a request through routing (`requests.place` with the
real outbox notices), `/pending` (a 中心's, a 所's and a station's coordinator), `/me`, a station's and the 中心's
月小结 (the whole report plus a line per 所 and station: `reports.station_figures` and `reports.roll_up`), and the
中心's `/tasks` (a few task orders to all 200 stations: `tasks.progress`), and the
中心's 周台账 as its coordinator gets it (issue 14: the week before's figures, a line per 所, a sheet per station and
the workbook; target < 5 s)."""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, select, text, update

from bench import hooks

INSTITUTES, STATIONS, TEAMS = 17, 200, 600
TASKS = 5  # task orders from the 中心 to every station
FULL = {"volunteers": 10_000, "residents": 100_000, "requests": 200_000, "ledger": 2_000_000}
MINIMUM = {"volunteers": 20, "residents": 50, "requests": 200, "ledger": 400}
CENTRE_COORD, STATION_COORD, INSTITUTE_COORD = 900_001, 900_002, 900_003
VOLUNTEER0, RESIDENT0 = 1_000_000, 2_000_000
CHUNK = 20_000
DAY = timedelta(days=1)


def sizes(scale: float) -> dict[str, int]:
    return {k: max(MINIMUM[k], round(v * scale)) for k, v in FULL.items()}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


@dataclass
class County:
    url: str
    size: dict[str, int]
    stations: list[int]  # node ids
    institutes: list[int]
    services: list[int]
    route: dict[tuple[int, int], int]  # (station, service) → team


async def _bulk(db: Any, model: Any, rows: list[dict], chunk: int = 100_000) -> None:
    """Insert `rows` in bulk below the ORM: values through the columns' own bind processing (UTC datetimes as the
    bot stores them), then the driver's executemany (SQLite) or COPY (PostgreSQL, asyncpg)."""
    if not rows:
        return
    table = model.__table__
    cols = list(rows[0])
    dialect = db.engine.dialect
    procs = [table.c[c].type.bind_processor(dialect) for c in cols]

    def tuples(part: list[dict]) -> list[tuple]:
        return [tuple(p(r[c]) if p else r[c] for c, p in zip(cols, procs, strict=True)) for r in part]

    for start in range(0, len(rows), chunk):
        part = tuples(rows[start : start + chunk])
        if dialect.name == "postgresql":
            async with db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                await raw.driver_connection.copy_records_to_table(table.name, records=part, columns=cols)
                await conn.commit()
        else:
            path = db.engine.url.database
            sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"

            def write(sql: str = sql, part: list[tuple] = part, path: str | None = path) -> None:
                with closing(sqlite3.connect(str(path), timeout=60)) as conn, conn:
                    conn.executemany(sql, part)

            await asyncio.to_thread(write)


async def seed(url: str, scale: float, now: datetime | None = None) -> County:
    """Migrate `url` and fill it with a county at `scale` (1: the issue's sizes)."""
    from bot.menu import service as menu
    from storage.db import Database
    from storage.migrate import upgrade
    from storage.models import (
        LedgerEntry,
        LedgerKind,
        NodeService,
        OrgNode,
        Request,
        Service,
        Task,
        TaskNode,
        Team,
        TeamChat,
        TeamMember,
        User,
        Volunteer,
    )

    size = sizes(scale)
    await upgrade(url)
    db = Database(url)
    now = now or datetime.now(timezone.utc)
    async with db.tx() as s:
        await menu.ensure_seed(s, now)  # team 1 at the migration's station (node 2), the 总菜单
    async with db.read() as s:
        services = sorted((await s.execute(select(Service.id))).scalars())
    # the tree: the migration's 中心 (1) and 站 (2); 所 3..19; 站 2 and 20..218, spread over the 所
    institutes = list(range(3, 3 + INSTITUTES))
    stations = [2, *range(3 + INSTITUTES, 3 + INSTITUTES + STATIONS - 1)]
    parent = {st: institutes[i % INSTITUTES] for i, st in enumerate(stations)}
    node = dict(kind="", name="", code="", parent_id=None, archived=False, created_at=now)
    await _bulk(
        db,
        OrgNode,
        [
            {**node, "id": n, "kind": "institute", "name": f"所{i + 1}", "code": f"S{i + 1:02d}", "parent_id": 1}
            for i, n in enumerate(institutes)
        ]
        + [
            {**node, "id": n, "kind": "station", "name": f"站{i + 1}", "code": f"Z{i + 1:03d}", "parent_id": parent[n]}
            for i, n in enumerate(stations)
            if n != 2
        ],
    )
    async with db.tx() as s:
        await s.execute(update(OrgNode).where(OrgNode.id == 2).values(parent_id=institutes[0]))
    # 600 teams: two a station (team 1 is station 2's first), eleven a 所, thirteen at the 中心
    team_node = {1: 2}
    owners = [st for st in stations for _ in range(2)][1:] + [i for i in institutes for _ in range(11)] + [1] * 13
    for tid, owner in enumerate(owners[: TEAMS - 1], start=2):
        team_node[tid] = owner
    await _bulk(
        db,
        Team,
        [
            dict(id=t, name=f"T{t:03d}", archived=False, created_at=now, node_id=n)
            for t, n in team_node.items()
            if t != 1
        ],
    )
    first_team: dict[int, int] = {}
    second_team: dict[int, int] = {}
    for t, n in sorted(team_node.items()):
        (second_team if n in first_team else first_team).setdefault(n, t)
    # the menus: a station serves a third of the services, a 所 the next third, the 中心 the rest;
    # every other station serves the 所's third too, with its second team
    offers = []
    for k, sv in enumerate(services):
        if k % 3 == 0:
            offers += [(st, sv, first_team[st]) for st in stations]
        elif k % 3 == 1:
            offers += [(i, sv, first_team[i]) for i in institutes]
            offers += [(st, sv, second_team.get(st, first_team[st])) for st in stations[::2]]
        else:
            offers.append((1, sv, first_team[1]))
    await _bulk(db, NodeService, [dict(node_id=n, service_id=sv, team_id=t) for n, sv, t in offers])
    named = {(n, sv): t for n, sv, t in offers}
    route = {
        (st, sv): named.get((st, sv)) or named.get((parent[st], sv)) or named[(1, sv)]
        for st in stations
        for sv in services
    }
    await _bulk(
        db,
        TeamChat,
        [
            dict(chat_id=-1_000_000_000 - t, team_id=t, title=f"T{t:03d}", bound_by=CENTRE_COORD, bound_at=now)
            for t in team_node
        ],
    )
    # people
    user = dict(
        username=None,
        locale="zh_Hans",
        is_admin=False,
        is_coordinator=False,
        blocked_bot=False,
        created_at=now,
        is_blocked=False,
        coord_node_id=None,
        station_id=None,
    )
    coords = [(CENTRE_COORD, None), (STATION_COORD, stations[0]), (INSTITUTE_COORD, institutes[0])]
    rows = [
        {**user, "id": uid, "full_name": f"C{uid}", "is_coordinator": True, "coord_node_id": at} for uid, at in coords
    ]
    rows += [{**user, "id": VOLUNTEER0 + i, "full_name": f"V{i}"} for i in range(size["volunteers"])]
    rows += [
        {**user, "id": RESIDENT0 + i, "full_name": f"R{i}", "station_id": stations[i % STATIONS]}
        for i in range(size["residents"])
    ]
    await _bulk(db, User, rows)
    await _bulk(
        db,
        Volunteer,
        [
            dict(
                user_id=VOLUNTEER0 + i,
                name=f"志愿者{i}",
                phone=f"139{i:08d}",
                registered_at=now,
                skills="",
                show_in_rank=True,
                share_stars=False,
                star_level=0,
            )
            for i in range(size["volunteers"])
        ],
    )
    await _bulk(
        db,
        TeamMember,
        [
            dict(
                team_id=i % TEAMS + 1,
                user_id=VOLUNTEER0 + i,
                is_leader=i < TEAMS,
                joined_at=now,
                status="active",
                decided_by=None,
            )
            for i in range(size["volunteers"])
        ],
    )
    # requests over the last year, oldest first; the last two days' still in hand, older ones closed
    n, vols = size["requests"], size["volunteers"]
    open_states = ("review", "open", "claimed", "done", "confirmed")
    per_team = max(1, vols // TEAMS)

    def member(team: int, k: int) -> int:
        """A volunteer of the team (volunteer i is in team i % 600 + 1): one of its claimers and helpers."""
        return VOLUNTEER0 + ((team - 1) + TEAMS * (k % per_team)) % vols

    reqs = []
    for i in range(n):
        resident = (i * 7919) % size["residents"]
        st = stations[resident % STATIONS]
        sv = services[i % len(services)]
        at = now - timedelta(days=365) * (1 - i / n) - timedelta(hours=3)
        age = now - at
        status = (
            open_states[i % 5]
            if age < 2 * DAY
            else (
                "approved",
                "approved",
                "approved",
                "approved",
                "approved",
                "approved",
                "cancelled",
                "approved",
                "approved",
                "rejected",
            )[i % 10]
        )
        taken = status in ("claimed", "done", "confirmed", "approved")
        reported = status in ("done", "confirmed", "approved")
        confirmed = status in ("confirmed", "approved")
        reqs.append(
            dict(
                id=i + 1,
                number=f"C-{i:08d}",
                resident_id=RESIDENT0 + resident,
                service_id=sv,
                team_id=route[(st, sv)],
                station_id=st,
                description="买菜",
                area="幸福小区",
                address=None,
                phone=None,
                window_start=at + DAY,
                window_end=at + DAY + timedelta(hours=2),
                status=status,
                claimer_id=member(route[(st, sv)], i) if taken else None,
                claimed_at=at + timedelta(hours=1) if taken else None,
                reported_minutes=60 if reported else None,
                reported_at=at + timedelta(hours=26) if reported else None,
                rating=3 + i % 3 if confirmed else None,
                rating_comment=None,
                confirmed_at=at + timedelta(hours=30) if confirmed else None,
                approved_minutes=60 if status == "approved" else None,
                approved_by=CENTRE_COORD if status == "approved" else None,
                approved_at=at + timedelta(hours=40) if status == "approved" else None,
                closed_reason=None,
                created_at=at,
                updated_at=at + timedelta(hours=40),
                proxy_for=None,
            )
        )
    await _bulk(db, Request, reqs)
    created = [r["created_at"] for r in reqs]
    team_of = [r["team_id"] for r in reqs]
    del reqs
    # the ledger, append-only and so in time order: ten entries a request, an hour and a half after it was done
    m = size["ledger"]
    for start in range(0, m, 100_000):
        rows = []
        for j in range(start, min(m, start + 100_000)):
            r = j * n // m
            rows.append(
                dict(
                    volunteer_id=member(team_of[r], r if j == r * m // n else j),  # the claimer, then teammates
                    minutes=60,
                    points=10,
                    kind=LedgerKind.SERVICE,
                    request_id=r + 1,
                    activity_id=None,
                    reverses_id=None,
                    reason=None,
                    approved_by=CENTRE_COORD,
                    created_at=min(now, created[r] + timedelta(hours=40, seconds=j % 60)),
                )
            )
        await _bulk(db, LedgerEntry, rows)
    # task orders (任务单): a few from the 中心 to every station, in every state
    today = now.date()
    await _bulk(
        db,
        Task,
        [
            dict(
                id=k,
                number=f"T{today.year}-{k:03d}",
                title=f"任务单 {k}",
                theme="",
                expected="走访",
                issuer_id=CENTRE_COORD,
                issuer_node_id=None,
                accept_by=today - DAY * (k - 2),
                finish_by=today + DAY * (10 - k),
                max_minutes=None,
                created_at=now - DAY * 10,
            )
            for k in range(1, TASKS + 1)
        ],
    )
    states = ("issued", "accepted", "declined", "reported", "returned", "finished")
    await _bulk(
        db,
        TaskNode,
        [
            dict(
                id=(k - 1) * len(stations) + i + 1,
                task_id=k,
                node_id=st,
                status=states[(i + k) % len(states)],
                reason=None,
                activity_id=None,
                acted_by=None,
                accepted_at=None,
                reported_at=None,
                finished_at=None,
                report=None,
                served=None,
                volunteers=None,
                minutes=None,
                media=None,
                updated_at=now,
            )
            for k in range(1, TASKS + 1)
            for i, st in enumerate(stations)
        ],
    )
    if db.engine.dialect.name == "postgresql":  # rows came with their ids: the sequences go past them
        async with db.tx() as s:
            for name in ("org_nodes", "teams", "requests", "tasks", "task_nodes"):
                await s.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))")
                )
    await db.dispose()
    if db.engine.dialect.name == "sqlite":  # a running bot's WAL is short: not 2 M rows to checkpoint while timing
        with closing(sqlite3.connect(str(db.engine.url.database))) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return County(url, size, stations, institutes, services, route)


async def _timed(fn: Callable[[], Any], runs: int, cpu: list[float] | None = None) -> list[float]:
    """Wall-clock ms of each run; `cpu`: also this process's CPU ms (all its threads: on SQLite the whole cost,
    on PostgreSQL without the server's), which other work on the machine does not move."""
    out = []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - c) * 1000)
    return out


def _cpu_key(key: str) -> str:
    return key.removesuffix("_ms") + "_cpu_ms"


async def measure(county: County, placements: int = 200, runs: int = 20, rng: random.Random | None = None) -> dict:
    """The county's figures in ms (medians; the route's p99 and p50)."""
    from bot.core.clock import Clock
    from bot.core.i18n import make_i18n
    from bot.notices import Notices
    from bot.outbox import Outbox
    from bot.requests import service as requests
    from bot.settings import Settings
    from storage.db import Database
    from storage.models import OutboxMessage, User

    rng = rng or random.Random(13)
    db = Database(county.url)
    out: dict[str, float] = {}
    try:
        now = datetime.now(timezone.utc)
        notices = Notices.build(
            Outbox(make_i18n("zh_Hans"), hooks.TZ, "zh_Hans", Clock()), Settings.model_fields["points_per_hour"].default
        )
        start = (now + 2 * DAY).replace(minute=0, second=0, microsecond=0)
        routed: list[tuple[int, int]] = []

        async def place() -> None:
            resident = RESIDENT0 + rng.randrange(county.size["residents"])
            service = rng.choice(county.services)
            draft = requests.Draft(
                service_id=service,
                description="买菜",
                window_start=start,
                window_end=start + timedelta(hours=2),
                area="幸福小区",
            )
            async with db.tx() as s:
                user = await s.get(User, resident)
                req = await requests.place(s, notices.requests, resident=user, draft=draft, now=now, year=now.year)
                routed.append((req.team_id, county.route[(user.station_id, service)]))

        await place()  # warm-up: the year's counter, compiled statements
        cpu: list[float] = []
        lat = await _timed(place, placements, cpu)
        assert all(got == want for got, want in routed), "a request went to the wrong team"
        out["county_route_ms"], out["county_route_p50_ms"] = pct(lat, 99), pct(lat, 50)
        out["county_route_cpu_ms"], out["county_route_p50_cpu_ms"] = pct(cpu, 99), pct(cpu, 50)

        async def median(key: str, fn: Callable[[], Any], n: int) -> None:
            cpu: list[float] = []
            out[key] = statistics.median(await _timed(fn, n, cpu))
            out[_cpu_key(key)] = statistics.median(cpu)

        async with db.read() as s:
            coords = {uid: await s.get(User, uid) for uid in (CENTRE_COORD, INSTITUTE_COORD, STATION_COORD)}
        for key, uid in (
            ("county_pending_ms", CENTRE_COORD),
            ("county_institute_pending_ms", INSTITUTE_COORD),
            ("county_station_pending_ms", STATION_COORD),
        ):
            await hooks.pending(db, coords[uid])
            await median(key, lambda u=coords[uid]: hooks.pending(db, u), runs)

        vols = iter(rng.sample(range(county.size["volunteers"]), min(runs, county.size["volunteers"])))
        await hooks.me_report(db, VOLUNTEER0)
        await median(
            "county_me_ms", lambda: hooks.me_report(db, VOLUNTEER0 + next(vols)), min(runs, county.size["volunteers"])
        )

        await hooks.tasks_view(db, coords[CENTRE_COORD])
        await median("county_tasks_ms", lambda: hooks.tasks_view(db, coords[CENTRE_COORD]), runs)

        period = hooks.last_month(now)
        station_coord = coords[STATION_COORD]
        await hooks.station_report(db, period, station_coord)
        await median("county_station_report_ms", lambda: hooks.station_report(db, period, station_coord), 5)
        await median("county_centre_report_ms", lambda: hooks.centre_report(db, period), 3)
        week, centre = hooks.last_week(now), coords[CENTRE_COORD]
        await median("county_centre_week_report_ms", lambda: hooks.centre_week_report(db, week, centre), 3)
        out["county_load_avg"] = os.getloadavg()[0]  # others' work on the machine (2 cores) moves every figure
        async with db.tx() as s:  # the placed requests' notices: not for the bot measured next
            await s.execute(delete(OutboxMessage))
    finally:
        await db.dispose()
    return out


async def run(url: str, scale: float, rss: bool = True) -> dict:
    """Seed `url` at `scale`, time the calls, and (`rss`) the peak RSS of `python -m bot` on it."""
    t = time.perf_counter()
    county = await seed(url, scale)
    out: dict[str, float] = {"county_seed_s": time.perf_counter() - t}
    out.update(await measure(county))
    if rss:
        from bench.run import rss_of_bot

        out["county_rss_mb"] = await rss_of_bot(url)
    return out
