"""The county tree in chat: /org within the coordinator's scope; administrators build it (/org_add, /org_rename,
/org_move, /org_archive, each after a confirmation); /coordinator_add USER NODE_CODE appoints a station's
coordinator, whose /pending, /services and /service_team keep to his station."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.org import bulk
from bot.requests import service as requests
from storage.models import NodeService, OrgNode, Request, Team, User
from tests.chat import World, tr
from tests.conftest import TOKEN

YES, NO = "Yes, change it", "No, keep it"


async def node(w: World, code: str) -> OrgNode | None:
    async with w.app.db.read() as s:
        return (await s.execute(select(OrgNode).where(OrgNode.code == code))).scalar_one_or_none()


async def confirmed(w: World, user, command: str, expect: str, button: str = YES) -> str:
    """Send a builder's command, see its question, tap the button; the message as it reads after the tap."""
    question = await w.st.say(user, command, expect)
    assert len(question.buttons) == 2  # yes, no
    await w.st.tap(user, question, question.buttons[0 if button == YES else 1])
    await w.fake.wait_idle(quiet=0.05)
    return w.fake.bot_messages(user)[-1].content


async def test_admin_builds_the_tree_and_org_shows_it(world):
    w = world
    tree = await w.st.say(w.admin, "/org", "county's tree")
    assert "中心 新时代文明实践中心 (ZX): 0 实践所, 1 实践站, 1 team(s)" in tree.content
    assert "    实践站" in tree.content and "(Z01)" in tree.content
    assert "/org_add" in tree.content  # the builder's commands, for him

    done = await confirmed(w, w.admin, "/org_add 所 城关镇实践所 CG", "Add 实践所 “城关镇实践所” (CG) under")
    assert "Added 实践所 城关镇实践所 (CG)." in done
    done = await confirmed(
        w, w.admin, "/org_add 站 东街 社区 DJ CG", "Add 实践站 “东街 社区” (DJ) under 城关镇实践所 (CG)"
    )
    assert (await node(w, "DJ")).parent_id == (await node(w, "CG")).id
    assert (await node(w, "DJ")).name == "东街 社区"

    tree = await w.st.say(w.admin, "/org", "county's tree")
    lines = tree.content.splitlines()
    cg = next(i for i, line in enumerate(lines) if "(CG)" in line)
    assert "1 实践站" in lines[cg] and lines[cg + 1].startswith("        实践站 东街 社区 (DJ)")
    assert "1 实践所, 2 实践站" in lines[1]

    await confirmed(w, w.admin, "/org_rename DJ 东街社区实践站", "Rename 实践站 东街 社区 (DJ)")
    assert (await node(w, "DJ")).name == "东街社区实践站"
    await confirmed(w, w.admin, "/org_move Z01 CG", "Move 实践站")
    assert (await node(w, "Z01")).parent_id == (await node(w, "CG")).id
    # “No, keep it” changes nothing
    await confirmed(w, w.admin, "/org_archive DJ", "Archive 实践站", button=NO)
    assert (await node(w, "DJ")).archived is False
    done = await confirmed(w, w.admin, "/org_archive DJ", "Archive 实践站")
    assert "is archived" in done and (await node(w, "DJ")).archived is True
    assert "(DJ)" not in (await w.st.say(w.admin, "/org", "county's tree")).content

    # bad input: a polite answer, nothing asked or changed
    answer = await w.st.say(w.admin, "/org_add 站 西街 XJ NOPE", "NOPE")
    assert answer.buttons == [] and await node(w, "XJ") is None
    answer = await w.st.say(w.admin, "/org_add 站 站下站 XX Z01", "cannot hold it")
    assert answer.buttons == [] and await node(w, "XX") is None
    answer = await w.st.say(w.admin, "/org_archive CG", "still has stations")
    assert (await node(w, "CG")).archived is False


async def test_chinese_confirmation(world):
    w = world
    async with w.app.db.tx() as s:
        (await s.get(User, w.chen.id)).is_coordinator = True
    question = await w.st.say(w.chen, "/org_add 所 城关镇实践所 CG", "确定在")
    assert question.buttons == [tr(w.app, w.chen, YES), tr(w.app, w.chen, NO)] == ["确认修改", "不，保留"]
    await w.st.tap(w.chen, question, "确认修改")
    assert await node(w, "CG") is not None


async def place(w: World, resident, need: str) -> Request:
    now = w.app.clock.now()
    start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    async with w.app.db.tx() as s:
        draft = requests.Draft(
            service_id=1, description=need, window_start=start, window_end=start + timedelta(hours=2), area="幸福小区"
        )
        return await requests.place(
            s, w.app.notices.requests, resident=await s.get(User, resident.id), draft=draft, now=now, year=now.year
        )


async def test_a_station_coordinator_keeps_to_his_station(world):
    w = world
    await confirmed(w, w.admin, "/org_add 站 西街社区 XJ", "Add 实践站")
    answer = await w.st.say(w.admin, "/coordinator_add @sun Z01", "is now a coordinator")
    assert "Sun is now a coordinator of 实践站" in answer.content and "(Z01)" in answer.content
    async with w.app.db.read() as s:
        assert (await s.get(User, w.outsider.id)).coord_node_id == (await node(w, "Z01")).id

    # his station only, and no builder's commands
    tree = await w.st.say(w.outsider, "/org", "county's tree")
    assert "(Z01)" in tree.content and "(ZX)" not in tree.content and "(XJ)" not in tree.content
    answer = await w.st.say(w.outsider, "/org_add 站 北街 BJ", "Only administrators and coordinators of the 中心")
    assert answer.buttons == [] and await node(w, "BJ") is None
    await w.st.say(w.outsider, "/org_archive Z01", "Only administrators and coordinators of the 中心")
    assert (await node(w, "Z01")).archived is False

    # a team of the other station serves its residents there
    await w.st.say(w.admin, "/newteam 西街小队 XJ", "created")
    async with w.app.db.read() as s:
        team = (await s.execute(select(Team).where(Team.name == "西街小队"))).scalar_one()
    assert team.node_id == (await node(w, "XJ")).id
    answer = await w.st.say(w.admin, "/service_team 1 西街小队 XJ", "now served by team")
    assert "At 西街社区 (XJ)" in answer.content
    # he cannot name a team of another station for his own
    await w.st.say(w.outsider, "/service_team 1 西街小队", "belongs to another station")
    async with w.app.db.read() as s:
        offered = (await s.execute(select(NodeService.node_id, NodeService.team_id))).all()
    assert offered == [((await node(w, "XJ")).id, team.id)]
    menu = await w.st.say(w.outsider, "/services", "The menu of")
    assert "(Z01)" in menu.content and "(总菜单)" in menu.content

    async with w.app.db.tx() as s:
        (await s.get(User, w.res.id)).station_id = (await node(w, "Z01")).id
        (await s.get(User, w.chen.id)).station_id = (await node(w, "XJ")).id
    mine, theirs = await place(w, w.res, "帮忙搬米"), await place(w, w.chen, "修水管")
    assert theirs.team_id == team.id and mine.team_id == 1
    pending = await w.st.say(w.outsider, "/pending", "Waiting for a volunteer")
    assert mine.number in pending.content and theirs.number not in pending.content
    pending = await w.st.say(w.admin, "/pending", "Waiting for a volunteer")
    assert mine.number in pending.content and theirs.number in pending.content


def cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'county.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "bot", "org", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.long
def test_org_import_and_export_on_the_command_line(tmp_path):
    sheet = tmp_path / "county.csv"
    sheet.write_text(
        "层级,名称,代码,上级代码\n"
        "站,东街社区实践站,CG-01,CG\n"  # before its 所: a later pass places it
        "所,城关镇实践所,CG,ZX\n"
        "站,站下站,CG-02,CG-01\n"
        "站,无上级,CG-03,NOPE\n",
        encoding="utf-8",
    )
    first = cli(tmp_path, "import", str(sheet))
    assert first.returncode == 1, first.stderr
    assert first.stdout.splitlines() == [
        "row 4: a 站 cannot hang under a 站 (CG-01): a 所 hangs under the 中心, a 站 under a 所 or the 中心",
        "row 5: unknown parent NOPE",
        "added 2, updated 0, unchanged 0, refused 2",
    ]
    out = cli(tmp_path, "export")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "level,name,code,parent code",
        "中心,新时代文明实践中心,ZX,",
        "所,城关镇实践所,CG,ZX",
        "站,东街社区实践站,CG-01,CG",
        "站,新时代文明实践站,Z01,ZX",
    ]
    assert cli(tmp_path, "export", "tree.xlsx").returncode == 0
    again = cli(tmp_path, "import", "tree.xlsx")
    assert again.returncode == 0 and again.stdout.strip() == "added 0, updated 0, unchanged 4, refused 0"
    bad = cli(tmp_path, "import", "missing.csv")
    assert bad.returncode == 2 and "missing.csv" in bad.stderr and "Traceback" not in bad.stderr


async def test_a_county_of_200_stations_fits_in_several_messages(world):
    w = world
    rows = [["中心", "县新时代文明实践中心", "CC", ""]] + [
        ["所", f"第{i}实践所", f"S{i:02d}", "CC"] for i in range(1, 18)
    ]
    rows += [
        ["站", f"第{n}实践站", f"Z{n:03d}", "CC" if n > 190 else f"S{(n - 1) % 17 + 1:02d}"] for n in range(1, 201)
    ]
    async with w.app.db.tx() as s:
        outcome = await bulk.import_rows(s, bulk.rows_of([list(bulk.COLUMNS), *rows]), w.app.clock.now())
        assert outcome.refused == [] and outcome.added == 217
        (await s.get(User, w.outsider.id)).is_coordinator = True
        (await s.get(User, w.outsider.id)).coord_node_id = (
            await s.execute(select(OrgNode.id).where(OrgNode.code == "S01"))
        ).scalar_one()

    before = len(w.fake.bot_messages(w.admin))
    await w.admin.send("/org")
    await w.fake.wait_message(w.admin, contains="/org_add", after=before)  # the last piece ends with the commands
    pieces = [m.content for m in w.fake.bot_messages(w.admin)[before:]]
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    lines = "\n".join(pieces).splitlines()
    assert sum("实践站 第" in line for line in lines) == 200 and sum("实践所 第" in line for line in lines) == 17
    assert "17 实践所, 201 实践站" in lines[1]  # the sheet's 200 and the station the bot started with

    # a 所's coordinator sees his 所 and its stations
    tree = await w.st.say(w.outsider, "/org", "county's tree")
    shown = tree.content.splitlines()[1:]
    assert shown[0].startswith("实践所 第1实践所 (S01): 12 实践站") and len(shown) == 13
    assert "/org_add" not in tree.content
