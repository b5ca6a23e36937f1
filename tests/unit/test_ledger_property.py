"""Reconciliation: after any sequence of approvals, corrections and point debits/refunds, each volunteer's
totals equal the sum of his entries and an independent model; star levels are congratulated once each."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.ledger import stars
from storage.db import Database
from storage.models import Base, LedgerEntry, User, Volunteer

VOLUNTEERS = (1, 2, 3)
RATE = 10


class Recorder:
    def __init__(self):
        self.stars: list[tuple[int, int]] = []

    async def star_reached(self, s, volunteer, level, chats):
        self.stars.append((volunteer.user_id, level))


op = st.one_of(
    st.tuples(st.just("approve"), st.sampled_from(VOLUNTEERS), st.integers(1, 24 * 10)),  # half hours, big steps
    st.tuples(st.just("correct"), st.integers(0, 1000), st.integers(0, 24)),
    st.tuples(st.just("recorrect"), st.integers(0, 1000), st.integers(0, 24)),
    st.tuples(st.just("redeem"), st.sampled_from(VOLUNTEERS), st.integers(1, 500)),
    st.tuples(st.just("refund"), st.sampled_from(VOLUNTEERS), st.integers(1, 500)),
)


async def _fresh(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    async with db.tx() as s:
        await s.execute(delete(LedgerEntry))
        for vid in VOLUNTEERS:
            if await s.get(User, vid) is None:
                s.add(
                    User(
                        id=vid,
                        full_name=f"v{vid}",
                        locale="en",
                        is_admin=False,
                        is_coordinator=False,
                        blocked_bot=False,
                        created_at=now,
                    )
                )
                await s.flush()
                s.add(Volunteer(user_id=vid, name=f"v{vid}", phone="13800000000", registered_at=now))
        await s.execute(update(Volunteer).values(star_level=0))


async def scenario(db: Database, ops) -> None:
    await _fresh(db)
    model = {vid: [0, 0] for vid in VOLUNTEERS}
    live: list[tuple[int, int, int, int]] = []  # (entry id, volunteer, minutes, points) not reversed
    dead: list[int] = []  # reversed entries
    best = {vid: 0 for vid in VOLUNTEERS}
    expected_stars = []
    rec = Recorder()
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    for kind, a, b in ops:
        now += timedelta(minutes=5)
        async with db.tx() as s:
            if kind == "approve":
                entry = ledger.add_service(
                    s, volunteer_id=a, minutes=b * 30, points_per_hour=RATE, request_id=None, approved_by=99, now=now
                )
                await s.flush()
                live.append((entry.id, a, entry.minutes, entry.points))
                model[a][0] += b * 30
                model[a][1] += ledger.points_for(b * 30, RATE)
                await stars.after_credit(s, rec, a, now)
                vid = a
            elif kind == "correct" and live:
                entry_id, vid, minutes, points = live.pop(a % len(live))
                _, fixed = await ledger.correct(
                    s, entry_id=entry_id, minutes=b * 30, reason="fix", actor_id=99, points_per_hour=RATE, now=now
                )
                live.append((fixed.id, vid, fixed.minutes, fixed.points))
                dead.append(entry_id)
                model[vid][0] += b * 30 - minutes
                model[vid][1] += ledger.points_for(b * 30, RATE) - points
                await stars.after_credit(s, rec, vid, now)
            elif kind == "recorrect" and dead:
                with pytest.raises(DomainError):
                    await ledger.correct(
                        s,
                        entry_id=dead[a % len(dead)],
                        minutes=b * 30,
                        reason="again",
                        actor_id=99,
                        points_per_hour=RATE,
                        now=now,
                    )
                continue
            elif kind in ("redeem", "refund"):
                points = -b if kind == "redeem" else b
                ledger.add_points(s, volunteer_id=a, points=points, kind=kind, approved_by=None, now=now)
                model[a][1] += points
                continue
            else:
                continue
        level = stars.level_for(model[vid][0])
        if level > best[vid]:
            best[vid] = level
            expected_stars.append((vid, level))

    async with db.read() as s:
        entries = (await s.execute(select(LedgerEntry))).scalars().all()
        everyone = await ledger.all_totals(s)
        for vid in VOLUNTEERS:
            mine = [e for e in entries if e.volunteer_id == vid]
            total = await ledger.totals(s, vid)
            assert (total.minutes, total.points) == (sum(e.minutes for e in mine), sum(e.points for e in mine))
            assert [total.minutes, total.points] == model[vid]
            assert everyone.get(vid, ledger.Totals(0, 0)) == total
            assert (await s.get(Volunteer, vid)).star_level == best[vid]
        # every reversal cancels its entry exactly, and is followed by its correction
        by_id = {e.id: e for e in entries}
        for e in entries:
            if e.kind == "reversal":
                old = by_id[e.reverses_id]
                assert (e.minutes, e.points, e.volunteer_id) == (-old.minutes, -old.points, old.volunteer_id)
                assert by_id[e.id + 1].kind == "correction" and by_id[e.id + 1].reason == e.reason
        assert sum(1 for e in entries if e.kind == "reversal") == len(dead)
    assert rec.stars == expected_stars


@pytest.fixture(scope="module")
def prop_db(tmp_path_factory):
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('prop')}/p.db"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(op, min_size=1, max_size=80))
def test_totals_reconcile_with_entries_and_model(prop_db, ops):
    async def run():
        db = Database(prop_db)
        try:
            await scenario(db, ops)
        finally:
            await db.dispose()

    asyncio.run(run())
