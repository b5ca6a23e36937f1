"""Activities: the rounding rule, calendar flags, and the timed jobs (reminders once, closing at the end).
Time is chosen by the test; nothing sleeps."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot.activities import service as activities
from bot.activities.notices import ActivityNotices
from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.i18n import make_i18n
from bot.ledger import service as ledger
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox, OutboxSender
from handlers.activities.publish import day_note
from storage.models import ActivityCard, LedgerEntry, Occurrence, TeamMember, User, Volunteer
from tests.station_db import (
    EN_COORDINATOR,
    SHANGHAI,
    ZH_COORDINATOR,
    local,
    outbox,
    scheduler,
)

VOLUNTEERS = (31, 32, 33)  # 31 Chinese, 32 English, 33 ends up on the waiting list


@pytest.mark.parametrize(
    "minutes, counted",
    [
        (0, 0),
        (14, 0),
        (15, 30),
        (44, 30),
        (45, 60),
        (59, 60),
        (60, 60),
        (74, 60),
        (75, 90),
        (134, 120),
        (135, 150),
        (165, 180),
    ],
)
def test_signed_in_time_is_rounded_per_the_glossary(minutes, counted):
    assert activities.round_minutes(minutes) == counted


def test_points_follow_the_ledger_rule():
    assert ledger.points_for(activities.round_minutes(75), 10) == 15


@pytest.mark.parametrize(
    "day, locale, expected",
    [
        (date(2026, 9, 20), "zh_Hans", "国庆节的调休上班日"),
        (date(2026, 9, 20), "en", "make-up workday (调休上班) for National Day"),
        (date(2026, 10, 1), "zh_Hans", "法定节假日（国庆节）"),
        (date(2026, 10, 1), "en", "statutory holiday (National Day)"),
        (date(2099, 5, 1), "zh_Hans", "暂无 2099 年的法定节假日安排"),
        (date(2099, 5, 1), "en", "not known yet"),
        (date(2026, 11, 24), "zh_Hans", None),
    ],
)
def test_calendar_flags_in_the_summary(day, locale, expected):
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale(locale):
        note = day_note(day, locale)
    assert note == expected if expected is None else expected in note


@pytest.fixture
async def db(station_db):
    now = local(2026, 3, 1)
    async with station_db.tx() as s:
        for uid, locale in zip(VOLUNTEERS, ("zh_Hans", "en", "zh_Hans"), strict=True):
            s.add(
                User(
                    id=uid,
                    full_name=f"V{uid}",
                    locale=locale,
                    is_admin=False,
                    is_coordinator=False,
                    blocked_bot=False,
                    created_at=now,
                )
            )
        await s.flush()
        for uid in VOLUNTEERS:
            s.add(Volunteer(user_id=uid, name=f"V{uid}", phone="13800000000", registered_at=now))
            s.add(TeamMember(team_id=1, user_id=uid, is_leader=False, joined_at=now))
    return station_db


def notices() -> ActivityNotices:
    outbox = Outbox(make_i18n(), SHANGHAI, "zh_Hans", Clock())
    return ActivityNotices(outbox, LedgerNotices(outbox), 10)


async def publish_with_signups(db, *, published_at, starts_at, capacity=2):
    draft = activities.Draft(
        title="重阳探访",
        theme="孝老爱亲",
        place="敬老院",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        capacity=capacity,
        team_id=1,
    )
    async with db.tx() as s:
        act = await activities.publish(
            s,
            notices(),
            actor=await s.get(User, ZH_COORDINATOR),
            draft=draft,
            chats=[-1001],
            now=published_at,
            year=2026,
        )
    for uid in VOLUNTEERS:
        async with db.tx() as s:
            await activities.sign_up(s, notices(), activity_id=act.id, user_id=uid, chat_team_id=1, now=published_at)
    return act


async def reminders(db, uid: int) -> list[str]:
    return [m.text for m in await outbox(db, uid) if "⏰" in m.text]


async def test_reminders_are_sent_once_a_day_and_an_hour_before(db, db_url):
    start = local(2026, 3, 10, 14)
    act = await publish_with_signups(db, published_at=local(2026, 3, 1, 9), starts_at=start)
    one, other = scheduler(db, db_url), scheduler(db, db_url, process_id="other")
    day_key, hour_key = f"activity:{act.id}:remind:1d", f"activity:{act.id}:remind:1h"

    assert (await one.run_due(start - timedelta(days=1, minutes=1))).followups == []
    assert (await one.run_due(start - timedelta(days=1))).followups == [day_key]
    assert (await one.run_due(start - timedelta(hours=23))).followups == []
    assert (await other.run_due(start - timedelta(hours=22))).followups == []
    assert len(await reminders(db, 31)) == 1
    assert "明天" in (await reminders(db, 31))[0] and "tomorrow" in (await reminders(db, 32))[0]

    # two schedulers at the same moment: one of them sends the hour-before reminder
    runs = await asyncio.gather(one.run_due(start - timedelta(hours=1)), other.run_due(start - timedelta(hours=1)))
    assert sorted(k for r in runs for k in r.followups) == [hour_key]
    assert (await other.run_due(start - timedelta(minutes=1))).followups == []
    zh, en = await reminders(db, 31), await reminders(db, 32)
    assert len(zh) == 2 and len(en) == 2 and "一小时后" in zh[1] and "in an hour" in en[1]
    assert await reminders(db, 33) == []  # on the waiting list: no reminder
    async with db.read() as s:
        keys = set((await s.execute(select(Occurrence.key).where(Occurrence.key.like("activity:%")))).scalars())
    assert keys == {day_key, hour_key}


async def test_no_day_before_reminder_for_a_late_publication(db, db_url):
    start = local(2026, 3, 10, 14)
    act = await publish_with_signups(db, published_at=start - timedelta(hours=5), starts_at=start)
    sch = scheduler(db, db_url)
    assert (await sch.run_due(start - timedelta(hours=4))).followups == []
    assert (await sch.run_due(start - timedelta(hours=1))).followups == [f"activity:{act.id}:remind:1h"]
    assert len(await reminders(db, 31)) == 1


async def test_activity_reminders_sent_late_say_today_and_the_minutes_left(db, db_url):
    start = local(2026, 3, 10, 8)
    act = await publish_with_signups(db, published_at=local(2026, 3, 1, 9), starts_at=start)
    sched = scheduler(db, db_url)
    await sched.run_due(start - timedelta(days=1, minutes=1))
    # down over the day-before moment (08:00 on 3月9日) until 00:30 on 3月10日: the day-before reminder goes out
    # on the day itself
    assert (await sched.run_due(local(2026, 3, 10, 0, 30))).followups == [f"activity:{act.id}:remind:1d"]
    zh, en = await reminders(db, 31), await reminders(db, 32)
    assert "今天举行" in zh[0] and "明天" not in zh[0]
    assert "is today" in en[0] and "tomorrow" not in en[0]
    # down again over the hour-before moment: sent 20 minutes late, 40 minutes before the start
    assert (await sched.run_due(start - timedelta(minutes=40))).followups == [f"activity:{act.id}:remind:1h"]
    zh, en = await reminders(db, 31), await reminders(db, 32)
    assert "40 分钟后开始" in zh[1] and "一小时后" not in zh[1]
    assert "starts in 40 minutes" in en[1]


async def test_activity_reminders_on_time_keep_their_wording(db, db_url):
    start = local(2026, 3, 10, 8)
    act = await publish_with_signups(db, published_at=local(2026, 3, 1, 9), starts_at=start)
    sched = scheduler(db, db_url)
    assert (await sched.run_due(start - timedelta(days=1))).followups == [f"activity:{act.id}:remind:1d"]
    assert (await sched.run_due(start - timedelta(hours=1))).followups == [f"activity:{act.id}:remind:1h"]
    zh = await reminders(db, 31)
    assert "明天举行" in zh[0] and "一小时后开始" in zh[1]


async def test_activity_closes_itself_at_the_end(db, db_url):
    start = local(2026, 3, 10, 14)
    act = await publish_with_signups(db, published_at=local(2026, 3, 1, 9), starts_at=start)
    async with db.tx() as s:
        await activities.check_in(s, act=await activities.get(s, act.id), user_id=31, now=start - timedelta(minutes=10))
    sch = scheduler(db, db_url)
    assert f"activity:{act.id}:close" not in (await sch.run_due(act.ends_at - timedelta(minutes=1))).followups
    assert f"activity:{act.id}:close" in (await sch.run_due(act.ends_at)).followups
    assert (await scheduler(db, db_url, process_id="other").run_due(act.ends_at)).followups == []
    async with db.read() as s:
        rows = {x.user_id: x for x in await activities.signups(s, act.id)}
        assert (await activities.get(s, act.id)).status == activities.FINISHED
    assert rows[31].proposed_minutes == 120 and rows[31].checked_out_at == act.ends_at and not rows[31].no_show
    assert rows[32].no_show and rows[33].status == activities.WAITING and not rows[33].no_show
    told = [m for m in await outbox(db, ZH_COORDINATOR) if "🕒" in m.text]
    assert len(told) == 1 and "缺席" in told[0].text and "ah1:all:" in told[0].markup

    # approval into the ledger, once, with the activity recorded on the entry
    async with db.tx() as s:
        done = await activities.approve(
            s,
            notices(),
            activity_id=act.id,
            actor=await s.get(User, EN_COORDINATOR),
            user_id=None,
            minutes=None,
            points_per_hour=10,
            now=act.ends_at,
        )
    assert [x.user_id for x in done] == [31]
    with pytest.raises(DomainError):
        async with db.tx() as s:
            await activities.approve(
                s,
                notices(),
                activity_id=act.id,
                actor=await s.get(User, EN_COORDINATOR),
                user_id=31,
                minutes=None,
                points_per_hour=10,
                now=act.ends_at,
            )
    async with db.read() as s:
        entries = (await s.execute(select(LedgerEntry))).scalars().all()
    assert [(e.volunteer_id, e.minutes, e.points, e.activity_id, e.request_id) for e in entries] == [
        (31, 120, 20, act.id, None)
    ]


async def test_outbox_records_the_card_and_edits_it_by_message_id(db):
    act = await publish_with_signups(db, published_at=local(2026, 3, 1, 9), starts_at=local(2026, 3, 10, 14))
    rows = [m for m in await outbox(db, -1001) if m.ref == f"act:{act.id}"]
    assert [m.method for m in rows] == ["send", "edit", "edit", "edit"]
    assert "已报名 2/2，候补 1" in rows[-1].text and "已报名 0/2，候补 0" in rows[0].text
    sender = OutboxSender(db, bot=None)
    assert await sender.card_message_id(rows[1]) is None  # not delivered yet: nothing to edit
    await sender.record_sent(rows[0], 77)
    async with db.read() as s:
        assert (await s.get(ActivityCard, (act.id, -1001))).message_id == 77
    assert await sender.card_message_id(rows[1]) == 77


async def test_activity_hours_count_towards_star_levels(db, db_url):
    """99 hours from requests, then 2 activity hours: the volunteer reaches 一星 and is congratulated once."""
    start = local(2026, 3, 10, 14)
    act = await publish_with_signups(db, published_at=local(2026, 3, 1, 9), starts_at=start)
    async with db.tx() as s:
        ledger.add_service(
            s,
            volunteer_id=31,
            minutes=99 * 60,
            points_per_hour=10,
            request_id=None,
            approved_by=EN_COORDINATOR,
            now=local(2026, 3, 2),
        )
        await activities.check_in(s, act=await activities.get(s, act.id), user_id=31, now=start - timedelta(minutes=10))
    await scheduler(db, db_url).run_due(act.ends_at)  # closes the activity: 120 minutes proposed
    async with db.tx() as s:
        await activities.approve(
            s,
            notices(),
            activity_id=act.id,
            actor=await s.get(User, EN_COORDINATOR),
            user_id=31,
            minutes=None,
            points_per_hour=10,
            now=act.ends_at,
        )
    async with db.read() as s:
        assert (await s.get(Volunteer, 31)).star_level == 1
    congratulated = [m for m in await outbox(db, 31) if "一星" in m.text]
    assert len(congratulated) == 1


async def test_waiting_list_keeps_the_order_the_taps_were_settled(db):
    """A tap whose time was read before another's but that got the activity's lock after it (so it happens
    on PostgreSQL under a burst) still goes to the end of the waiting list: no two share a number."""
    published = local(2026, 3, 1, 9)
    draft = activities.Draft(
        title="重阳探访",
        theme="孝老爱亲",
        place="敬老院",
        starts_at=local(2026, 3, 10, 14),
        ends_at=local(2026, 3, 10, 16),
        capacity=1,
        team_id=1,
    )
    async with db.tx() as s:
        act = await activities.publish(
            s, notices(), actor=await s.get(User, ZH_COORDINATOR), draft=draft, chats=[-1001], now=published, year=2026
        )
    positions = []
    for uid, seconds in ((31, 0), (33, 10), (32, 5)):  # 32 read the time before 33 but was settled after it
        async with db.tx() as s:
            result = await activities.sign_up(
                s,
                notices(),
                activity_id=act.id,
                user_id=uid,
                chat_team_id=1,
                now=published + timedelta(seconds=seconds),
            )
        positions.append((result.status, result.position))
    assert positions == [("signed", 0), ("waiting", 1), ("waiting", 2)]
    async with db.read() as s:
        order = [x.user_id for x in await activities.signups(s, act.id, activities.WAITING)]
    assert order == [33, 32]
