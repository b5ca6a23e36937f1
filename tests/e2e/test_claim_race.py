"""接单 race: many volunteers tap the same card at the same moment; exactly one wins."""

import asyncio

from sqlalchemy import event, func, select

from bot.people import service as people
from storage.db import POOL_OVERFLOW, POOL_RESERVE
from storage.models import Request, RequestEvent, User
from tests.helpers import Station


async def seed_volunteers(app, fakes, team_id: int) -> None:
    """Register volunteers straight in the database (registration itself is tested elsewhere)."""
    async with app.db.tx() as s:
        for i, f in enumerate(fakes):
            s.add(
                User(
                    id=f.id,
                    full_name=f.first_name,
                    username=None,
                    locale="en",
                    is_admin=False,
                    is_coordinator=False,
                    blocked_bot=False,
                    created_at=app.clock.now(),
                )
            )
            await s.flush()
            user = await s.get(User, f.id)
            await people.register_volunteer(
                s, user, name=f"Vol{i:02d}", phone=f"1380013{i:04d}", team_ids=[team_id], now=app.clock.now()
            )


async def test_twenty_volunteers_tap_at_once_one_wins(fake, start_app):
    admin = fake.user("Wang", language_code="en")
    res = fake.user("Zhao", language_code="en")
    vols = [fake.user(f"V{i}", language_code="en") for i in range(20)]
    group = fake.group("Team 1", members=[admin, *vols])
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "Hello")
    await st.say(admin, "/bind 1", "receives the requests", chat=group)
    await seed_volunteers(app, vols, team_id=1)
    for v in vols:
        await v.send("/start")
    number = await st.place(
        res,
        "Help for the elderly",
        "Carry rice upstairs",
        "Xingfu compound",
        address="Building 7, Room 101",
        phone="13700137000",
    )
    card = await fake.wait_message(group, contains=number)

    queries = [await v.tap(card, "🙋") for v in vols]  # all queued before the bot fetches any
    answers = await asyncio.gather(*(fake.answer(q, timeout=15) for q in queries))

    winners = [a for a in answers if "You took" in (a.text or "")]
    losers = [a for a in answers if "already been taken" in (a.text or "")]
    assert len(winners) == 1 and len(losers) == 19, [a.text for a in answers]
    await fake.wait_idle()
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
        claims = (
            await s.execute(
                select(func.count())
                .select_from(RequestEvent)
                .where(RequestEvent.request_id == req.id, RequestEvent.kind == "claimed")
            )
        ).scalar()
    assert req.status == "claimed" and claims == 1
    winner = next(v for v, a in zip(vols, answers, strict=True) if "You took" in (a.text or ""))
    assert req.claimer_id == winner.id
    # The card was edited exactly once, to name the winner, and lost its button.
    [card_now] = [m for m in fake.bot_messages(group) if m.message_id == card.message_id]
    assert "Vol" in card_now.text and not card_now.buttons
    assert len(card_now.edits) == 1
    # Only the winner received the private details.
    got_details = [v for v in vols if any("Building 7" in m.text for m in fake.bot_messages(v))]
    assert got_details == [winner]


async def test_a_burst_larger_than_the_database_pool_is_answered_in_full(fake, start_app):
    """Sixty volunteers tap one card at once, in a process that handles two updates at a time (UPDATES_AT_ONCE=2):
    every tap is answered, one wins and the others are told it is taken, none gets the apology; the updates waiting
    their turn hold no database connection, so the pool (two, the reserve and the overflow) never runs dry. Before,
    every update of a burst asked the pool at once: it ran dry at once, and on a busy machine the updates still
    waiting for a connection after 30 s failed."""
    admin = fake.user("Wang", language_code="en")
    res = fake.user("Zhao", language_code="en")
    vols = [fake.user(f"V{i}", language_code="en") for i in range(60)]
    group = fake.group("Team 1", members=[admin, *vols])
    app = await start_app(admin_ids=[admin.id], updates_at_once=2)
    in_use: list[int] = []
    pool = app.db.engine.sync_engine.pool
    event.listen(pool, "checkout", lambda *_: in_use.append(pool.checkedout()))  # type: ignore[attr-defined]
    st = Station(fake)
    await st.say(admin, "/start", "Hello")
    await st.say(admin, "/bind 1", "receives the requests", chat=group)
    await seed_volunteers(app, vols, team_id=1)
    number = await st.place(res, "Help for the elderly", "Carry rice upstairs", "Xingfu compound", address="Room 1")
    card = await fake.wait_message(group, contains=number)

    queries = [await v.tap(card, "🙋") for v in vols]  # all queued before the bot fetches any
    answers = await asyncio.gather(*(fake.answer(q) for q in queries))

    texts = [a.text or "" for a in answers]
    assert sum("You took" in t for t in texts) == 1
    assert sum("already been taken" in t for t in texts) == 59, texts
    # the outbox sender's deliveries also take connections (each records its message): room, not a fixed count
    assert max(in_use) < 2 + POOL_RESERVE + POOL_OVERFLOW, max(in_use)
