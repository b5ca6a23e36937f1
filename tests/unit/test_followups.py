"""Timed follow-ups of requests: an unclaimed request is posted again (never at night), an unrated one goes
to the coordinators after 72 h. Time is chosen by the test; nothing sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.core.errors import DomainError
from bot.outbox.sender import OutboxSender
from bot.requests import service as requests
from bot.requests.followups import not_at_night
from storage.models import LedgerEntry, OutboxMessage, Request, RequestCard, User
from tests.station_db import (
    EN_COORDINATOR,
    GROUP,
    RESIDENT,
    SHANGHAI,
    VOLUNTEER,
    ZH_COORDINATOR,
    claim,
    local,
    notices,
    outbox,
    place,
    scheduler,
)


@pytest.fixture
def db(request_db):
    return request_db


async def approve(db, req: Request, at: datetime) -> Request:
    async with db.tx() as s:
        return await requests.approve(
            s, notices(), request_id=req.id, actor=await s.get(User, ZH_COORDINATOR), now=at, points_per_hour=10
        )


async def cards(db, req: Request) -> list[OutboxMessage]:
    return [m for m in await outbox(db, GROUP) if m.ref == f"card:{req.id}" and m.method == "send"]


async def about(db, chat_id: int, req: Request) -> list[OutboxMessage]:
    return [m for m in await outbox(db, chat_id) if req.number in m.text and m.ref is None]


def followups(result) -> list[str]:
    """The follow-up keys of a run (other timed jobs, e.g. the weekly report, may claim theirs too)."""
    return [key for key in result.followups if key.startswith("followup:")]


def test_not_at_night():
    assert not_at_night(local(2026, 3, 10, 21, 59), SHANGHAI) == local(2026, 3, 10, 21, 59)
    assert not_at_night(local(2026, 3, 10, 22), SHANGHAI) == local(2026, 3, 11, 7)
    assert not_at_night(local(2026, 3, 11, 3), SHANGHAI) == local(2026, 3, 11, 7)
    assert not_at_night(local(2026, 3, 11, 7), SHANGHAI) == local(2026, 3, 11, 7)


async def test_unclaimed_request_is_posted_again_once(db, db_url):
    req = await place(db, local(2026, 3, 10, 9))
    sch = scheduler(db, db_url)
    coordinators_before = len(await about(db, ZH_COORDINATOR, req))
    assert len(await cards(db, req)) == 1

    assert (await sch.run_due(local(2026, 3, 10, 10, 59))).followups == []
    assert (await sch.run_due(local(2026, 3, 10, 11))).followups == [f"followup:unclaimed:{req.id}:1"]
    assert (await sch.run_due(local(2026, 3, 10, 11, 1))).followups == []
    assert (await scheduler(db, db_url, process_id="other").run_due(local(2026, 3, 10, 11, 2))).followups == []

    posted = await cards(db, req)
    assert len(posted) == 2  # the first card and the one re-post
    assert "callback_data" in posted[1].markup and "重新发布" in posted[1].text
    told_zh = await about(db, ZH_COORDINATOR, req)
    told_en = await about(db, EN_COORDINATOR, req)
    assert len(told_zh) == coordinators_before + 1 and "2" in told_zh[-1].text
    assert "posted it again" in told_en[-1].text

    # The re-post replaces the card's message id for the group, so later edits reach the new card.
    sender = OutboxSender(db, bot=None)
    await sender.record_sent(posted[0], 100)
    await sender.record_sent(posted[1], 200)
    async with db.read() as s:
        assert (await s.get(RequestCard, (req.id, GROUP))).message_id == 200
    assert (await sender.card_message_id(posted[1])) == 200

    # A second period after the re-post, the coordinators hear it is still unclaimed, once.
    assert (await sch.run_due(local(2026, 3, 10, 12, 59))).followups == []
    assert (await sch.run_due(local(2026, 3, 10, 13))).followups == [f"followup:unclaimed:{req.id}:2"]
    assert (await sch.run_due(local(2026, 3, 10, 14))).followups == []
    assert "still not taken" in (await about(db, EN_COORDINATOR, req))[-1].text
    assert len(await cards(db, req)) == 2


async def test_unclaimed_follow_up_waits_for_the_morning(db, db_url):
    req = await place(db, local(2026, 3, 10, 21))  # the deadline falls at 23:00
    sch = scheduler(db, db_url)
    for at in (local(2026, 3, 10, 23), local(2026, 3, 11, 2), local(2026, 3, 11, 6, 59)):
        assert (await sch.run_due(at)).followups == []
    assert len(await cards(db, req)) == 1
    assert (await sch.run_due(local(2026, 3, 11, 7))).followups == [f"followup:unclaimed:{req.id}:1"]
    assert len(await cards(db, req)) == 2
    assert (await sch.run_due(local(2026, 3, 11, 8, 59))).followups == []
    assert (await sch.run_due(local(2026, 3, 11, 9))).followups == [f"followup:unclaimed:{req.id}:2"]


async def test_no_follow_up_for_a_request_claimed_in_time(db, db_url):
    req = await place(db, local(2026, 3, 10, 9))
    await claim(db, req, local(2026, 3, 10, 10))
    sch = scheduler(db, db_url)
    for at in (local(2026, 3, 10, 11), local(2026, 3, 10, 15), local(2026, 3, 11, 9)):
        assert (await sch.run_due(at)).followups == []
    assert len(await cards(db, req)) == 1


async def test_unrated_request_goes_to_coordinators_after_72_hours(db, db_url):
    req = await place(db, local(2026, 3, 10, 9))
    await claim(db, req, local(2026, 3, 10, 10))
    reported_at = req.window_start + timedelta(hours=1)
    async with db.tx() as s:
        req = await requests.report_done(
            s, notices(), request_id=req.id, user=await s.get(User, VOLUNTEER), minutes=60, now=reported_at
        )
    sch = scheduler(db, db_url)

    almost = reported_at + timedelta(hours=72) - timedelta(minutes=1)
    assert followups(await sch.run_due(almost)) == []  # (a Monday: the weekly report is due too)
    with pytest.raises(DomainError) as exc:
        await approve(db, req, almost)
    assert exc.value.code == "not_confirmed"

    due = reported_at + timedelta(hours=72)
    assert followups(await sch.run_due(due)) == [f"followup:unrated:{req.id}:1"]
    assert followups(await sch.run_due(due + timedelta(minutes=1))) == []
    told = await about(db, EN_COORDINATOR, req)
    assert len(told) == 1 and "not confirmed or rated" in told[0].text and "a1:ok:" in told[0].markup

    approved = await approve(db, req, due + timedelta(minutes=5))
    assert approved.status == requests.APPROVED and approved.rating is None and approved.approved_minutes == 60
    async with db.read() as s:
        assert len((await s.execute(select(LedgerEntry).where(LedgerEntry.request_id == req.id))).all()) == 1


async def test_unrated_approval_keeps_the_other_rules(db, db_url):
    req = await place(db, local(2026, 3, 10, 9))
    await claim(db, req, local(2026, 3, 10, 10))
    reported_at = req.window_start + timedelta(hours=1)
    async with db.tx() as s:
        await requests.report_done(
            s, notices(), request_id=req.id, user=await s.get(User, VOLUNTEER), minutes=60, now=reported_at
        )
    later = reported_at + timedelta(hours=80)
    async with db.tx() as s:
        with pytest.raises(DomainError) as exc:  # not a coordinator
            await requests.approve(
                s, notices(), request_id=req.id, actor=await s.get(User, RESIDENT), now=later, points_per_hour=10
            )
    async with db.tx() as s:
        volunteer = await s.get(User, VOLUNTEER)
        volunteer.is_coordinator = True
    async with db.tx() as s:
        with pytest.raises(DomainError) as exc:  # never one's own hours
            await requests.approve(
                s, notices(), request_id=req.id, actor=await s.get(User, VOLUNTEER), now=later, points_per_hour=10
            )
    assert exc.value.code == "own_hours"
