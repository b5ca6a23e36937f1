"""What end-to-end tests share: the replies people get (an error text as the bot's catalogue renders it, nothing
changed by bad input), small chat steps, and `world`, a station set up through chat with an admin (coordinator), a
bound group for team 1, a volunteer and a resident (tests/e2e/conftest.py offers it to every end-to-end test)."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta

import pytest
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select

from bot import error_texts
from bot.people import service as people
from storage.models import Base, OutboxMessage, ProcessedUpdate, Request, User
from tests.fakegram import FakeGroup, FakeTelegram, FakeUser
from tests.helpers import Station, is_en

EN, ZH = "en", "zh-hans"
SERVICE_EN, SERVICE_ZH = "Help for the elderly", "助老服务"  # seeded menu names: data, not catalogue
ACCEPT = "🙋"  # the card's button; cards are in the station's default language (Chinese)


# --- replies and steps ------------------------------------------------------------------------------------


def render(app, key: str, locale: str, **params) -> str:
    """An error text as the bot's own catalogue renders it in `locale`."""
    with app.i18n.context(), app.i18n.use_locale(locale):
        return str(error_texts.ERRORS[key]).format(**params)


def locale_of(user: FakeUser) -> str:
    return "en" if (user.language_code or "").startswith("en") else "zh_Hans"


def assert_error(app, text: str | None, key: str, user: FakeUser, **params) -> None:
    """The reply is the error `key` in the user's language (for Chinese: whatever the catalogue
    says, and not the English text once the catalogue translates it)."""
    locale = locale_of(user)
    expected = render(app, key, locale, **params)
    assert text == expected, f"expected {key!r} in {locale}: {expected!r}, got {text!r}"
    if locale != "en":
        english = render(app, key, "en", **params)
        if english != expected:
            assert text != english


# Not what a user's action changes: dedup marks, delivery bookkeeping, and the calendar scheduler's
# own records (it ticks on its own and may queue a festival post to a group at any moment).
SNAPSHOT_SKIP = {"processed_updates", "outbox", "request_cards", "occurrences"}


async def snapshot(app) -> dict:
    """Everything a user's action could change, to compare before and after bad input."""
    out: dict = {}
    async with app.db.read() as s:
        for table in Base.metadata.sorted_tables:
            if table.name in SNAPSHOT_SKIP:
                continue
            rows = await s.execute(table.select().order_by(*table.primary_key.columns))
            out[table.name] = [
                tuple(r) for r in rows.all() if not (table.name == "station_settings" and r[0].startswith("scheduler."))
            ]
        out["outbox"] = (
            await s.execute(  # nobody was sent anything new (scheduled posts aside)
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.ref.is_(None) | OutboxMessage.ref.not_like("post:%"))
            )
        ).scalar()
    return out


async def fsm(app, fake: FakeTelegram, user: FakeUser) -> tuple[str | None, dict]:
    """The user's private conversation state and data, once the bot has ended every update it holds (with Redis a
    step is stored as its update ends, after its answer was sent: bot/core/steps.py)."""
    await settled(app, fake)
    key = StorageKey(bot_id=fake.bot_id, chat_id=user.id, user_id=user.id)
    return await app.dp.storage.get_state(key), await app.dp.storage.get_data(key)


def parked(app, fake: FakeTelegram) -> bool:
    """An in-process bot with nothing in hand: every update fetched and its task ended, the bot back on its next
    long poll (so it has handed every fetched update to a task), no API call under way, no outbox row being sent."""
    return (
        fake.updates.all_fetched
        and fake.updates.waiting > 0
        and fake.in_flight == 0
        and not app.updates_in_hand()
        and not app.sender.busy
    )


async def settled(app, fake: FakeTelegram, timeout: float = 30) -> None:
    """The bot is idle and its outbox delivered: a card still owed would record its message id later, which would
    look like a change made by the input under test. A condition, read in the test's process: `parked`, and no
    outbox row pending. (A bot fed by webhook has no long poll to park on: then it is a short quiet moment.)"""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    owed = None
    while True:
        if not fake.get_updates_calls:
            await fake.wait_idle(quiet=0.05, timeout=max(deadline - loop.time(), 0.1))
        elif not parked(app, fake):
            if loop.time() > deadline:
                raise AssertionError(f"the bot was still busy after {timeout}s (outbox rows pending: {owed})")
            await asyncio.sleep(0.005)
            continue
        async with app.db.read() as s:
            owed = (
                await s.execute(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
                )
            ).scalar()
        if not owed and (not fake.get_updates_calls or parked(app, fake)):
            return
        if loop.time() > deadline:
            raise AssertionError(f"{owed} outbox messages still pending after {timeout}s")
        await asyncio.sleep(0.02)


class Unchanged:
    """`async with Unchanged(app, fake, user):` bad input inside changes neither the database
    nor the user's conversation state."""

    def __init__(self, app, fake: FakeTelegram, *users: FakeUser):
        self.app, self.fake, self.users = app, fake, users

    async def __aenter__(self):
        await settled(self.app, self.fake)
        self.before = await snapshot(self.app)
        self.states = [await fsm(self.app, self.fake, u) for u in self.users]
        return self

    async def __aexit__(self, *exc):
        if exc[0] is not None:
            return False
        await settled(self.app, self.fake)
        assert await snapshot(self.app) == self.before
        assert [await fsm(self.app, self.fake, u) for u in self.users] == self.states
        return False


async def reply(
    fake: FakeTelegram,
    user: FakeUser,
    text: str | None = None,
    *,
    chat: FakeGroup | None = None,
    sticker: bool = False,
    contact: tuple[str, int | None] | None = None,
) -> str:
    """Send something; return the text of the bot's next message in that chat."""
    target = chat or user
    before = len(fake.bot_messages(target))
    if sticker:
        await user.send_sticker(chat=chat)
    elif contact:
        await user.share_contact(contact[0], chat=chat, user_id=contact[1])
    else:
        await user.send(text, chat=chat)
    return (await fake.wait_message(target, after=before)).text


async def forge(fake: FakeTelegram, user: FakeUser, message, data: str):
    """Tap forged/stale callback data on a message; return the bot's callback answer."""
    return await fake.answer(await user.tap_data(message, data))


async def step(fake: FakeTelegram, user: FakeUser, action, contains: str | None = None):
    """Run `action()` (a send or a tap) and return the bot's next message in the user's chat."""
    before = len(fake.bot_messages(user))
    result = await action()
    if isinstance(result, str):  # a callback query id
        await fake.answer(result)
    return await fake.wait_message(user, contains=contains, after=before)


def set_now(clock, at: datetime) -> None:
    clock.offset += at - clock.now()


async def seed_volunteer(app, user: FakeUser, name: str, phone: str, team_ids=(1,)) -> None:
    """Register a volunteer straight in the database (registration is tested through chat elsewhere)."""
    async with app.db.tx() as s:
        row = await s.get(User, user.id)
        await people.register_volunteer(s, row, name=name, phone=phone, team_ids=list(team_ids), now=app.clock.now())


async def request_by_number(app, number: str) -> Request:
    async with app.db.read() as s:
        return (await s.execute(select(Request).where(Request.number == number))).scalar_one()


async def count(app, model) -> int:
    async with app.db.read() as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar()


class World:
    """A station with an admin (coordinator), a bound group for team 1, a volunteer, a resident."""

    def __init__(self, fake, app, clock):
        self.fake, self.app, self.clock = fake, app, clock
        self.st = Station(fake)

    async def hello(self, *users: FakeUser) -> None:
        for user in users:
            await step(self.fake, user, lambda: user.send("/start"))  # noqa: B023  (awaited here)

    async def place(self, resident: FakeUser | None = None, need: str = "Carry rice upstairs") -> Request:
        number = await self.st.place(
            resident or self.res,
            SERVICE_EN,
            need,
            "Xingfu compound",
            address="Building 3, Room 402",
            phone="13912345678",
        )
        await self.fake.wait_message(self.group, contains=number)
        return await request_by_number(self.app, number)

    async def card(self, req: Request):
        return await self.fake.wait_message(self.group, contains=req.number)

    async def claimed(self, req: Request | None = None):
        """A request taken by the volunteer; returns (request, the volunteer's task message)."""
        req = req or await self.place()
        answer = await self.st.tap(self.vol, await self.card(req), ACCEPT)
        assert "took" in answer.text
        task = await self.fake.wait_message(self.vol, contains="Service done")
        return await request_by_number(self.app, req.number), task

    async def done(self) -> Request:
        req, task = await self.claimed()
        set_now(self.clock, req.window_start + timedelta(hours=2))
        await self.st.tap(self.vol, task, "Service done", expect="How many hours")
        await self.st.report_hours(self.vol, "1.5")
        await self.fake.wait_message(self.res, contains="Please confirm")
        return await request_by_number(self.app, req.number)

    async def confirmed(self) -> Request:
        req = await self.done()
        rate = await self.fake.wait_message(self.res, contains="Please confirm")
        await self.st.tap(self.res, rate, "⭐⭐⭐⭐")
        await self.fake.wait_message(self.admin, contains="Hours to approve")
        return await request_by_number(self.app, req.number)


@pytest.fixture
async def world(fake, start_app, clock) -> World:
    admin = fake.user("Wang", language_code=EN, username="wang")
    vol = fake.user("Li", language_code=EN, username="li")
    res = fake.user("Zhao", language_code=EN, username="zhao")
    outsider = fake.user("Sun", language_code=EN, username="sun")
    chen = fake.user("Chen", language_code=ZH, username="chen")
    group = fake.group("Team 1", members=[admin, vol, res, outsider, chen])
    app = await start_app(admin_ids=[admin.id])
    w = World(fake, app, clock)
    w.admin, w.vol, w.res, w.outsider, w.chen, w.group = admin, vol, res, outsider, chen, group
    await w.hello(admin, vol, res, outsider, chen)
    await w.st.say(admin, "/bind 1", "receives the requests", chat=group)
    await seed_volunteer(app, vol, "Li Ming", "13800138000")
    return w


def tr(app, user: FakeUser, msgid: str, **params) -> str:
    """A text as the bot says it to this user."""
    with app.i18n.context(), app.i18n.use_locale("en" if is_en(user) else "zh_Hans"):
        text = app.i18n.gettext(msgid)
    return text.format(**params) if params else text


async def register(w, user: FakeUser, name: str, teams: list[str], **kw) -> None:
    en = is_en(user)
    await w.st.register(
        user, name, "13800138000", teams, done="Done" if en else "完成", prompt_name="name" if en else "名字", **kw
    )


# --- updates delivered again ---------------------------------------------------------------------


class Updates:
    """Remembers every update the fake queues, with its update_id, so a test can deliver it again."""

    def __init__(self, fake: FakeTelegram):
        self.fake = fake
        self.log: list[tuple[int, dict]] = []
        push = fake.push_update

        def recording_push(update: dict, update_id: int | None = None) -> int:
            update_id = push(update, update_id)
            self.log.append((update_id, copy.deepcopy(update)))
            return update_id

        fake.push_update = recording_push  # users' messages and taps go through it

    def last(self) -> tuple[int, dict]:
        return self.log[-1]

    def again(self, update_id: int, update: dict) -> None:
        self.fake.push_update(update, update_id=update_id)

    async def fetched(self) -> None:
        assert await self.fake.pulse.wait_until(lambda: self.fake.updates.all_fetched, 20), "update not fetched"
        await self.fake.wait_idle(quiet=0.2)


async def processed(app, update_id: int, timeout: float = 5.0) -> None:
    """Wait until the update is recorded in processed_updates (exactly once)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with app.db.read() as s:
            count = (
                await s.execute(
                    select(func.count()).select_from(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id)
                )
            ).scalar()
        if count == 1:
            return
        if loop.time() > deadline:
            raise AssertionError(f"update {update_id} not recorded as processed")
        await asyncio.sleep(0.02)
