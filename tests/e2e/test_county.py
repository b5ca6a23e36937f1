"""One bot for a county (issue 13): requests routed by the resident's station to the nearest level that serves
them, offered one level up when nobody at the station takes them, handed on by hand (转派), and coordinators who
see and decide only their own subtree.

The tree: 中心 ZX ─ 所 S1 ─ 站 Z01 (the seeded station, team 1), 站 Z02
                  └ 所 S2 ─ 站 Z03
Teams: 综合志愿服务队 (Z01, group A), 所服务队 (S1, group S), 中心服务队 (ZX, group C), 三站服务队 (Z03, group B).
Z01 serves 助老服务 itself; S1 serves 助老服务 and 家政维修; ZX serves 助老服务.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.ledger import service as ledger
from bot.org import service as org
from bot.people import service as people
from storage.models import NodeService, OrgNode, Request, RequestEvent, Team, User
from tests.chat import Unchanged, assert_error, reply, request_by_number, seed_volunteer, set_now
from tests.helpers import Station

TZ = ZoneInfo("Asia/Shanghai")
HELP, REPAIR = "助老服务", "家政维修"  # services 1 and 2 of the seeded 总菜单


@pytest.fixture
async def county(fake, start_app, clock):
    morning = (clock.now().astimezone(TZ) + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    clock.move_to(morning)  # follow-ups wait out the night: the day starts in the morning
    admin = fake.user("Wang", language_code="zh-hans", username="wang")
    names = ("res1", "res3", "vol1", "vols", "volc", "vol3", "coord1", "coord3", "coords1", "coordc")
    users = {n: fake.user(n.capitalize(), language_code="zh-hans", username=n) for n in names}
    everyone = [admin, *users.values()]
    groups = {k: fake.group(f"Group {k}", members=everyone) for k in ("A", "S", "C", "B")}
    app = await start_app(admin_ids=[admin.id], unclaimed_after_hours=2)
    w = SimpleNamespace(app=app, fake=fake, st=Station(fake), clock=clock, admin=admin, **users, **groups)
    for user in everyone:
        await w.st.say(user, "/start", "/")
    now = clock.now()
    async with app.db.tx() as s:
        actor = await s.get(User, admin.id)
        assert actor is not None
        s1 = await org.add_node(s, actor, "所", "城关所", "S1", "ZX", now)
        s2 = await org.add_node(s, actor, "所", "河东所", "S2", "ZX", now)
        await org.move_node(s, actor, "Z01", "S1")
        z02 = await org.add_node(s, actor, "站", "二站", "Z02", "S1", now)
        z03 = await org.add_node(s, actor, "站", "三站", "Z03", "S2", now)
        z01 = await org.find_node(s, "Z01")
        centre = await org.find_node(s, "ZX")
        team_s = await people.create_team(s, actor, "所服务队", now, node_id=s1.id)
        team_c = await people.create_team(s, actor, "中心服务队", now, node_id=centre.id)
        team_3 = await people.create_team(s, actor, "三站服务队", now, node_id=z03.id)
        s.add_all(
            [
                NodeService(node_id=z01.id, service_id=1, team_id=1),
                NodeService(node_id=s1.id, service_id=1, team_id=team_s.id),
                NodeService(node_id=s1.id, service_id=2, team_id=team_s.id),
                NodeService(node_id=centre.id, service_id=1, team_id=team_c.id),
                NodeService(node_id=z03.id, service_id=1, team_id=team_3.id),
            ]
        )
        for name, node in (("res1", z01), ("res3", z03)):
            (await s.get(User, users[name].id)).station_id = node.id
        for name, node in (("coord1", z01), ("coord3", z03), ("coords1", s1), ("coordc", centre)):
            row = await s.get(User, users[name].id)
            row.is_coordinator = True
            await org.appoint(s, row, node.code)
        w.nodes = {"Z01": z01.id, "Z02": z02.id, "Z03": z03.id, "S1": s1.id, "S2": s2.id, "ZX": centre.id}
        w.teams = {"A": 1, "S": team_s.id, "C": team_c.id, "B": team_3.id}
    for key, team in w.teams.items():
        await w.st.say(admin, f"/bind {team}", "", chat=groups[key])
    for name, team in (("vol1", 1), ("vols", w.teams["S"]), ("volc", w.teams["C"]), ("vol3", w.teams["B"])):
        await seed_volunteer(app, users[name], f"志愿者{name}", "13800138000", team_ids=(team,))
    return w


async def place(w, resident, service: str, need: str) -> Request:
    number = await w.st.place(resident, service, need, "幸福小区", address="幸福路 3 号", phone="13912345678")
    return await request_by_number(w.app, number)


def cards(w, group, number: str) -> list:
    return [m for m in w.fake.bot_messages(group) if number in (m.text or "")]


async def test_a_request_goes_to_its_stations_team_and_a_service_it_does_not_serve_to_its_so(county):
    w = county
    req = await place(w, w.res1, HELP, "帮忙买药")
    assert (req.station_id, req.team_id) == (w.nodes["Z01"], 1)
    await w.fake.wait_message(w.A, contains=req.number)
    repair = await place(w, w.res1, REPAIR, "修水龙头")  # Z01 does not serve it: its 所 does
    assert (repair.station_id, repair.team_id) == (w.nodes["Z01"], w.teams["S"])
    await w.fake.wait_message(w.S, contains=repair.number)
    assert not cards(w, w.A, repair.number)
    other = await place(w, w.res3, HELP, "陪同就医")  # another 所's station: its own team
    assert (other.station_id, other.team_id) == (w.nodes["Z03"], w.teams["B"])
    await w.fake.wait_message(w.B, contains=other.number)
    assert not cards(w, w.A, other.number) and not cards(w, w.S, other.number)


async def test_unclaimed_at_the_station_it_is_offered_to_the_so_then_the_centre(county):
    w = county
    req = await place(w, w.res1, HELP, "帮忙买药")
    station_card = await w.fake.wait_message(w.A, contains=req.number)
    set_now(w.clock, req.created_at + timedelta(hours=2, minutes=1))
    await w.app.scheduler.run_due()
    offered = await w.fake.wait_message(w.S, contains=req.number)
    assert offered.buttons  # 接单 there
    # the station's card says where it went and can no longer be taken
    assert await w.fake.pulse.wait_until(lambda: not _card(w, w.A, station_card).buttons, 15)
    for coordinator in (w.coord1, w.coords1, w.coordc):  # both levels (and the 中心) hear it
        await w.fake.wait_message(coordinator, contains=req.number)
    assert not [m for m in w.fake.bot_messages(w.coord3) if req.number in (m.text or "")]
    async with w.app.db.read() as s:
        assert (await s.get(Request, req.id)).team_id == w.teams["S"]
    # a station volunteer's tap on the old card no longer takes it; the 所's volunteer does
    async with Unchanged(w.app, w.fake, w.vol1):
        await w.fake.answer(await w.vol1.tap_data(station_card, f"t1:claim:{req.id}"))
    await w.st.tap(w.vols, offered, "🙋")
    await w.fake.wait_message(w.vols, contains="13912345678")
    async with w.app.db.read() as s:
        assert (await s.get(Request, req.id)).claimer_id == w.vols.id
        hops = (await s.execute(select(RequestEvent.kind).where(RequestEvent.request_id == req.id))).scalars().all()
    assert "escalated" in hops
    history = await w.st.say(w.coord1, f"/history {req.number}", req.number)
    assert "城关所" in history.text or "所服务队" in history.text


def _card(w, group, card):
    return next(m for m in w.fake.bot_messages(group) if m.message_id == card.message_id)


async def test_a_coordinator_hands_a_request_to_another_station_with_a_reason(county):
    w = county
    req = await place(w, w.res1, HELP, "帮忙买药")
    await w.fake.wait_message(w.A, contains=req.number)
    async with Unchanged(w.app, w.fake, w.coord3):  # not his station
        assert_error(
            w.app, await reply(w.fake, w.coord3, f"/transfer {req.number} Z03 更近"), "not_your_station", w.coord3
        )
    answer = await w.st.say(w.coords1, f"/transfer {req.number} Z03 离三站更近", req.number)
    assert "Z03" in answer.text
    await w.fake.wait_message(w.B, contains=req.number)
    await w.fake.wait_message(w.coord3, contains="离三站更近")
    async with w.app.db.read() as s:
        moved = await s.get(Request, req.id)
    assert (moved.station_id, moved.team_id) == (w.nodes["Z03"], w.teams["B"])
    history = await w.st.say(w.coord3, f"/history {req.number}", req.number)  # now his
    assert "离三站更近" in history.text


async def test_coordinators_see_and_decide_their_own_subtree_only(county):
    w = county
    mine = await place(w, w.res1, HELP, "帮忙买药")
    theirs = await place(w, w.res3, HELP, "陪同就医")
    pending = {
        u: (await w.st.say(getattr(w, u), "/pending", "")).text for u in ("coord1", "coord3", "coords1", "coordc")
    }
    assert mine.number in pending["coord1"] and theirs.number not in pending["coord1"]
    assert theirs.number in pending["coord3"] and mine.number not in pending["coord3"]
    assert mine.number in pending["coords1"] and theirs.number not in pending["coords1"]
    assert mine.number in pending["coordc"] and theirs.number in pending["coordc"]
    # another station's request: no details, no decisions
    async with Unchanged(w.app, w.fake, w.coord3):
        assert_error(w.app, await reply(w.fake, w.coord3, f"/history {mine.number}"), "not_your_request", w.coord3)
        assert_error(w.app, await reply(w.fake, w.coord3, f"/cancelreq {mine.number}"), "not_your_station", w.coord3)
    # his own: the address and phone, privately; the 中心 sees it too
    assert "13912345678" in (await w.st.say(w.coord1, f"/history {mine.number}", mine.number)).text
    assert "13912345678" in (await w.st.say(w.coordc, f"/history {theirs.number}", theirs.number)).text


async def test_a_single_station_behaves_as_before(fake, start_app):
    """No tree built: everyone is at the only station; requests go to the 总菜单's team."""
    admin, res = fake.user("Wang", username="wang"), fake.user("Zhao", username="zhao")
    group = fake.group("Team 1", members=[admin, res])
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "/")
    await st.say(admin, "/bind 1", "", chat=group)
    number = await st.place(res, HELP, "帮忙买药", "幸福小区")
    await fake.wait_message(group, contains=number)
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
        nodes = (await s.execute(select(OrgNode))).scalars().all()
        team = await s.get(Team, 1)
        resident = await s.get(User, res.id)
    assert [n.kind for n in nodes] == ["centre", "station"]
    assert req.station_id == team.node_id == resident.station_id == nodes[1].id


async def test_rank_for_my_station_my_so_and_the_centre(county):
    w = county
    now = w.clock.now()
    async with w.app.db.tx() as s:
        for user, minutes in ((w.vol1, 120), (w.vols, 90), (w.vol3, 60)):
            ledger.add_service(
                s,
                volunteer_id=user.id,
                minutes=minutes,
                points_per_hour=10,
                request_id=None,
                approved_by=w.admin.id,
                now=now,
            )
    station = (await w.st.say(w.vol1, "/rank 站", "🏆")).text
    assert "志愿者vol1" in station and "志愿者vols" not in station and "志愿者vol3" not in station
    institute = (await w.st.say(w.vol1, "/rank 所", "🏆")).text
    assert "城关所" in institute and "志愿者vols" in institute and "志愿者vol3" not in institute
    centre = (await w.st.say(w.vol3, "/rank 中心", "🏆")).text
    assert all(f"志愿者{n}" in centre for n in ("vol1", "vols", "vol3"))


async def test_a_station_posts_its_own_notice_to_its_groups_only(county):
    w = county
    preview = await w.st.say(w.coord1, "/notice 本周六上午九点在广场义诊", "义诊")
    assert "1" in preview.text  # one group: team 1's
    await w.st.tap(w.coord1, preview, "📣")
    await w.fake.wait_message(w.A, contains="广场义诊")
    sent = await w.st.say(w.coordc, "/notice 全县志愿服务月启动", "全县")  # the 中心: every group
    await w.st.tap(w.coordc, sent, "📣")
    for group in (w.A, w.S, w.C, w.B):
        await w.fake.wait_message(group, contains="全县志愿服务月启动")
    assert not [m for g in (w.S, w.C, w.B) for m in w.fake.bot_messages(g) if "广场义诊" in (m.text or "")]
    async with Unchanged(w.app, w.fake, w.vol1):  # not a coordinator
        assert_error(w.app, await reply(w.fake, w.vol1, "/notice 你好"), "not_coordinator", w.vol1)


async def test_a_so_coordinator_orders_for_a_resident_of_a_station_he_names(county):
    """帮办 in a county: a 所's coordinator has no station of his own; he names one within his scope."""
    w, fake, st = county, county.fake, county.st
    proxy = w.coords1
    async with Unchanged(w.app, fake, proxy):
        assert_error(w.app, await reply(fake, proxy, "/proxy"), "proxy_needs_station", proxy)
        assert_error(w.app, await reply(fake, proxy, "/proxy Z03"), "not_your_station", proxy)  # another 所's
    await st.say(proxy, "/proxy Z02", "帮办")
    await st.say(proxy, "刘奶奶", "")
    menu = await st.say(proxy, "13611112222", "")
    fake.mark_private("13611112222")
    await fake.answer(await proxy.tap(menu, HELP))
    await fake.wait_idle(quiet=0.05)
    days = await st.say(proxy, "帮忙买药", "")
    before = len(fake.bot_messages(proxy))
    await fake.answer(await proxy.tap_data(days, days.reply_markup["inline_keyboard"][0][1]["callback_data"]))
    slots = await fake.wait_message(proxy, contains="14:00", after=before)
    before = len(fake.bot_messages(proxy))
    await fake.answer(await proxy.tap(slots, "14:00"))
    await fake.wait_message(proxy, after=before)
    ask_address = await st.say(proxy, "幸福小区", "")
    before = len(fake.bot_messages(proxy))
    await fake.answer(await proxy.tap(ask_address, "跳过"))
    summary = await fake.wait_message(proxy, contains="帮忙买药", after=before)
    before = len(fake.bot_messages(proxy))
    await fake.answer(await proxy.tap(summary, "✅"))
    placed = await fake.wait_message(proxy, contains="#", after=before)
    req = await request_by_number(w.app, placed.text.split("#", 1)[1].split()[0])
    assert (req.station_id, req.team_id, req.proxy_for) == (w.nodes["Z02"], w.teams["S"], "刘奶奶")
    await fake.wait_message(w.S, contains=req.number)  # Z02 names no team: its 所's serves it
