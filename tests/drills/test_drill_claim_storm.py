"""Drill 1, claim storm: 100 volunteers tap one card at the same moment, round after round, on SQLite,
on PostgreSQL, and with two bot processes (two Apps, as two webhook workers) sharing one PostgreSQL
database. Every round: exactly one winner, every tap answered, the card edited once.

Size: DRILL_STORM_VOLUNTEERS (100) and DRILL_STORM_ROUNDS (50). The group's message limit is raised for the
drill (OUTBOX_GROUP_PER_MINUTE): 50 cards and 50 edits in a few minutes would otherwise wait on Telegram's 20 a
minute, which the outbox tests and the benchmark's broadcast check; this drill is about the claims."""

from __future__ import annotations

import asyncio
import random

from sqlalchemy import func, select

from storage.models import Request, RequestEvent
from tests.drills.common import Bots, drop_pg_database, fresh_pg_database, place_direct, seed_people, size

VOLUNTEERS = size("STORM_VOLUNTEERS", 100)
ROUNDS = size("STORM_ROUNDS", 50)
UNPACED = {"outbox_group_per_minute": 1000}


async def storm(fake, bots: Bots, apps, feed: bool) -> None:
    admin = fake.user("Wang", language_code="en")
    vols = [fake.user(f"V{i}", language_code="en") for i in range(VOLUNTEERS)]
    residents = [fake.user(f"R{i}", language_code="en") for i in range(ROUNDS)]
    group = fake.group("Team 1", members=[admin, *vols])
    for user in [admin, *vols, *residents]:
        user.started = True  # they have a private chat with the bot
    app = apps[0]
    await seed_people(app, admin=admin, group=group, volunteers=vols)
    rng = random.Random(5)
    for round_no in range(ROUNDS):
        req = await place_direct(app, residents[round_no], f"Round {round_no}: carry rice upstairs")
        card = await fake.wait_message(group, contains=req.number, timeout=30)
        tappers = vols[:]
        rng.shuffle(tappers)
        queries = [await v.tap(card, "🙋") for v in tappers]  # all queued before any is handled
        if feed:  # two workers, each gets about half of the taps, all handled at once
            updates = bots.take_queued()
            await asyncio.gather(*(bots.feed(apps[i % len(apps)], u) for i, u in enumerate(updates)))
        answers = await asyncio.gather(*(fake.answer(q, timeout=30) for q in queries))
        texts = [a.text or "" for a in answers]
        winners = [v for v, t in zip(tappers, texts, strict=True) if "You took" in t]
        losers = [t for t in texts if "already been taken" in t]
        assert len(winners) == 1 and len(losers) == VOLUNTEERS - 1, (round_no, sorted(set(texts)))
        await fake.wait_message(group, contains="Vol", after=card.message_id - 1, timeout=30)
        await fake.wait_idle(quiet=0.05, timeout=30)
        async with app.db.read() as s:
            row = (await s.execute(select(Request).where(Request.id == req.id))).scalar_one()
            claims = (
                await s.execute(
                    select(func.count())
                    .select_from(RequestEvent)
                    .where(RequestEvent.request_id == req.id, RequestEvent.kind == "claimed")
                )
            ).scalar()
        assert row.status == "claimed" and row.claimer_id == winners[0].id and claims == 1
        [now] = [m for m in fake.bot_messages(group) if m.message_id == card.message_id]
        assert len(now.edits) == 1 and not now.buttons, (round_no, len(now.edits))
        details = [v for v in vols if any(req.number in m.text for m in fake.bot_messages(v))]
        assert details == [winners[0]]
    # Every tap of every round got exactly one answer.
    answered = fake.calls_to("answerCallbackQuery")
    assert len(answered) == len({str(p["callback_query_id"]) for p in answered}) == ROUNDS * VOLUNTEERS


async def test_claim_storm(fake, clock, db_url):
    """On SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (the db_url fixture runs it on both)."""
    bots = Bots(fake, clock)
    try:
        await storm(fake, bots, [await bots.polling(db_url, **UNPACED)], feed=False)
    finally:
        await bots.close()


async def test_claim_storm_two_processes_one_postgres(fake, clock):
    url, name = await fresh_pg_database()
    bots = Bots(fake, clock)
    try:
        first = await bots.fed(url, **UNPACED)
        second = await bots.fed(url, **UNPACED)
        await storm(fake, bots, [first, second], feed=True)
    finally:
        await bots.close()
        await drop_pg_database(name)
