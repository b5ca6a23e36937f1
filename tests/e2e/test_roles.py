"""Roles end to end: administrators appoint coordinators; coordinators run teams, groups, the menu
and the review (审单) of new requests."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import error_texts
from storage.models import Request, Service, StationSetting, Team, TeamChat, TeamMember, User, Volunteer
from tests.fakegram import FakeGroup, FakeTelegram, FakeUser
from tests.helpers import Station

EN = "en"
DEFAULT_TEAM = "综合志愿服务队"
SEEDED_EN = (
    "Help for the elderly",
    "Household repairs",
    "Health care",
    "Counselling",
    "Civility guidance",
    "Waste sorting",
    "Policy talks",
    "Culture",
    "Science outreach",
    "Fitness and sports",
    "Small wishes",
)


async def say(
    fake: FakeTelegram, user: FakeUser, text: str, contains: str | None = None, chat: FakeGroup | None = None
):
    """Send text; return the bot's next message in that chat (containing `contains` if given)."""
    target = chat or user
    before = len(fake.bot_messages(target))
    await user.send(text, chat=chat)
    return await fake.wait_message(target, contains=contains, after=before)


async def appoint(fake: FakeTelegram, admin: FakeUser, who: FakeUser, ref: str) -> None:
    """/coordinator_add, then wait for the new coordinator's notice (so it is not read as a later answer)."""
    await say(fake, admin, f"/coordinator_add {ref}", "is now a coordinator")
    await fake.wait_message(who, contains="You are now a coordinator")


async def tap(fake: FakeTelegram, user: FakeUser, message, button: str):
    return await fake.answer(await user.tap(message, button))


def error(app, key: str, **params) -> str:
    with app.i18n.context(), app.i18n.use_locale("en"):
        return str(error_texts.ERRORS[key]).format(**params)


def mentions(fake: FakeTelegram, chat, *needles: str) -> list[str]:
    """Bot messages (any version) in the chat that mention any of the needles."""
    return [v.text for m in fake.bot_messages(chat) for v in m.versions if any(n in (v.text or "") for n in needles)]


async def db_get(app, model, key):
    async with app.db.read() as s:
        return await s.get(model, key)


async def all_rows(app, model, *where):
    async with app.db.read() as s:
        return list((await s.execute(select(model).where(*where))).scalars())


async def service_buttons(fake: FakeTelegram, resident: FakeUser) -> list[str]:
    """The services the resident is offered by /request (the menu keyboard)."""
    menu = await say(fake, resident, "/request", "Which service")
    await say(fake, resident, "/cancel", "Cancelled")
    return menu.buttons


@pytest.fixture
async def station(fake, start_app):
    admin = fake.user("Wang", language_code=EN, username="wang")
    coord = fake.user("Li", language_code=EN, username="li_coord")
    res = fake.user("Zhao", language_code=EN, username="zhao")
    group = fake.group("Team 1", members=[admin, coord, res])
    app = await start_app(admin_ids=[admin.id])
    for user in (admin, coord, res):
        await say(fake, user, "/start", "Hello")
    return app, admin, coord, res, group


# --- coordinators ---------------------------------------------------------------------------------


async def test_admin_appoints_and_removes_coordinators(fake, station):
    app, admin, coord, res, _group = station
    # Not yet a coordinator.
    assert (await say(fake, coord, "/pending")).text == error(app, "not_coordinator")

    await say(fake, admin, "/coordinator_add @Li_Coord", "Li is now a coordinator")  # @username, any case
    assert (await db_get(app, User, coord.id)).is_coordinator
    told = await fake.wait_message(coord, contains="You are now a coordinator")
    assert "/pending" in told.text and "join requests" not in told.text  # none waiting
    assert "coordinator" in (await say(fake, coord, "/whoami", "your role")).text
    assert "Waiting for a volunteer" in (await say(fake, coord, "/pending")).text
    assert "For coordinators" in (await say(fake, coord, "/help")).text

    await say(fake, admin, f"/coordinator_add {res.id}", "Zhao is now a coordinator")  # by numeric id
    await fake.wait_message(res, contains="You are now a coordinator")
    assert (await db_get(app, User, res.id)).is_coordinator

    # A coordinator is not an administrator: cannot appoint or remove anyone.
    assert (await say(fake, coord, f"/coordinator_remove {res.id}")).text == error(app, "not_admin")
    assert (await db_get(app, User, res.id)).is_coordinator

    await say(fake, admin, "/coordinator_remove @li_coord", "Li is no longer a coordinator")
    await say(fake, admin, f"/coordinator_remove {res.id}", "Zhao is no longer a coordinator")
    assert not (await db_get(app, User, coord.id)).is_coordinator
    assert not (await db_get(app, User, res.id)).is_coordinator
    await fake.wait_message(coord, contains="You are no longer a coordinator of the station")
    assert (await say(fake, coord, "/pending")).text == error(app, "not_coordinator")
    assert "resident" in (await say(fake, coord, "/whoami", "your role")).text

    # Unknown people, huge ids and a missing argument get a polite answer.
    for ref in ("@nobody", "424242", "99999999999999999999"):
        assert (await say(fake, admin, f"/coordinator_add {ref}")).text == error(app, "no_user")
    assert (await say(fake, admin, "/coordinator_add")).text == error(
        app, "usage", usage="/coordinator_add USER_ID|@username"
    )
    # The administrator stays an administrator.
    assert (await db_get(app, User, admin.id)).is_admin


# --- teams and groups -----------------------------------------------------------------------------


async def test_coordinator_creates_teams_and_binds_groups(fake, station):
    app, admin, coord, _res, group = station
    group_b = fake.group("Alpha volunteers", members=[coord])
    await appoint(fake, admin, coord, "@li_coord")

    created = await say(fake, coord, "/newteam Alpha", "created")
    assert "Alpha" in created.text and "/bind 2" in created.text
    assert (await db_get(app, Team, 2)).name == "Alpha"
    assert (await say(fake, coord, "/newteam Alpha")).text == error(app, "team_exists", name="Alpha")
    assert (await say(fake, coord, "/newteam " + "T" * 41)).text == error(app, "too_long", length=41, limit=40)
    assert len(await all_rows(app, Team)) == 2

    teams = await say(fake, coord, "/teams", "Teams:")
    assert f"1. {DEFAULT_TEAM} – 0 group(s)" in teams.text and "2. Alpha – 0 group(s)" in teams.text

    # Bind by number in one group, by name in another.
    await say(fake, coord, "/bind 2", "team “Alpha”", chat=group)
    await say(fake, coord, "/bind Alpha", "team “Alpha”", chat=group_b)
    bound = {c.chat_id: c.team_id for c in await all_rows(app, TeamChat)}
    assert bound == {group.id: 2, group_b.id: 2}
    assert "2. Alpha – 2 group(s)" in (await say(fake, coord, "/teams", "Teams:")).text

    # Rebinding moves the group; an unknown team changes nothing.
    await say(fake, coord, "/bind 1", DEFAULT_TEAM, chat=group)
    assert (await db_get(app, TeamChat, group.id)).team_id == 1
    assert (await say(fake, coord, "/bind 7", chat=group)).text == error(app, "no_team", ref="7")
    assert (await say(fake, coord, "/bind Nobody", chat=group)).text == error(app, "no_team", ref="Nobody")
    assert (await db_get(app, TeamChat, group.id)).team_id == 1

    await say(fake, coord, "/unbind", "no longer receives requests", chat=group_b)
    assert await db_get(app, TeamChat, group_b.id) is None
    assert (await say(fake, coord, "/unbind", chat=group_b)).text == error(app, "chat_not_bound")
    teams = await say(fake, coord, "/teams", "Teams:")
    assert f"1. {DEFAULT_TEAM} – 1 group(s)" in teams.text and "2. Alpha – 0 group(s)" in teams.text


# --- the menu -------------------------------------------------------------------------------------


async def test_services_lists_the_seeded_menu(fake, station):
    app, admin, *_ = station
    listing = (await say(fake, admin, "/services", "The menu")).text
    for number, name in enumerate(SEEDED_EN, start=1):
        assert f"{number}. {name} – team: {DEFAULT_TEAM}" in listing
    assert "(off)" not in listing
    assert "Review before dispatch: off" in listing


async def test_coordinator_edits_the_menu(fake, station):
    app, admin, coord, res, _group = station
    await appoint(fake, admin, coord, "@li_coord")
    await say(fake, coord, "/newteam Repairs", "created")
    assert "Help for the elderly" in await service_buttons(fake, res)

    added = await say(fake, coord, "/service_add 修自行车 | Bicycle repair", "Added")
    assert "number 12" in added.text
    svc = await db_get(app, Service, 12)
    assert (svc.name_zh, svc.name_en, svc.team_id, svc.active) == ("修自行车", "Bicycle repair", None, True)

    await say(fake, coord, "/service_team 12 Repairs", "now served by team “Repairs”")
    assert (await db_get(app, Service, 12)).team_id == 2
    await say(fake, coord, "/service_rename 12 修车 | Bike fixing", "Renamed: 修车 / Bike fixing")
    svc = await db_get(app, Service, 12)
    assert (svc.name_zh, svc.name_en) == ("修车", "Bike fixing")
    assert "12. Bike fixing – team: Repairs" in (await say(fake, coord, "/services", "The menu")).text
    assert "Bike fixing" in await service_buttons(fake, res)

    # An old menu the resident still has open...
    stale_menu = await say(fake, res, "/request", "Which service")
    off = await say(fake, coord, "/service_off 1", "off the menu")
    assert "Help for the elderly" in off.text
    assert not (await db_get(app, Service, 1)).active
    assert "1. Help for the elderly – team: 综合志愿服务队 (off)" in (await say(fake, coord, "/services")).text
    # ...is refused politely, and a new menu does not offer the service any more.
    answer = await tap(fake, res, stale_menu, "Help for the elderly")
    assert answer.show_alert and answer.text == error(app, "no_service")
    buttons = await service_buttons(fake, res)
    assert "Help for the elderly" not in buttons and "Household repairs" in buttons

    await say(fake, coord, "/service_on 1", "on the menu again")
    assert (await db_get(app, Service, 1)).active
    assert "Help for the elderly" in await service_buttons(fake, res)

    # Typos get the usage or a polite "not found", and change nothing.
    assert (await say(fake, coord, "/service_off abc")).text == error(app, "usage", usage="/service_off SERVICE")
    assert (await say(fake, coord, "/service_off 99")).text == error(app, "no_service")
    assert (await say(fake, coord, "/service_on 99999999999999999999")).text == error(app, "no_service")
    assert (await say(fake, coord, "/service_team 1 Nobody")).text == error(app, "no_team", ref="Nobody")
    assert (await say(fake, coord, "/service_team 1 99999999999999999999")).text == error(
        app, "no_team", ref="99999999999999999999"
    )
    assert (await say(fake, coord, "/service_team 1")).text == error(app, "usage", usage="/service_team SERVICE TEAM")
    assert [s.team_id for s in await all_rows(app, Service, Service.id == 1)] == [1]
    assert len(await all_rows(app, Service)) == 12


# --- 审单: review before dispatch -------------------------------------------------------------------


async def review_station(fake, station):
    app, admin, coord, res, group = station
    await say(fake, admin, "/review on", "wait for a coordinator's review")
    assert (await db_get(app, StationSetting, "review")).value == "on"
    assert "Review before dispatch: on" in (await say(fake, admin, "/services", "The menu")).text
    await say(fake, admin, "/bind 1", "receives the requests", chat=group)
    await appoint(fake, admin, coord, "@li_coord")  # two reviewers
    return app, admin, coord, res, group


async def place_for_review(fake, app, admin, res, group, need: str) -> tuple[Request, object]:
    number = await Station(fake).place(
        res, "Help for the elderly", need, "Xingfu compound", address="Building 9, Room 301", phone="13912345678"
    )
    await fake.wait_message(res, contains="gone to the coordinators")
    review = await fake.wait_message(admin, contains=number)
    assert "New request to review" in review.text and "Building 9, Room 301" in review.text
    assert [b for b in review.buttons] == ["📤 Dispatch", "🔀 Other team", "❌ Reject"]
    await fake.wait_idle(quiet=0.05)
    assert not mentions(fake, group, number, need)  # nothing reaches the group before review
    req = (await all_rows(app, Request, Request.number == number))[0]
    assert req.status == "review"
    return req, review


async def test_review_dispatch_posts_the_card(fake, station):
    app, admin, coord, res, group = await review_station(fake, station)
    req, review = await place_for_review(fake, app, admin, res, group, "Read letters aloud")
    answer = await tap(fake, admin, review, "Dispatch")
    assert req.number in answer.text
    card = await fake.wait_message(group, contains=req.number)
    assert "Read letters aloud" in card.text and card.buttons  # the Accept button
    await fake.wait_message(res, contains="has been sent to the volunteers")
    req = await db_get(app, Request, req.id)
    assert req.status == "open" and req.team_id == 1
    # The review buttons are gone. The other coordinator's copy still has them: tapping changes nothing.
    assert not [m for m in fake.bot_messages(admin) if m.message_id == review.message_id][0].buttons
    other_copy = await fake.wait_message(coord, contains=req.number)
    again = await tap(fake, coord, other_copy, "Dispatch")
    assert again.show_alert and again.text == error(app, "bad_state")
    await fake.wait_idle(quiet=0.05)
    assert sum(req.number in (m.text or "") for m in fake.bot_messages(group)) == 1


async def test_review_other_team_sends_to_that_teams_group(fake, station):
    app, admin, coord, res, group = await review_station(fake, station)
    group_b = fake.group("Beta group", members=[admin])
    await say(fake, admin, "/newteam Beta", "created")
    await say(fake, admin, "/bind Beta", "team “Beta”", chat=group_b)
    req, review = await place_for_review(fake, app, admin, res, group, "Teach me the smartphone")
    await tap(fake, admin, review, "Other team")
    await fake.wait_idle(quiet=0.05)
    review = [m for m in fake.bot_messages(admin) if m.message_id == review.message_id][0]
    assert review.buttons == [DEFAULT_TEAM, "Beta"]
    answer = await tap(fake, admin, review, "Beta")
    assert req.number in answer.text
    card = await fake.wait_message(group_b, contains=req.number)
    assert "Teach me the smartphone" in card.text
    await fake.wait_idle(quiet=0.05)
    assert not any(req.number in (m.text or "") for m in fake.bot_messages(group))
    req = await db_get(app, Request, req.id)
    assert req.status == "open" and req.team_id == 2


async def test_review_reject_tells_only_the_resident(fake, station):
    app, admin, coord, res, group = await review_station(fake, station)
    req, review = await place_for_review(fake, app, admin, res, group, "Paint my whole house")
    await tap(fake, admin, review, "Reject")
    await fake.wait_message(admin, contains="Why is request")
    reason = "Painting is outside what the station offers"
    fake.mark_private(reason)  # the fixture checks it never reaches a group
    await say(fake, admin, reason, "rejected; the resident has been told")
    told = await fake.wait_message(res, contains=reason)
    assert req.number in told.text
    await fake.wait_idle(quiet=0.05)
    assert not mentions(fake, group, req.number, reason, "Paint my whole house")
    assert not any(reason in (m.text or "") for m in fake.bot_messages(coord))
    req = await db_get(app, Request, req.id)
    assert req.status == "rejected" and req.closed_reason == reason
    # Once rejected, the other buttons do nothing.
    answer = await fake.answer(await admin.tap_data(review, f"v1:go:{req.id}:0"))
    assert answer.show_alert and answer.text == error(app, "request_rejected")


async def test_review_off_sends_requests_straight_to_the_group(fake, station):
    app, admin, coord, res, group = await review_station(fake, station)
    await say(fake, admin, "/review off", "go straight to their team")
    assert (await db_get(app, StationSetting, "review")).value == "off"
    number = await Station(fake).place(res, "Help for the elderly", "Change a light bulb", "Xingfu compound")
    await fake.wait_message(group, contains=number)
    assert (await say(fake, admin, "/review maybe")).text == error(app, "usage", usage="/review on|off")


async def test_a_new_coordinator_hears_of_join_requests_that_waited(fake, station):
    """A join request to a team without leaders waits; the coordinator appointed later is told of it."""
    app, admin, coord, res, _group = station
    async with app.db.tx() as s:
        now = app.clock.now()
        team = Team(name="无队长的服务队", archived=False, created_at=now)
        s.add(team)
        s.add(Volunteer(user_id=res.id, name="赵", phone="13800138000", registered_at=now))
        await s.flush()
        s.add(TeamMember(team_id=team.id, user_id=res.id, is_leader=False, joined_at=now, status="pending"))
    await say(fake, admin, "/coordinator_add @Li_Coord", "Li is now a coordinator")
    told = await fake.wait_message(coord, contains="You are now a coordinator")
    assert "Join requests waiting for an answer: 1 (/joins)" in told.text
    await coord.send("/joins")
    assert "赵" in (await fake.wait_message(coord, contains="无队长的服务队")).text
    # appointing again changes nothing and tells nobody twice
    before = len(fake.bot_messages(coord))
    await say(fake, admin, "/coordinator_add @Li_Coord", "Li is now a coordinator")
    await fake.wait_idle(quiet=0.2)
    assert len(fake.bot_messages(coord)) == before
