"""The “Roles and permissions” table of docs/commands.md, checked cell by cell through the fake Telegram.

Each row of the table names an ACTION below; for every role (column) the action is run as a user of
that role: ✅ must take effect (and not be a refusal), ❌ must be a polite refusal in the user's
language and change nothing. Adding a row to the table without an action here fails the test.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot import error_texts
from bot.activities import service as activities
from bot.certificates import service as certificates
from bot.ledger import disputes
from bot.ledger import service as ledger
from bot.org import service as org
from bot.people import service as people
from bot.requests import service as requests
from bot.shop import service as shop
from bot.wishes import service as wishes
from scheduling.holidays import CIVIC_KEYS
from storage.models import (
    Activity,
    ActivitySignup,
    Certificate,
    CustomText,
    Dispute,
    LedgerEntry,
    NodeService,
    Occurrence,
    OrgNode,
    OutboxMessage,
    Redemption,
    Request,
    RequestEvent,
    Service,
    ShopItem,
    ShowcasePost,
    Skill,
    StationSetting,
    Task,
    TaskNode,
    Team,
    TeamChat,
    TeamMember,
    User,
    Volunteer,
    Wish,
    WishWall,
)
from tests.chat import Unchanged, locale_of, render, settled
from tests.fakegram import FakeUser
from tests.helpers import Station

# The repository's root, wherever this file sits under tests/.
ROOT = next(folder for folder in Path(__file__).resolve().parents if (folder / "pyproject.toml").is_file())
COMMANDS_DOC = ROOT / "docs" / "commands.md"
ROLES = (
    "resident",
    "volunteer",
    "team leader",
    "coordinator of this station",
    "of its 所",
    "of the 中心",
    "of another station",
    "admin",
)


def permission_table() -> dict[str, dict[str, bool]]:
    text = COMMANDS_DOC.read_text(encoding="utf-8").split("\n## Roles and permissions\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in re.split(r"(?<!\\)\|", rows[0])[1:-1]]
    assert tuple(header[1:]) == ROLES, header
    table = {}
    for line in rows[2:]:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert all(c in ("✅", "❌") for c in cells[1:]), line
        table[cells[0]] = dict(zip(ROLES, (c == "✅" for c in cells[1:]), strict=True))
    return table


# --- the station -------------------------------------------------------------------------------------


async def place(w, need: str, status: str | None = None, claimer: FakeUser | None = None) -> Request:
    """A request of `other` (a resident), straight through the service; optionally moved on."""
    now = w.app.clock.now()
    start = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    async with w.app.db.tx() as s:
        draft = requests.Draft(
            service_id=1, description=need, window_start=start, window_end=start + timedelta(hours=2), area="幸福小区"
        )
        req = await requests.place(
            s, w.app.notices.requests, resident=await s.get(User, w.other.id), draft=draft, now=now, year=now.year
        )
        carded = req.status == requests.OPEN  # no card while it waits for review (after `/review on`)
        if status:
            req.status = status
            req.claimer_id = claimer.id if claimer else None
            req.reported_minutes = 60 if claimer else None
    if carded:
        await w.fake.wait_message(w.group, contains=req.number)
    return req


async def value(w, query) -> Any:
    async with w.app.db.read() as s:
        return (await s.execute(query)).all()


@pytest.fixture
async def world(fake, start_app, lang):
    names = (
        "resident",
        "volunteer",
        "leader",
        "coordinator",
        "admin",
        "other",
        "spare",
        "spare_lead",
        "joiner",
        "target",
        "outsider",
        "former",
        "station_coord",
        "so_coord",
        "other_coord",
    )
    users = {n: fake.user(n.capitalize(), language_code=lang, username=n) for n in names}
    group = fake.group("Team 1", members=list(users.values()))
    scratch = fake.group("Scratch", members=list(users.values()))
    bound = fake.group("Bound", members=list(users.values()))
    nine = fake.group("Nine", members=list(users.values()))
    # Telegram's 20 messages a minute per group, one a second, is not under test here; the table posts many cards.
    app = await start_app(admin_ids=[users["admin"].id], outbox_group_per_minute=1000)
    app.sender.pace.group_interval = 0.0
    w = SimpleNamespace(
        app=app,
        fake=fake,
        st=Station(fake),
        group=group,
        scratch=scratch,
        bound=bound,
        nine=nine,
        slots=count(),
        **users,
    )
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
        await s.flush()
        await people.register_volunteer(
            s, row["outsider"], name="志愿者outsider", phone="13800138000", team_ids=[2], now=now
        )  # a volunteer of another team
        closed = Team(name="Closed team", archived=True, created_at=now)  # 4: archived; `leader` led it
        s.add(closed)
        await s.flush()
        await people.register_volunteer(
            s, row["former"], name="志愿者former", phone="13800138000", team_ids=[1], now=now
        )
        s.add(
            TeamMember(team_id=closed.id, user_id=users["former"].id, is_leader=False, joined_at=now, status="active")
        )
        s.add(TeamMember(team_id=closed.id, user_id=users["leader"].id, is_leader=True, joined_at=now, status="active"))
        await s.flush()
        await s.delete(await s.get(TeamMember, (1, users["former"].id)))  # a member of the archived team only
    await w.st.say(w.admin, "/bind 1", "", chat=group)
    await w.st.say(w.admin, "/bind 1", "", chat=bound)
    await stock(w)
    await county(w)
    return w


async def county(w) -> None:
    """The station of every row (Z01, with all the teams, people and items) under a 所 (S1) of the 中心 (ZX), and
    another station (Z09) of the 中心; a coordinator appointed at each (the 中心's is `coordinator`)."""
    now = w.app.clock.now()
    async with w.app.db.tx() as s:
        admin = await s.get(User, w.admin.id)
        await org.add_node(s, admin, "所", "城关所", "S1", "ZX", now)
        await org.move_node(s, admin, "Z01", "S1")
        nine = await org.add_node(s, admin, "站", "九站", "Z09", "ZX", now)
        station = await org.find_node(s, "Z01")
        await s.execute(update(Team).where(Team.node_id.is_(None)).values(node_id=station.id))
        team = await people.create_team(s, admin, "九站服务队", now, node_id=nine.id)  # serves 助老服务 at Z09
        s.add(NodeService(node_id=nine.id, service_id=1, team_id=team.id))
        await s.execute(update(User).values(station_id=station.id))
        for name, code in (("station_coord", "Z01"), ("so_coord", "S1"), ("other_coord", "Z09")):
            row = await s.get(User, getattr(w, name).id)
            row.is_coordinator = True
            await org.appoint(s, row, code)
    await w.st.say(w.admin, f"/bind {team.id}", "", chat=w.nine)  # the other station's group


async def stock(w) -> None:
    """Approved hours (points) for the team's volunteers, the 爱心超市's items, a certificate of `spare`."""
    now = w.app.clock.now()
    async with w.app.db.tx() as s:
        admin = await s.get(User, w.admin.id)
        for user in (w.volunteer, w.leader, w.spare, w.outsider):
            ledger.add_service(
                s,
                volunteer_id=user.id,
                minutes=600,
                points_per_hour=10,
                request_id=None,
                approved_by=w.admin.id,
                now=now,
            )
        await shop.add_item(s, admin, name="毛巾", price=5, stock=100, limit=None, now=now)  # 1: to redeem
        await shop.add_item(s, admin, name="洗衣液", price=50, stock=10, limit=None, now=now)  # 2: to change
        (await shop.add_item(s, admin, name="肥皂", price=5, stock=10, limit=None, now=now)).active = False  # 3
        await s.flush()
        issued = await certificates.issue(
            s, await s.get(User, w.spare.id), date_from=None, date_to=None, now=now, tz=w.app.settings.tz
        )
        w.certificate = issued.certificate.number


async def wish_of(w, status: str = "review", claimer: FakeUser | None = None) -> Wish:
    """A wish of `other` (a resident of the station), straight through the service; optionally moved on."""
    now = w.app.clock.now()
    today = now.astimezone(w.app.settings.tz).date()
    async with w.app.db.tx() as s:
        draft = wishes.WishDraft(what="一个新书包", for_whom="小明", due=today + timedelta(days=10))
        wish = await wishes.make(
            s, w.app.notices.wishes, wisher=await s.get(User, w.other.id), draft=draft, today=today, now=now
        )
        wish.status = status
        wish.claimer_id = claimer.id if claimer else None
        wish.done_photo = "PHOTO" if status in ("delivered", "fulfilled") else None
        wish.approved_by = w.admin.id
    return wish


def wish_field(field: str):
    return query_of(lambda w: select(getattr(Wish, field)).where(Wish.id == w.ctx.id))


# --- the actions ---------------------------------------------------------------------------------------


@dataclass
class Action:
    run: Callable[[Any, FakeUser], Awaitable[str]]  # does it as the user; returns the bot's answer
    effect: Callable[[Any], Awaitable[Any]] | None = None  # a value that changes when it took effect
    # sets the stage, given the user; its result goes to run as w.ctx (without one, a row's later actions keep
    # the ctx of its earlier ones)
    prepare: Callable[[Any, FakeUser], Awaitable[Any]] | None = None
    check: Callable[[Any, str], Awaitable[bool]] | None = None  # when allowed: is the answer the right one?


def say(text: str, chat: str | None = None, then: str | None = None):
    async def run(w, user):
        target = getattr(w, chat) if chat else user
        before = len(w.fake.bot_messages(target))
        await user.send(text.format(w=w, ctx=w.ctx, user=user), chat=getattr(w, chat) if chat else None)
        answer = (await w.fake.wait_message(target, after=before)).content
        if then:  # leave the conversation the command started
            b2 = len(w.fake.bot_messages(user))
            await user.send(then)
            await w.fake.wait_message(user, after=b2)
        return answer

    return run


def tap(data: str, on: Callable[[Any], Awaitable[Any]] | None = None):
    """Tap (possibly forged) callback data on a message: `on(w)`, else the user's last private message."""

    async def run(w, user):
        message = await on(w) if on else w.fake.bot_messages(user)[-1]
        answer = await w.fake.answer(await user.tap_data(message, data.format(w=w, ctx=w.ctx, user=user)))
        return answer.text or ""

    return run


async def first_button(w, user):
    message = w.fake.bot_messages(user)[-1]
    data = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
    return (await w.fake.answer(await user.tap_data(message, data))).text or ""


def chain(*runs):
    """Steps of one action, as the user takes them; a refusal ends it (and is its answer)."""

    async def run(w, user):
        answer = ""
        for step in runs:
            answer = await step(w, user)
            await settled(w.app, w.fake)
            if answer in w.refused:
                break
        return answer

    return run


def query(q):
    async def effect(w):
        return await value(w, q)

    return effect


def query_of(build):
    """An effect whose query depends on the stage (w.ctx) or the user (w.user)."""

    async def effect(w):
        return await value(w, build(w))

    return effect


def request_field(field: str):
    return query_of(lambda w: select(getattr(Request, field)).where(Request.id == w.ctx.id))


def mentions(*words):
    async def check(w, answer):
        return all(word.format(w=w) in answer for word in words)

    return check


async def card_request(w, user):
    return await place(w, "接单测试")


async def release_asked(w, volunteer: FakeUser) -> Request:
    """A request `volunteer` took and asked the coordinators to release (he is past RELEASES_PER_DAY)."""
    req = await place(w, "放弃申请测试", "claimed", volunteer)
    async with w.app.db.tx() as s:
        s.add(
            RequestEvent(request_id=req.id, actor_id=volunteer.id, kind="release_asked", created_at=w.app.clock.now())
        )
    return req


async def claim_card(w, user):
    card = await w.fake.wait_message(w.group, contains=w.ctx.number)
    return (await w.fake.answer(await user.tap_data(card, f"c1:{w.ctx.id}"))).text


async def archive(w, user):
    answer = await say("/team_archive Old team")(w, user)
    message = w.fake.bot_messages(user)[-1]
    if message.buttons:  # the confirmation: yes
        yes = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
        await w.fake.answer(await user.tap_data(message, yes))
        await settled(w.app, w.fake)
    return answer


def confirmed(text: str):
    """A change of the county's tree: the command, then “Yes” under its question when it was asked."""

    async def run(w, user):
        answer = await say(text)(w, user)
        message = w.fake.bot_messages(user)[-1]
        if message.buttons:
            yes = message.reply_markup["inline_keyboard"][0][0]["callback_data"]
            await w.fake.answer(await user.tap_data(message, yes))
            await settled(w.app, w.fake)
        return answer

    return run


async def org_view(w, answer: str) -> bool:
    """/org shows the viewer's own node: the 中心's whole tree, a 所's subtree, a station itself."""
    own = {"station_coord": "(Z01)", "so_coord": "(S1)", "other_coord": "(Z09)"}.get(w.role, "(ZX)")
    return own in answer and (own != "(Z09)" or "(Z01)" not in answer)


async def org_node(w, user, level: str) -> str:
    """A 所 or 站 under the 中心, added straight through the service; its code."""
    code = f"{'P' if level == '所' else 'A'}{next(w.slots)}"
    async with w.app.db.tx() as s:
        await org.add_node(s, await s.get(User, w.admin.id), level, f"节点{code}", code, "ZX", w.app.clock.now())
    return code


def members(team: int = 1):
    return query(
        select(TeamMember.user_id, TeamMember.status, TeamMember.is_leader)
        .where(TeamMember.team_id == team)
        .order_by(TeamMember.user_id)
    )


def blocked():
    return query(select(User.id, User.is_blocked).order_by(User.id))


async def block_joiner(w, user) -> None:
    async with w.app.db.tx() as s:
        (await s.get(User, w.joiner.id)).is_blocked = True


async def _service_off(w, service_id: int) -> None:
    async with w.app.db.tx() as s:
        (await s.get(Service, service_id)).active = False


async def names_the_station(w, answer: str) -> bool:
    async with w.app.db.read() as s:
        station = (await s.execute(select(OrgNode).where(OrgNode.code == "Z01"))).scalar_one()
        placed = (await s.get(User, w.user.id)).station_id
    return station.name in answer and placed == station.id


async def showcase_post(w, user) -> ShowcasePost:
    """A 公示 post of the station (Z01) waiting for its day: taking it down sends nothing."""
    async with w.app.db.tx() as s:
        station = await org.find_node(s, "Z01")
        post = ShowcasePost(
            station_id=station.id,
            kind="wish",
            text="公示测试",
            status="waiting",
            chat_id=w.scratch.id,
            created_at=w.app.clock.now(),
        )
        s.add(post)
        await s.flush()
        return post


async def sent_poster(w, answer: str) -> bool:
    """The answer is the poster: a PNG file (its caption is the answer read)."""
    sent = w.fake.bot_messages(w.user)[-1]
    return sent.document is not None and sent.document.content.startswith(b"\x89PNG")


# --- the stage for the ledger, shop, certificate, calendar and activity rows --------------------------------


async def is_volunteer(w, user) -> bool:
    async with w.app.db.read() as s:
        return await s.get(Volunteer, user.id) is not None


async def own_or_spare(w, user):
    """The user if he is a volunteer; else `spare`: someone who is not one has nothing of his own to act on,
    so the only thing he could tap is someone else's."""
    return user if await is_volunteer(w, user) else w.spare


async def spare_entry(w, user=None) -> LedgerEntry:
    async with w.app.db.tx() as s:
        entry = ledger.add_service(
            s,
            volunteer_id=w.spare.id,
            minutes=60,
            points_per_hour=10,
            request_id=None,
            approved_by=w.admin.id,
            now=w.app.clock.now(),
        )
        await s.flush()
        return entry


async def spare_dispute(w, user) -> Dispute:
    entry = await spare_entry(w)
    async with w.app.db.tx() as s:
        return await disputes.open_dispute(
            s,
            w.app.notices.ledger,
            user=await s.get(User, w.spare.id),
            entry_id=entry.id,
            text="时长记少了",
            now=w.app.clock.now(),
        )


async def redemption(w, owner) -> Redemption:
    async with w.app.db.tx() as s:
        return await shop.redeem(
            s,
            w.app.notices.shop,
            user=await s.get(User, owner.id),
            item_id=1,
            price=5,
            now=w.app.clock.now(),
            tz=w.app.settings.tz,
        )


async def own_redemption(w, user) -> Redemption:
    return await redemption(w, await own_or_spare(w, user))


async def taken_request(w, claimer) -> Request:
    """A request `claimer` took whose window has begun (so "it did not take place" may be said) and not ended
    (so the scheduler asks nothing about it meanwhile)."""
    req = await place(w, "提醒测试", "claimed", claimer)
    now = w.app.clock.now()
    async with w.app.db.tx() as s:
        row = await s.get(Request, req.id)
        row.window_start, row.window_end, row.claimed_at = now - timedelta(minutes=10), now + timedelta(minutes=50), now
    return req


async def own_taken_request(w, user) -> Request:
    return await taken_request(w, await own_or_spare(w, user))


async def activity(w, team: int = 1, *, stage: str = "open", signed=()) -> Activity:
    """An activity of `team` organised by `spare_lead` (someone else), published through the service.

    stage: open (starts in a few hours; each at its own time, so sign-ups never overlap), soon (check-in open),
    started (may be closed), finished (closed; `signed` checked in for an hour, to approve)."""
    now = w.app.clock.now()
    start = now + (timedelta(minutes=20) if stage == "soon" else timedelta(hours=2, minutes=90 * next(w.slots)))
    draft = activities.Draft(
        title="敬老院探访",
        theme="",
        place="幸福敬老院",
        capacity=5,
        team_id=team,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
    )
    async with w.app.db.tx() as s:
        act = await activities.publish(
            s,
            w.app.notices.activities,
            actor=await s.get(User, w.admin.id),
            draft=draft,
            chats=await people.team_chats(s, team),
            now=now,
            year=now.year,
        )
        act.created_by = w.spare_lead.id
        if stage == "started":  # ends later, so the scheduler does not close it meanwhile
            act.starts_at = now - timedelta(minutes=30)
        elif stage == "finished":
            act.starts_at, act.ends_at, act.status = now - timedelta(hours=3), now - timedelta(hours=2), "finished"
        chats = await people.team_chats(s, team)
        for user in signed:
            done = stage == "finished"
            s.add(
                ActivitySignup(
                    activity_id=act.id,
                    user_id=user.id,
                    status="signed",
                    created_at=now,
                    updated_at=now,
                    checked_in_at=act.starts_at if done else None,
                    checked_out_at=act.ends_at if done else None,
                    proposed_minutes=60 if done else None,
                )
            )
    for chat_id in chats:  # the cards are out (and recorded) before the row begins
        await w.fake.wait_message(chat_id, contains=act.number)
    return act


async def own_signup(w, user, stage: str = "open") -> Activity:
    return await activity(w, stage=stage, signed=[user] if await is_volunteer(w, user) else [])


async def group_card(w):
    return await w.fake.wait_message(w.group, contains=w.ctx.number)


async def report(w, user, command: str = "/report week"):
    """/report: the summary, then (when allowed) the workbook, waited for so that it is not taken for the
    answer to the next row."""
    before = len(w.fake.bot_messages(user))
    answer = await say(command)(w, user)
    while answer not in w.refused and not any(m.document for m in w.fake.bot_messages(user)[before:]):
        await w.fake.wait_message(user, after=len(w.fake.bot_messages(user)))
    return answer


async def own_team_only(w, answer) -> bool:
    async with w.app.db.read() as s:
        team = await s.get(Team, 1)
    return "Scratch team" not in answer and (w.user is not w.leader or team.name in answer)


def signups_of_ctx():
    return query_of(
        lambda w: (
            select(
                ActivitySignup.user_id,
                ActivitySignup.status,
                ActivitySignup.checked_in_at,
                ActivitySignup.checked_out_at,
                ActivitySignup.approved_minutes,
            )
            .where(ActivitySignup.activity_id == w.ctx.id)
            .order_by(ActivitySignup.id)
        )
    )


def ctx_row(*columns):
    """The stage object's own row (w.ctx), these columns."""
    return query_of(lambda w: select(*columns).where(columns[0].class_.id == w.ctx.id))


def this_month(w) -> str:
    return w.app.clock.now().astimezone(w.app.settings.tz).strftime("%Y-%m")


async def task_node(w, user, status: str = "issued") -> TaskNode:
    """A task order the 中心 (`coordinator`) issued to the station (Z01), its node in `status`; straight in the
    database (the conversation is tests/e2e/test_tasks.py's)."""
    now = w.app.clock.now()
    today = now.astimezone(w.app.settings.tz).date()
    async with w.app.db.tx() as s:
        station = (await s.execute(select(OrgNode).where(OrgNode.code == "Z01"))).scalar_one()
        task = Task(
            number=f"T{today.year}-{next(w.slots):03d}",
            title="任务单测试",
            theme="",
            expected="走访",
            issuer_id=w.coordinator.id,
            issuer_node_id=None,
            accept_by=today + timedelta(days=2),
            finish_by=today + timedelta(days=5),
            created_at=now,
        )
        s.add(task)
        await s.flush()
        tn = TaskNode(task_id=task.id, node_id=station.id, status=status, report="已完成", updated_at=now)
        s.add(tn)
        await s.flush()
    return tn


ACTIONS: dict[str, Action | list[Action]] = {
    "`/start`": Action(say("/start")),
    "`/help`": Action(say("/help")),
    "`/whoami`": Action(say("/whoami")),
    "`/cancel`": Action(say("/cancel")),
    "`/request`": Action(say("/request", then="/cancel")),
    "`/my`": Action(say("/my")),
    "`/regular`": Action(say("/regular")),
    "`/forget` (one's own data, private chat)": Action(say("/forget"), check=mentions("🗑")),  # the confirmation
    "`/volunteer`": Action(say("/volunteer", then="/cancel")),
    "`/profile`": Action(say("/profile")),
    "`/claims`": Action(say("/claims")),
    "“接单” on a card of the team": Action(claim_card, request_field("claimer_id"), card_request),
    "“完成服务” / “放弃接单” on someone else's request": Action(
        tap("t1:release:{ctx.id}"), request_field("status"), lambda w, u: place(w, "放弃测试", "claimed", w.spare)
    ),
    "star buttons on someone else's request": Action(
        tap("r1:{ctx.id}:5"), request_field("status"), lambda w, u: place(w, "评单测试", "done", w.spare)
    ),
    "`/history NUMBER` of someone else's request": Action(
        say("/history {w.ctx.number}"), prepare=lambda w, u: place(w, "记录测试")
    ),
    "`/cancelreq NUMBER` of someone else's request": Action(
        say("/cancelreq {w.ctx.number}"), prepare=lambda w, u: place(w, "取消测试")
    ),
    "`/proxy` (帮办 order for a resident)": Action(say("/proxy", then="/cancel")),
    "`/joins`": Action(say("/joins")),
    "“同意” / “不同意” on a join request to the team": Action(tap("j1:ok:1:{w.joiner.id}"), members()),
    "`/teams`": Action(say("/teams")),
    "`/pending`": Action(say("/pending")),
    "`/transfer NUMBER CODE REASON` of a request of the station": Action(
        say("/transfer {w.ctx.number} Z09 九站离得更近"), request_field("station_id"), lambda w, u: place(w, "转派测试")
    ),
    "`/setup`": Action(say("/setup"), check=mentions("🧭")),
    "“审单” buttons (dispatch, other team, reject)": Action(
        tap("v1:go:{ctx.id}:0"), request_field("status"), lambda w, u: place(w, "审单测试", "review")
    ),
    "“审核通过” / “修改时长” on a volunteer's hours": Action(
        tap("a1:ok:{ctx.id}"), request_field("status"), lambda w, u: place(w, "审核测试", "confirmed", w.spare)
    ),
    "“同意放弃” / “请他保留” on a volunteer's release past the daily limit": Action(
        tap("rl1:ok:{ctx.id}:{w.spare.id}"), request_field("status"), lambda w, u: release_asked(w, w.spare)
    ),
    "`/newteam NAME`": Action(say("/newteam New {user.id}"), query(select(func.count(Team.id)))),
    "`/team_rename TEAM NEW_NAME`": Action(say("/team_rename 2 Renamed"), query(select(Team.name))),
    "`/team_archive TEAM`": Action(archive, query(select(Team.archived))),
    "`/bind TEAM` (in the group)": Action(say("/bind 1", chat="scratch"), query(select(TeamChat.chat_id))),
    "`/unbind` (in the group)": Action(say("/unbind", chat="bound"), query(select(TeamChat.chat_id))),
    "`/services`": Action(say("/services")),
    "`/service_add 中文名 \\| English`": Action(
        say("/service_add 修车 | Bikes"), query(select(func.count(Service.id)))
    ),
    "`/service_team ID TEAM [NODE_CODE]` for the station": Action(
        say("/service_team 2 2 Z01"),
        lambda w: value(w, select(NodeService.node_id, NodeService.service_id, NodeService.team_id)),
    ),
    "`/service_rename ID 中文名 \\| English`": Action(
        say("/service_rename 3 保健 | Health"), query(select(Service.name_zh))
    ),
    "`/service_off ID`": Action(say("/service_off 4"), query(select(Service.active))),
    "`/service_on ID`": Action(say("/service_on 5"), query(select(Service.active)), lambda w, u: _service_off(w, 5)),
    "`/review on\\|off`": Action(
        say("/review on"), query(select(StationSetting.value).where(StationSetting.key == "review"))
    ),
    "`/skills`": Action(say("/skills")),
    "`/skill_add 中文名 \\| English`": Action(say("/skill_add 摄影 | Photos"), query(select(func.count(Skill.id)))),
    "`/skill_remove ID`": Action(say("/skill_remove 3"), query(select(Skill.active))),
    "`/leader_add USER TEAM`": Action(say("/leader_add @spare 1"), members()),
    "`/leader_remove USER TEAM`": Action(say("/leader_remove @spare_lead 1"), members()),
    "`/coordinator_add USER`": Action(say("/coordinator_add @target"), query(select(User.is_coordinator))),
    "`/coordinator_add USER NODE_CODE`": Action(
        say("/coordinator_add @target Z01"), query(select(User.id, User.is_coordinator, User.coord_node_id))
    ),
    "`/coordinator_remove USER`": Action(say("/coordinator_remove @coordinator"), query(select(User.is_coordinator))),
    "`/org`": Action(say("/org"), check=org_view),
    # 公示 -------------------------------------------------------------------------------------------------
    "`/showcase` (the recent 公示 posts)": Action(say("/showcase")),
    "“撤下” on a 公示 post of the station, and its confirmation": [
        Action(tap("pb1:ask:{ctx.id}"), prepare=showcase_post),
        Action(tap("pb1:yes:{ctx.id}"), ctx_row(ShowcasePost.id, ShowcasePost.status), showcase_post),
    ],
    "“同意匿名公示” on someone else's request": Action(
        tap("pb1:agree:{ctx.id}"),
        query_of(lambda w: select(RequestEvent.kind).where(RequestEvent.request_id == w.ctx.id)),
        lambda w, u: place(w, "公示测试", "confirmed", w.spare),
    ),
    "`/org_add 站\\|所 NAME CODE [PARENT_CODE]` and its confirmation": Action(
        confirmed("/org_add 站 新站{user.id} N{user.id} ZX"), query(select(OrgNode.code))
    ),
    "`/org_rename CODE NAME` and its confirmation": Action(
        confirmed("/org_rename Z01 改名{user.id}"), query(select(OrgNode.name))
    ),
    "`/org_move CODE PARENT_CODE` and its confirmation": Action(
        confirmed("/org_move Z01 {ctx}"),
        query(select(OrgNode.id, OrgNode.parent_id)),
        lambda w, u: org_node(w, u, "所"),
    ),
    "`/org_archive CODE` and its confirmation": Action(
        confirmed("/org_archive {ctx}"), query(select(OrgNode.archived)), lambda w, u: org_node(w, u, "站")
    ),
    "`/member_remove USER TEAM REASON` of a member of the team": Action(
        chain(say("/member_remove @target 1 长期不参加服务"), first_button), members()
    ),
    "`/block USER [REASON]`": Action(say("/block @joiner 多次恶意点单"), blocked()),
    "`/unblock USER`": Action(say("/unblock @joiner"), blocked(), block_joiner),
    # ledger ------------------------------------------------------------------------------------------------
    "`/me`": Action(say("/me"), check=mentions("志愿者{w.role}")),
    "`/ledger` (one's own entries) and its page buttons": [
        Action(say("/ledger"), check=mentions("志愿者{w.role}")),
        Action(tap("d1:page:{user.id}:1")),
    ],
    "`/ledger USER` and its page buttons, of another volunteer of the team": [
        Action(say("/ledger @spare"), check=mentions("志愿者spare")),
        Action(tap("d1:page:{w.spare.id}:1")),
    ],
    "`/ledger USER` of a volunteer of another team": Action(say("/ledger @outsider"), check=mentions("志愿者outsider")),
    "`/ledger USER` of a member of an archived team one led": Action(
        say("/ledger @former"), check=mentions("志愿者former")
    ),
    "`/dispute` of one's own entry": Action(
        chain(say("/dispute"), first_button, say("少记了一小时")), query(select(Dispute.volunteer_id, Dispute.entry_id))
    ),
    "`/dispute` button on someone else's entry": Action(tap("d1:pick:{ctx.id}:0"), prepare=spare_entry),
    "“更正” / “不予受理” on a volunteer's dispute": [
        Action(
            chain(tap("d1:fix:{ctx.id}:0"), say("2"), say("签到记录显示两小时")),
            ctx_row(Dispute.id, Dispute.status),
            spare_dispute,
        ),
        Action(chain(tap("d1:no:{ctx.id}:0"), say("记录无误")), ctx_row(Dispute.id, Dispute.status), spare_dispute),
    ],
    "`/rank`, `/rank year` and their buttons": [
        Action(say("/rank")),
        Action(say("/rank year")),
        Action(tap("rk1:month:0")),
    ],
    "`/rank stations [year]` (stations compared)": [
        Action(say("/rank stations")),
        Action(say("/rank stations year")),
    ],
    "`/settings` and its switches": [
        Action(say("/settings")),
        Action(
            tap("st1:stars"), query_of(lambda w: select(Volunteer.share_stars).where(Volunteer.user_id == w.user.id))
        ),
    ],
    "“在群里发起投票” (最美志愿者)": Action(
        lambda w, u: tap(f"mv1:{this_month(w)}:1")(w, u),
        query(select(Occurrence.key).where(Occurrence.key.like("recognition:poll:%"))),
    ),
    # 爱心超市 -------------------------------------------------------------------------------------------------
    "`/shop`": Action(say("/shop")),
    "“兑换” buttons in `/shop`": [
        Action(tap("s1:ask:1:0")),
        Action(
            tap("s1:yes:1:5"), query_of(lambda w: select(Redemption.id).where(Redemption.volunteer_id == w.user.id))
        ),
    ],
    "`/redemptions`": Action(say("/redemptions")),
    "“取消兑换” on one's own redemption": [
        Action(tap("rd1:ask:{ctx.id}"), prepare=own_redemption),
        Action(tap("rd1:yes:{ctx.id}"), ctx_row(Redemption.id, Redemption.status), own_redemption),
    ],
    "“取消兑换” on someone else's redemption": [
        Action(tap("rd1:ask:{ctx.id}"), prepare=lambda w, u: redemption(w, w.spare)),
        Action(tap("rd1:yes:{ctx.id}")),
    ],
    "`/handover CODE`, “已发放” button": [
        Action(
            say("/handover {ctx.code}"), ctx_row(Redemption.id, Redemption.status), lambda w, u: redemption(w, w.spare)
        ),
        Action(
            tap("rd1:hand:{ctx.id}"), ctx_row(Redemption.id, Redemption.status), lambda w, u: redemption(w, w.spare)
        ),
    ],
    "`/shop_items`, `/shop_add 名称 \\| 积分 \\| 库存`": [
        Action(say("/shop_items")),
        Action(say("/shop_add 香皂 | 10 | 5"), query(select(func.count(ShopItem.id)))),
    ],
    "`/shop_price`, `/shop_stock`, `/shop_limit`, `/shop_off`, `/shop_on` (ID N)": [
        Action(say(command), query(select(ShopItem.price, ShopItem.stock, ShopItem.monthly_limit, ShopItem.active)))
        for command in ("/shop_price 2 60", "/shop_stock 2 20", "/shop_limit 2 3", "/shop_off 2", "/shop_on 3")
    ],
    # certificates and reports ---------------------------------------------------------------------------------
    "`/certificate [FROM TO]` (one's own)": Action(say("/certificate"), query(select(func.count(Certificate.id)))),
    "`/verify NUMBER` of a volunteer's certificate": Action(
        say("/verify {w.certificate}"), check=mentions("志愿者spare")
    ),
    "`/report week\\|month` (team leaders: their team's)": Action(report, check=own_team_only),
    "`/report week\\|month CODE` of a station or 所 within one's scope": Action(
        lambda w, u: report(w, u, "/report week Z01")
    ),
    # calendar -------------------------------------------------------------------------------------------------
    "`/theme` (show, change, reset)": [
        Action(say("/theme")),
        Action(chain(say("/theme 3 学雷锋 | 说明 | 义剪；义诊"), tap("th1:save:3")), query(select(CustomText.key))),
        Action(say("/theme 3 reset"), query(select(CustomText.key))),
    ],
    "`/festival` (show, change, reset)": [
        Action(say("/festival")),
        Action(say("/festival 端午 包粽子，赛龙舟"), query(select(CustomText.key))),
        Action(say("/festival 端午 reset"), query(select(CustomText.key))),
    ],
    "`/notice TEXT` and its send button": Action(
        chain(say("/notice 本周六上午九点义诊"), tap("nt1:send")), query(select(func.count(OutboxMessage.id)))
    ),
    "`/civic` and its buttons": [
        Action(say("/civic")),
        Action(tap(f"cv1:{CIVIC_KEYS[0]}:0"), query(select(StationSetting.key, StationSetting.value))),
    ],
    "“我会按时到” / “服务未进行” on a request one took": [
        Action(tap("rm1:coming:{ctx.id}"), query(select(RequestEvent.kind)), own_taken_request),
        Action(tap("rm1:missed:{ctx.id}"), query(select(RequestEvent.kind))),
    ],
    "“我会按时到” / “服务未进行” on someone else's request": [
        Action(tap("rm1:coming:{ctx.id}"), prepare=lambda w, u: taken_request(w, w.spare)),
        Action(tap("rm1:missed:{ctx.id}")),
    ],
    # activities -----------------------------------------------------------------------------------------------
    "`/activity` (team leaders: for their team)": Action(say("/activity", then="/cancel")),
    "“报名” / “取消报名” on an activity of the team": [
        Action(tap("ac1:in:{ctx.id}", on=group_card), signups_of_ctx(), lambda w, u: activity(w)),
        Action(tap("ac1:out:{ctx.id}", on=group_card), signups_of_ctx(), own_signup),
    ],
    "“报名” on an activity of another team": Action(tap("ac1:in:{ctx.id}"), prepare=lambda w, u: activity(w, 2)),
    "`/checkin CODE`, `/checkout` (signed up)": [
        Action(say("/checkin {ctx.checkin_code}"), signups_of_ctx(), lambda w, u: own_signup(w, u, "soon")),
        Action(say("/checkout"), signups_of_ctx()),
    ],
    "`/activity_code`, `/activity_close`, hours buttons, of an activity of the team": [
        Action(
            say("/activity_code {ctx.number}"), prepare=lambda w, u: activity(w), check=mentions("{w.ctx.checkin_code}")
        ),
        Action(tap("ci1:post:{ctx.id}")),
        Action(
            say("/activity_close {ctx.number}"),
            ctx_row(Activity.id, Activity.status),
            lambda w, u: activity(w, stage="started"),
        ),
        Action(
            tap("ah1:ok:{ctx.id}:{w.spare.id}"),
            signups_of_ctx(),
            lambda w, u: activity(w, stage="finished", signed=[w.spare]),
        ),
        Action(
            chain(tap("ah1:fix:{ctx.id}:{w.spare.id}"), say("1")),
            signups_of_ctx(),
            lambda w, u: activity(w, stage="finished", signed=[w.spare]),
        ),
    ],
    "the same, of an activity of another team": [
        Action(say("/activity_code {ctx.number}"), prepare=lambda w, u: activity(w, 2)),
        Action(
            say("/activity_close {ctx.number}"),
            ctx_row(Activity.id, Activity.status),
            lambda w, u: activity(w, 2, stage="started"),
        ),
        Action(
            tap("ah1:ok:{ctx.id}:{w.outsider.id}"),
            signups_of_ctx(),
            lambda w, u: activity(w, 2, stage="finished", signed=[w.outsider]),
        ),
    ],
    "`/activity_cancel NUMBER` of an activity someone else organised": [
        Action(
            chain(say("/activity_cancel {ctx.number}"), tap("ak1:cancel_yes:{ctx.id}")),
            ctx_row(Activity.id, Activity.status),
            lambda w, u: activity(w),
        ),
        Action(tap("ak1:cancel_yes:{ctx.id}"), ctx_row(Activity.id, Activity.status), lambda w, u: activity(w)),
    ],
    # residents belong to a station (handlers/stations.py): Z01, the station of every row
    "`/start CODE` (a station's poster or link)": Action(say("/start z01"), check=names_the_station),
    "`/mystation`": Action(say("/mystation"), check=mentions("Z01")),
    "`/qr [CODE]` (a station's poster)": Action(say("/qr Z01"), check=sent_poster),
    # task orders (handlers/tasks.py): the 中心 and a 所 issue, the station's coordinators (or above) answer
    "`/task` (issue a task order)": Action(say("/task", then="/cancel")),
    "`/tasks`": Action(say("/tasks")),
    "“领单” / “无法承接” on a task order to the station": Action(
        chain(tap("tk1:ok:{ctx.id}"), say("/cancel")),  # 领单 goes on to publish its activity: left here
        ctx_row(TaskNode.id, TaskNode.status),
        task_node,
    ),
    "“确认” / “退回” on the station's report of a task order of the 中心": Action(
        tap("tk1:fin:{ctx.id}"), ctx_row(TaskNode.id, TaskNode.status), lambda w, u: task_node(w, u, "reported")
    ),
    "`/wish`": Action(say("/wish", then="/cancel")),
    "`/wishes`": Action(say("/wishes")),
    "`/mywishes`": Action(say("/mywishes")),
    "`/donor`": Action(say("/donor", then="/cancel")),
    "`/bind_wall CODE` (in the group or channel) of the station": Action(
        say("/bind_wall Z01", chat="scratch"), query(select(WishWall.bound_by))
    ),
    "“通过” / “建议修改” / “不予通过” on a wish of the station": Action(
        tap("wc1:ok_c:{ctx.id}:"), wish_field("status"), lambda w, u: wish_of(w)
    ),
    "“认领心愿” on an open wish": Action(
        tap("ws1:{ctx.id}"), wish_field("claimer_id"), lambda w, u: wish_of(w, "open")
    ),
    "“准备中” / “已送达” / “放弃认领” on someone else's wish": Action(
        tap("wc1:back:{ctx.id}:"), wish_field("status"), lambda w, u: wish_of(w, "claimed", w.spare)
    ),
    "“确认已圆梦” on someone else's wish": Action(
        tap("wc1:confirm:{ctx.id}:"), wish_field("status"), lambda w, u: wish_of(w, "delivered", w.spare)
    ),
    "“记录时长” on a volunteer's fulfilled wish": Action(
        chain(tap("wc1:hours:{ctx.id}:"), say("1")),
        wish_field("hours_minutes"),
        lambda w, u: wish_of(w, "fulfilled", w.spare),
    ),
}


def refusals(app, user: FakeUser) -> set[str]:
    """Every parameterless error text, in the user's language."""
    out = set()
    for key in error_texts.ERRORS:
        try:
            out.add(render(app, key, locale_of(user)))
        except (KeyError, IndexError):
            pass
    return out


def test_every_row_has_an_action():
    assert set(permission_table()) == set(ACTIONS)


ROLE_USER = {
    "resident": "resident",
    "volunteer": "volunteer",
    "team leader": "leader",
    "coordinator of this station": "station_coord",
    "of its 所": "so_coord",
    "of the 中心": "coordinator",
    "of another station": "other_coord",
    "admin": "admin",
}


# Both languages on SQLite, the default language on PostgreSQL: the refusals' wording is the locale's and the checks
# are the database's; the fourth corner adds nothing and took a tenth of CI.
@pytest.mark.parametrize(
    ("lang", "db_url"), [("zh-hans", "sqlite"), ("en", "sqlite"), ("zh-hans", "postgresql")], indirect=["db_url"]
)
@pytest.mark.long
@pytest.mark.parametrize("role", ROLES)
async def test_permission_table(world, role):
    w = world
    w.role = ROLE_USER[role]
    user = w.user = getattr(w, w.role)
    refused = w.refused = refusals(w.app, user)
    stale = render(w.app, "stale", locale_of(user))
    wrong = []
    for row, cells in permission_table().items():
        allowed, steps = cells[role], ACTIONS[row]
        w.ctx = None
        for n, action in enumerate(steps if isinstance(steps, list) else [steps], 1):
            name = f"{row} [{n}]"
            if action.prepare:
                w.ctx = await action.prepare(w, user)
            await settled(w.app, w.fake)  # what the stage owes others is delivered before the action is read
            if allowed:
                before = await action.effect(w) if action.effect else None
                answer = await action.run(w, user)
                await settled(w.app, w.fake)
                after = await action.effect(w) if action.effect else None
                if answer in refused or (action.effect and before == after):
                    wrong.append(f"{name}: should be allowed, got {answer!r}")
                elif action.check and not await action.check(w, answer):
                    wrong.append(f"{name}: allowed, but the answer is not the right one: {answer!r}")
            else:
                try:
                    async with Unchanged(w.app, w.fake, user):
                        answer = await action.run(w, user)
                except AssertionError as exc:
                    wrong.append(f"{name}: refused but something changed ({exc})")
                    continue
                if answer not in refused or answer == stale:  # a forged button must be refused for its reason
                    wrong.append(f"{name}: should be refused politely, got {answer!r}")
    assert wrong == [], "\n".join(wrong)
