"""Drill 2, replay: the whole request lifecycle run three times on fresh bots: cleanly, with every update
delivered twice (same update_id, as Telegram does after a lost confirmation), and with updates of
different users' chats reaching the bot out of order (Telegram keeps order only within a chat). The final
state (requests, events, ledger) and the messages every chat received must equal the clean run's."""

from __future__ import annotations

import asyncio
import random
import re
from itertools import pairwise

from sqlalchemy import select

from storage.models import LedgerEntry, Request, RequestEvent, User
from tests.conftest import TOKEN, MovableClock
from tests.drills.common import Bots
from tests.fakegram import FakeTelegram
from tests.helpers import Station, until_summary_en

TEAM = "综合志愿服务队"
NUMBER = re.compile(r"\d{4}-\d{4}")
MAX_HOURS = re.compile(r"at most [\d.]+")  # hours since the window began: depends on the wall clock


def install(fake: FakeTelegram, mode: str, rng: random.Random) -> list[int]:
    """Changes how users' updates reach the queue; returns the order (by sending) they were queued in."""
    push = fake.push_update
    queued: list[int] = []
    sent = iter(range(10**9))

    if mode == "twice":

        def pushed(update, update_id=None):
            update_id = push(update, update_id)
            push(update, update_id)  # the same update again, as a redelivery
            queued.append(update_id)
            return update_id

        fake.push_update = pushed
    elif mode == "shuffled":  # each update waits a random moment: other chats' updates overtake it

        def pushed(update, update_id=None):
            order = next(sent)

            async def later():
                await asyncio.sleep(rng.random() * 0.05)
                push(update, update_id)
                queued.append(order)

            asyncio.get_running_loop().create_task(later())
            return 0

        fake.push_update = pushed
    return queued


async def lifecycle(fake: FakeTelegram, clock: MovableClock, url: str, mode: str) -> tuple[dict, dict]:
    rng = random.Random(7)
    admin = fake.user("Wang", language_code="en", username="wang")
    vols = [fake.user("Li", language_code="en"), fake.user("Zhang", language_code="en")]
    residents = [fake.user("Zhao", language_code="en"), fake.user("Qian", language_code="en")]
    group = fake.group("Team 1", members=[admin, *vols])
    bots = Bots(fake, clock)
    app = await bots.polling(url, admin_ids=[admin.id])
    try:
        st = Station(fake)
        queued = install(fake, mode, rng)
        await st.say(admin, "/start", "Hello")
        await st.say(admin, "/bind 1", "receives the requests", chat=group)
        await asyncio.gather(
            *(
                st.register(v, f"{v.first_name} Ming", f"1380013800{i}", [TEAM], done="Done", prompt_name="name")
                for i, v in enumerate(vols)
            )
        )
        needs = ["Carry rice upstairs", "Read the letters aloud"]

        async def place(res, need):
            summary = await until_summary_en(st, res, "Help for the elderly", need, "Xingfu compound")
            before = len(fake.bot_messages(res))
            await fake.answer(await res.tap(summary, "✅"))
            return (await fake.wait_message(res, contains="#", after=before)).text.split("#", 1)[1].split()[0]

        numbers = await asyncio.gather(*(place(r, n) for r, n in zip(residents, needs, strict=True)))

        async def serve(vol, res, number, hours: str, stars: str):
            card = await fake.wait_message(group, contains=number)
            await st.tap(vol, card, "🙋")
            details = await fake.wait_message(vol, contains="You have taken")
            return details

        details = await asyncio.gather(
            *(serve(v, r, n, "", "") for v, r, n in zip(vols, residents, numbers, strict=True))
        )
        clock.advance(days=1, hours=4)

        async def close(vol, res, number, detail, stars):
            await st.tap(vol, detail, "Service done", expect="hours")
            hours = fake.bot_messages(vol)[-1]
            before = len(fake.bot_messages(res))
            asked = len(fake.bot_messages(vol))
            await st.tap(vol, hours, "2 h")
            photos = await fake.wait_message(vol, contains="Skip", after=asked)
            await st.tap(vol, photos, "Skip")  # no photos of the service
            rate = await fake.wait_message(res, contains=number, after=before)
            await st.tap(res, rate, stars, expect="comment")
            await st.say(res, "/skip", "")

        await asyncio.gather(
            *(
                close(v, r, n, d, s)
                for v, r, n, d, s in zip(vols, residents, numbers, details, ["⭐⭐⭐⭐⭐", "⭐⭐⭐⭐"], strict=True)
            )
        )
        for number in numbers:
            approve = await fake.wait_message(admin, contains=number)
            await st.tap(admin, approve, "Approve hours")
        for vol in vols:
            await fake.wait_message(vol, contains="+20")
        await fake.wait_idle(quiet=0.3, timeout=15)
        if mode == "shuffled":  # the drill drills something only if some updates did overtake others
            assert any(a > b for a, b in pairwise(queued)), "no update was overtaken"
        if mode == "twice":
            assert len(queued) > 30
        return await state(app), transcript(fake, [admin, *vols, *residents, group], ordered=[*vols, *residents])
    finally:
        await bots.close()


async def state(app) -> dict:
    async with app.db.read() as s:
        names = {u.id: u.full_name for u in (await s.execute(select(User))).scalars()}
        reqs = {r.id: r for r in (await s.execute(select(Request))).scalars()}
        events = (await s.execute(select(RequestEvent))).scalars().all()
        ledger = (await s.execute(select(LedgerEntry))).scalars().all()
    return {
        "requests": sorted(
            (r.description, r.status, names.get(r.claimer_id), r.rating, r.reported_minutes, r.approved_minutes)
            for r in reqs.values()
        ),
        "events": sorted((reqs[e.request_id].description, e.kind, names.get(e.actor_id)) for e in events),
        "ledger": sorted(
            (names[e.volunteer_id], e.minutes, e.points, e.kind, reqs[e.request_id].description) for e in ledger
        ),
    }


def transcript(fake: FakeTelegram, chats: list, ordered: list) -> dict:
    """What each chat received from the bot: every version of every message, numbers (and the wall-clock
    dependent maximum of hours) blanked out.
    Private chats of one person must match in order; shared chats (group, coordinator) as a multiset,
    since two residents' requests may legitimately interleave there."""
    out = {}
    for chat in chats:
        seen = [
            (MAX_HOURS.sub("at most H", NUMBER.sub("N", v.text or "")), tuple(m.buttons))
            for m in fake.bot_messages(chat)
            for v in m.versions
        ]
        name = getattr(chat, "first_name", None) or chat.title
        out[name] = seen if chat in ordered else sorted(seen)
    return out


async def run(mode: str, tmp_path) -> tuple[dict, dict]:
    async with FakeTelegram(token=TOKEN) as fake:
        return await lifecycle(fake, MovableClock(), f"sqlite+aiosqlite:///{tmp_path}/{mode}.db", mode)


async def test_replayed_and_reordered_updates_end_as_a_clean_run(tmp_path):
    clean_state, clean_talk = await run("clean", tmp_path)
    assert [r[1] for r in clean_state["requests"]] == ["approved", "approved"]
    assert len(clean_state["ledger"]) == 2
    for mode in ("twice", "shuffled"):
        got_state, got_talk = await run(mode, tmp_path)
        assert got_state == clean_state, mode
        for chat, lines in clean_talk.items():
            assert got_talk[chat] == lines, (mode, chat)
