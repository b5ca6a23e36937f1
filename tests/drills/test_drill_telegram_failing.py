"""Drill 4, Telegram failing: 429 with retry_after, 5xx, answers slower than the bot's timeout, a Bot API
that is down for a minute (the app clock is moved, nothing really waits a minute), and a user who
blocked the bot. Everything owed is delivered once Telegram answers again; the 403 is recorded and shown
to the coordinators in /pending; only a timed-out send that Telegram did carry out arrives twice."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import select

from storage.models import OutboxMessage, Request, User
from tests.drills.common import Bots, place_direct, seed_people
from tests.helpers import Station


async def outbox_rows(app) -> list[OutboxMessage]:
    async with app.db.read() as s:
        return list((await s.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())


async def drain(app, clock, step: float = 61.0, timeout: float = 20.0) -> None:
    """Move the app clock past the sender's waits until nothing is pending."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while await app.sender.pending():
        assert loop.time() < deadline, [(r.id, r.status, r.attempts, r.error) for r in await outbox_rows(app)]
        clock.advance(seconds=step)
        app.sender.wake.set()
        await asyncio.sleep(0.05)


def received(fake, chat_id: int, text: str) -> int:
    """How many times the bot's sendMessage with this text reached this chat successfully."""
    return sum(1 for m in fake.bot_messages(chat_id) if (m.versions[0].text or "") == text)


async def test_telegram_failing_everything_owed_arrives(fake, clock, db_url):
    bots = Bots(fake, clock)
    app = await bots.polling(db_url, timeout=1.0)
    try:
        admin = fake.user("Wang", language_code="en")
        vols = [fake.user(f"V{i}", language_code="en") for i in range(3)]
        residents = [fake.user(f"R{i}", language_code="zh-hans") for i in range(10)]
        group = fake.group("Team 1", members=[admin, *vols])
        for user in [admin, *vols, *residents]:
            user.started = True
        await seed_people(app, admin=admin, group=group, volunteers=vols)
        st = Station(fake)
        placed: list[Request] = []

        # 429 with retry_after and 5xx on sends and edits.
        fake.fail("sendMessage", 429, retry_after=3, times=3)
        fake.fail("sendMessage", 500, times=2)
        fake.fail("sendMessage", 502, times=2)
        fake.fail("editMessageText", 429, retry_after=1, times=1)
        fake.fail("editMessageText", 503, times=1)
        for r in residents[:3]:
            placed.append(await place_direct(app, r, f"Help {r.first_name}"))
        await drain(app, clock)
        card = await fake.wait_message(group, contains=placed[0].number)
        assert "You took" in (await st.tap(vols[0], card, "🙋")).text
        await drain(app, clock)
        await fake.wait_message(group, contains="Vol000", after=card.message_id - 1)

        # Answers slower than the bot's 1 s timeout: Telegram did send, the bot does not know it.
        fake.delay(2.5, "sendMessage", times=2)
        for r in residents[3:5]:
            placed.append(await place_direct(app, r, f"Help {r.first_name}"))
        await drain(app, clock, step=5)
        await fake.wait_idle(quiet=0.2, timeout=10)

        # Down for a minute (of the app clock): the requests are saved, nothing can be sent.
        fake.set_down(True)
        for r in residents[5:8]:
            placed.append(await place_direct(app, r, f"Help {r.first_name}"))
        for _ in range(6):  # the sender keeps trying through the outage, backing off
            clock.advance(seconds=10)
            app.sender.wake.set()
            await asyncio.sleep(0.05)
        assert await app.sender.pending() >= 6
        fake.set_down(False)
        await drain(app, clock)
        # Polling comes back by itself: a tap after the outage is answered.
        card = await fake.wait_message(group, contains=placed[6].number, timeout=10)
        answer = await st.tap(vols[1], card, "🙋")
        assert "You took" in answer.text
        await drain(app, clock)

        # 403: a resident blocked the bot. The claim stands; the failure is recorded and shown.
        blocked = residents[8]
        req = await place_direct(app, blocked, "Help the one who blocked")
        placed.append(req)
        await drain(app, clock)
        blocked.block()
        card = await fake.wait_message(group, contains=req.number)
        assert "You took" in (await st.tap(vols[2], card, "🙋")).text
        await drain(app, clock)
        await fake.wait_idle(quiet=0.2)
        async with app.db.read() as s:
            assert (await s.get(User, blocked.id)).blocked_bot is True
            assert (await s.get(Request, req.id)).status == "claimed"
        pending = await st.say(admin, "/pending", "Blocked the bot")
        assert f"id {blocked.id}" in pending.text and "1 not delivered" in pending.text

        rows = await outbox_rows(app)
        failed = [r for r in rows if r.status == "failed"]
        assert [(r.chat_id, "blocked" in (r.error or "")) for r in failed] == [(blocked.id, True)]
        assert all(r.status == "sent" for r in rows if r not in failed)
        # Every sent message reached its chat; the only copies are the timed-out ones Telegram carried out.
        copies = 0
        for row in rows:
            if row.status == "sent" and row.method == "send":
                n = received(fake, row.chat_id, row.text)
                assert n >= 1, (row.id, row.text)
        owed = Counter((r.chat_id, r.text) for r in rows if r.status == "sent" and r.method == "send")
        for (chat_id, text), n in owed.items():
            copies += received(fake, chat_id, text) - n
        print(
            f"\nDRILL telegram-failing: {len(rows)} owed, {len(failed)} blocked, {copies} sent twice "
            f"(answers delayed past the timeout: 2)"
        )
        assert copies <= 2
    finally:
        await bots.close()
