"""Ledger services without Telegram: star thresholds, races on disputes and congratulations, kinds."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.core.errors import DomainError
from bot.ledger import disputes, ranking, stars
from bot.ledger import service as ledger
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Dispute, LedgerEntry, User, Volunteer

NOW = datetime(2026, 11, 23, 4, tzinfo=timezone.utc)
VOL, COORD_A, COORD_B = 1, 2, 3


class Recorder:
    def __init__(self):
        self.stars, self.opened, self.resolved = [], [], []

    async def star_reached(self, s, volunteer, level, chats):
        self.stars.append((volunteer.user_id, level))

    async def dispute_opened(self, s, dispute, entry):
        self.opened.append(dispute.id)

    async def dispute_resolved(self, s, dispute, entry, fixed):
        self.resolved.append((dispute.id, fixed.minutes if fixed else None))


@pytest.fixture
async def db(db_url):
    await upgrade(db_url)
    database = Database(db_url)
    async with database.tx() as s:
        for uid, coordinator in ((VOL, False), (COORD_A, True), (COORD_B, True)):
            s.add(
                User(
                    id=uid,
                    full_name=f"u{uid}",
                    locale="en",
                    is_admin=False,
                    is_coordinator=coordinator,
                    blocked_bot=False,
                    created_at=NOW,
                )
            )
        await s.flush()
        s.add(Volunteer(user_id=VOL, name="Li", phone="13800000000", registered_at=NOW))
    yield database
    await database.dispose()


def test_thresholds():
    assert [stars.level_for(h * 60) for h in (0, 99, 100, 299, 300, 600, 999, 1000, 1500, 9999)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        3,
        4,
        5,
        5,
    ]
    assert stars.minutes_to_next(99 * 60 + 30) == 30 and stars.minutes_to_next(1500 * 60) is None
    shanghai = ZoneInfo("Asia/Shanghai")
    start, end = ranking.month_bounds(2026, 12, shanghai)
    assert (start, end) == (
        datetime(2026, 11, 30, 16, tzinfo=timezone.utc),
        datetime(2026, 12, 31, 16, tzinfo=timezone.utc),
    )


async def test_two_coordinators_deciding_one_dispute_at_once_change_it_once(db):
    rec = Recorder()
    async with db.tx() as s:
        entry = ledger.add_service(
            s, volunteer_id=VOL, minutes=120, points_per_hour=10, request_id=None, approved_by=COORD_A, now=NOW
        )
        await s.flush()
        dispute = await disputes.open_dispute(
            s, rec, user=await s.get(User, VOL), entry_id=entry.id, text="It was 3 h", now=NOW
        )

    async def decide(actor_id: int, minutes: int):
        async with db.tx() as s:
            actor = await s.get(User, actor_id)
            if minutes:
                await disputes.correct(
                    s,
                    rec,
                    actor=actor,
                    dispute_id=dispute.id,
                    minutes=minutes,
                    reason="ok",
                    points_per_hour=10,
                    now=NOW,
                )
            else:
                await disputes.reject(s, rec, actor=actor, dispute_id=dispute.id, reason="no", now=NOW)

    results = await asyncio.gather(
        decide(COORD_A, 180), decide(COORD_B, 0), decide(COORD_B, 240), return_exceptions=True
    )
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, DomainError) and r.code == "dispute_closed" for r in results if r is not None)
    async with db.read() as s:
        reversals = (await s.execute(select(func.count()).where(LedgerEntry.kind == "reversal"))).scalar_one()
        closed = await s.get(Dispute, dispute.id)
        total = await ledger.totals(s, VOL)
    assert len(rec.resolved) == 1
    fixed = rec.resolved[0][1]
    assert reversals == (1 if fixed else 0) and closed.status == ("corrected" if fixed else "rejected")
    assert total.minutes == (fixed or 120)


async def test_disputes_refuse_points_entries_and_own_decisions(db):
    async with db.tx() as s:
        debit = ledger.add_points(s, volunteer_id=VOL, points=-30, kind="redeem", approved_by=None, now=NOW)
        entry = ledger.add_service(
            s, volunteer_id=VOL, minutes=60, points_per_hour=10, request_id=None, approved_by=COORD_A, now=NOW
        )
        await s.flush()
        volunteer = await s.get(User, VOL)
        with pytest.raises(DomainError, match="ledger_not_disputable"):
            await disputes.own_entry(s, volunteer, debit.id)
        with pytest.raises(DomainError, match="ledger_not_your_entry"):
            await disputes.own_entry(s, await s.get(User, COORD_A), entry.id)
        with pytest.raises(DomainError, match="ledger_not_your_entry"):
            await disputes.own_entry(s, volunteer, 2**70)  # forged, beyond any id
        with pytest.raises(DomainError, match="not_coordinator"):
            await disputes.get_open(s, volunteer, 1)
    with pytest.raises(ValueError):
        ledger.add_points(None, volunteer_id=VOL, points=5, kind="service", approved_by=None, now=NOW)
    async with db.read() as s:
        assert await ledger.totals(s, VOL) == ledger.Totals(60, -20)


async def test_credits_committing_at_once_congratulate_once(db):
    rec = Recorder()

    async def credit():
        async with db.tx() as s:
            ledger.add_service(
                s, volunteer_id=VOL, minutes=60 * 60, points_per_hour=10, request_id=None, approved_by=COORD_A, now=NOW
            )
            await stars.after_credit(s, rec, VOL, NOW)

    await asyncio.gather(*(credit() for _ in range(4)))  # 60 h each: 100 h is crossed by exactly one
    assert rec.stars == [(VOL, 1)]
    async with db.read() as s:
        assert (await s.get(Volunteer, VOL)).star_level == 1
