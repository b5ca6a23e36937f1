"""微心愿's rules, called directly: what may be posted, one claimer of two at once, the steps in order, a wish
given back returns to the wall once, hours for a volunteer only, and the figures for reports."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.core.i18n import make_i18n
from bot.ledger.notices import LedgerNotices
from bot.org import service as org
from bot.outbox import Outbox
from bot.wishes import service as wishes
from bot.wishes.notices import WishNotices, fulfilled_public_text
from storage.models import LedgerEntry, OutboxMessage, User, Volunteer, Wish, WishWall
from tests.station_db import EN_COORDINATOR, GROUP, SHANGHAI, ZH_COORDINATOR, local

NOW = local(2025, 12, 1, 10)
TODAY = date(2025, 12, 1)
WISHER, VOLUNTEER, DONOR, OTHER = 40, 41, 42, 43
WALL = -100777


def notices() -> WishNotices:
    outbox = Outbox(make_i18n(), SHANGHAI, "zh_Hans", Clock())
    return WishNotices(outbox, LedgerNotices(outbox))


@pytest.fixture
async def db(station_db):
    async with station_db.tx() as s:
        station = await org.default_station(s)
        assert station is not None
        for uid, name in ((WISHER, "Zhao"), (VOLUNTEER, "Qian"), (DONOR, "Sun"), (OTHER, "Wu")):
            s.add(User(id=uid, full_name=name, locale="zh_Hans", station_id=station.id, created_at=NOW))
        await s.flush()
        s.add(Volunteer(user_id=VOLUNTEER, name="钱多多", phone="13800000001", registered_at=NOW))
        await wishes.register_donor(
            s, await s.get(User, DONOR), name="孙先生", phone="13800000002", organisation="爱心超市", now=NOW
        )
        s.add(WishWall(station_id=station.id, chat_id=WALL, title="心愿墙", bound_by=ZH_COORDINATOR, bound_at=NOW))
    return station_db


def draft(**extra) -> wishes.WishDraft:
    values = dict(what="一个新书包", for_whom="小明", due=TODAY + timedelta(days=10), phone="13911112222")
    return wishes.WishDraft(**(values | extra))


async def make(db, **extra) -> Wish:
    async with db.tx() as s:
        return await wishes.make(
            s, notices(), wisher=await s.get(User, WISHER), draft=draft(**extra), today=TODAY, now=NOW
        )


async def approved(db, contact: str = wishes.WISHER) -> Wish:
    wish = await make(db)
    async with db.tx() as s:
        return await wishes.approve(
            s, notices(), wish_id=wish.id, actor=await s.get(User, ZH_COORDINATOR), contact=contact, now=NOW
        )


async def act(db, fn, uid: int, **kw):
    async with db.tx() as s:
        return await fn(s, notices(), user=await s.get(User, uid), now=NOW, **kw)


async def refused(db, fn, uid: int, **kw) -> str:
    with pytest.raises(DomainError) as err:
        await act(db, fn, uid, **kw)
    return err.value.code


async def group_texts(db) -> list[str]:
    async with db.read() as s:
        rows = await s.execute(select(OutboxMessage.text).where(OutboxMessage.chat_id < 0))
        return list(rows.scalars())


def test_what_may_be_posted():
    assert wishes.check_what(" 一个新书包 ") == "一个新书包"
    assert wishes.check_for_whom("一位老人") == "一位老人"
    for bad in ("请打 13911112222", "幸福小区 3 号楼", "加我 @zhao", "见 https://x.cn"):
        with pytest.raises(DomainError) as err:
            wishes.check_what(bad)
        assert err.value.code == "wish_private_text"
    for name, code in (
        ("王小明同学的奶奶家人", "wish_name_long"),
        ("小明13911112222", "wish_name_long"),
        ("小明1", "wish_private_text"),
        ("", "empty"),
    ):
        with pytest.raises(DomainError) as err:
            wishes.check_for_whom(name)
        assert err.value.code == code
    with pytest.raises(DomainError) as err:
        wishes.check_due(TODAY - timedelta(days=1), TODAY)
    assert err.value.code == "wish_past_date"
    assert wishes.check_due(TODAY, TODAY) == TODAY
    assert wishes.check_cost("约 100 元") == "约 100 元"


async def test_review_approve_posts_to_the_wall_without_private_data(db):
    wish = await make(db)
    assert wish.status == wishes.REVIEW
    async with db.tx() as s:  # only a coordinator of the station
        with pytest.raises(DomainError) as err:
            await wishes.approve(
                s, notices(), wish_id=wish.id, actor=await s.get(User, OTHER), contact="coord", now=NOW
            )
    assert err.value.code == "not_coordinator"
    wish = await approved(db)
    assert wish.status == wishes.OPEN and wish.contact == wishes.WISHER
    posted = await group_texts(db)
    assert posted and all("一个新书包" in t and "小明" in t for t in posted)
    assert not any("13911112222" in t or "Zhao" in t for t in posted)


async def test_proposal_needs_the_wishers_consent_and_decline_tells_only_him(db):
    wish = await make(db)
    async with db.tx() as s:
        await wishes.propose(
            s, notices(), wish_id=wish.id, actor=await s.get(User, EN_COORDINATOR), text="一个蓝色书包", now=NOW
        )
    assert await refused(db, wishes.answer_proposal, OTHER, wish_id=wish.id, agree=True) == "not_your_wish"
    wish = await act(db, wishes.answer_proposal, WISHER, wish_id=wish.id, agree=True)
    assert wish.what == "一个蓝色书包" and wish.proposed is None
    assert await refused(db, wishes.answer_proposal, WISHER, wish_id=wish.id, agree=False) == "wish_proposal_answered"
    async with db.tx() as s:
        await wishes.decline(
            s, notices(), wish_id=wish.id, actor=await s.get(User, ZH_COORDINATOR), reason="已有人捐赠", now=NOW
        )
    async with db.read() as s:
        told = (
            await s.execute(select(OutboxMessage.chat_id).where(OutboxMessage.text.contains("已有人捐赠")))
        ).scalars()
        assert set(told) == {WISHER}


async def test_two_claims_at_once_have_one_winner(db):
    wish = await approved(db)

    async def attempt(uid: int) -> str:
        try:
            await act(db, wishes.claim, uid, wish_id=wish.id)
            return "won"
        except DomainError as exc:
            return exc.code

    results = await asyncio.gather(*(attempt(uid) for uid in (VOLUNTEER, DONOR) * 5))
    assert results.count("won") == 1 and results.count("wish_claimed") == 9
    assert await refused(db, wishes.claim, OTHER, wish_id=wish.id) == "wish_register_first"


async def test_steps_in_order_photo_confirm_thanks_and_hours(db):
    wish = await approved(db)
    assert await refused(db, wishes.progress, VOLUNTEER, wish_id=wish.id, step=wishes.DELIVERED) == "not_your_wish"
    await act(db, wishes.claim, VOLUNTEER, wish_id=wish.id)
    assert await refused(db, wishes.progress, DONOR, wish_id=wish.id, step=wishes.PREPARING) == "not_your_wish"
    wish = await act(db, wishes.progress, VOLUNTEER, wish_id=wish.id, step=wishes.PREPARING)
    assert wish.status == wishes.PREPARING and wish.preparing_at is not None
    assert await refused(db, wishes.progress, VOLUNTEER, wish_id=wish.id, step=wishes.PREPARING) == "wish_step_done"
    assert await refused(db, wishes.add_photo, VOLUNTEER, wish_id=wish.id, file_id="P1") == "wish_not_delivered"
    await act(db, wishes.progress, VOLUNTEER, wish_id=wish.id, step=wishes.DELIVERED)
    assert await refused(db, wishes.confirm, WISHER, wish_id=wish.id) == "wish_no_photo"
    assert await refused(db, wishes.give_back, VOLUNTEER, wish_id=wish.id) == "wish_delivered"
    await act(db, wishes.add_photo, VOLUNTEER, wish_id=wish.id, file_id="P1")
    assert await refused(db, wishes.confirm, VOLUNTEER, wish_id=wish.id) == "not_your_wish"
    wish = await act(db, wishes.confirm, WISHER, wish_id=wish.id)
    assert wish.status == wishes.FULFILLED
    await act(db, wishes.thank, WISHER, wish_id=wish.id, text="谢谢叔叔！")
    assert await refused(db, wishes.thank, WISHER, wish_id=wish.id, text="再谢") == "wish_thanked"
    async with db.tx() as s:
        await wishes.give_hours(
            s,
            notices(),
            wish_id=wish.id,
            actor=await s.get(User, ZH_COORDINATOR),
            minutes=90,
            points_per_hour=10,
            now=NOW,
        )
    async with db.tx() as s:
        with pytest.raises(DomainError) as err:
            await wishes.give_hours(
                s,
                notices(),
                wish_id=wish.id,
                actor=await s.get(User, ZH_COORDINATOR),
                minutes=90,
                points_per_hour=10,
                now=NOW,
            )
    assert err.value.code == "wish_hours_given"
    async with db.read() as s:
        minutes = await s.scalar(select(func.sum(LedgerEntry.minutes)).where(LedgerEntry.volunteer_id == VOLUNTEER))
    assert minutes == 90
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("zh_Hans"):
        line = fulfilled_public_text(wish, "幸福站", SHANGHAI)
    assert "一个新书包" in line and "小明" not in line and "13911112222" not in line


async def test_a_donor_gets_no_hours(db):
    wish = await approved(db)
    await act(db, wishes.claim, DONOR, wish_id=wish.id)
    await act(db, wishes.progress, DONOR, wish_id=wish.id, step=wishes.DELIVERED)
    await act(db, wishes.add_photo, DONOR, wish_id=wish.id, file_id="P2")
    await act(db, wishes.confirm, WISHER, wish_id=wish.id)
    async with db.tx() as s:
        with pytest.raises(DomainError) as err:
            await wishes.give_hours(
                s,
                notices(),
                wish_id=wish.id,
                actor=await s.get(User, ZH_COORDINATOR),
                minutes=60,
                points_per_hour=10,
                now=NOW,
            )
    assert err.value.code == "wish_donor_no_hours"
    async with db.read() as s:
        assert [w.id for w in await wishes.of_claimer(s, DONOR)] == [wish.id]


async def test_given_back_returns_to_the_wall_once(db):
    wish = await approved(db)
    await act(db, wishes.claim, VOLUNTEER, wish_id=wish.id)
    wish = await act(db, wishes.give_back, VOLUNTEER, wish_id=wish.id)
    assert wish.status == wishes.OPEN and wish.given_back and wish.claimer_id is None
    await act(db, wishes.claim, DONOR, wish_id=wish.id)
    wish = await act(db, wishes.give_back, DONOR, wish_id=wish.id)
    assert wish.status == wishes.REVIEW  # not on the wall again: back with the coordinators
    async with db.read() as s:
        sends = await s.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.chat_id == WALL, OutboxMessage.method == "send")
        )
    assert sends == 1  # the card was posted once, then only edited


async def test_period_counts(db):
    first = await approved(db)
    await make(db, what="理发一次")
    await act(db, wishes.claim, VOLUNTEER, wish_id=first.id)
    await act(db, wishes.progress, VOLUNTEER, wish_id=first.id, step=wishes.DELIVERED)
    await act(db, wishes.add_photo, VOLUNTEER, wish_id=first.id, file_id="P3")
    async with db.tx() as s:
        await wishes.confirm(
            s, notices(), wish_id=first.id, user=await s.get(User, WISHER), now=NOW + timedelta(days=3)
        )
        station = await org.default_station(s)
        assert station is not None
        counts = await wishes.period_counts(s, [station.id], NOW - timedelta(days=1), NOW + timedelta(days=7))
        assert (counts.collected, counts.approved, counts.claimed, counts.fulfilled) == (2, 1, 1, 1)
        assert counts.median_days == 3.0
        none = await wishes.period_counts(s, [station.id + 1000], NOW - timedelta(days=1), NOW + timedelta(days=7))
        assert none.collected == 0 and none.median_days is None
        every = await wishes.period_counts(s, None, NOW - timedelta(days=1), NOW + timedelta(days=7))
        assert every.collected == 2


async def test_reminder_once_when_the_date_nears_without_progress(db, db_url):
    from bot.wishes.jobs import run_wish_jobs
    from tests.station_db import settings

    wish = await approved(db)
    await act(db, wishes.claim, VOLUNTEER, wish_id=wish.id)
    i18n, conf = make_i18n(), settings(db_url)
    early = await run_wish_jobs(db, i18n, conf, now=NOW, claimed_by="t")
    assert early == []  # ten days ahead
    late = NOW + timedelta(days=8)
    assert await run_wish_jobs(db, i18n, conf, now=late, claimed_by="t") == [f"wish:{wish.id}:remind"]
    assert await run_wish_jobs(db, i18n, conf, now=late + timedelta(minutes=1), claimed_by="t") == []
    assert GROUP  # the station's team group is not the wall: the wall got the card


async def test_forget_erases_the_phone_and_photo_of_his_wishes(db):
    wish = await make(db, photo="MYPHOTO")
    async with db.tx() as s:
        assert await wishes.forget(s, WISHER) == 1
    async with db.read() as s:
        row = await s.get(Wish, wish.id)
        assert row is not None and row.phone is None and row.photo is None and row.what == "一个新书包"


async def test_retention_erases_the_phone_and_photo_of_closed_wishes_only(db):
    closed, still_open = await make(db, photo="OLDPHOTO"), await approved(db)
    async with db.tx() as s:  # closed on NOW: its last change
        coordinator = await s.get(User, ZH_COORDINATOR)
        await wishes.decline(s, notices(), wish_id=closed.id, actor=coordinator, reason="不在服务范围", now=NOW)
    days = 30
    async with db.tx() as s:  # not yet: a day short of the retention period
        assert await wishes.clear_old_contacts(s, now=NOW + timedelta(days=days - 1), days=days) == 0
    async with db.tx() as s:
        assert await wishes.clear_old_contacts(s, now=NOW + timedelta(days=days + 1), days=days) == 1
    async with db.read() as s:
        gone, kept = await s.get(Wish, closed.id), await s.get(Wish, still_open.id)
        assert gone is not None and (gone.phone, gone.photo) == (None, None) and gone.what == "一个新书包"
        assert kept is not None and kept.phone is not None  # an open wish keeps its contact
