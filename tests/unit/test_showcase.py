"""公示 (bot/showcase): the daily cap (the rest the next day), anonymised posts, consent off unless given, takedown;
and the fake Telegram's privacy check reads channels too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core.clock import Clock, StoppedClock
from bot.core.errors import DomainError
from bot.core.i18n import make_i18n
from bot.fakegram.state import TelegramState
from bot.outbox import Outbox
from bot.requests import service as requests
from bot.showcase import service as showcase
from storage.models import Activity, ActivitySignup, OutboxMessage, Request, ShowcasePost, User
from tests.station_db import (
    EN_COORDINATOR,
    RESIDENT,
    SHANGHAI,
    VOLUNTEER,
    ZH_COORDINATOR,
    claim,
    local,
    notices,
    outbox,
    place,
)

CHANNEL = -1009999
NAME, ADDRESS, PHONE, NEED = (
    "张桂兰",
    "幸福小区3号楼2单元402",
    "13912345678",
    "张桂兰奶奶腿脚不便，请到幸福小区3号楼接她",
)
PHOTOS = ["AgACAgDONE-1", "AgACAgDONE-2"]


@pytest.fixture
def channel():
    """PUBLIC_CHANNEL_ID set, 2 posts a day; the outbox writes with a clock the test moves."""
    clock = StoppedClock(local(2026, 3, 2, 10))
    showcase.configure(CHANNEL, 2, SHANGHAI, Outbox(make_i18n(), SHANGHAI, "zh_Hans", clock), clock)
    yield clock
    showcase.configure(None, 3, SHANGHAI, None, Clock())


async def posts(db) -> list[ShowcasePost]:
    async with db.read() as s:
        return list((await s.execute(select(ShowcasePost).order_by(ShowcasePost.id))).scalars())


async def test_at_most_n_posts_a_day_the_rest_the_next_day(station_db, channel):
    db = station_db
    async with db.tx() as s:
        for n in range(3):
            await showcase.announce(s, None, showcase.WISH, f"心愿 {n}")
    first = await posts(db)
    assert [p.status for p in first] == ["queued", "queued", "waiting"]
    assert [m.text for m in await outbox(db, CHANNEL)] == ["心愿 0", "心愿 1"]
    outbox_ = showcase.CONFIG.outbox
    assert outbox_ is not None
    async with db.tx() as s:  # later the same day: still full
        assert await showcase.release_waiting(s, outbox_, local(2026, 3, 2, 18)) == []
        await showcase.announce(s, None, showcase.WISH, "心愿 3", now=local(2026, 3, 2, 18))
    async with db.tx() as s:  # the next day before 07:00: night, nothing goes out
        assert await showcase.release_waiting(s, outbox_, local(2026, 3, 3, 6)) == []
    async with db.tx() as s:  # the next morning: the oldest waiting first, two of them
        taken = await showcase.release_waiting(s, outbox_, local(2026, 3, 3, 8))
    assert taken == ["showcase:2026-03-03:1", "showcase:2026-03-03:2"]
    assert [(p.text, p.status, str(p.day)) for p in await posts(db)][2:] == [
        ("心愿 2", "queued", "2026-03-03"),
        ("心愿 3", "queued", "2026-03-03"),
    ]
    assert len(await outbox(db, CHANNEL)) == 4


async def test_nothing_is_announced_without_a_channel(station_db):
    async with station_db.tx() as s:
        assert await showcase.announce(s, None, showcase.WISH, "心愿") is None
    assert await posts(station_db) == []


async def _done_and_rated(db, at) -> Request:
    """A request whose resident typed his name, address and phone; taken, reported with two photos, rated."""
    req = await place(db, at - timedelta(days=4))
    async with db.tx() as s:
        row = await s.get(Request, req.id)
        row.description, row.address, row.phone, row.proxy_for = NEED, ADDRESS, PHONE, NAME
    await claim(db, req, at - timedelta(days=3))
    async with db.tx() as s:
        row = await s.get(Request, req.id)
        row.window_start = at - timedelta(hours=3)
        vol = await s.get(User, VOLUNTEER)
        await requests.report_done(s, notices(), request_id=req.id, user=vol, minutes=90, now=at, photos=PHOTOS)
        await requests.confirm(s, notices(), request_id=req.id, user=await s.get(User, RESIDENT), rating=5, now=at)
    return req


async def _approve(db, req, at) -> None:
    async with db.tx() as s:
        admin = await s.get(User, EN_COORDINATOR)
        await requests.approve(s, notices(), request_id=req.id, actor=admin, now=at, points_per_hour=10)


async def test_consent_is_off_unless_the_resident_taps_it(request_db, channel):
    at = local(2026, 3, 2, 10)
    req = await _done_and_rated(request_db, at)
    async with request_db.read() as s:
        assert not await showcase.consented(s, req.id)
        events = [e.detail for e in await requests.history(s, await s.get(Request, req.id)) if e.kind == "reported"]
    assert events == ["90 photos=2"]  # the done report's event counts its photos
    await _approve(request_db, req, at)
    assert await posts(request_db) == []  # approved, never agreed: nothing posted
    async with request_db.tx() as s:  # agreeing after the approval posts it then
        await showcase.agree(s, request_id=req.id, user=await s.get(User, RESIDENT), now=at)
    assert [p.kind for p in await posts(request_db)] == ["service"]


async def test_a_service_post_is_anonymised(request_db, channel):
    at = local(2026, 3, 2, 10)
    req = await _done_and_rated(request_db, at)
    async with request_db.tx() as s:
        with pytest.raises(DomainError):  # only the resident agrees
            await showcase.agree(s, request_id=req.id, user=await s.get(User, VOLUNTEER), now=at)
    async with request_db.tx() as s:
        await showcase.agree(s, request_id=req.id, user=await s.get(User, RESIDENT), now=at)
    await _approve(request_db, req, at)
    [post] = await posts(request_db)
    assert post.photo == PHOTOS[0] and post.status == "queued" and post.source == f"request:{req.id}"
    assert "陪诊" in post.text and "1.5 小时" in post.text and "2026年3月" in post.text
    for private in (NAME, ADDRESS, PHONE, NEED, "Block 3", "Walk to the clinic", "13800000000", "Qian", "Zhao"):
        assert private not in post.text, private
    [row] = await outbox(request_db, CHANNEL)
    assert row.method == "photo" and PHONE not in row.text and ADDRESS not in row.text and NAME not in row.text


async def test_takedown(station_db, channel):
    db, at = station_db, local(2026, 3, 2, 10)
    async with db.tx() as s:
        queued = await showcase.announce(s, None, showcase.WISH, "心愿 0")
        sent = await showcase.announce(s, None, showcase.WISH, "心愿 1")
        waiting = await showcase.announce(s, None, showcase.WISH, "心愿 2")
    assert queued and sent and waiting
    async with db.tx() as s:  # the second one went out as channel message 7
        await s.execute(
            OutboxMessage.__table__.update()
            .where(OutboxMessage.ref == showcase.ref(sent))
            .values(status="sent", message_id=7)
        )
        row = await s.get(ShowcasePost, sent.id)
        row.status, row.message_id = "sent", 7
    outbox_ = showcase.CONFIG.outbox
    assert outbox_ is not None
    async with db.tx() as s:
        with pytest.raises(DomainError) as refused:  # a resident may not
            await showcase.takedown(s, outbox_, actor=await s.get(User, RESIDENT), post_id=sent.id, now=at)
        assert refused.value.code == "not_coordinator"
    async with db.tx() as s:
        admin = await s.get(User, EN_COORDINATOR)
        for post in (queued, sent, waiting):
            await showcase.takedown(s, outbox_, actor=admin, post_id=post.id, now=at)
    assert {p.id: p.status for p in await posts(db)} == {
        queued.id: "removed",
        sent.id: "removed",
        waiting.id: "removed",
    }
    rows = await outbox(db, CHANNEL)
    # the queued post is never sent; the sent one is deleted; the waiting one never reached the outbox
    assert [(r.method, r.ref, r.status) for r in rows] == [
        ("send", showcase.ref(queued), "failed"),
        ("send", showcase.ref(sent), "sent"),
        ("delete", showcase.ref(sent), "pending"),
    ]
    async with db.tx() as s:
        with pytest.raises(DomainError) as again:
            await showcase.takedown(s, outbox_, actor=await s.get(User, EN_COORDINATOR), post_id=sent.id, now=at)
        assert again.value.code == "post_removed"


def test_the_privacy_check_reads_channels():
    fake = TelegramState("123456:" + "A" * 30, "station_bot", "Station")
    channel = fake.channel("公示")
    fake.mark_private(PHONE)
    fake.bot_message(channel.id, {"text": "服务已完成"}, {})
    assert fake.group_leaks() == []
    fake.bot_message(channel.id, {"caption": f"联系 {PHONE}", "photo": [{"file_id": "x"}]}, {})
    assert fake.group_leaks() == [(channel.id, f"联系 {PHONE}")]


async def test_a_finished_activity_is_announced_without_its_place(station_db, channel):
    at = local(2026, 3, 2, 10)
    async with station_db.tx() as s:
        act = Activity(
            number="A2026-001",
            title="敬老院探访",
            theme="",
            place="幸福小区3栋2单元402",
            starts_at=at - timedelta(hours=3),
            ends_at=at - timedelta(hours=1),
            capacity=5,
            team_id=1,
            node_id=None,
            created_by=EN_COORDINATOR,
            status="finished",
            checkin_code="1234",
            created_at=at - timedelta(days=2),
            updated_at=at,
        )
        s.add(act)
        await s.flush()
        for uid, came in ((ZH_COORDINATOR, True), (EN_COORDINATOR, False)):
            s.add(
                ActivitySignup(
                    activity_id=act.id,
                    user_id=uid,
                    status="signed",
                    created_at=at,
                    updated_at=at,
                    checked_in_at=act.starts_at if came else None,
                    proposed_minutes=120 if came else None,
                )
            )
        await s.flush()
        post = await showcase.activity_finished(s, act, at)
    assert post is not None and post.kind == "activity" and post.photo is None
    assert "敬老院探访" in post.text and "参加志愿者：1 人" in post.text and "时长：2 小时" in post.text
    assert "幸福小区" not in post.text and "Li" not in post.text
