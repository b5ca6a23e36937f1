"""The README's “Roles and permissions” table, checked cell by cell through the fake Telegram.

Each row of the table names an ACTION below; for every role (column) the action is run as a user of
that role: ✅ must take effect (and not be a refusal), ❌ must be a polite refusal in the user's
language and change nothing. Adding a row to the README without an action here fails the test.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Awaitable, Callable

import pytest
from sqlalchemy import func, select

from bot import texts
from bot.services import people, requests
from storage.models import Request, Service, Skill, StationSetting, Team, TeamChat, TeamMember, User
from tests.fakegram import FakeUser
from tests.helpers import Station
from tests.test_bad_input import Unchanged, locale_of, render

README = Path(__file__).resolve().parent.parent / "README.md"
ROLES = ("resident", "volunteer", "team leader", "coordinator", "admin")


def permission_table() -> dict[str, dict[str, bool]]:
    text = README.read_text(encoding="utf-8").split("## Roles and permissions", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in re.split(r"(?<!\\)\|", rows[0])[1:-1]]
    assert tuple(header[1:]) == ROLES, header
    table = {}
    for line in rows[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert all(c in ("✅", "❌") for c in cells[1:]), line
        table[cells[0]] = dict(zip(ROLES, (c == "✅" for c in cells[1:])))
    return table


# --- the station -------------------------------------------------------------------------------------

async def place(w, need: str, status: str | None = None, claimer: FakeUser | None = None) -> Request:
    """A request of `other` (a resident), straight through the service; optionally moved on."""
    now = w.app.clock.now()
    start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    async with w.app.db.tx() as s:
        draft = requests.Draft(service_id=1, description=need, window_start=start,
                               window_end=start + timedelta(hours=2), area="幸福小区")
        req = await requests.place(s, w.app.notices, resident=await s.get(User, w.other.id), draft=draft, now=now,
                                   year=now.year)
        if status:
            req.status = status
            req.claimer_id = claimer.id if claimer else None
            req.reported_minutes = 60 if claimer else None
    await w.fake.wait_message(w.group, contains=req.number)
    return req


async def value(w, query) -> Any:
    async with w.app.db.read() as s:
        return (await s.execute(query)).all()


@pytest.fixture(params=["zh-hans", "en"])
async def world(request, fake, start_app):
    lang = request.param
    names = ("resident", "volunteer", "leader", "coordinator", "admin", "other", "spare", "spare_lead", "joiner",
             "target")
    users = {n: fake.user(n.capitalize(), language_code=lang, username=n) for n in names}
    group = fake.group("Team 1", members=list(users.values()))
    scratch = fake.group("Scratch", members=list(users.values()))
    bound = fake.group("Bound", members=list(users.values()))
    app = await start_app(admin_ids=[users["admin"].id])
    w = SimpleNamespace(app=app, fake=fake, st=Station(fake), group=group, scratch=scratch, bound=bound, **users)
    for user in users.values():
        await w.st.say(user, "/start", "/")
    now = app.clock.now()
    async with app.db.tx() as s:
        row = {n: await s.get(User, u.id) for n, u in users.items()}
        row["coordinator"].is_coordinator = True
        for n in ("volunteer", "leader", "spare", "spare_lead", "joiner", "target"):
            await people.register_volunteer(s, row[n], name=f"志愿者{n}", phone="13800138000", team_ids=[1], now=now)
        await s.flush()
        for n in ("leader", "spare_lead"):
            (await s.get(TeamMember, (1, users[n].id))).is_leader = True
        (await s.get(TeamMember, (1, users["joiner"].id))).status = "pending"
        s.add(Team(name="Scratch team", archived=False, created_at=now))
        s.add(Team(name="Old team", archived=False, created_at=now))
    await w.st.say(w.admin, "/bind 1", "", chat=group)
    await w.st.say(w.admin, "/bind 1", "", chat=bound)
    return w


# --- the actions ---------------------------------------------------------------------------------------

@dataclass
class Action:
    run: Callable[[Any, FakeUser], Awaitable[str]]  # does it as the user; returns the bot's answer
    effect: Callable[[Any], Awaitable[Any]] | None = None  # a value that changes when it took effect
    prepare: Callable[[Any], Awaitable[Any]] | None = None  # sets the stage; its result goes to run as w.ctx


def say(text: str, chat: str | None = None, then: str | None = None):
    async def run(w, user):
        target = getattr(w, chat) if chat else user
        before = len(w.fake.bot_messages(target))
        await user.send(text.format(w=w, user=user), chat=getattr(w, chat) if chat else None)
        answer = (await w.fake.wait_message(target, after=before)).text
        if then:  # leave the conversation the command started
            b2 = len(w.fake.bot_messages(user))
            await user.send(then)
            await w.fake.wait_message(user, after=b2)
        return answer
    return run


def tap(data: str):
    async def run(w, user):
        message = w.fake.bot_messages(user)[-1]
        answer = await w.fake.answer(await user.tap_data(message, data.format(w=w, ctx=w.ctx, user=user)))
        return answer.text or ""
    return run


def query(q):
    async def effect(w):
        return await value(w, q)
    return effect


def request_field(field: str):
    async def effect(w):
        return await value(w, select(getattr(Request, field)).where(Request.id == w.ctx.id))
    return effect


async def card_request(w):
    return await place(w, "接单测试")


async def claim_card(w, user):
    card = await w.fake.wait_message(w.group, contains=w.ctx.number)
    return (await w.fake.answer(await user.tap_data(card, f"c1:{w.ctx.id}"))).text


async def archive(w, user):
    answer = await say("/team_archive Old team")(w, user)
    message = w.fake.bot_messages(user)[-1]
    if message.buttons:  # the confirmation: yes
        yes = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
        await w.fake.answer(await user.tap_data(message, yes))
        await w.fake.wait_idle(quiet=0.05)
    return answer


def members(team: int = 1):
    return query(select(TeamMember.user_id, TeamMember.status, TeamMember.is_leader)
                 .where(TeamMember.team_id == team).order_by(TeamMember.user_id))


ACTIONS: dict[str, Action] = {
    "`/start`": Action(say("/start")),
    "`/help`": Action(say("/help")),
    "`/whoami`": Action(say("/whoami")),
    "`/cancel`": Action(say("/cancel")),
    "`/request`": Action(say("/request", then="/cancel")),
    "`/my`": Action(say("/my")),
    "`/volunteer`": Action(say("/volunteer", then="/cancel")),
    "`/profile`": Action(say("/profile")),
    "`/claims`": Action(say("/claims")),
    "“接单” on a card of the team": Action(claim_card, request_field("claimer_id"), card_request),
    "“完成服务” / “放弃接单” on someone else's request": Action(
        tap("t1:release:{ctx.id}"), request_field("status"),
        lambda w: place(w, "放弃测试", "claimed", w.spare)),
    "star buttons on someone else's request": Action(
        tap("r1:{ctx.id}:5"), request_field("status"), lambda w: place(w, "评单测试", "done", w.spare)),
    "`/history NUMBER` of someone else's request": Action(
        say("/history {w.ctx.number}"), prepare=lambda w: place(w, "记录测试")),
    "`/cancelreq NUMBER` of someone else's request": Action(
        say("/cancelreq {w.ctx.number}"), prepare=lambda w: place(w, "取消测试")),
    "`/proxy` (帮办 order for a resident)": Action(say("/proxy", then="/cancel")),
    "`/joins`": Action(say("/joins")),
    "“同意” / “不同意” on a join request to the team": Action(tap("j1:ok:1:{w.joiner.id}"), members()),
    "`/teams`": Action(say("/teams")),
    "`/pending`": Action(say("/pending")),
    "“审单” buttons (dispatch, other team, reject)": Action(
        tap("v1:go:{ctx.id}:0"), request_field("status"), lambda w: place(w, "审单测试", "review")),
    "“审核通过” / “修改时长” on a volunteer's hours": Action(
        tap("a1:ok:{ctx.id}"), request_field("status"), lambda w: place(w, "审核测试", "confirmed", w.spare)),
    "`/newteam NAME`": Action(say("/newteam New {user.id}"), query(select(func.count(Team.id)))),
    "`/team_rename TEAM NEW_NAME`": Action(say("/team_rename 2 Renamed"), query(select(Team.name))),
    "`/team_archive TEAM`": Action(archive, query(select(Team.archived))),
    "`/bind TEAM` (in the group)": Action(say("/bind 1", chat="scratch"), query(select(TeamChat.chat_id))),
    "`/unbind` (in the group)": Action(say("/unbind", chat="bound"), query(select(TeamChat.chat_id))),
    "`/services`": Action(say("/services")),
    "`/service_add 中文名 \\| English`": Action(say("/service_add 修车 | Bikes"), query(select(func.count(Service.id)))),
    "`/service_team ID TEAM`": Action(say("/service_team 2 2"), query(select(Service.team_id))),
    "`/service_rename ID 中文名 \\| English`": Action(say("/service_rename 3 保健 | Health"),
                                                      query(select(Service.name_zh))),
    "`/service_off ID`": Action(say("/service_off 4"), query(select(Service.active))),
    "`/service_on ID`": Action(say("/service_on 5"), query(select(Service.active)),
                               lambda w: _service_off(w, 5)),
    "`/review on\\|off`": Action(say("/review on"), query(select(StationSetting.value)
                                                       .where(StationSetting.key == "review"))),
    "`/skills`": Action(say("/skills")),
    "`/skill_add 中文名 \\| English`": Action(say("/skill_add 摄影 | Photos"), query(select(func.count(Skill.id)))),
    "`/skill_remove ID`": Action(say("/skill_remove 3"), query(select(Skill.active))),
    "`/leader_add USER TEAM`": Action(say("/leader_add @spare 1"), members()),
    "`/leader_remove USER TEAM`": Action(say("/leader_remove @spare_lead 1"), members()),
    "`/coordinator_add USER`": Action(say("/coordinator_add @target"), query(select(User.is_coordinator))),
    "`/coordinator_remove USER`": Action(say("/coordinator_remove @coordinator"),
                                         query(select(User.is_coordinator))),
}


async def _service_off(w, service_id: int) -> None:
    async with w.app.db.tx() as s:
        (await s.get(Service, service_id)).active = False


def refusals(app, user: FakeUser) -> set[str]:
    """Every parameterless error text, in the user's language."""
    out = set()
    for key in texts.ERRORS:
        try:
            out.add(render(app, key, locale_of(user)))
        except (KeyError, IndexError):
            pass
    return out


def test_every_row_has_an_action():
    assert set(permission_table()) == set(ACTIONS)


ROLE_USER = {"resident": "resident", "volunteer": "volunteer", "team leader": "leader",
             "coordinator": "coordinator", "admin": "admin"}


@pytest.mark.parametrize("role", ROLES)
async def test_permission_table(world, role):
    w = world
    user = getattr(w, ROLE_USER[role])
    refused = refusals(w.app, user)
    wrong = []
    for row, allowed in ((row, cells[role]) for row, cells in permission_table().items()):
        action = ACTIONS[row]
        w.ctx = await action.prepare(w) if action.prepare else None
        await w.fake.wait_idle(quiet=0.05)
        if allowed:
            before = await action.effect(w) if action.effect else None
            answer = await action.run(w, user)
            await w.fake.wait_idle(quiet=0.05)
            after = await action.effect(w) if action.effect else None
            if answer in refused or (action.effect and before == after):
                wrong.append(f"{row}: should be allowed, got {answer!r}")
        else:
            try:
                async with Unchanged(w.app, w.fake, user):
                    answer = await action.run(w, user)
            except AssertionError as exc:
                wrong.append(f"{row}: refused but something changed ({exc})")
                continue
            if answer not in refused:
                wrong.append(f"{row}: should be refused politely, got {answer!r}")
    assert wrong == []
