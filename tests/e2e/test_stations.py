"""Residents belong to a station (issue 13, item 3), through the fake Bot API: the poster's deep link, the picker
(所, then 站) on first contact and before the first 点单, /mystation, the /qr poster read back with a QR reader; and a
single-station deployment that asks nothing."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from bot.org import service as org
from bot.org.poster import SIZE
from bot.org.station_keyboards import StationCb
from storage.models import NodeService, Request, Team, User
from tests.chat import assert_error
from tests.helpers import Station


async def station_of(app, user) -> int | None:
    async with app.db.read() as s:
        return (await s.get(User, user.id)).station_id


@pytest.fixture
async def county(fake, start_app):
    """1 中心 (ZX) with 2 所 (SA, SB) and 3 站: Z01 directly under the 中心 (the migration's), A01 under SA, B01
    under SB; a team at each station serving 助老服务, each bound to a group of its own; a coordinator at A01 and
    one at SA."""
    admin = fake.user("Admin", username="admin")
    coord_a01 = fake.user("CoordA01", username="coord_a01")
    coord_sa = fake.user("CoordSA", username="coord_sa")
    groups = {code: fake.group(f"Team {code}", members=[admin]) for code in ("Z01", "A01", "B01")}
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    for user in (admin, coord_a01, coord_sa):
        await st.say(user, "/start", "/")
    now = app.clock.now()
    async with app.db.tx() as s:
        boss = await s.get(User, admin.id)
        await org.add_node(s, boss, "所", "城关镇实践所", "SA", None, now)
        await org.add_node(s, boss, "所", "东关镇实践所", "SB", None, now)
        a01 = await org.add_node(s, boss, "站", "幸福里实践站", "A01", "SA", now)
        b01 = await org.add_node(s, boss, "站", "东关村实践站", "B01", "SB", now)
        z01 = (await org.load_tree(s)).by_code("Z01")
        assert z01 is not None
        teams = {}
        for code, node in (("A01", a01), ("B01", b01)):
            team = Team(name=f"{node.name}小队", archived=False, created_at=now, node_id=node.id)
            s.add(team)
            await s.flush()
            s.add(NodeService(node_id=node.id, service_id=1, team_id=team.id))
            teams[code] = team.id
        teams["Z01"] = 1  # the migration's team, at Z01, serving the 总菜单
        for user, at in ((coord_a01, a01), (coord_sa, await org.find_node(s, "SA"))):
            row = await s.get(User, user.id)
            row.is_coordinator, row.coord_node_id = True, at.id
        nodes = {"A01": a01.id, "B01": b01.id, "Z01": z01.id, "SA": a01.parent_id}
    for code, group in groups.items():
        await st.say(admin, f"/bind {teams[code]}", "", chat=group)
    return SimpleNamespace(
        app=app, fake=fake, st=st, admin=admin, coord_a01=coord_a01, coord_sa=coord_sa, groups=groups, nodes=nodes
    )


async def test_a_deep_link_places_the_resident_and_his_card_goes_to_his_station(county):
    w, fake = county, county.fake
    resident = fake.user("Zhao")
    welcome = await w.st.say(resident, "/start A01", "幸福里实践站")
    assert "欢迎" in welcome.text and "城关镇实践所" not in welcome.buttons  # placed: no picker
    assert await station_of(w.app, resident) == w.nodes["A01"]
    number = await w.st.place(resident, "助老服务", "帮忙买菜", "幸福小区")
    await fake.wait_message(w.groups["A01"], contains=number)
    await fake.wait_idle(quiet=0.2)
    for other in ("B01", "Z01"):
        assert not any(number in (m.text or "") for m in fake.bot_messages(w.groups[other]))
    async with w.app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
    assert req.station_id == w.nodes["A01"]


async def test_whatever_he_writes_first_he_is_asked_for_his_station(county):
    w, fake = county, county.fake
    resident = fake.user("Feng")
    await w.st.say(resident, "你好", "/help")
    picker = await fake.wait_message(resident, contains="实践所（镇或街道）")
    assert "城关镇实践所" in picker.buttons


async def test_an_unknown_code_is_said_politely_and_the_picker_offered(county):
    w, fake = county, county.fake
    resident = fake.user("Qian")
    answer = await w.st.say(resident, "/start NOPE9", "NOPE9")
    assert "实践所" in answer.text and "城关镇实践所" in answer.buttons
    assert await station_of(w.app, resident) is None


async def test_without_a_link_he_picks_his_institute_then_his_station_then_orders(county):
    w, fake = county, county.fake
    resident = fake.user("Sun")
    picker = await w.st.say(resident, "/request", "实践所")
    assert picker.buttons == ["城关镇实践所", "东关镇实践所", "直属站（中心直管）"]
    await w.st.tap(resident, picker, "东关镇实践所")
    stations = await fake.wait_message(resident, contains="东关镇实践所下")
    assert stations.message_id == picker.message_id and stations.buttons == ["东关村实践站", "« 返回"]
    before = len(fake.bot_messages(resident))
    await w.st.tap(resident, stations, "东关村实践站")
    await fake.wait_message(resident, contains="您的实践站已设为东关村实践站")
    menu = await fake.wait_message(resident, contains="服务", after=before)  # the 点单 goes on: its first question
    assert "助老服务" in menu.buttons
    assert await station_of(w.app, resident) == w.nodes["B01"]
    await w.st.say(resident, "/cancel", "取消")
    number = await w.st.place(resident, "助老服务", "帮忙修水管", "东关村")
    await fake.wait_message(w.groups["B01"], contains=number)


async def test_first_contact_asks_and_mystation_changes_it(county):
    w, fake = county, county.fake
    resident = fake.user("Li")
    await w.st.say(resident, "/start", "/help all")
    picker = await fake.wait_message(resident, contains="实践所（镇或街道）")
    await w.st.tap(resident, picker, "直属站")
    direct = await fake.wait_message(resident, contains="中心直属")
    [only] = [
        b for b in direct.buttons if b not in ("« 返回", "📝 我要点单", "📋 我的点单", "🙋 成为志愿者", "❓ 帮助")
    ]
    await w.st.tap(resident, direct, only)
    await fake.wait_message(resident, contains="您的实践站已设为")
    assert await station_of(w.app, resident) == w.nodes["Z01"]
    # /mystation shows it, and changes it with the same picker
    mine = await w.st.say(resident, "/mystation", "您的实践站")
    assert "Z01" in mine.text
    await w.st.tap(resident, mine, "更换")
    assert await fake.pulse.wait_until(lambda: "实践所（镇或街道）" in (mine.text or ""), 15)  # the same message
    await w.st.tap(resident, mine, "城关镇实践所")
    stations = await fake.wait_message(resident, contains="城关镇实践所下")
    pick_a01 = stations.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await w.st.tap(resident, stations, "幸福里实践站")
    await fake.wait_message(resident, contains="您的实践站已设为幸福里实践站")
    assert await station_of(w.app, resident) == w.nodes["A01"]
    mine = await w.st.say(resident, "/mystation", "A01")
    assert "城关镇实践所" in mine.text
    # a button of his picker tapped by someone else (a forged tap in another chat) is refused, nothing changes
    other = fake.user("Zhou")
    await w.st.say(other, "/mystation", "实践所")
    answer = await fake.answer(await other.tap_data(stations, pick_a01))
    assert answer.show_alert
    assert await station_of(w.app, other) is None
    # forged picks in his own chat: a node that is no station, or none at all, are refused and change nothing
    own = fake.bot_messages(resident)[-1]
    for forged in (
        StationCb(action="pick", node=99999),
        StationCb(action="pick", node=w.nodes["SA"]),  # a 所, not a station
        StationCb(action="group", node=99999),
    ):
        answer = await fake.answer(await resident.tap_data(own, forged.pack()))
        assert answer.show_alert, forged
    assert await station_of(w.app, resident) == w.nodes["A01"]


def decoded(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


async def poster(w, user, text: str):
    before = len(w.fake.bot_messages(user))
    await user.send(text)
    sent = await w.fake.wait_message(user, after=before)
    return sent


async def test_qr_posters_decode_to_the_station_link(county):
    w, fake = county, county.fake
    username = fake.bot_username
    # a station coordinator: his own station's, without a code
    sent = await poster(w, w.coord_a01, "/qr")
    assert sent.document is not None and sent.document.filename.endswith(".png"), sent.content
    assert "幸福里实践站" in (sent.caption or "")
    image = Image.open(io.BytesIO(sent.document.content))
    assert image.format == "PNG" and image.size == SIZE
    assert decoded(sent.document.content) == [f"https://t.me/{username}?start=A01"]
    # not another station's
    refused = await poster(w, w.coord_a01, "/qr B01")
    assert refused.document is None
    assert_error(w.app, refused.text, "not_your_station", w.coord_a01)
    # a 所 coordinator names a station under it
    sent = await poster(w, w.coord_sa, "/qr a01")
    assert decoded(sent.document.content) == [f"https://t.me/{username}?start=A01"]
    refused = await poster(w, w.coord_sa, "/qr B01")
    assert refused.document is None
    assert_error(w.app, refused.text, "not_your_station", w.coord_sa)
    # the 中心 (an administrator): any station, but he has to say which
    usage = await poster(w, w.admin, "/qr")
    assert usage.document is None and "/qr" in usage.text
    sent = await poster(w, w.admin, "/qr B01")
    assert decoded(sent.document.content) == [f"https://t.me/{username}?start=B01"]
    unknown = await poster(w, w.admin, "/qr NOPE9")
    assert unknown.document is None and "NOPE9" in unknown.text
    # a resident gets no poster
    resident = fake.user("Wu")
    await w.st.say(resident, "/start A01", "幸福里实践站")
    refused = await poster(w, resident, "/qr")
    assert refused.document is None
    assert_error(w.app, refused.text, "not_coordinator", resident)
    # the poster's link, opened, places a resident there
    newcomer = fake.user("Zheng")
    code = decoded(sent.document.content)[0].split("?start=")[1]
    await w.st.say(newcomer, f"/start {code}", "东关村实践站")
    assert await station_of(w.app, newcomer) == w.nodes["B01"]


async def test_a_single_station_asks_nothing(fake, start_app):
    admin = fake.user("Admin")
    resident = fake.user("Zhao")
    await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(resident, "/start", "/help all")
    await fake.wait_idle(quiet=0.2)
    assert len(fake.bot_messages(resident)) == 1  # the greeting only: no picker
    menu = await st.say(resident, "/request", "服务")
    assert "助老服务" in menu.buttons
    await st.say(resident, "/cancel", "取消")
    mine = await st.say(resident, "/mystation", "您的实践站")
    assert "Z01" in mine.text and not mine.buttons  # nothing to change
    welcome = await st.say(resident, "/start Z01", "欢迎")
    assert all("实践所" not in button for button in welcome.buttons)
    await st.say(admin, "/start", "/help all")
    before = len(fake.bot_messages(admin))
    await admin.send("/qr")
    sent = await fake.wait_message(admin, after=before)
    assert decoded(sent.document.content) == [f"https://t.me/{fake.bot_username}?start=Z01"]
