"""Drill 5, fuzz: hypothesis makes thousands of messages and callback payloads (text from every Unicode
plane, overlong strings, forged callback data with every prefix of the bot's buttons, wrong types) that strangers
send to the running bot, in batches. No unhandled exception, no state change from a forged button, no card edited,
nothing private in a group, every callback query answered and every private message answered.

Then every button class, with well-formed data, is forged where it does not belong (bot/ui/scope.py): private-only
buttons on a group's card, group buttons in private chats and in a group bound to no team, by strangers and by a
volunteer: each is refused with the polite alert, and nothing changes, nothing is edited, nothing private reaches a
group.

Size: DRILL_FUZZ_COUNT payloads: 10,000, the issue's size (about 2 minutes per database on 2 cores);
`DRILL_FUZZ_COUNT=2000` for a quick run."""

from __future__ import annotations

import logging
import random
from datetime import time, timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import bot.app  # noqa: F401  (every handler, so every button class, is imported)
from bot.activities import service as activities
from bot.core.dates import to_utc
from bot.people import service as people
from bot.ui import scope
from storage.models import (
    ActivitySignup,
    Dispute,
    LedgerEntry,
    OutboxMessage,
    Redemption,
    Request,
    RequestEvent,
    StationSetting,
    TeamChat,
    TeamMember,
    User,
    Volunteer,
)
from tests.chat import render
from tests.drills.common import Bots, place_direct, seed_people, size

COUNT = size("FUZZ_COUNT", 10_000)
CLASSES = scope.button_classes()
PREFIXES = sorted(CLASSES)  # every button of the bot
ADDRESS, PHONE, VOL_PHONE = "Building 3, Room 402", "13912345678", "13800000000"  # marked private
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
    # the actions of the other buttons
    "in",
    "out",
    "post",
    "close",
    "all",
    "cancel",
    "cancel_yes",
    "cancel_no",
    "page",
    "pick",
    "hand",
    "keep",
    "archive",
    "coming",
    "missed",
    "name",
    "phone",
    "skills",
    "join",
    "jointo",
    "leave",
    "leaveyes",
    "rank",
    "stars",
    "month",
    "year",
    "save",
    "drop",
    "team",
    "title",
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
    "/org",
    "/org_add",
    "/org_rename",
    "/org_move",
    "/org_archive",
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
        for model in (
            Request,
            RequestEvent,
            LedgerEntry,
            Volunteer,
            TeamMember,
            TeamChat,
            ActivitySignup,
            Dispute,
            Redemption,
            StationSetting,
        ):
            out[model.__tablename__] = (await s.execute(select(func.count()).select_from(model))).scalar()
        out["requests"] = [
            (r.id, r.status, r.claimer_id, r.rating)
            for r in (await s.execute(select(Request).order_by(Request.id))).scalars()
        ]
        out["checked_in"] = [
            a.checked_in_at for a in (await s.execute(select(ActivitySignup).order_by(ActivitySignup.id))).scalars()
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


class Station:
    """The drill's station: an admin, a volunteer signed up for tomorrow's activity, ten strangers, three requests
    (one with a private address and phone) and the activity, their cards in the team's group; a group bound to no
    team; a bot message in each private chat and in that group to tap on."""

    async def build(self, fake, app) -> Station:
        self.admin = fake.user("Wang", language_code="en")
        self.vol = fake.user("Li", language_code="en")
        self.resident = fake.user("Zhao", language_code="en")
        self.strangers = [fake.user(f"S{i}", language_code=["en", "zh-hans", None][i % 3]) for i in range(10)]
        self.group = fake.group("Team 1", members=[self.admin, self.vol, *self.strangers])
        self.loose = fake.group("Neighbours", members=[self.vol, *self.strangers])  # bound to no team
        for user in [self.admin, self.vol, self.resident, *self.strangers]:
            user.started = True
        fake.mark_private(ADDRESS, PHONE, VOL_PHONE)
        await seed_people(app, admin=self.admin, group=self.group, volunteers=[self.vol])
        for i in range(3):
            await place_direct(app, self.resident, f"Need {i}", address=ADDRESS, phone=PHONE)
        self.card = await fake.wait_message(self.group, contains="Need 2")
        day = app.clock.now().astimezone(app.settings.tz).date() + timedelta(days=1)
        async with app.db.tx() as s:
            draft = activities.Draft(
                title="Visit the elderly home",
                theme="",
                place="Xingfu home",
                capacity=5,
                team_id=1,
                starts_at=to_utc(day, time(14), app.settings.tz),
                ends_at=to_utc(day, time(16), app.settings.tz),
                signup_deadline=None,
            )
            admin = await s.get(User, self.admin.id)
            self.act = await activities.publish(
                s,
                app.notices.activities,
                actor=admin,
                draft=draft,
                chats=await people.team_chats(s, 1),
                now=app.clock.now(),
                year=day.year,
            )
            await activities.sign_up(
                s,
                app.notices.activities,
                activity_id=self.act.id,
                user_id=self.vol.id,
                chat_team_id=1,
                now=app.clock.now(),
            )
        self.act_card = await fake.wait_message(self.group, contains=self.act.number)
        self.anchors = {}
        for user in [self.vol, *self.strangers]:
            await user.send("/start")
            self.anchors[user.id] = await fake.wait_message(user)
        await self.strangers[0].send("/whoami", chat=self.loose)
        self.loose_anchor = await fake.wait_message(self.loose)
        await fake.wait_idle(quiet=0.1)
        return self

    def edits(self, fake) -> int:
        """Edits of every bot message in the drill's chats."""
        chats = [self.group, self.loose, self.vol, *self.strangers]
        return sum(len(m.edits) for chat in chats for m in fake.bot_messages(chat))


async def test_fuzz_messages_and_forged_buttons(fake, clock, db_url, caplog):
    caplog.set_level(logging.WARNING)
    bots = Bots(fake, clock)
    app = await bots.polling(db_url)
    try:
        st = await Station().build(fake, app)
        strangers, group, card, anchors = st.strangers, st.group, st.card, st.anchors
        before = await snapshot(app)
        group_edits = sum(len(m.edits) for m in fake.bot_messages(group))
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
        assert sum(len(m.edits) for m in fake.bot_messages(group)) == group_edits  # no card edited
        assert fake.group_leaks() == []
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors[:5]]
        assert not any("went wrong" in (m.text or "") for s in strangers for m in fake.bot_messages(s))
        print(f"\nDRILL fuzz: {len(cases)} payloads, {len(queries)} forged taps answered, state unchanged")
    finally:
        await bots.close()


def well_formed(rng: random.Random, ints: list[int], per_scope: int) -> list[tuple[str, scope.Scope]]:
    """Data every button class reads, `per_scope` times for each of its scopes, with real ids among `ints`."""
    out = []
    words = [w for w in WORDS if w]
    for cls in CLASSES.values():
        declared = scope.declared(cls)
        assert declared is not None, cls  # tests/unit/test_button_scopes.py says which
        entries = [(None, declared)] if isinstance(declared, scope.Scope) else list(declared.items())
        for action, where in entries:
            for _ in range(per_scope):
                values = {
                    name: action
                    if name == "action" and action is not None
                    else rng.choice(ints)
                    if info.annotation is int
                    else rng.choice(words)
                    for name, info in cls.model_fields.items()
                }
                out.append((cls(**values).pack(), where))
    return out


async def test_fuzz_buttons_forged_in_the_wrong_chat(fake, clock, db_url, caplog):
    """Private-only buttons on the group's cards and in a group bound to no team; group buttons in private chats
    and in that group; during the activity's check-in window, by strangers and by the signed-up volunteer."""
    caplog.set_level(logging.WARNING)
    bots = Bots(fake, clock)
    app = await bots.polling(db_url)
    try:
        st = await Station().build(fake, app)
        clock.offset += st.act.starts_at - timedelta(minutes=10) - clock.now()  # check-in is open
        before = await snapshot(app)
        edits = st.edits(fake)
        rng = random.Random(12)
        ints = [1, 2, 3, st.act.id, st.vol.id, st.admin.id, st.strangers[0].id]
        refusals = {
            key: {render(app, key, "en"), render(app, key, "zh_Hans")} for key in ("button_private", "button_group")
        }
        expected: dict[str, set[str] | None] = {}
        for data, where in well_formed(rng, ints, per_scope=4):
            for user in [st.vol, *st.strangers[:3]]:
                if where.where == "private":  # anywhere but one's own private chat
                    places, key = [st.card, st.act_card, st.loose_anchor], "button_private"
                elif where.where == "group":  # anywhere but a group of the team concerned
                    places, key = [st.anchors[user.id], st.loose_anchor], "button_group"
                else:  # where its commands work: in groups too; the handler refuses whoever is not a coordinator
                    places, key = [st.card, st.act_card], None
                for message in places:
                    query = await user.tap_data(message, data)
                    expected[query] = refusals[key] if key else None
        await fake.pulse.wait_until(lambda: all(q in fake.callback_answers for q in expected), 120)
        await fake.wait_idle(quiet=0.3, timeout=120)
        wrong = [
            (fake.callback_queries[q]["data"], fake.callback_answers.get(q))
            for q, texts in expected.items()
            if q not in fake.callback_answers
            or not fake.callback_answers[q].show_alert
            or (texts is not None and fake.callback_answers[q].text not in texts)
        ]
        assert wrong == [], (len(wrong), wrong[:10])
        assert await snapshot(app) == before
        assert st.edits(fake) == edits  # nothing edited, in any chat
        assert fake.group_leaks() == []
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors[:5]]
        print(f"\nDRILL fuzz: {len(expected)} buttons forged in the wrong chat, all refused, state unchanged")
    finally:
        await bots.close()
