"""Residents' data (bot/requests/privacy.py): addresses and phones cleared after CONTACT_RETENTION_DAYS, delivered
messages pruned after OUTBOX_KEEP_DAYS, once a day as a timed job of the scheduler; conversations in Redis expire;
the SQLite file is the owner's only; SQL errors carry no values into the log."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text, update

from bot.app import FSM_TTL, redis_fsm
from bot.requests import privacy
from bot.requests import service as requests
from scheduling import occurrences
from storage.db import Database
from storage.migrate import upgrade
from storage.models import OutboxMessage, Request, RequestCard, RequestEvent, Service, StationSetting, User
from tests.station_db import GROUP, RESIDENT, VOLUNTEER, claim, local, notices, outbox, scheduler

ADDRESS, PHONE = "幸福小区3栋2单元402", "13912345678"


async def place(db: Database, at, *, status: str | None = None, closed_at=None) -> Request:
    """A request with an address and phone, placed at `at`; optionally moved to `status` at `closed_at`."""
    async with db.tx() as s:
        start = at + timedelta(days=1)
        draft = requests.Draft(
            service_id=(await s.execute(select(Service.id))).scalars().first(),
            description="Walk to the clinic",
            area="Block 3",
            address=ADDRESS,
            phone=PHONE,
            window_start=start,
            window_end=start + timedelta(hours=2),
        )
        req = await requests.place(
            s, notices(), resident=await s.get(User, RESIDENT), draft=draft, now=at, year=at.year
        )
        if status:
            req.status, req.updated_at = status, closed_at or at
    return req


async def contact(db: Database, req: Request) -> tuple[str | None, str | None]:
    async with db.read() as s:
        row = await s.get(Request, req.id)
        return row.address, row.phone


async def test_contacts_are_cleared_30_days_after_closing_by_the_daily_job(request_db, db_url):
    db = request_db
    t0 = local(2026, 3, 1, 10)
    cancelled = await place(db, t0, status=requests.CANCELLED, closed_at=t0)
    approved = await place(db, t0, status=requests.APPROVED, closed_at=t0 + timedelta(days=2))
    rejected = await place(db, t0, status=requests.REJECTED, closed_at=t0)
    still_open = await place(db, t0)  # open for 31 days: not closed, kept
    taken = await place(db, t0)
    await claim(db, taken, t0)

    sch = scheduler(db, db_url)  # CONTACT_RETENTION_DAYS defaults to 30
    await sch.run_due(local(2026, 3, 31, 2, 59))  # 30 days less an hour after: before the day's run hour anyway
    assert await contact(db, cancelled) == (ADDRESS, PHONE)

    await sch.run_due(local(2026, 4, 1, 3))  # 31 days after t0: the day's run
    assert await contact(db, cancelled) == (None, None)
    assert await contact(db, rejected) == (None, None)
    assert await contact(db, approved) == (ADDRESS, PHONE)  # closed 29 days ago
    assert await contact(db, still_open) == (ADDRESS, PHONE)
    assert await contact(db, taken) == (ADDRESS, PHONE)
    async with db.read() as s:
        assert (await s.get(StationSetting, privacy.DONE_ON)).value == "2026-04-01"
        cleared = await s.execute(select(RequestEvent.request_id).where(RequestEvent.kind == "contact_cleared"))
        assert sorted(cleared.scalars()) == sorted([cancelled.id, rejected.id])
        kept = await s.get(Request, cancelled.id)
        assert (kept.number, kept.status, kept.area, kept.description) == (
            cancelled.number,
            "cancelled",
            "Block 3",
            "Walk to the clinic",
        )

    await sch.run_due(local(2026, 4, 3, 2))  # once a day: 3 days later the approved one is old enough...
    assert await contact(db, approved) == (ADDRESS, PHONE)  # ...but the day's run is at 03:00
    await sch.run_due(local(2026, 4, 3, 3, 1))
    assert await contact(db, approved) == (None, None)


async def test_a_setting_sets_the_days(request_db, db_url):
    db = request_db
    t0 = local(2026, 3, 1, 10)
    cancelled = await place(db, t0, status=requests.CANCELLED, closed_at=t0)
    await scheduler(db, db_url, contact_retention_days=90).run_due(local(2026, 4, 15, 12))
    assert await contact(db, cancelled) == (ADDRESS, PHONE)
    await scheduler(db, db_url, contact_retention_days=7).run_due(local(2026, 4, 16, 12))
    assert await contact(db, cancelled) == (None, None)


def message(chat_id: int, text: str, status: str, at, ref: str | None = None) -> OutboxMessage:
    return OutboxMessage(
        chat_id=chat_id,
        method="send",
        text=text,
        ref=ref,
        status=status,
        attempts=1,
        next_attempt_at=at,
        created_at=at,
        sent_at=at if status == "sent" else None,
        message_id=1 if status == "sent" else None,
    )


async def test_delivered_messages_are_pruned_after_a_week_failures_kept_for_pending(request_db, db_url):
    db = request_db
    now = local(2026, 3, 20, 12)
    async with db.tx() as s:
        s.add_all(
            [
                message(VOLUNTEER, f"old sent {ADDRESS}", "sent", now - timedelta(days=8)),
                message(VOLUNTEER, "recent sent", "sent", now - timedelta(days=6)),
                message(RESIDENT, f"old failed {PHONE}", "failed", now - timedelta(days=8)),
                message(RESIDENT, "recent failed", "failed", now - timedelta(days=1)),
                message(RESIDENT, "old pending", "pending", now - timedelta(days=8)),
            ]
        )
    await scheduler(db, db_url).run_due(now)  # OUTBOX_KEEP_DAYS defaults to 7
    left = [(m.text, m.status) for m in await outbox(db) if m.chat_id in (VOLUNTEER, RESIDENT)]
    assert left == [("recent sent", "sent"), ("", "failed"), ("recent failed", "failed"), ("old pending", "pending")]


async def test_a_card_is_still_edited_after_its_message_was_pruned(request_db, db_url):
    db = request_db
    t0 = local(2026, 3, 1, 10)
    req = await place(db, t0)
    async with db.tx() as s:  # the card was delivered: what the sender records
        await s.execute(
            update(OutboxMessage).where(OutboxMessage.status == "pending").values(status="sent", sent_at=t0)
        )
        s.add(RequestCard(request_id=req.id, chat_id=GROUP, message_id=77))
    async with db.tx() as s:
        pruned = await privacy.prune_outbox(s, now=t0 + timedelta(days=8), days=7)
    assert pruned.deleted >= 2  # the card and the resident's notice
    assert [m for m in await outbox(db, GROUP) if m.ref == f"card:{req.id}"] == []
    async with db.tx() as s:
        await requests.cancel(s, notices(), request_id=req.id, user=await s.get(User, RESIDENT), now=t0)
    edits = [m for m in await outbox(db, GROUP) if m.ref == f"card:{req.id}" and m.method == "edit"]
    assert len(edits) == 1 and "取消" in edits[0].text


async def test_the_job_runs_once_a_day_whoever_ticks(request_db, db_url):
    db = request_db
    now = local(2026, 3, 20, 12)
    settings = scheduler(db, db_url).settings
    assert await privacy.run_retention(db, None, settings, now=now, claimed_by="a") == []  # it sends nothing
    async with db.tx() as s:  # the day is taken: another process, or a later tick, does not run it again
        assert not await occurrences.claim_day(s, now.astimezone(settings.tz).date(), privacy.DONE_ON)
        assert await occurrences.claim_day(s, (now + timedelta(days=1)).astimezone(settings.tz).date(), privacy.DONE_ON)


# Redis, the SQLite file ---------------------------------------------------------------------------------------


async def test_conversations_in_redis_expire_after_a_day():
    storage, isolation = redis_fsm("redis://127.0.0.1:6379/0", "ttl-check")  # no connection is made here
    try:
        assert FSM_TTL == timedelta(days=1)
        assert (storage.state_ttl, storage.data_ttl) == (FSM_TTL, FSM_TTL)
    finally:
        await storage.close()


async def test_a_new_sqlite_file_and_its_folder_are_the_owners_only(tmp_path):
    folder = tmp_path / "data"
    url = f"sqlite+aiosqlite:///{folder / 'station.db'}"
    old = os.umask(0o022)  # the usual umask, which would leave both readable by everyone
    try:
        await upgrade(url)  # the migrations create the file first (python -m bot migrate, App.prepare)
        db = Database(url)
        async with db.tx() as s:
            s.add(User(id=1, full_name="Li", locale="zh_Hans", created_at=local(2026, 3, 1)))
        await db.dispose()
        other = tmp_path / "other" / "station.db"
        db = Database(f"sqlite+aiosqlite:///{other}")  # or the bot's engine, whichever comes first
        async with db.tx() as s:
            await s.execute(text("CREATE TABLE scratch (x INTEGER)"))
        await db.dispose()
    finally:
        os.umask(old)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(folder) == 0o700 and mode(other.parent) == 0o700
    files = [*folder.iterdir(), *other.parent.iterdir()]  # with -wal and -shm while SQLite keeps them
    assert folder / "station.db" in files and other in files
    assert {str(p): oct(mode(p)) for p in files} == {str(p): oct(0o600) for p in files}
