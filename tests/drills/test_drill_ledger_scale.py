"""Drill 6, ledger scale: /me and rankings on a ledger of 1,000,000 entries: answered through indexes, figures exact.

Size: DRILL_LEDGER_ROWS (1,000,000; `DRILL_LEDGER_ROWS=100000` for a quick run)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text

from bot.ledger import ranking
from bot.ledger import service as ledger
from storage.db import Database
from tests import databases
from tests.drills.common import size

VOLUNTEERS = 2000
ROWS = size("LEDGER_ROWS", 1_000_000)


async def test_me_and_rank_use_indexes_on_a_million_entries(tmp_path, tmp_path_factory):
    # SQLite's own query plan and date functions: this test is about the embedded default, so it runs there only
    db_url = await databases.sqlite_database(tmp_path / "big.db", tmp_path_factory.getbasetemp())
    db = Database(db_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :v) "
                    "INSERT INTO users (id, full_name, locale, is_admin, is_coordinator, blocked_bot, created_at) "
                    "SELECT i, 'v' || i, 'en', 0, 0, 0, '2025-01-01 00:00:00' FROM n"
                ),
                {"v": VOLUNTEERS},
            )
            await conn.execute(
                text(
                    "INSERT INTO volunteers (user_id, name, phone, registered_at, skills, show_in_rank, share_stars, "
                    "star_level) SELECT id, full_name, '13800000000', created_at, '', 1, 0, 0 FROM users"
                )
            )
            # entry i: volunteer i % V + 1, 30 minutes, 5 points, one every 30 s from 2025-12-01 (about a year)
            await conn.execute(
                text(
                    "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :r - 1) "
                    "INSERT INTO ledger_entries (volunteer_id, minutes, points, kind, created_at) "
                    "SELECT i % :v + 1, 30, 5, 'service', datetime('2025-12-01', '+' || (i * 30) || ' seconds') FROM n"
                ),
                {"r": ROWS, "v": VOLUNTEERS},
            )
        month_start = datetime(2026, 11, 1, tzinfo=timezone.utc)
        year_start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        async with db.read() as s:
            query = ledger.summary_query(7, month_start, year_start)
            compiled = query.compile(dialect=s.bind.dialect, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(r[-1]) for r in (await s.execute(text(f"EXPLAIN QUERY PLAN {compiled}"))).all())
            assert "SEARCH ledger_entries USING INDEX" in plan, plan  # never a scan of the whole ledger
            summary = await ledger.summary(s, 7, month_start, year_start)
            expected = (
                await s.execute(
                    text(
                        "SELECT count(*), sum(created_at >= '2026-11-01'), sum(created_at >= '2026-01-01') "
                        "FROM ledger_entries WHERE volunteer_id = 7"
                    )
                )
            ).one()
            assert summary.totals == ledger.Totals(expected[0] * 30, expected[0] * 5)
            assert (summary.month_services, summary.month_minutes) == (expected[1], expected[1] * 30)
            assert (summary.year_services, summary.year_minutes) == (expected[2], expected[2] * 30)

            start, end = datetime(2026, 11, 1, tzinfo=timezone.utc), datetime(2026, 12, 1, tzinfo=timezone.utc)
            rows = await ranking.top(s, start, end)
            assert len(rows) == ranking.TOP and rows[0].minutes >= rows[-1].minutes > 0
    finally:
        await db.dispose()
