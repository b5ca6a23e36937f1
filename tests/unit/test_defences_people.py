"""The limits per person and the archived team's rules (issue 12), on the services: join requests, 爱心超市
cancels and certificates a day, open requests per resident, an archived team's activities, ADMIN_IDS both ways."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.activities import service as activities
from bot.certificates import service as certificates
from bot.core.errors import DomainError
from bot.core.limits import Daily
from bot.ledger import service as ledger
from bot.menu import service as menu
from bot.people import profiles
from bot.people import service as people
from bot.requests import service as requests
from bot.shop import service as shop
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Team, TeamMember, User

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
ADMIN, RESIDENT, VOL = 1, 2, 3


class Quiet:
    """Notices that write nothing: these tests read the rows."""

    def __getattr__(self, name):
        async def nothing(*args, **kwargs):
            return None

        return nothing


@pytest.fixture
async def db(db_url):
    await upgrade(db_url)
    db = Database(db_url)
    async with db.tx() as s:
        await menu.ensure_seed(s, NOW)
        for uid, admin in ((ADMIN, True), (RESIDENT, False), (VOL, False)):
            s.add(
                User(
                    id=uid,
                    full_name=f"u{uid}",
                    locale="zh_Hans",
                    is_admin=admin,
                    is_coordinator=False,
                    blocked_bot=False,
                    created_at=NOW,
                )
            )
        await s.flush()
        await people.register_volunteer(
            s, await s.get(User, VOL), name="李明", phone="13800138000", team_ids=[1], now=NOW
        )
        for n in range(2, 7):
            s.add(Team(name=f"Team {n}", archived=False, created_at=NOW))
    yield db
    await db.dispose()


async def refused(db, code: str, call) -> DomainError:
    async with db.tx() as s:
        with pytest.raises(DomainError) as err:
            await call(s)
    assert err.value.code == code
    return err.value


async def test_join_requests_a_day_are_limited(db):
    daily = Daily(3, SHANGHAI)

    async def join(s, team_id, now=NOW):
        return await profiles.request_join(s, Quiet(), await s.get(User, VOL), team_id, now, daily=daily)

    for team_id in (2, 3, 4):
        async with db.tx() as s:
            assert await join(s, team_id) == "pending"
    error = await refused(db, "join_limit", lambda s: join(s, 5))
    assert error.params == {"limit": 3}
    async with db.tx() as s:  # a declined request still counts: asking again and again is what the limit stops
        await profiles.decide_join(s, Quiet(), await s.get(User, ADMIN), team_id=2, user_id=VOL, approve=False, now=NOW)
    await refused(db, "join_limit", lambda s: join(s, 2))
    async with db.read() as s:
        assert await s.get(TeamMember, (5, VOL)) is None
    tomorrow = NOW + timedelta(hours=14)  # past midnight in Shanghai
    async with db.tx() as s:
        assert await join(s, 5, tomorrow) == "pending"


async def test_shop_cancels_a_day_are_limited(db):
    daily = Daily(3, SHANGHAI)
    async with db.tx() as s:
        ledger.add_service(
            s, volunteer_id=VOL, minutes=600, points_per_hour=10, request_id=None, approved_by=ADMIN, now=NOW
        )
        await shop.add_item(s, await s.get(User, ADMIN), name="毛巾", price=5, stock=100, limit=None, now=NOW)

    async def redeem(s):
        return await shop.redeem(
            s, Quiet(), user=await s.get(User, VOL), item_id=1, price=5, now=NOW, tz=SHANGHAI, cancels=daily
        )

    for _ in range(3):
        async with db.tx() as s:
            r = await redeem(s)
            await shop.cancel(s, Quiet(), user=await s.get(User, VOL), redemption_id=r.id, now=NOW)
    await refused(db, "shop_cancel_limit", redeem)
    async with db.read() as s:  # the rules the tap asks before the confirmation say so too
        with pytest.raises(DomainError):
            await shop.redeem_rules(s, user_id=VOL, item_id=1, now=NOW, tz=SHANGHAI, cancels=daily)


async def test_certificates_a_day_are_limited(db):
    daily = Daily(3, SHANGHAI)
    async with db.tx() as s:
        ledger.add_service(
            s, volunteer_id=VOL, minutes=60, points_per_hour=10, request_id=None, approved_by=ADMIN, now=NOW
        )

    async def issue(s, now=NOW):
        return await certificates.issue(
            s, await s.get(User, VOL), date_from=None, date_to=None, now=now, tz=SHANGHAI, daily=daily
        )

    for _ in range(3):
        async with db.tx() as s:
            await issue(s)
    await refused(db, "cert_limit", issue)
    async with db.tx() as s:
        await issue(s, NOW + timedelta(days=1))


async def test_open_requests_per_resident_are_limited(db):
    start = NOW + timedelta(days=1)

    async def place(s, proxy_for=None, who=RESIDENT):
        draft = requests.Draft(
            service_id=1,
            description="买米",
            window_start=start,
            window_end=start + timedelta(hours=2),
            area="幸福小区",
            proxy_for=proxy_for,
        )
        return await requests.place(
            s, Quiet(), resident=await s.get(User, who), draft=draft, now=NOW, year=2026, max_open=3
        )

    placed = []
    for _ in range(3):
        async with db.tx() as s:
            placed.append(await place(s))
    await refused(db, "too_many_open", place)
    async with db.tx() as s:  # one cancelled: room for another
        await requests.cancel(s, Quiet(), request_id=placed[0].id, user=await s.get(User, RESIDENT), now=NOW)
        await place(s)
    async with db.tx() as s:  # 帮办 orders by a coordinator for residents without Telegram are not his own
        for _ in range(4):
            await place(s, proxy_for="张奶奶", who=ADMIN)


async def test_an_archived_teams_activities_take_no_sign_ups_and_its_requests_no_claims(db):
    start = NOW + timedelta(days=2)
    async with db.tx() as s:
        act = await activities.publish(
            s,
            Quiet(),
            actor=await s.get(User, ADMIN),
            draft=activities.Draft(
                title="敬老院探访",
                theme="",
                place="幸福敬老院",
                capacity=5,
                team_id=1,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
            ),
            chats=[],
            now=NOW,
            year=2026,
        )
        draft = requests.Draft(
            service_id=1, description="买米", window_start=start, window_end=start + timedelta(hours=1), area="小区"
        )
        req = await requests.place(s, Quiet(), resident=await s.get(User, RESIDENT), draft=draft, now=NOW, year=2026)
    assert req.status == "open"
    async with db.tx() as s:  # the archiving itself, without the moderation's step: the services' own check
        (await s.get(Team, 1)).archived = True
    await refused(
        db,
        "act_team_archived",
        lambda s: activities.sign_up(s, Quiet(), activity_id=act.id, user_id=VOL, chat_team_id=None, now=NOW),
    )

    async def claim(s):
        return await requests.claim(
            s, Quiet(), request_id=req.id, user=await s.get(User, VOL), chat_team_id=None, now=NOW
        )

    await refused(db, "team_archived", claim)
    async with db.read() as s:
        assert (await s.get(type(req), req.id)).claimer_id is None


async def test_administrators_follow_admin_ids_both_ways(db):
    async with db.tx() as s:
        await people.sync_admins(s, [VOL])
    async with db.read() as s:
        admins = list((await s.execute(select(User.id).where(User.is_admin.is_(True)))).scalars())
    assert admins == [VOL]
    async with db.tx() as s:  # and when he writes, the update does not make him one again
        user = await people.touch_user(
            s, user_id=ADMIN, full_name="u1", username=None, locale="zh_Hans", is_admin=False, now=NOW
        )
        assert not user.is_admin
        assert people.needs_touch(
            await s.get(User, VOL), full_name="u3", username=None, locale="zh_Hans", is_admin=False
        )


async def test_a_block_committed_during_an_update_still_stops_its_placing_and_claiming(db):
    """The middleware reads the user at the start of an update; a /block committing while that update is handled
    is still seen by the services, which read the flag under a lock on his row inside their own transaction."""
    start = NOW + timedelta(days=1)
    draft = requests.Draft(
        service_id=1, description="买米", window_start=start, window_end=start + timedelta(hours=1), area="小区"
    )
    async with db.tx() as s:
        req = await requests.place(s, Quiet(), resident=await s.get(User, RESIDENT), draft=draft, now=NOW, year=2026)
    async with db.read() as s:  # what the middleware read: not blocked yet
        resident, volunteer = await s.get(User, RESIDENT), await s.get(User, VOL)
    async with db.tx() as s:  # the coordinator's /block commits meanwhile
        for uid in (RESIDENT, VOL):
            (await s.get(User, uid)).is_blocked = True
    await refused(
        db,
        "user_blocked",
        lambda s: requests.place(s, Quiet(), resident=resident, draft=draft, now=NOW, year=2026, max_open=3),
    )
    await refused(
        db,
        "user_blocked",
        lambda s: requests.claim(s, Quiet(), request_id=req.id, user=volunteer, chat_team_id=None, now=NOW),
    )
    async with db.read() as s:
        assert (await s.get(type(req), req.id)).claimer_id is None
        assert (await s.execute(select(func.count()).select_from(type(req)))).scalar_one() == 1
