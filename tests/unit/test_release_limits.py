"""Claim, read the address, release, and again: releases are limited (RELEASES_PER_DAY in a rolling 24 hours),
past the limit a coordinator decides, the coordinators hear of each release after a contact was given, and every
contact given is an event of the request's history. Also who may use the cancel buttons."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import DomainError
from bot.requests import service as requests
from storage.db import Database
from storage.models import Request, RequestEvent, Service, User
from tests.station_db import EN_COORDINATOR, RESIDENT, VOLUNTEER, ZH_COORDINATOR, local, notices, outbox

T0 = local(2026, 3, 10, 9)
PER_DAY = 2


@pytest.fixture
def db(request_db):
    return request_db


async def place(db: Database, *, contact: bool = True) -> Request:
    async with db.tx() as s:
        service = (await s.execute(select(Service))).scalars().first()
        start = T0 + timedelta(days=5)
        draft = requests.Draft(
            service_id=service.id,
            description="Walk to the clinic",
            area="Block 3",
            window_start=start,
            window_end=start + timedelta(hours=2),
            address="Building 3, Room 402" if contact else None,
            phone="13912345678" if contact else None,
        )
        return await requests.place(
            s, notices(), resident=await s.get(User, RESIDENT), draft=draft, now=T0, year=T0.year
        )


async def claim(db: Database, req: Request, at: datetime) -> None:
    async with db.tx() as s:
        await requests.claim(s, notices(), request_id=req.id, user=await s.get(User, VOLUNTEER), chat_team_id=1, now=at)


async def release(db: Database, req: Request, at: datetime) -> Request:
    async with db.tx() as s:
        return await requests.release(
            s, notices(), request_id=req.id, user=await s.get(User, VOLUNTEER), now=at, per_day=PER_DAY
        )


async def answer(db: Database, req: Request, at: datetime, *, by: int = ZH_COORDINATOR, ok: bool = True) -> Request:
    decide = requests.release_for if ok else requests.keep_claim
    async with db.tx() as s:
        return await decide(
            s, notices(), request_id=req.id, volunteer_id=VOLUNTEER, actor=await s.get(User, by), now=at
        )


async def events(db: Database, req: Request) -> list[tuple[str, int | None, str | None]]:
    async with db.read() as s:
        rows = await s.execute(select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id))
        return [(e.kind, e.actor_id, e.detail) for e in rows.scalars()]


async def said(db: Database, chat_id: int, contains: str) -> list[str]:
    return [m.text for m in await outbox(db, chat_id) if contains in m.text]


async def test_releases_past_the_limit_go_to_a_coordinator(db):
    first, second, third = [await place(db) for _ in range(3)]
    for n, req in enumerate((first, second)):
        at = T0 + timedelta(minutes=10 * n)
        await claim(db, req, at)
        assert (await release(db, req, at + timedelta(minutes=1))).status == requests.OPEN
    # Each release after the contact was given is told to the coordinators, privately, with its count.
    told = await said(db, ZH_COORDINATOR, "获得地址和电话后放弃了点单")
    assert len(told) == 2 and "第 2 次" in told[1] and f"/history {second.number}" in told[1]
    assert len(await said(db, EN_COORDINATOR, "after receiving its address and phone")) == 2

    # The third release within 24 hours: the request stays his, and the coordinators are asked.
    await claim(db, third, T0 + timedelta(hours=1))
    kept = await release(db, third, T0 + timedelta(hours=1, minutes=1))
    assert kept.status == requests.CLAIMED and kept.claimer_id == VOLUNTEER
    asks = [m for m in await outbox(db, ZH_COORDINATOR) if "申请放弃点单" in m.text]
    assert len(asks) == 1 and f"rl1:ok:{third.id}:{VOLUNTEER}" in asks[0].markup
    assert f"rl1:keep:{third.id}:{VOLUNTEER}" in asks[0].markup
    assert await said(db, VOLUNTEER, "申请放弃") == []  # the ask is the coordinators'; the handler answers him
    with pytest.raises(DomainError) as err:  # asking twice asks nobody twice
        await release(db, third, T0 + timedelta(hours=1, minutes=2))
    assert err.value.code == "release_already_asked"

    # A coordinator releases it for him: open again, his own count unchanged, he is told.
    with pytest.raises(DomainError) as err:
        async with db.tx() as s:
            await requests.release_for(
                s, notices(), request_id=third.id, volunteer_id=VOLUNTEER, actor=await s.get(User, RESIDENT), now=T0
            )
    assert err.value.code == "not_coordinator"
    released = await answer(db, third, T0 + timedelta(hours=2))
    assert released.status == requests.OPEN and released.claimer_id is None
    assert await said(db, VOLUNTEER, "协调员已为您放弃点单") != []
    with pytest.raises(DomainError) as err:  # the other coordinator's button, afterwards
        await answer(db, third, T0 + timedelta(hours=2), by=EN_COORDINATOR)
    assert err.value.code == "release_answered"
    assert [k for k, _a, _d in await events(db, third)] == [
        "placed",
        "claimed",
        requests.CONTACT,
        requests.RELEASE_ASKED,
        "released",
    ]
    assert (await events(db, third))[-1] == ("released", ZH_COORDINATOR, str(VOLUNTEER))

    # The limit rolls: 24 hours after his first two releases he may release himself again.
    later = T0 + timedelta(days=1, minutes=11)
    await claim(db, third, later)
    assert (await release(db, third, later + timedelta(minutes=1))).status == requests.OPEN


async def test_a_coordinator_may_ask_him_to_keep_it(db):
    reqs = [await place(db) for _ in range(3)]
    for n, req in enumerate(reqs):
        at = T0 + timedelta(minutes=10 * n)
        await claim(db, req, at)
        await release(db, req, at + timedelta(minutes=1))
    last = reqs[-1]
    kept = await answer(db, last, T0 + timedelta(hours=1), ok=False)
    assert kept.status == requests.CLAIMED and kept.claimer_id == VOLUNTEER
    assert await said(db, VOLUNTEER, "协调员希望您保留点单") != []
    with pytest.raises(DomainError) as err:  # answered: the buttons are spent
        await answer(db, last, T0 + timedelta(hours=1))
    assert err.value.code == "release_answered"
    # Asking again later is a new ask.
    assert (await release(db, last, T0 + timedelta(hours=2))).status == requests.CLAIMED
    assert [k for k, _a, _d in await events(db, last)][-2:] == [requests.RELEASE_KEPT, requests.RELEASE_ASKED]


async def test_every_contact_given_is_in_the_history(db):
    with_contact, without = await place(db), await place(db, contact=False)
    await claim(db, with_contact, T0)
    await claim(db, without, T0)
    assert (requests.CONTACT, VOLUNTEER, None) in await events(db, with_contact)
    assert requests.CONTACT not in [k for k, _a, _d in await events(db, without)]
    # Releasing a request whose claimer received no contact is not news for the coordinators.
    await release(db, without, T0 + timedelta(minutes=1))
    assert await said(db, ZH_COORDINATOR, without.number) == []


async def test_cancel_buttons_belong_to_the_resident_or_a_coordinator(db):
    req = await place(db)
    async with db.read() as s:
        await requests.check_may_cancel(s, req, await s.get(User, RESIDENT))
        await requests.check_may_cancel(s, req, await s.get(User, ZH_COORDINATOR))
        with pytest.raises(DomainError) as err:
            await requests.check_may_cancel(s, req, await s.get(User, VOLUNTEER))
    assert err.value.code == "not_your_request"
