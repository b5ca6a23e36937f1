"""The station's defences against a person, end to end (issue 12): a volunteer taken out of a team, a user blocked,
administrators following ADMIN_IDS, an archived team's requests, the limits per person, and a certificate drawn
while the bot keeps answering."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.activities import service as activities
from bot.certificates import pdf as certificate_pdf
from bot.ledger import service as ledger
from bot.people import service as people
from bot.requests import service as requests
from storage.models import ActivitySignup, LedgerEntry, PeopleEvent, Request, TeamMember, User
from tests.chat import Unchanged, assert_error, tr
from tests.helpers import Station

TEAM1 = "综合志愿服务队"


@pytest.fixture
async def world(fake, start_app):
    """Team 1 with a bound group: Lu leads it, Li and Chen are its volunteers; Wang is the administrator, Zhao
    a resident. Everyone speaks English."""
    users = {
        key: fake.user(name, language_code="en", username=key)
        for key, name in (("wang", "Wang"), ("lu", "Lu"), ("li", "Li"), ("chen", "Chen"), ("zhao", "Zhao"))
    }
    group = fake.group("Team 1", members=list(users.values()))
    app = await start_app(admin_ids=[users["wang"].id])
    st = Station(fake)
    for user in users.values():
        await st.say(user, "/start", "/")
    await st.say(users["wang"], "/bind 1", "", chat=group)
    now = app.clock.now()
    async with app.db.tx() as s:
        for key, name in (("lu", "陆队长"), ("li", "李明"), ("chen", "陈静")):
            await people.register_volunteer(
                s, await s.get(User, users[key].id), name=name, phone="13800138000", team_ids=[1], now=now
            )
        await s.flush()
        (await s.get(TeamMember, (1, users["lu"].id))).is_leader = True
    return SimpleNamespace(
        app=app,
        fake=fake,
        st=st,
        group=group,
        admin=users["wang"],
        lead=users["lu"],
        vol=users["li"],
        other=users["chen"],
        res=users["zhao"],
    )


async def place(w, need: str = "买米") -> Request:
    """An open request of the resident for team 1, its card in the group."""
    now = w.app.clock.now()
    start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    async with w.app.db.tx() as s:
        draft = requests.Draft(
            service_id=1, description=need, window_start=start, window_end=start + timedelta(hours=2), area="幸福小区"
        )
        req = await requests.place(
            s, w.app.notices.requests, resident=await s.get(User, w.res.id), draft=draft, now=now, year=now.year
        )
    await w.fake.wait_message(w.group, contains=req.number)
    return req


async def claim(w, req: Request, volunteer) -> str:
    card = await w.fake.wait_message(w.group, contains=req.number)
    return (await w.fake.answer(await volunteer.tap_data(card, f"c1:{req.id}"))).text or ""


def station_text(app, msgid: str, **params) -> str:
    """A text as the bot writes it in a group: in the station's language."""
    with app.i18n.context(), app.i18n.use_locale(app.settings.default_locale):
        text = app.i18n.gettext(msgid)
    return text.format(**params) if params else text


async def row(w, model, key):
    async with w.app.db.read() as s:
        return await s.get(model, key)


async def events(w, user) -> list[tuple[str, int | None, str | None]]:
    async with w.app.db.read() as s:
        rows = await s.execute(
            select(PeopleEvent.kind, PeopleEvent.actor_id, PeopleEvent.reason)
            .where(PeopleEvent.user_id == user.id, PeopleEvent.kind != "join_asked")
            .order_by(PeopleEvent.id)
        )
        return [tuple(r) for r in rows.all()]


async def activity_signup(w, volunteer) -> int:
    """An activity of team 1 tomorrow, the volunteer signed up for it; its id."""
    now = w.app.clock.now()
    start = now + timedelta(days=2)
    draft = activities.Draft(
        title="敬老院探访",
        theme="",
        place="幸福敬老院",
        capacity=5,
        team_id=1,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    async with w.app.db.tx() as s:
        act = await activities.publish(
            s,
            w.app.notices.activities,
            actor=await s.get(User, w.admin.id),
            draft=draft,
            chats=await people.team_chats(s, 1),
            now=now,
            year=now.year,
        )
        await activities.sign_up(
            s, w.app.notices.activities, activity_id=act.id, user_id=volunteer.id, chat_team_id=None, now=now
        )
        return act.id


async def signup_status(w, activity_id: int, volunteer) -> str:
    async with w.app.db.read() as s:
        return (
            await s.execute(
                select(ActivitySignup.status).where(
                    ActivitySignup.activity_id == activity_id, ActivitySignup.user_id == volunteer.id
                )
            )
        ).scalar_one()


# --- 7. taking a volunteer out of a team -------------------------------------------------------------------


async def test_leader_removes_a_member_through_the_teams_buttons(world):
    w, fake = world, world.fake
    req = await place(w)
    assert "took" in await claim(w, req, w.vol)
    act_id = await activity_signup(w, w.vol)
    async with w.app.db.tx() as s:  # an hour of service already in his ledger
        ledger.add_service(
            s, volunteer_id=w.vol.id, minutes=60, points_per_hour=10, request_id=None, approved_by=w.admin.id,
            now=w.app.clock.now(),
        )  # fmt: skip

    teams = await w.st.say(w.lead, "/teams", TEAM1)
    await fake.answer(await w.lead.tap(teams, f"➖ Remove a member: {TEAM1}"))
    pick = await fake.wait_message(w.lead, contains="Which member")
    assert "陆队长" not in pick.buttons  # not himself
    await fake.answer(await w.lead.tap(pick, "李明"))
    await fake.wait_message(w.lead, contains="Please send the reason")
    confirm = await w.st.say(w.lead, "连续三次接单后未到场", "Remove 李明")
    assert "连续三次接单后未到场" in confirm.text
    assert await row(w, TeamMember, (1, w.vol.id)) is not None  # nothing yet: the confirmation first
    await fake.answer(await w.lead.tap(confirm, "Yes, remove"))
    await fake.wait_message(w.lead, contains="is no longer a member")

    assert await row(w, TeamMember, (1, w.vol.id)) is None
    told = await fake.wait_message(w.vol, contains="no longer a member of team")
    assert "连续三次接单后未到场" in told.text
    back = await row(w, Request, req.id)
    assert (back.status, back.claimer_id) == ("open", None)  # back in the pool, the card offered again
    await fake.wait_message(w.res, contains="open again")
    released = station_text(w.app, "Status: waiting for a volunteer (released by {name})", name="李明")
    card = await fake.wait_message(w.group, contains=released)  # the card takes taps again
    assert req.number in card.text and card.buttons
    assert "took" in await claim(w, req, w.other)  # another member takes it
    assert await signup_status(w, act_id, w.vol) == "cancelled"
    async with w.app.db.read() as s:  # his ledger stays
        assert (await s.execute(select(LedgerEntry.minutes).where(LedgerEntry.volunteer_id == w.vol.id))).all()
    assert await events(w, w.vol) == [("removed", w.lead.id, "连续三次接单后未到场")]


async def test_member_remove_command_asks_and_refuses_politely(world):
    w, fake = world, world.fake
    # A volunteer cannot; a leader cannot take out himself; a coordinator can, with a reason given in the command.
    async with Unchanged(w.app, fake, w.other):
        answer = await w.st.say(w.other, "/member_remove @li 1 reason", "")
    assert_error(w.app, answer.text, "not_team_leader", w.other)
    async with Unchanged(w.app, fake, w.lead):
        answer = await w.st.say(w.lead, "/member_remove @lu 1 reason", "")
    assert_error(w.app, answer.text, "remove_self", w.lead)
    confirm = await w.st.say(w.admin, "/member_remove @li 1 已搬离本社区", "Remove 李明")
    await fake.answer(await w.admin.tap(confirm, "No, keep"))
    assert await row(w, TeamMember, (1, w.vol.id)) is not None
    confirm = await w.st.say(w.admin, "/member_remove @li 1 已搬离本社区", "Remove 李明")
    await fake.answer(await w.admin.tap(confirm, "Yes, remove"))
    await fake.wait_message(w.admin, contains="is no longer a member")
    assert await row(w, TeamMember, (1, w.vol.id)) is None
    answer = await w.st.say(w.admin, "/member_remove @li 1 again", "")
    assert_error(w.app, answer.text, "not_in_this_team", w.admin, team=TEAM1)


# --- 7. blocking ------------------------------------------------------------------------------------------


async def test_a_blocked_user_changes_nothing_and_is_answered_once(world):
    w, fake = world, world.fake
    req = await place(w)
    assert "took" in await claim(w, req, w.vol)
    act_id = await activity_signup(w, w.vol)

    answer = await w.st.say(w.admin, "/block @li 多次恶意接单", "is blocked")
    assert "1 request" in answer.text
    assert (await row(w, User, w.vol.id)).is_blocked
    assert (await row(w, Request, req.id)).status == "open"  # back in the pool
    assert await signup_status(w, act_id, w.vol) == "cancelled"
    assert await events(w, w.vol) == [("blocked", w.admin.id, "多次恶意接单")]

    suspended = tr(
        w.app, w.vol, "Sorry, your use of this bot has been suspended by the station. Please contact a coordinator."
    )
    for text in ("/request", "/volunteer", "/shop", "hello"):
        async with Unchanged(w.app, fake, w.vol):
            before = len(fake.bot_messages(w.vol))
            await w.vol.send(text)
            assert (await fake.wait_message(w.vol, after=before)).text == suspended
            await fake.wait_idle(quiet=0.05)
            assert len(fake.bot_messages(w.vol)) == before + 1  # one answer, no more
    async with Unchanged(w.app, fake, w.vol):
        assert await claim(w, req, w.vol) == suspended  # a tap on a card: an alert, nothing taken
    await fake.wait_idle(quiet=0.05)
    before = len(fake.bot_messages(w.group))
    await w.vol.send("大家好", chat=w.group)  # in the group he is left alone
    await fake.wait_idle(quiet=0.1)
    assert len(fake.bot_messages(w.group)) == before

    # Coordinators cannot be blocked; a block is lifted once.
    answer = await w.st.say(w.admin, "/block @wang", "")
    assert_error(w.app, answer.text, "block_staff", w.admin)
    await w.st.say(w.admin, "/unblock @li", "no longer blocked")
    assert not (await row(w, User, w.vol.id)).is_blocked
    answer = await w.st.say(w.admin, "/unblock @li", "")
    assert_error(w.app, answer.text, "not_blocked", w.admin)
    assert [e[0] for e in await events(w, w.vol)] == ["blocked", "unblocked"]
    assert "took" in await claim(w, req, w.vol)


# --- 8. administrators follow ADMIN_IDS ---------------------------------------------------------------------


async def test_an_id_taken_off_admin_ids_is_no_longer_an_administrator(fake, start_app, stop_app):
    first = fake.user("Wang", language_code="en", username="wang")
    second = fake.user("Zhou", language_code="en", username="zhou")
    st = Station(fake)
    app = await start_app(admin_ids=[first.id])
    await st.say(first, "/start", "/")
    await st.say(second, "/start", "/")
    assert (await rows_admin(app)) == {first.id: True, second.id: False}
    await stop_app(app)

    app = await start_app(admin_ids=[second.id])  # the list changed while the bot was stopped
    expected = {first.id: False, second.id: True}
    for _ in range(500):  # at start, before either writes again (the start may still be preparing)
        if await rows_admin(app) == expected:
            break
        await asyncio.sleep(0.01)
    assert await rows_admin(app) == expected
    answer = await st.say(first, "/coordinator_add @zhou", "")
    assert_error(app, answer.text, "not_admin", first)
    await st.say(second, "/coordinator_add @wang", "is now a coordinator")


async def rows_admin(app) -> dict[int, bool]:
    async with app.db.read() as s:
        return {u.id: u.is_admin for u in (await s.execute(select(User))).scalars()}


# --- 9. archived teams --------------------------------------------------------------------------------------


async def test_an_archived_teams_open_requests_go_to_review(world):
    w, fake = world, world.fake
    req = await place(w)
    ask = await w.st.say(w.admin, f"/team_archive {TEAM1}", "Archive team")
    await fake.answer(await w.admin.tap(ask, "Yes, archive it"))
    await fake.wait_message(w.admin, contains="is archived")
    assert (await row(w, Request, req.id)).status == "review"
    await fake.wait_message(w.admin, contains="New request to review")
    card = await fake.wait_message(
        w.group, contains=station_text(w.app, "Status: back with the coordinators (the team was archived)")
    )
    async with Unchanged(w.app, fake, w.vol):
        answer = await fake.answer(await w.vol.tap_data(card, f"c1:{req.id}"))
    assert_error(w.app, answer.text, "team_archived", w.vol, team=TEAM1)


# --- 10. limits per person, the certificate off the event loop ------------------------------------------------


async def test_open_requests_per_resident_are_limited(world):
    w, fake = world, world.fake
    for n in range(3):
        await place(w, f"买米{n}")
    async with Unchanged(w.app, fake, w.res):
        answer = await w.st.say(w.res, "/request", "")
    assert_error(w.app, answer.text, "too_many_open", w.res, limit=3)


async def test_the_loop_keeps_serving_while_a_certificate_is_drawn(world, monkeypatch):
    """Someone else's /help is answered while a long certificate is being drawn, before it is sent: the PDF is
    not drawn on the event loop (drawn there, nothing else would be answered until it was done)."""
    w, fake = world, world.fake
    now = w.app.clock.now()
    async with w.app.db.tx() as s:
        for n in range(1500):  # about 2 s of reportlab
            ledger.add_service(
                s, volunteer_id=w.vol.id, minutes=60, points_per_hour=10, request_id=None, approved_by=w.admin.id,
                now=now - timedelta(minutes=n),
            )  # fmt: skip
    loop = asyncio.get_running_loop()
    drawing = asyncio.Event()
    draw = certificate_pdf.render

    def render(*args, **kwargs):
        loop.call_soon_threadsafe(drawing.set)  # from the loop or from a worker thread alike
        return draw(*args, **kwargs)

    monkeypatch.setattr(certificate_pdf, "render", render)
    await w.vol.send("/certificate")
    await asyncio.wait_for(drawing.wait(), timeout=30)
    await w.st.say(w.other, "/help", "/request")
    assert not [m for m in fake.bot_messages(w.vol) if m.document], "the certificate came before the answer to /help"
    deadline = loop.time() + 60
    while not [m for m in fake.bot_messages(w.vol) if m.document]:
        assert loop.time() < deadline, "no certificate"
        await asyncio.sleep(0.05)
