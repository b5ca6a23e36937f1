"""The station's rules, without Telegram: a migrated database, a frozen clock, recorded notices."""

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.menu import service as menu
from bot.people import service as people
from bot.requests import service as requests
from storage.db import Database
from storage.migrate import upgrade
from storage.models import LedgerEntry, Request, RequestEvent, User

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


class RecordingNotices:
    def __init__(self):
        self.calls: list[tuple[str, int]] = []

    def __getattr__(self, name):
        async def record(s, req, *args):
            self.calls.append((name, req.id))

        return record


@pytest.fixture
async def world(db_url):
    url = db_url
    await upgrade(url)
    db = Database(url)
    async with db.tx() as s:
        await menu.ensure_seed(s, NOW)
        for uid, name, admin in (
            (1, "admin", True),
            (2, "resident", False),
            (3, "vol", False),
            (4, "vol2", False),
            (5, "outsider", False),
        ):
            s.add(
                User(
                    id=uid,
                    full_name=name,
                    locale="zh_Hans",
                    is_admin=admin,
                    is_coordinator=False,
                    blocked_bot=False,
                    created_at=NOW,
                )
            )
        await s.flush()
        for uid in (3, 4):
            await people.register_volunteer(
                s, await s.get(User, uid), name=f"志愿者{uid}", phone="13800138000", team_ids=[1], now=NOW
            )
    yield db
    await db.dispose()


def draft(**over) -> requests.Draft:
    base = dict(
        service_id=1,
        description="帮忙买菜",
        window_start=NOW + timedelta(days=1),
        window_end=NOW + timedelta(days=1, hours=2),
        area="幸福小区",
        address="3栋402",
        phone="13912345678",
    )
    base.update(over)
    return requests.Draft(**base)


async def user(db, uid) -> User:
    async with db.read() as s:
        return await s.get(User, uid)


async def place(db, notices, **over) -> Request:
    async with db.tx() as s:
        return await requests.place(s, notices, resident=await s.get(User, 2), draft=draft(**over), now=NOW, year=2026)


async def test_place_numbers_and_dispatches(world):
    notices = RecordingNotices()
    first, second = await place(world, notices), await place(world, notices)
    assert (first.number, second.number) == ("2026-0001", "2026-0002")
    assert first.status == "open" and first.team_id == 1
    assert ("placed", first.id) in notices.calls and ("dispatched", first.id) in notices.calls


async def test_review_setting_holds_requests(world):
    async with world.tx() as s:
        await menu.set_review(s, await s.get(User, 1), True)
    notices = RecordingNotices()
    req = await place(world, notices)
    assert req.status == "review" and ("review_needed", req.id) in notices.calls
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.dispatch(s, notices, request_id=req.id, actor=await s.get(User, 3), team_id=None, now=NOW)
    assert err.value.code == "not_coordinator"
    async with world.tx() as s:
        req = await requests.dispatch(s, notices, request_id=req.id, actor=await s.get(User, 1), team_id=None, now=NOW)
    assert req.status == "open"


@pytest.mark.parametrize(
    "over,code",
    [
        (dict(window_start=NOW - timedelta(minutes=1), window_end=NOW + timedelta(hours=1)), "past_time"),
        (dict(window_end=NOW + timedelta(days=1)), "bad_window"),
        (dict(window_end=NOW + timedelta(days=1, hours=13)), "window_too_long"),
        (dict(window_start=NOW + timedelta(days=91), window_end=NOW + timedelta(days=91, hours=1)), "too_far_ahead"),
        (dict(description="   "), "empty"),
        (dict(description="长" * 501), "too_long"),
        (dict(area="区" * 65), "too_long"),
        (dict(phone="12345"), "bad_phone"),
        (dict(service_id=999), "no_service"),
    ],
)
async def test_place_refuses_bad_drafts_and_changes_nothing(world, over, code):
    with pytest.raises(DomainError) as err:
        await place(world, RecordingNotices(), **over)
    assert err.value.code == code
    async with world.read() as s:
        assert (await s.execute(select(func.count()).select_from(Request))).scalar() == 0


async def test_claim_rules(world):
    notices = RecordingNotices()
    req = await place(world, notices)
    for uid, code in ((5, "not_volunteer"),):
        async with world.tx() as s:
            with pytest.raises(DomainError) as err:
                await requests.claim(
                    s, notices, request_id=req.id, user=await s.get(User, uid), chat_team_id=1, now=NOW
                )
        assert err.value.code == code
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.claim(s, notices, request_id=req.id, user=await s.get(User, 3), chat_team_id=2, now=NOW)
    assert err.value.code == "foreign_card"
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.claim(s, notices, request_id=12345, user=await s.get(User, 3), chat_team_id=1, now=NOW)
    assert err.value.code == "no_request"


async def test_concurrent_claims_have_one_winner(world):
    notices = RecordingNotices()
    req = await place(world, notices)

    async def attempt(uid):
        try:
            async with world.tx() as s:
                await requests.claim(
                    s, notices, request_id=req.id, user=await s.get(User, uid), chat_team_id=1, now=NOW
                )
            return uid
        except DomainError as exc:
            return exc.code

    results = await asyncio.gather(*(attempt(uid) for uid in (3, 4) * 10))
    assert sorted(map(str, results)).count("already_claimed") == 19
    async with world.read() as s:
        events = (
            await s.execute(select(func.count()).select_from(RequestEvent).where(RequestEvent.kind == "claimed"))
        ).scalar()
    assert events == 1


async def _claimed(world, notices) -> Request:
    req = await place(world, notices)
    async with world.tx() as s:
        return await requests.claim(s, notices, request_id=req.id, user=await s.get(User, 3), chat_team_id=1, now=NOW)


async def test_release_only_before_start(world):
    notices = RecordingNotices()
    req = await _claimed(world, notices)
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.release(s, notices, request_id=req.id, user=await s.get(User, 4), now=NOW)
    assert err.value.code == "not_your_claim"
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.release(
                s, notices, request_id=req.id, user=await s.get(User, 3), now=req.window_start + timedelta(minutes=1)
            )
    assert err.value.code == "too_late_to_release"
    async with world.tx() as s:
        req = await requests.release(s, notices, request_id=req.id, user=await s.get(User, 3), now=NOW)
    assert req.status == "open" and req.claimer_id is None


@pytest.mark.parametrize(
    "after,minutes,code",
    [
        (timedelta(minutes=-5), 30, "not_started"),
        (timedelta(hours=1), 90, "hours_out_of_range"),  # more than the time since the start
        (timedelta(hours=20), 13 * 60, "hours_out_of_range"),  # more than 12 h
        (timedelta(hours=1), 0, "hours_out_of_range"),
    ],
)
async def test_report_bounds(world, after, minutes, code):
    notices = RecordingNotices()
    req = await _claimed(world, notices)
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.report_done(
                s, notices, request_id=req.id, user=await s.get(User, 3), minutes=minutes, now=req.window_start + after
            )
    assert err.value.code == code


async def test_close_approve_and_ledger(world):
    notices = RecordingNotices()
    req = await _claimed(world, notices)
    done_at = req.window_start + timedelta(hours=3)
    async with world.tx() as s:
        await requests.report_done(s, notices, request_id=req.id, user=await s.get(User, 3), minutes=120, now=done_at)
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.approve(
                s, notices, request_id=req.id, actor=await s.get(User, 1), now=done_at, points_per_hour=10
            )
    assert err.value.code == "not_confirmed"
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.confirm(s, notices, request_id=req.id, user=await s.get(User, 3), rating=5, now=done_at)
    assert err.value.code == "not_your_request"
    async with world.tx() as s:
        await requests.confirm(s, notices, request_id=req.id, user=await s.get(User, 2), rating=4, now=done_at)
    async with world.tx() as s:  # a correction needs a reason
        with pytest.raises(DomainError) as err:
            await requests.approve(
                s,
                notices,
                request_id=req.id,
                actor=await s.get(User, 1),
                now=done_at,
                points_per_hour=10,
                minutes=90,
                reason="",
            )
    assert err.value.code == "empty"
    async with world.tx() as s:
        req = await requests.approve(
            s,
            notices,
            request_id=req.id,
            actor=await s.get(User, 1),
            now=done_at,
            points_per_hour=10,
            minutes=90,
            reason="实际服务1.5小时",
        )
    assert req.status == "approved" and req.approved_minutes == 90
    async with world.read() as s:
        total = await ledger.totals(s, 3)
        entries = (await s.execute(select(LedgerEntry))).scalars().all()
    assert (total.minutes, total.points) == (90, 15)
    assert [(e.minutes, e.points, e.approved_by, e.reason) for e in entries] == [(90, 15, 1, "实际服务1.5小时")]
    async with world.tx() as s:  # approving twice changes nothing
        with pytest.raises(DomainError):
            await requests.approve(
                s, notices, request_id=req.id, actor=await s.get(User, 1), now=done_at, points_per_hour=10
            )


async def test_volunteer_cannot_approve_own_hours(world):
    async with world.tx() as s:
        (await s.get(User, 3)).is_coordinator = True
    notices = RecordingNotices()
    req = await _claimed(world, notices)
    at = req.window_start + timedelta(hours=2)
    async with world.tx() as s:
        await requests.report_done(s, notices, request_id=req.id, user=await s.get(User, 3), minutes=60, now=at)
        await requests.confirm(s, notices, request_id=req.id, user=await s.get(User, 2), rating=5, now=at)
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.approve(
                s, notices, request_id=req.id, actor=await s.get(User, 3), now=at, points_per_hour=10
            )
    assert err.value.code == "own_hours"


async def test_cancel_rules(world):
    notices = RecordingNotices()
    req = await _claimed(world, notices)
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.cancel(s, notices, request_id=req.id, user=await s.get(User, 4), now=NOW)
    assert err.value.code == "not_your_request"
    async with world.tx() as s:
        req = await requests.cancel(s, notices, request_id=req.id, user=await s.get(User, 2), now=NOW)
    assert req.status == "cancelled" and ("cancelled", req.id) in notices.calls
    async with world.tx() as s:
        with pytest.raises(DomainError) as err:
            await requests.claim(s, notices, request_id=req.id, user=await s.get(User, 4), chat_team_id=1, now=NOW)
    assert err.value.code == "request_cancelled"


def test_points_round_half_up():
    assert ledger.points_for(90, 10) == 15
    assert ledger.points_for(30, 5) == 3  # 2.5 rounds up
    assert ledger.points_for(60, 1) == 1


# services on one database from two processes --------------------------------------------------------


async def test_two_processes_place_the_years_first_requests_at_once(world, db_url):
    """Numbers come from one upsert: the first requests of a year placed at once by two processes all succeed."""
    other = Database(db_url)  # a second process: its own engine and connections
    try:

        async def place_in(db: Database, n: int) -> str:
            async with db.tx() as s:
                req = await requests.place(
                    s,
                    RecordingNotices(),
                    resident=await s.get(User, 2),
                    draft=draft(description=f"need {n}"),
                    now=NOW,
                    year=2031,
                )
                return req.number

        numbers = await asyncio.gather(*(place_in(world if n % 2 else other, n) for n in range(8)))
    finally:
        await other.dispose()
    assert sorted(numbers) == [f"2031-{n:04d}" for n in range(1, 9)]
