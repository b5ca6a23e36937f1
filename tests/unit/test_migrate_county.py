"""Upgrading a populated single-station database to the county tree (0009_org) keeps everything: the same rows in
every table, one 中心 with one 站 that holds every team, resident, request and 爱心超市 item, and its coordinators
still the 中心's (they see everything, as before)."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.migrate import alembic_config, upgrade
from tests import databases

T = "2026-11-01 08:00:00"
ROWS = {
    "users": [
        "INSERT INTO users (id, full_name, username, locale, is_admin, is_coordinator, blocked_bot, created_at, "
        f"is_blocked) VALUES ({i}, 'U{i}', 'u{i}', 'zh_Hans', false, {'true' if i == 3 else 'false'}, false, '{T}', "
        "false)"
        for i in (1, 2, 3)
    ],
    "volunteers": [
        f"INSERT INTO volunteers (user_id, name, phone, registered_at) VALUES (2, '李明', '13800138000', '{T}')"
    ],
    "teams": [f"INSERT INTO teams (id, name, archived, created_at) VALUES ({i}, 'T{i}', false, '{T}')" for i in (1, 2)],
    "team_members": [
        (
            "INSERT INTO team_members (team_id, user_id, is_leader, joined_at, status) "
            f"VALUES (1, 2, true, '{T}', 'active')"
        )
    ],
    "services": [
        (
            "INSERT INTO services (id, name_zh, name_en, team_id, active, position) "
            f"VALUES ({i}, 'S{i}', 'S{i}', 1, true, {i})"
        )
        for i in (1, 2)
    ],
    "requests": [
        "INSERT INTO requests (id, number, resident_id, service_id, team_id, description, area, address, phone, "
        f"window_start, window_end, status, created_at, updated_at) VALUES ({i}, '2026-000{i}', 1, 1, 1, '买药', "
        f"'幸福小区', '幸福路 3 号', '13912345678', '{T}', '{T}', 'open', '{T}', '{T}')"
        for i in (1, 2, 3)
    ],
    "request_events": [
        f"INSERT INTO request_events (request_id, actor_id, kind, created_at) VALUES ({i}, 1, 'placed', '{T}')"
        for i in (1, 2, 3)
    ],
    "ledger_entries": [
        (
            "INSERT INTO ledger_entries (volunteer_id, minutes, points, kind, request_id, created_at) "
            f"VALUES (2, 60, 10, 'service', 1, '{T}')"
        )
    ],
    "shop_items": [
        f"INSERT INTO shop_items (name, price, stock, active, created_at) VALUES ('毛巾', 5, 10, true, '{T}')"
    ],
}


def _migrate(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)


async def _counts(url: str) -> dict[str, int]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in ROWS}
    finally:
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
        return
    if not databases.PG_URL:
        pytest.skip(databases.SKIP_REASON)
    name = await databases.create_empty_pg_database()
    try:
        yield databases.pg_url(name)
    finally:
        await databases.drop_pg_database(name)


async def test_upgrading_a_populated_station_keeps_everything(empty_url):
    await asyncio.to_thread(_migrate, empty_url, "0008_multi")  # the schema before the county tree
    engine = create_async_engine(empty_url)
    async with engine.begin() as conn:
        for statements in ROWS.values():
            for sql in statements:
                await conn.execute(text(sql))
    await engine.dispose()
    before = await _counts(empty_url)
    assert all(before.values())

    await upgrade(empty_url)

    assert await _counts(empty_url) == before
    engine = create_async_engine(empty_url)
    try:
        async with engine.connect() as conn:
            nodes = (await conn.execute(text("SELECT id, kind, parent_id FROM org_nodes ORDER BY id"))).all()
            assert [(kind, parent) for _id, kind, parent in nodes] == [("centre", None), ("station", nodes[0][0])]
            station = nodes[1][0]
            for table, column in (
                ("teams", "node_id"),
                ("users", "station_id"),
                ("requests", "station_id"),
                ("shop_items", "node_id"),
            ):
                values = (await conn.execute(text(f"SELECT DISTINCT {column} FROM {table}"))).scalars().all()
                assert values == [station], (table, values)
            coordinators = (await conn.execute(text("SELECT id, coord_node_id FROM users WHERE is_coordinator"))).all()
            assert coordinators == [(3, None)]  # the 中心's: everything, as before
            kept = (await conn.execute(text("SELECT address, phone FROM requests WHERE id = 1"))).one()
            assert tuple(kept) == ("幸福路 3 号", "13912345678")
    finally:
        await engine.dispose()
