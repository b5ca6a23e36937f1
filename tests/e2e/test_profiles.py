"""Volunteers' records end to end, in Chinese and English: registration with skills, join requests
answered by the team's leader or a coordinator, /profile edits, team rename and archive, leaders."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.people import service as people
from storage.models import Request, Service, Team, TeamMember, Volunteer
from tests.chat import Unchanged, assert_error, forge, register, reply, tr
from tests.fakegram import FakeUser
from tests.helpers import Station

TEAM1 = "综合志愿服务队"


async def member(app, team_id: int, user: FakeUser) -> TeamMember | None:
    async with app.db.read() as s:
        return await s.get(TeamMember, (team_id, user.id))


@pytest.fixture(params=["zh-hans", "en"])
async def world(request, fake, start_app):
    """Team 1 (leader Lu) and team Beta (leader Qian), each with a bound group; a coordinator (the admin)."""
    lang = request.param
    users = {
        key: fake.user(name, language_code=lang, username=key)
        for key, name in (("wang", "Wang"), ("lu", "Lu"), ("li", "Li"), ("qian", "Qian"), ("zhao", "Zhao"))
    }
    group = fake.group("Team 1", members=list(users.values()))
    group_b = fake.group("Team Beta", members=[users["wang"], users["qian"]])
    app = await start_app(admin_ids=[users["wang"].id])
    st = Station(fake)
    w = SimpleNamespace(
        app=app,
        st=st,
        fake=fake,
        group=group,
        group_b=group_b,
        en=lang == "en",
        admin=users["wang"],
        lead=users["lu"],
        vol=users["li"],
        lead_b=users["qian"],
        res=users["zhao"],
    )
    for user in users.values():
        await st.say(user, "/start", "/")
    await st.say(w.admin, "/bind 1", "", chat=group)
    await st.say(w.admin, "/newteam Beta", "/bind 2")
    await st.say(w.admin, "/bind 2", "Beta", chat=group_b)
    await register(w, w.lead, "陆队长", [TEAM1])
    await register(w, w.lead_b, "钱队长", ["Beta"])
    await st.say(w.admin, "/leader_add @lu 1", "陆队长")
    await st.say(w.admin, "/leader_add @qian Beta", "钱队长")
    await fake.wait_message(w.lead, contains="⭐")
    return w


# --- registration and join requests --------------------------------------------------------------


async def test_registration_with_skills_waits_for_the_leaders_approval(world):
    w, fake = world, world.fake
    skills = ("Elderly care", "Hospital escort") if w.en else ("助老", "陪诊")
    await register(w, w.vol, "李明", [TEAM1], skills=skills, approve=False)
    request_to_lead = await fake.wait_message(w.lead, contains="李明")
    assert TEAM1 in request_to_lead.text and skills[0] in request_to_lead.text and "@li" in request_to_lead.text
    assert "13800138000" not in request_to_lead.text  # the phone stays with the volunteer's profile
    request_to_admin = await fake.wait_message(w.admin, contains="李明")
    await fake.wait_idle(quiet=0.1)
    assert not any("李明" in (m.text or "") for m in fake.bot_messages(w.lead_b))  # another team's leader
    async with w.app.db.read() as s:
        volunteer = await s.get(Volunteer, w.vol.id)
    assert volunteer.skills == "1,2"
    assert (await member(w.app, 1, w.vol)).status == "pending"

    # A pending member is not a member: he cannot take the team's cards yet.
    number = await w.st.place(w.res, "Help for the elderly" if w.en else "助老服务", "买米", "幸福小区")
    card = await fake.wait_message(w.group, contains=number)
    answer = await fake.answer(await w.vol.tap(card, "🙋"))
    assert_error(w.app, answer.text, "not_in_team", w.vol)

    answer = await w.st.tap(w.lead, request_to_lead, tr(w.app, w.lead, "✅ Approve"), expect=None)
    assert "李明" in answer.text
    await fake.wait_message(w.vol, contains="🤝")
    joined = await member(w.app, 1, w.vol)
    assert (joined.status, joined.decided_by) == ("active", w.lead.id)
    # The coordinator's copy of the request is stale now: the first answer won.
    async with Unchanged(w.app, fake, w.admin):
        answer = await fake.answer(await w.admin.tap(request_to_admin, tr(w.app, w.admin, "❌ Decline")))
        assert_error(w.app, answer.text, "join_decided", w.admin)
    answer = await fake.answer(await w.vol.tap(card, "🙋"))  # now he can
    assert number in answer.text
    await fake.wait_message(w.vol, contains="幸福小区")  # his private details
    await fake.wait_idle(quiet=0.1)
    async with w.app.db.read() as s:
        assert (await s.execute(select(Request.claimer_id))).scalar() == w.vol.id


async def test_coordinator_declines_and_the_volunteer_is_told(world):
    w, fake = world, world.fake
    await register(w, w.vol, "李明", ["Beta"], approve=False)
    request = await fake.wait_message(w.admin, contains="李明")
    before = len(fake.bot_messages(w.vol))
    await w.st.tap(w.admin, request, tr(w.app, w.admin, "❌ Decline"))
    told = await fake.wait_message(w.vol, contains="🙁", after=before)
    assert "Beta" in told.text
    assert await member(w.app, 2, w.vol) is None
    assert not [b for b in fake.bot_messages(w.admin) if b.message_id == request.message_id][0].buttons


async def test_leader_of_another_team_forged_and_stale_join_buttons(world):
    w, fake = world, world.fake
    await register(w, w.vol, "李明", [TEAM1], approve=False)
    request = await fake.wait_message(w.lead, contains="李明")
    mine = fake.bot_messages(w.lead_b)[-1]
    async with Unchanged(w.app, fake, w.lead_b, w.vol, w.res):
        # The leader of Beta forges an approval for team 1; a resident tries too.
        for user, data in (
            (w.lead_b, f"j1:ok:1:{w.vol.id}"),
            (w.lead_b, f"j1:no:1:{w.vol.id}"),
            (w.res, f"j1:ok:1:{w.vol.id}"),
        ):
            answer = await forge(fake, user, mine if user is w.lead_b else fake.bot_messages(w.res)[-1], data)
            assert answer.show_alert
            assert_error(w.app, answer.text, "not_team_leader", user)
        # Unknown teams, huge ids, someone who never asked: nothing to answer.
        for data in (
            "j1:ok:99:1",
            f"j1:ok:99999999999999999999:{w.vol.id}",
            "j1:ok:1:99999999999999999999",
            f"j1:ok:1:{w.res.id}",
        ):
            answer = await forge(fake, w.admin, fake.bot_messages(w.admin)[-1], data)
            assert_error(w.app, answer.text, "join_decided", w.admin)
    assert (await member(w.app, 1, w.vol)).status == "pending"
    await w.st.tap(w.lead, request, tr(w.app, w.lead, "✅ Approve"))
    await fake.wait_message(w.vol, contains="🤝")
    async with Unchanged(w.app, fake, w.lead):  # the same button again, from an old client
        answer = await forge(fake, w.lead, request, f"j1:no:1:{w.vol.id}")
        assert_error(w.app, answer.text, "join_decided", w.lead)
    assert (await member(w.app, 1, w.vol)).status == "active"


async def test_joins_lists_only_the_leaders_own_team(world):
    w, fake = world, world.fake
    other = fake.user("Sun", language_code="en" if w.en else "zh-hans", username="sun")
    await w.st.say(other, "/start", "/")
    await register(w, w.vol, "李明", [TEAM1], approve=False)
    await register(w, other, "孙红", ["Beta"], approve=False)
    await fake.wait_idle(quiet=0.1)
    before = len(fake.bot_messages(w.lead))
    await w.lead.send("/joins")
    listed = await fake.wait_message(w.lead, contains="李明", after=before)
    await fake.wait_idle(quiet=0.1)
    assert not any("孙红" in (m.text or "") for m in fake.bot_messages(w.lead)[before:])
    await w.st.tap(w.lead, listed, tr(w.app, w.lead, "✅ Approve"))
    await fake.wait_message(w.vol, contains="🤝")
    assert_error(w.app, await reply(fake, w.vol, "/joins"), "not_team_leader", w.vol)


# --- /profile ---------------------------------------------------------------------------------------


async def test_profile_edits_join_and_leave(world):
    w, fake = world, world.fake
    app, vol = w.app, w.vol
    await register(w, vol, "李明", [TEAM1])
    profile = await w.st.say(vol, "/profile", "李明")
    assert "13800138000" in profile.text and TEAM1 in profile.text

    await w.st.tap(vol, profile, tr(app, vol, "✏️ Name"))
    await fake.wait_idle(quiet=0.05)
    async with Unchanged(app, fake, vol):
        assert_error(app, await reply(fake, vol, "名" * 33), "too_long", vol, length=33, limit=32)
    await w.st.say(vol, "李小明", "李小明")
    await w.st.tap(vol, fake.bot_messages(vol)[-1], tr(app, vol, "✏️ Phone"))
    await fake.wait_idle(quiet=0.05)
    async with Unchanged(app, fake, vol):
        for bad in ("12345", "23800138000"):
            assert_error(app, await reply(fake, vol, bad), "bad_phone", vol)
    await w.st.say(vol, "+85291234567", "+85291234567")
    await w.st.tap(vol, fake.bot_messages(vol)[-1], tr(app, vol, "✏️ Skills"), expect="skills" if w.en else "技能")
    ask = fake.bot_messages(vol)[-1]
    await w.st.tap(vol, ask, "理发" if not w.en else "Haircuts")
    await fake.wait_idle(quiet=0.05)
    await w.st.tap(vol, fake.bot_messages(vol)[-1], tr(app, vol, "Done"))
    async with app.db.read() as s:
        volunteer = await s.get(Volunteer, vol.id)
    assert (volunteer.name, volunteer.phone, volunteer.skills) == ("李小明", "+85291234567", "4")

    # Join Beta: a new join request, answered by Beta's leader.
    profile = await w.st.say(vol, "/profile", "李小明")
    await w.st.tap(vol, profile, tr(app, vol, "➕ Join a team"))
    teams = await fake.wait_message(
        vol, contains=tr(app, vol, "Which team do you want to join? Its leader or a coordinator will answer.")
    )
    assert teams.buttons == ["Beta"]
    await w.st.tap(vol, teams, "Beta")
    request = await fake.wait_message(w.lead_b, contains="李小明")
    assert (await member(app, 2, vol)).status == "pending"
    async with Unchanged(app, fake, vol):  # asking twice
        answer = await forge(fake, vol, teams, "pf1:jointo:2")
        assert_error(app, answer.text, "join_pending", vol, team="Beta")
    before = len(fake.bot_messages(vol))
    await w.st.tap(w.lead_b, request, tr(app, w.lead_b, "✅ Approve"))
    await fake.wait_message(vol, contains="🤝", after=before)

    # Leave team 1, after a confirmation; “No” first changes nothing.
    profile = await w.st.say(vol, "/profile", "Beta")
    before = len(fake.bot_messages(vol))
    await w.st.tap(vol, profile, tr(app, vol, "➖ Leave a team"))
    pick = await fake.wait_message(vol, contains=tr(app, vol, "Which team do you want to leave?"), after=before)
    await w.st.tap(vol, pick, TEAM1)
    await fake.wait_idle(quiet=0.05)
    confirm = [m for m in fake.bot_messages(vol) if m.message_id == pick.message_id][0]
    await w.st.tap(vol, confirm, tr(app, vol, "No, stay"))
    assert (await member(app, 1, vol)).status == "active"
    profile = await w.st.say(vol, "/profile", "Beta")
    before = len(fake.bot_messages(vol))
    await w.st.tap(vol, profile, tr(app, vol, "➖ Leave a team"))
    pick = await fake.wait_message(vol, contains=tr(app, vol, "Which team do you want to leave?"), after=before)
    await w.st.tap(vol, pick, TEAM1)
    await fake.wait_idle(quiet=0.05)
    await w.st.tap(
        vol, [m for m in fake.bot_messages(vol) if m.message_id == pick.message_id][0], tr(app, vol, "Yes, leave")
    )
    assert await member(app, 1, vol) is None
    async with Unchanged(app, fake, vol):  # the old confirmation again
        answer = await forge(fake, vol, pick, "pf1:leaveyes:1")
        assert_error(app, answer.text, "not_a_member", vol, team=TEAM1)
        for data in (
            "pf1:leaveyes:99999999999999999999",
            "pf1:leaveask:99999999999999999999",
            "pf1:jointo:99999999999999999999",
            "pf1:leaveask:1",
        ):
            answer = await forge(fake, vol, pick, data)
            assert answer.show_alert, data
        answer = await forge(fake, vol, pick, "k1:99999999999999999999")  # no skill choice open
        assert answer.show_alert
    # Not a member any more: team 1's cards are not his.
    number = await w.st.place(w.res, "Help for the elderly" if w.en else "助老服务", "买米", "幸福小区")
    card = await fake.wait_message(w.group, contains=number)
    answer = await fake.answer(await vol.tap(card, "🙋"))
    assert_error(app, answer.text, "not_in_team", vol)


async def test_profile_of_someone_not_registered(world):
    w = world
    async with Unchanged(w.app, w.fake, w.res):
        assert_error(w.app, await reply(w.fake, w.res, "/profile"), "not_registered", w.res)
        answer = await forge(w.fake, w.res, w.fake.bot_messages(w.res)[-1], "pf1:name:0")
        assert_error(w.app, answer.text, "not_registered", w.res)


# --- teams -------------------------------------------------------------------------------------------


async def test_teams_shows_leader_members_and_groups(world):
    w = world
    listing = await w.st.say(w.admin, "/teams", "Beta")
    assert "陆队长" in listing.text and "钱队长" in listing.text and "Team Beta" in listing.text
    assert ("Help for the elderly" if w.en else "助老服务") in listing.text  # the services each team serves
    await w.st.say(w.admin, "/service_team 1 Beta", "Beta")
    beta = (await w.st.say(w.admin, "/teams", "Beta")).text.split("2. Beta", 1)[1]
    assert ("Help for the elderly" if w.en else "助老服务") in beta
    # A leader sees his own team only.
    mine = await w.st.say(w.lead, "/teams", TEAM1)
    assert "陆队长" in mine.text and "Beta" not in mine.text


async def test_rename_and_archive_a_team(world):
    w, fake, app = world, world.fake, world.app
    await w.st.say(w.admin, "/team_rename Beta Gamma", "Gamma")
    async with app.db.read() as s:
        assert (await s.get(Team, 2)).name == "Gamma"
    async with Unchanged(app, fake, w.admin, w.lead):
        assert_error(app, await reply(fake, w.admin, f"/team_rename Gamma {TEAM1}"), "team_exists", w.admin, name=TEAM1)
        assert_error(
            app, await reply(fake, w.admin, "/team_rename Gamma " + "T" * 41), "too_long", w.admin, length=41, limit=40
        )
        assert_error(app, await reply(fake, w.admin, "/team_rename Nobody X"), "no_team", w.admin, ref="Nobody")
        assert_error(app, await reply(fake, w.lead, "/team_rename 1 Mine"), "not_coordinator", w.lead)
        assert_error(app, await reply(fake, w.lead, "/team_archive 1"), "not_coordinator", w.lead)

    # A request served by Gamma, then Gamma is archived: its history stays, its cards stop.
    await w.st.say(w.admin, "/service_team 2 Gamma", "Gamma")
    service = "Household repairs" if w.en else "家政维修"
    first = await w.st.place(w.res, service, "修水管", "幸福小区")
    await fake.wait_message(w.group_b, contains=first)
    ask = await w.st.say(w.admin, "/team_archive Gamma", "Gamma")
    await w.st.tap(w.admin, ask, tr(app, w.admin, "No, keep it"))
    async with app.db.read() as s:
        assert not (await s.get(Team, 2)).archived
    ask = await w.st.say(w.admin, "/team_archive 2", "Gamma")
    await w.st.tap(w.admin, ask, tr(app, w.admin, "Yes, archive it"))
    async with app.db.read() as s:
        assert (await s.get(Team, 2)).archived
        assert (await s.get(Service, 2)).team_id is None
        old = (await s.execute(select(Request).where(Request.number == first))).scalar_one()
    assert old.team_id == 2
    assert "Gamma" not in (await w.st.say(w.admin, "/teams", TEAM1)).text
    second = await w.st.place(w.res, service, "修门锁", "幸福小区")
    await fake.wait_message(w.admin, contains=second)  # to the coordinators for review, not to Gamma's group
    await fake.wait_idle(quiet=0.1)
    assert not any(second in (m.text or "") for m in fake.bot_messages(w.group_b))
    async with Unchanged(app, fake, w.admin):  # archiving twice, or via an old button
        answer = await forge(fake, w.admin, ask, "tm1:archive:2")
        assert_error(app, answer.text, "no_team", w.admin, ref=2)
        answer = await forge(fake, w.admin, ask, "tm1:archive:99999999999999999999")
        assert_error(app, answer.text, "no_team", w.admin, ref=99999999999999999999)
    async with Unchanged(app, fake, w.lead):  # a leader cannot archive even with a forged button
        answer = await forge(fake, w.lead, fake.bot_messages(w.lead)[-1], "tm1:archive:1")
        assert_error(app, answer.text, "not_coordinator", w.lead)


# --- leaders -------------------------------------------------------------------------------------


async def test_coordinator_grants_and_revokes_team_leader(world):
    w, fake, app = world, world.fake, world.app
    await register(w, w.vol, "李明", [TEAM1])
    async with Unchanged(app, fake, w.lead, w.vol):
        # Only coordinators appoint leaders; a leader cannot appoint another.
        assert_error(app, await reply(fake, w.lead, "/leader_add @li 1"), "not_coordinator", w.lead)
        assert_error(app, await reply(fake, w.admin, "/leader_add @zhao 1"), "leader_not_volunteer", w.admin)
        assert_error(app, await reply(fake, w.admin, "/leader_add @nobody 1"), "no_user", w.admin)
        assert_error(
            app,
            await reply(fake, w.admin, "/leader_add @li"),
            "usage",
            w.admin,
            usage="/leader_add USER_ID|@username TEAM",
        )
        assert_error(app, await reply(fake, w.admin, "/leader_remove @li 1"), "not_leader", w.admin, team=TEAM1)
    await w.st.say(w.admin, "/leader_add @li 1", "李明")
    await fake.wait_message(w.vol, contains="⭐")
    assert (await member(app, 1, w.vol)).is_leader
    assert TEAM1 in (await w.st.say(w.vol, "/teams", TEAM1)).text
    assert tr(app, w.vol, "team leader") in (await w.st.say(w.vol, "/whoami", str(w.vol.id))).text

    await w.st.say(w.admin, f"/leader_remove {w.lead.id} {TEAM1}", "陆队长")
    await fake.wait_message(
        w.lead, contains=tr(app, w.lead, "You are no longer a leader of team “{team}”.", team=TEAM1)
    )
    leader_row = await member(app, 1, w.lead)
    assert leader_row.status == "active" and not leader_row.is_leader  # still a member
    async with Unchanged(app, fake, w.lead):
        assert_error(app, await reply(fake, w.lead, "/teams"), "not_coordinator", w.lead)
        assert_error(app, await reply(fake, w.lead, "/joins"), "not_team_leader", w.lead)
        assert_error(app, await reply(fake, w.lead, "/proxy"), "not_team_leader", w.lead)
    async with app.db.read() as s:
        assert await people.led_team_ids(s, w.lead.id) == []
    assert tr(app, w.lead, "volunteer") in (await w.st.say(w.lead, "/whoami", str(w.lead.id))).text


# --- skills ------------------------------------------------------------------------------------------


async def test_coordinator_edits_the_skill_list(world):
    w, fake, app = world, world.fake, world.app
    listing = await w.st.say(w.admin, "/skills", "陪诊")
    assert "10. 环境整治 / Neighbourhood clean-up" in listing.text
    await w.st.say(w.admin, "/skill_add 摄影 | Photography", "摄影")
    await w.st.say(w.admin, "/skill_remove 2", "陪诊")
    async with Unchanged(app, fake, w.admin, w.lead):
        assert_error(app, await reply(fake, w.admin, "/skill_add 摄影"), "skill_exists", w.admin, name="摄影")
        assert_error(app, await reply(fake, w.admin, "/skill_remove 2"), "no_skill", w.admin, ref="2")
        assert_error(
            app, await reply(fake, w.admin, "/skill_add " + "技" * 21), "too_long", w.admin, length=21, limit=20
        )
        assert_error(app, await reply(fake, w.lead, "/skill_add 木工"), "not_coordinator", w.lead)
    before = len(fake.bot_messages(w.vol))
    await w.st.say(w.vol, "/volunteer", "")
    await w.st.say(w.vol, "李明", "")
    await w.vol.send("13800138000")
    ask = await fake.wait_message(w.vol, contains="skills" if w.en else "技能", after=before)
    assert "Photography" in " ".join(ask.buttons) or "摄影" in " ".join(ask.buttons)
    assert not any(("陪诊" in b or "Hospital escort" in b) for b in ask.buttons)
    async with Unchanged(app, fake, w.vol):  # a removed skill's button from an old keyboard
        answer = await forge(fake, w.vol, ask, "k1:2")
        assert_error(app, answer.text, "stale", w.vol)
