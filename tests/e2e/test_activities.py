"""Activities (定单 with places) end to end through the fake Bot API, in Chinese and in English."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from bot.activities import service as activities
from bot.core.dates import to_utc
from bot.core.errors import DomainError
from bot.people import service as people
from bot.requests import service as requests
from storage.models import Activity, ActivitySignup, LedgerEntry, Service, TeamMember, User
from tests.conftest import STATION_TZ
from tests.helpers import Station


async def seed_volunteers(app, fakes, team_id: int, locale: str = "zh_Hans") -> None:
    """Volunteers straight in the database (registration is tested elsewhere)."""
    async with app.db.tx() as s:
        for i, f in enumerate(fakes):
            s.add(
                User(
                    id=f.id,
                    full_name=f.first_name,
                    username=None,
                    locale=locale,
                    is_admin=False,
                    is_coordinator=False,
                    blocked_bot=False,
                    created_at=app.clock.now(),
                )
            )
            await s.flush()
            await people.register_volunteer(
                s,
                await s.get(User, f.id),
                name=f.first_name,
                phone=f"1380013{i:04d}",
                team_ids=[team_id],
                now=app.clock.now(),
            )


async def station(fake, start_app, lang="zh-hans", volunteers=3):
    admin = fake.user("王站长", language_code=lang)
    vols = [fake.user(f"志愿者{i}" if lang != "en" else f"Vol{i}", language_code=lang) for i in range(volunteers)]
    group = fake.group("综合志愿服务队群", members=[admin, *vols])
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "/")
    await st.say(admin, "/bind 1", "综合志愿服务队" if lang != "en" else "receives", chat=group)
    await seed_volunteers(app, vols, 1, "en" if lang == "en" else "zh_Hans")
    for v in vols:  # they open a private chat with the bot, so it can write to them
        await v.send("/start")
    await fake.wait_idle(quiet=0.05)
    return app, st, admin, vols, group


def tomorrow(app) -> date:
    return app.clock.now().astimezone(app.settings.tz).date() + timedelta(days=1)


async def publish(
    app,
    creator_id: int,
    *,
    start: str = "14:00",
    end: str = "16:00",
    capacity: int = 3,
    day: date | None = None,
    title: str = "敬老院探访",
    team_id: int | None = 1,
    deadline: datetime | None = None,
) -> Activity:
    """An activity published through the service (the conversation is tested on its own)."""
    tz = app.settings.tz
    day = day or tomorrow(app)
    draft = activities.Draft(
        title=title,
        theme="",
        place="幸福敬老院",
        capacity=capacity,
        team_id=team_id,
        starts_at=to_utc(day, time.fromisoformat(start), tz),
        ends_at=to_utc(day, time.fromisoformat(end), tz),
        signup_deadline=deadline,
    )
    async with app.db.tx() as s:
        chats = await people.team_chats(s, 1)
        return await activities.publish(
            s,
            app.notices.activities,
            actor=await s.get(User, creator_id),
            draft=draft,
            chats=chats,
            now=app.clock.now(),
            year=day.year,
        )


async def signups(app, activity_id: int) -> dict[int, ActivitySignup]:
    async with app.db.read() as s:
        return {x.user_id: x for x in await activities.signups(s, activity_id)}


async def place_request(app, resident_id: int, start: datetime, end: datetime) -> str:
    """A request placed through the service (the 点单 conversation is tested elsewhere)."""
    async with app.db.tx() as s:
        service = (await s.execute(select(Service).where(Service.name_zh == "助老服务"))).scalar_one()
        draft = requests.Draft(
            service_id=service.id, description="陪同去医院", area="幸福小区", window_start=start, window_end=end
        )
        req = await requests.place(
            s,
            app.notices.requests,
            resident=await s.get(User, resident_id),
            draft=draft,
            now=app.clock.now(),
            year=start.year,
        )
    return req.number


async def tap_day(fake, user, message, index: int):
    data = message.reply_markup["inline_keyboard"][index // 3][index % 3]["callback_data"]
    return await fake.answer(await user.tap_data(message, data))


# publishing ------------------------------------------------------------------------------------------------


async def test_chinese_publish_conversation_card_and_live_count(fake, start_app):
    app, st, admin, vols, group = await station(fake, start_app)
    await st.say(admin, "/activity", "标题")
    theme = await st.say(admin, "重阳敬老探访", "主题")
    before = len(fake.bot_messages(admin))
    await fake.answer(await admin.tap(theme, "·"))  # this month's theme (November: a title with ·)
    days = await fake.wait_message(admin, contains="哪一天", after=before)
    # a date in the past is refused and nothing moves on
    await st.say(admin, "2020-01-01", "已经过了")
    before = len(fake.bot_messages(admin))
    await tap_day(fake, admin, days, 1)
    slots = await fake.wait_message(admin, contains="什么时间", after=before)
    before = len(fake.bot_messages(admin))
    await fake.answer(await admin.tap(slots, "14:00"))
    await fake.wait_message(admin, contains="地点", after=before)
    places = await st.say(admin, "幸福敬老院", "名额")
    before = len(fake.bot_messages(admin))
    await fake.answer(await admin.tap(places, "10"))
    teams = await fake.wait_message(admin, contains="哪个服务队", after=before)
    assert "全站" in " ".join(teams.buttons)
    before = len(fake.bot_messages(admin))
    await fake.answer(await admin.tap(teams, "综合志愿服务队"))
    deadline = await fake.wait_message(admin, contains="截止", after=before)
    before = len(fake.bot_messages(admin))
    await fake.answer(await admin.tap(deadline, "提前2小时"))
    summary = await fake.wait_message(admin, contains="请核对活动", after=before)
    assert "重阳敬老探访" in summary.text and "10" in summary.text and "综合志愿服务队" in summary.text
    assert "⚠️" not in summary.text  # an ordinary workday in a known year

    before = len(fake.bot_messages(admin))
    await fake.answer(await admin.tap(summary, "发布"))
    card = await fake.wait_message(group, contains="重阳敬老探访")
    assert "已报名 0/10，候补 0" in card.text and "幸福敬老院" in card.text
    assert any("报名" in b for b in card.buttons) and "取消报名" in card.buttons
    mine = await fake.wait_message(admin, contains="签到码", after=before)
    code = mine.text.split("签到码：")[1][:6]
    async with app.db.read() as s:
        act = (await s.execute(select(Activity))).scalar_one()
    assert act.checkin_code == code and act.capacity == 10 and act.team_id == 1
    assert act.signup_deadline == act.starts_at - timedelta(hours=2)

    # the card's count is edited live as people join and leave
    answer = await st.tap(vols[0], card, "🙋")
    assert "报名成功" in answer.text
    await fake.wait_message(group, contains="已报名 1/10")
    await st.tap(vols[1], card, "🙋")
    await fake.wait_message(group, contains="已报名 2/10")
    answer = await st.tap(vols[0], card, "取消报名")
    assert "已取消" in answer.text
    await fake.wait_message(group, contains="已报名 1/10")
    again = await st.tap(vols[1], card, "🙋")
    assert "已经报名" in again.text
    await fake.wait_idle()
    [card_now] = [m for m in fake.bot_messages(group) if m.message_id == card.message_id]
    assert len(card_now.edits) == 3 and "已报名 1/10，候补 0" in card_now.text
    assert (await st.say(admin, f"/activity_code {act.number}", code)).text.endswith(code)


async def test_english_publish_refusals_and_calendar_flags(fake, start_app, clock):
    clock.move_to(datetime(2026, 11, 20, 15, 0, tzinfo=STATION_TZ))  # the dates typed below are of 2026 and 2027
    app, st, admin, vols, group = await station(fake, start_app, lang="en", volunteers=2)
    # a volunteer without a role cannot publish
    refused = await st.say(vols[0], "/activity", "Only a coordinator")
    assert "team leader" in refused.text

    async def until_summary(day_text: str):
        await st.say(admin, "/activity", "title")
        await st.say(admin, "Park clean-up", "theme")
        days = await st.say(admin, "Green neighbourhood", "On which day")
        await st.say(admin, day_text, "At what time")
        await st.say(admin, "09:00-11:30", "Where")
        await st.say(admin, "North gate", "How many")
        teams = await st.say(admin, "4", "For which team")
        before = len(fake.bot_messages(admin))
        await fake.answer(await admin.tap(teams, "The whole station"))
        deadline = await fake.wait_message(admin, contains="deadline", after=before)
        return days, deadline

    _days, deadline = await until_summary("2027-01-04")
    before = len(fake.bot_messages(admin))
    await fake.answer(await admin.tap(deadline, "No deadline"))
    summary = await fake.wait_message(admin, contains="Please check the activity", after=before)
    assert "not known yet" in summary.text and "2027" in summary.text and "the whole station" in summary.text
    await st.tap(admin, summary, "Cancel")

    clock.move_to(datetime(2026, 9, 14, 15, 0, tzinfo=STATION_TZ))  # the 20th is a make-up workday for National Day
    try:
        _days, deadline = await until_summary("2026-09-20")
        await st.say(admin, "2026-09-19 20:00", "Please check the activity")
        summary = fake.bot_messages(admin)[-1]
        assert "make-up workday" in summary.text and "National Day" in summary.text
        await st.tap(admin, summary, "Cancel")
        _days, deadline = await until_summary("2026-10-01")
        await st.say(admin, "2026-09-20 09:00", "Please check the activity")
        assert "statutory holiday (National Day)" in fake.bot_messages(admin)[-1].text
        # a deadline after the start is refused
        await st.tap(admin, fake.bot_messages(admin)[-1], "Edit")
        await fake.wait_idle(quiet=0.05)
        fields = fake.bot_messages(admin)[-1]
        before = len(fake.bot_messages(admin))
        await fake.answer(await admin.tap(fields, "Deadline"))
        await fake.wait_message(admin, contains="deadline", after=before)
        await st.say(admin, "2026-10-02 09:00", "no later than the start")
    finally:
        clock.move_to(datetime(2026, 11, 20, 16, 0, tzinfo=STATION_TZ))


async def test_leader_publishes_only_for_his_team(fake, start_app):
    app, st, admin, vols, group = await station(fake, start_app, lang="en", volunteers=2)
    leader = vols[0]
    await st.say(admin, "/newteam Repairs", "created")
    async with app.db.tx() as s:
        s.add(TeamMember(team_id=2, user_id=leader.id, is_leader=True, joined_at=app.clock.now()))
    await st.say(leader, "/activity", "title")
    await st.say(leader, "Fix bicycles", "theme")
    await st.say(leader, "Repair day", "On which day")
    await st.say(leader, "tomorrow", "At what time")
    await st.say(leader, "10:00-12:00", "Where")
    await st.say(leader, "Block 3", "How many")
    teams = await st.say(leader, "2", "For which team")
    assert teams.buttons == ["Repairs"]  # not team 1, not the whole station
    forged = await fake.answer(await leader.tap_data(teams, "ak1:team:1"))
    assert "Only a coordinator, or a team leader" in forged.text
    forged = await fake.answer(await leader.tap_data(teams, "ak1:team:0"))
    assert "Only a coordinator, or a team leader" in forged.text
    async with app.db.read() as s:
        assert (await s.execute(select(Activity))).first() is None
    # and the service itself refuses another team's activity
    try:
        await publish(app, leader.id, team_id=1)
    except DomainError as exc:
        assert exc.code == "act_not_publisher"
    else:
        raise AssertionError("a leader of team 2 published for team 1")


# sign-up --------------------------------------------------------------------------------------------------


async def test_ten_volunteers_race_for_three_places(fake, start_app):
    app, st, admin, vols, group = await station(fake, start_app, lang="en", volunteers=10)
    act = await publish(app, admin.id, capacity=3)
    card = await fake.wait_message(group, contains=act.number)
    queries = [await v.tap(card, "🙋") for v in vols]  # all queued before the bot fetches any
    answers = await asyncio.gather(*(fake.answer(q, timeout=15) for q in queries))
    signed = [a for a in answers if "You are signed up" in (a.text or "")]
    waiting = sorted(a.text for a in answers if "waiting list" in (a.text or ""))
    assert len(signed) == 3 and len(waiting) == 7, [a.text for a in answers]
    assert [f"number {n} on" in text for n, text in zip(range(1, 8), waiting, strict=True)] == [True] * 7
    await fake.wait_idle()
    rows = await signups(app, act.id)
    assert sorted(x.status for x in rows.values()) == ["signed"] * 3 + ["waiting"] * 7
    [card_now] = [m for m in fake.bot_messages(group) if m.message_id == card.message_id]
    assert "已报名 3/3，候补 7" in card_now.text

    # a signed volunteer leaves: the first on the waiting list moves up and is told
    first_waiting = min((x for x in rows.values() if x.status == "waiting"), key=lambda x: (x.created_at, x.id))
    leaver = next(v for v in vols if rows[v.id].status == "signed")
    promoted = next(v for v in vols if v.id == first_waiting.user_id)
    answer = await st.tap(leaver, card, "取消报名")
    assert "cancelled" in answer.text
    told = await fake.wait_message(promoted, contains="A place has freed up")
    assert act.title in told.text
    await fake.wait_message(group, contains="已报名 3/3，候补 6")
    rows = await signups(app, act.id)
    assert rows[promoted.id].status == "signed" and rows[leaver.id].status == "cancelled"


async def test_overlaps_are_refused_politely(fake, start_app):
    app, st, admin, vols, group = await station(fake, start_app, volunteers=2)
    first = await publish(app, admin.id, title="社区义诊", start="14:00", end="16:00")
    second = await publish(app, admin.id, title="垃圾分类宣传", start="15:00", end="17:00")
    later = await publish(app, admin.id, title="晚间巡逻", start="16:00", end="18:00")
    cards = {a.id: await fake.wait_message(group, contains=a.number) for a in (first, second, later)}
    assert "报名成功" in (await st.tap(vols[0], cards[first.id], "🙋")).text
    refused = await st.tap(vols[0], cards[second.id], "🙋")
    assert "社区义诊" in refused.text and first.number in refused.text and "重叠" in refused.text
    assert "报名成功" in (await st.tap(vols[0], cards[later.id], "🙋")).text  # back to back is fine

    # a claimed request at the same time also clashes
    res = fake.user("赵阿姨", language_code="zh-hans")
    await st.say(res, "/start", "/")
    number = await place_request(app, res.id, first.starts_at, first.ends_at)
    req_card = await fake.wait_message(group, contains=number)
    await st.tap(vols[1], req_card, "接单")
    await fake.wait_message(vols[1], contains=number)
    refused = await st.tap(vols[1], cards[first.id], "🙋")
    assert f"#{number}" in refused.text and "重叠" in refused.text
    rows = await signups(app, first.id)
    assert vols[1].id not in rows and rows[vols[0].id].status == "signed"

    # and the other way round: a request at the time of an activity he signed up for cannot be taken
    other = await place_request(app, res.id, second.starts_at, second.ends_at)
    other_card = await fake.wait_message(group, contains=other)
    refused = await st.tap(vols[0], other_card, "接单")
    assert "社区义诊" in refused.text and "重叠" in refused.text
    assert "接单" in str(other_card.buttons)  # still open for someone else


async def test_sign_up_closes_at_deadline_and_cancelling_tells_everyone(fake, start_app, clock):
    app, st, admin, vols, group = await station(fake, start_app, volunteers=3)
    act = await publish(app, admin.id, capacity=1, deadline=app.clock.now() + timedelta(hours=2))
    card = await fake.wait_message(group, contains=act.number)
    await st.tap(vols[0], card, "🙋")
    assert "候补第 1 位" in (await st.tap(vols[1], card, "🙋")).text
    clock.advance(hours=2)
    assert "报名已截止" in (await st.tap(vols[2], card, "🙋")).text
    # only the organiser or a coordinator may cancel; it needs a confirmation
    refused = await st.say(vols[0], f"/activity_cancel {act.number}", "只有")
    assert "组织者" in refused.text
    ask = await st.say(admin, f"/activity_cancel {act.number}", "确定取消")
    await st.tap(admin, ask, "确定取消")
    await fake.wait_message(vols[0], contains="已取消")
    await fake.wait_message(vols[1], contains="已取消")
    await fake.wait_message(group, contains="活动已取消")
    assert not any("已取消" in m.text for m in fake.bot_messages(vols[2]))
    [card_now] = [m for m in fake.bot_messages(group) if m.message_id == card.message_id]
    assert not card_now.buttons


# check-in, hours, no-shows --------------------------------------------------------------------------------------


async def test_checkin_window_hours_approval_and_no_shows(fake, start_app, clock):
    app, st, admin, vols, group = await station(fake, start_app, volunteers=3)
    act = await publish(app, admin.id, capacity=3, start="14:00", end="16:00")
    card = await fake.wait_message(group, contains=act.number)
    for v in vols:
        await st.tap(v, card, "🙋")
    code = act.checkin_code

    assert "开始前 30 分钟" in (await st.say(vols[0], f"/checkin {code}", "签到")).text  # a day early
    start = act.starts_at
    clock.advance(seconds=(start - timedelta(minutes=31) - clock.now()).total_seconds())
    await st.say(vols[0], f"/checkin {code}", "开始前 30 分钟")
    clock.advance(minutes=2)  # 29 minutes before the start: open
    await st.say(vols[0], f"/checkin {code}", "✅")
    await st.say(vols[0], f"/checkin {code}", "已经签到")
    await st.say(vols[1], "/checkin 000000" if code != "000000" else "/checkin 111111", "签到码")
    stranger = fake.user("路人", language_code="zh-hans")
    await st.say(stranger, f"/checkin {code}", "没有报名")
    clock.advance(minutes=45)  # 14:16: the second volunteer taps the leader's check-in button
    mine = await fake.wait_message(admin, contains="签到码：")
    posted = await st.tap(admin, mine, "签到按钮")
    assert "1" in posted.text
    buttons = await fake.wait_message(group, contains="签到")
    assert "✅" in (await st.tap(vols[1], buttons, "签到")).text
    clock.advance(minutes=79)  # 15:35: first volunteer leaves: 14:00–15:35 → 1 h 35 min → 1.5 h
    out = await st.say(vols[0], "/checkout", "1.5")
    assert "签退" in out.text
    clock.advance(hours=1)  # after the end: nobody can check in or out any more
    await st.say(vols[2], f"/checkin {code}", "开始前 30 分钟")

    # the organiser closes: the second is checked out at the end (14:16–16:00 → 1 h 44 min → 1.5 h),
    # the third never came
    before = len(fake.bot_messages(admin))
    await st.tap(admin, mine, "结束活动")
    approval = await fake.wait_message(admin, contains="未签到", after=before)
    assert approval.text.count("1.5") >= 2
    rows = await signups(app, act.id)
    assert rows[vols[2].id].no_show and not rows[vols[0].id].no_show
    assert rows[vols[1].id].proposed_minutes == 90 and rows[vols[0].id].proposed_minutes == 90

    # a volunteer cannot approve; the organiser adjusts one and approves the rest at once
    forged = await fake.answer(await vols[0].tap_data(fake.bot_messages(vols[0])[-1], f"ah1:all:{act.id}:0"))
    assert "只有" in forged.text
    await st.tap(admin, approval, f"调整 {vols[1].first_name}")
    await st.say(admin, "2", vols[1].first_name)
    told = await fake.wait_message(vols[1], contains="+20")
    assert "2" in told.text
    latest = fake.bot_messages(admin)[-1]
    await st.tap(admin, latest, "全部通过")
    await fake.wait_message(vols[0], contains="+15")
    again = await fake.answer(await admin.tap_data(latest, f"ah1:all:{act.id}:0"))
    assert "没有待审核" in again.text
    async with app.db.read() as s:
        entries = (await s.execute(select(LedgerEntry).order_by(LedgerEntry.volunteer_id))).scalars().all()
    assert sorted((e.volunteer_id, e.minutes, e.activity_id) for e in entries) == sorted(
        [(vols[0].id, 90, act.id), (vols[1].id, 120, act.id)]
    )
    await fake.wait_message(group, contains="活动已结束")


async def test_forged_and_foreign_callbacks(fake, start_app):
    app, st, admin, vols, group = await station(fake, start_app, lang="en", volunteers=2)
    act = await publish(app, admin.id, capacity=2)
    card = await fake.wait_message(group, contains=act.number)
    outsider = fake.user("Outsider", language_code="en")
    group.add(outsider)
    await st.say(outsider, "/start", "/")
    assert "Only registered volunteers" in (await st.tap(outsider, card, "🙋")).text
    own = fake.bot_messages(vols[0])[-1]  # a message in the volunteer's private chat
    for data in ("ac1:in:999999", "ac1:in:99999999999999999999999", "ac1:out:abc", "ci1:post:1:2"):
        answer = await fake.answer(await vols[0].tap_data(card, data))
        assert answer.text and ("does not exist" in answer.text or "out of date" in answer.text), (data, answer.text)
    assert "does not exist" in (await fake.answer(await vols[0].tap_data(own, "ah1:ok:999:1"))).text
    for data in (f"ci1:post:{act.id}", f"ah1:close:{act.id}:0", f"ak1:cancel_yes:{act.id}"):
        answer = await fake.answer(await vols[0].tap_data(card, data))  # the organiser's buttons: private only
        assert "only in your private chat" in answer.text, (data, answer.text)
        answer = await fake.answer(await vols[0].tap_data(own, data))
        assert "Only the activity's organiser" in answer.text, (data, answer.text)
    assert "not signed up" in (await fake.answer(await vols[0].tap_data(card, f"ac1:out:{act.id}"))).text
    mine = fake.bot_messages(admin)[-1]
    assert "has not started" in (await fake.answer(await admin.tap_data(mine, f"ah1:close:{act.id}:0"))).text
    # a team activity cannot be joined from another team's group, nor by a volunteer of another team
    await st.say(admin, "/newteam Repairs", "created")
    fixer = fake.user("Fixer", language_code="en")
    other = fake.group("Repairs group", members=[admin, vols[1], fixer])
    bound = await st.say(admin, "/bind 2", "Repairs", chat=other)
    await seed_volunteers(app, [fixer], 2, "en")
    await st.say(fixer, "/start", "/")
    answer = await fake.answer(await vols[1].tap_data(bound, f"ac1:in:{act.id}"))
    assert "group of the team concerned" in answer.text
    assert "team you have not joined" in (await st.tap(fixer, card, "🙋")).text
    assert "You are signed up" in (await st.tap(vols[1], card, "🙋")).text
    rows = await signups(app, act.id)
    assert set(rows) == {vols[1].id}
