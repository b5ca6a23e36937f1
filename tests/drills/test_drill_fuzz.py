"""Drill 5, fuzz: hypothesis makes thousands of messages and callback payloads (text from every Unicode
plane, overlong strings, forged callback data with the bot's real prefixes, wrong types) that strangers
send to the running bot, in batches. No unhandled exception, no state change from a forged button, every
callback query answered and every private message answered.

Size: DRILL_FUZZ_COUNT payloads: 10,000, the issue's size (about 2 minutes per database on 2 cores);
`DRILL_FUZZ_COUNT=2000` for a quick run."""

from __future__ import annotations

import logging

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import LedgerEntry, OutboxMessage, Request, RequestEvent, TeamChat, TeamMember, Volunteer
from tests.drills.common import Bots, place_direct, seed_people, size

COUNT = size("FUZZ_COUNT", 10_000)
PREFIXES = ["c1", "t1", "r1", "a1", "v1", "x1", "o1", "p1", "h1"]
WORDS = [
    "ok",
    "fix",
    "go",
    "move",
    "to",
    "reject",
    "ask",
    "yes",
    "no",
    "svc",
    "day",
    "slot",
    "skip",
    "confirm",
    "edit",
    "done",
    "release",
    "1",
    "0",
    "-1",
    "",
    "None",
    "true",
    "1.5",
    "1e9",
]
COMMANDS = [
    "/start",
    "/help",
    "/my",
    "/claims",
    "/pending",
    "/history",
    "/cancelreq",
    "/cancel",
    "/bind",
    "/unbind",
    "/review",
    "/teams",
    "/newteam",
    "/services",
    "/service_add",
    "/service_team",
    "/service_off",
    "/coordinator_add",
    "/whoami",
    "/request",
    "/volunteer",
    "/skip",
]

any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=("Cs",))
planes = st.integers(0, 16).flatmap(
    lambda p: st.characters(min_codepoint=max(1, p << 16), max_codepoint=(p << 16) | 0xFFFF, exclude_categories=("Cs",))
)
texts = st.one_of(
    st.text(any_char, min_size=1, max_size=50),
    st.text(planes, min_size=1, max_size=30),
    # Overlong: past Telegram's 4096 and every limit of ours (a repeated random piece: fast to generate).
    st.tuples(st.text(any_char, min_size=1, max_size=20), st.integers(4000, 9000)).map(
        lambda t: (t[0] * (t[1] // len(t[0]) + 1))[: t[1]]
    ),
    st.tuples(st.sampled_from(COMMANDS), st.text(any_char, max_size=40)).map(lambda t: f"{t[0]} {t[1]}".strip()),
)
field = st.one_of(st.integers(-(2**70), 2**70).map(str), st.text(any_char, max_size=12), st.sampled_from(WORDS))
callbacks = st.tuples(st.sampled_from(PREFIXES), st.lists(field, max_size=4)).map(
    lambda t: ":".join([t[0], *t[1]]).encode()[:64].decode("utf-8", "ignore")
)
payloads = st.one_of(
    texts.map(lambda t: ("text", t)),
    callbacks.map(lambda d: ("tap", d)),
    callbacks.map(lambda d: ("tap", d)),
    st.sampled_from(["sticker", "contact", "location", "caption"]).map(lambda k: ("raw", k)),
)


case = st.tuples(payloads, st.integers(0, 9), st.sampled_from(["private", "private", "group"]))


def generate(n: int) -> list[tuple]:
    """n cases, drawn 50 to an example (hypothesis's cost is per example)."""
    out: list[tuple] = []

    @settings(
        max_examples=n // 50 + 1,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(batch=st.lists(case, min_size=50, max_size=50))
    def collect(batch):
        out.extend(batch)

    collect()
    return out[:n]


async def snapshot(app) -> dict:
    out = {}
    async with app.db.read() as s:
        for model in (Request, RequestEvent, LedgerEntry, Volunteer, TeamMember, TeamChat):
            out[model.__tablename__] = (await s.execute(select(func.count()).select_from(model))).scalar()
        out["requests"] = [
            (r.id, r.status, r.claimer_id, r.rating)
            for r in (await s.execute(select(Request).order_by(Request.id))).scalars()
        ]
        out["outbox_to_others"] = (
            await s.execute(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.chat_id > 0))
        ).scalar()
    return out


RAW = {
    "sticker": {
        "sticker": {
            "file_id": "x",
            "file_unique_id": "y",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    },
    "contact": {"contact": {"phone_number": "+8613800000000", "first_name": "X", "user_id": 1}},
    "location": {"location": {"latitude": 31.2, "longitude": 121.5}},
    "caption": {"photo": [{"file_id": "p", "file_unique_id": "q", "width": 1, "height": 1}], "caption": "/start"},
}


async def test_fuzz_messages_and_forged_buttons(fake, clock, db_url, caplog):
    caplog.set_level(logging.WARNING)
    bots = Bots(fake, clock)
    app = await bots.polling(db_url)
    try:
        admin = fake.user("Wang", language_code="en")
        vol = fake.user("Li", language_code="en")
        resident = fake.user("Zhao", language_code="en")
        strangers = [fake.user(f"S{i}", language_code=["en", "zh-hans", None][i % 3]) for i in range(10)]
        group = fake.group("Team 1", members=[admin, vol, *strangers])
        for user in [admin, vol, resident, *strangers]:
            user.started = True
        await seed_people(app, admin=admin, group=group, volunteers=[vol])
        for i in range(3):
            await place_direct(app, resident, f"Need {i}")
        card = await fake.wait_message(group, contains="Need 2")
        anchors = {}
        for s in strangers:  # a bot message in each private chat to tap on
            await s.send("/start")
            anchors[s.id] = await fake.wait_message(s)
        await fake.wait_idle(quiet=0.1)
        before = await snapshot(app)
        cases = generate(COUNT)
        sent_private = {s.id: 0 for s in strangers}
        replies_before = {s.id: len(fake.bot_messages(s)) for s in strangers}
        queries = []
        for start in range(0, len(cases), 500):
            for (kind, value), who, where in cases[start : start + 500]:
                user = strangers[who]
                chat = group if where == "group" else None
                if kind == "tap":
                    queries.append(await user.tap_data(card if chat else anchors[user.id], value))
                elif kind == "text":
                    await user.send(value, chat=chat)
                else:
                    await user.send_raw(RAW[value], chat=chat)
                if chat is None and kind != "tap":
                    sent_private[user.id] += 1
            # Forged taps must all be answered; then the rest settles.
            await fake.pulse.wait_until(lambda: all(q in fake.callback_answers for q in queries), 120)
            await fake.wait_idle(quiet=0.3, timeout=120)
        unanswered = [fake.callback_queries[q]["data"] for q in queries if q not in fake.callback_answers]
        assert unanswered == [], (len(unanswered), unanswered[:10], [r.getMessage() for r in caplog.records][:5])
        for s in strangers:
            got = len(fake.bot_messages(s)) - replies_before[s.id]
            assert got >= sent_private[s.id], (s, got, sent_private[s.id])
        assert await snapshot(app) == before
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors[:5]]
        assert not any("went wrong" in (m.text or "") for s in strangers for m in fake.bot_messages(s))
        print(f"\nDRILL fuzz: {len(cases)} payloads, {len(queries)} forged taps answered, state unchanged")
    finally:
        await bots.close()
