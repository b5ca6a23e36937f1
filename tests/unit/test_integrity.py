"""The database keeps the ledger append-only; one vocabulary of entry kinds, written by the ledger alone; names
others see carry no bidi, zero-width or control characters. On SQLite and on PostgreSQL."""

from __future__ import annotations

import ast
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from bot.core import validate
from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.people import profiles
from bot.people import service as people
from storage.db import Database
from storage.models import LedgerEntry, LedgerKind, User, Volunteer

NOW = datetime(2026, 11, 23, 4, tzinfo=timezone.utc)
VOL, COORD = 1, 2
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def db(db_url):
    database = Database(db_url)  # a copy of the template the real migrations built
    async with database.tx() as s:
        for uid, coordinator in ((VOL, False), (COORD, True)):
            s.add(
                User(
                    id=uid,
                    full_name=f"u{uid}",
                    locale="zh_Hans",
                    is_admin=False,
                    is_coordinator=coordinator,
                    blocked_bot=False,
                    created_at=NOW,
                )
            )
        await s.flush()
        s.add(Volunteer(user_id=VOL, name="Li", phone="13800000000", registered_at=NOW))
        await s.flush()
        ledger.add_service(
            s, volunteer_id=VOL, minutes=120, points_per_hour=10, request_id=None, approved_by=COORD, now=NOW
        )
    yield database
    await database.dispose()


async def entries(db: Database) -> list[tuple[int, int, int, str]]:
    async with db.read() as s:
        rows = await s.execute(select(LedgerEntry).order_by(LedgerEntry.id))
        return [(e.id, e.minutes, e.points, e.kind) for e in rows.scalars()]


# The ledger is append-only in the database ---------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        update(LedgerEntry).values(minutes=0, points=0),
        update(LedgerEntry).where(LedgerEntry.volunteer_id == VOL).values(kind="correction"),
        delete(LedgerEntry),
        delete(LedgerEntry).where(LedgerEntry.volunteer_id == VOL),
    ],
    ids=["update-all", "update-one", "delete-all", "delete-one"],
)
async def test_the_database_refuses_to_update_or_delete_ledger_rows(db, statement):
    before = await entries(db)
    with pytest.raises(DBAPIError, match="ledger is append-only"):
        async with db.tx() as s:
            await s.execute(statement.execution_options(synchronize_session=False))
    assert await entries(db) == before


async def test_the_database_refuses_an_orm_change_of_an_entry(db):
    before = await entries(db)
    with pytest.raises(DBAPIError, match="ledger is append-only"):
        async with db.tx() as s:
            entry = (await s.execute(select(LedgerEntry))).scalars().one()
            entry.minutes = 600  # a "quick fix" instead of a correction
    with pytest.raises(DBAPIError, match="ledger is append-only"):
        async with db.tx() as s:
            await s.delete((await s.execute(select(LedgerEntry))).scalars().one())
    assert await entries(db) == before


async def test_emptying_the_ledger_at_once_is_refused(db, db_url):
    """PostgreSQL's TRUNCATE bypasses row triggers (a statement trigger refuses it); SQLite has no TRUNCATE, its
    equivalent is a DELETE of every row, which the row trigger refuses."""
    emptying = "TRUNCATE ledger_entries CASCADE" if db_url.startswith("postgresql") else "DELETE FROM ledger_entries"
    before = await entries(db)
    with pytest.raises(DBAPIError, match="ledger is append-only"):
        async with db.tx() as s:
            await s.execute(text(emptying))
    assert await entries(db) == before


async def test_adding_entries_and_corrections_still_works(db):
    """The triggers refuse changes only: a correction is two new rows, and the old one stays as it was."""
    (first, *_), *_ = await entries(db)
    async with db.tx() as s:
        await ledger.correct(
            s, entry_id=first, minutes=60, reason="1 小时", actor_id=COORD, points_per_hour=10, now=NOW
        )
    assert await entries(db) == [
        (first, 120, 20, "service"),
        (first + 1, -120, -20, "reversal"),
        (first + 2, 60, 10, "correction"),
    ]


async def test_the_database_refuses_an_unknown_kind(db):
    with pytest.raises(DBAPIError):
        async with db.tx() as s:
            await s.execute(
                text(
                    "INSERT INTO ledger_entries (volunteer_id, minutes, points, kind, created_at) "
                    "VALUES (:v, 0, 5, 'bonus', :at)"
                ),
                {"v": VOL, "at": NOW.replace(tzinfo=None)},
            )
    with pytest.raises(ValueError):
        async with db.tx() as s:
            ledger.append(s, volunteer_id=VOL, kind="bonus", minutes=0, points=5, approved_by=COORD, now=NOW)  # type: ignore[arg-type]
    assert len(await entries(db)) == 1


def test_one_vocabulary_of_kinds():
    assert {str(kind) for kind in LedgerKind} == {"service", "reversal", "correction", "redeem", "refund"}
    assert set(ledger.HOUR_KINDS) | set(ledger.POINTS_KINDS) | {ledger.REVERSAL} == set(LedgerKind)


def kinds_spelled_out(source: str) -> list[str]:
    """String constants that are a ledger kind (but "service", which names other things too), leaving out msgids."""
    tree = ast.parse(source)
    msgids = {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "__")
        for arg in node.args
    }
    names = {kind.value for kind in LedgerKind} - {"service"}
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in names and id(node) not in msgids
    ]


def test_only_the_ledger_writes_entries():
    """Every entry is written by bot/ledger/service.py (`append`): elsewhere no LedgerEntry(...) is built, and no
    ledger kind is spelled as a string of its own (LedgerKind is the one vocabulary)."""
    own = ROOT / "bot" / "ledger" / "service.py"
    builders, spelled = [], []
    for folder in ("bot", "handlers", "scheduling"):
        for path in (ROOT / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if path != own and "LedgerEntry(" in source:
                builders.append(str(path.relative_to(ROOT)))
            if kinds_spelled_out(source):
                spelled.append(str(path.relative_to(ROOT)))
    assert builders == []
    assert spelled == []


# A balance below zero is owed ------------------------------------------------------------------------------


async def test_a_correction_after_spending_is_kept_and_the_balance_is_owed(db):
    (first, *_), *_ = await entries(db)
    async with db.tx() as s:
        ledger.add_points(
            s, volunteer_id=VOL, points=-20, kind=ledger.REDEEM, approved_by=None, reason="洗衣液", now=NOW
        )
    async with db.tx() as s:
        await ledger.correct(
            s, entry_id=first, minutes=60, reason="实际1小时", actor_id=COORD, points_per_hour=10, now=NOW
        )
    async with db.read() as s:
        totals = await ledger.totals(s, VOL)
    assert (totals.minutes, totals.points) == (60, -10)  # the hours are facts; the points are owed
    assert ledger.owed(totals.points) == 10 and ledger.owed(0) == 0 and ledger.owed(15) == 0


# Names others see -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("李明", "李明"),
        ("Li Ming", "Li Ming"),
        ("\u202eevil\u202c", "evil"),  # RIGHT-TO-LEFT OVERRIDE … POP DIRECTIONAL FORMATTING
        ("\u2067abc\u2069 gpj.exe", "abc gpj.exe"),  # RIGHT-TO-LEFT ISOLATE … POP DIRECTIONAL ISOLATE
        ("Li\u200bMing\u200d", "LiMing"),  # ZERO WIDTH SPACE, ZERO WIDTH JOINER
        ("\ufeff王\u200e芳\u200f", "王芳"),  # BOM, LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK
        ("张\u00adhua", "张hua"),  # SOFT HYPHEN
        ("a\nb\tc\x00d\x7f", "a b c d"),  # control characters and line breaks
        ("x\u2028y\u2029z", "x y z"),  # LINE and PARAGRAPH SEPARATOR
        ("  many   spaces  ", "many spaces"),
        ("\u202e\u200b", ""),
    ],
)
def test_clean_name(typed, stored):
    assert validate.clean_name(typed) == stored


def test_typed_names_are_cleaned_and_an_invisible_one_is_refused():
    assert validate.text("\u202e李明\u202c", "name") == "李明"
    assert validate.text("  \u2066第一队\u2069 ", "team") == "第一队"
    with pytest.raises(DomainError) as refused:
        validate.text("\u200b\u202e\u200d", "name")
    assert refused.value.code == "empty"
    assert validate.text("a\u200bb", "description") == "a\u200bb"  # free text keeps its emoji joiners


async def test_names_from_telegram_and_the_profile_are_cleaned(db):
    async with db.tx() as s:
        user = await people.touch_user(
            s,
            user_id=77,
            full_name="\u202eninja\u202c\u200b",
            username="bad\u200bname",
            locale="en",
            is_admin=False,
            now=NOW,
        )
    assert (user.full_name, user.username) == ("ninja", "badname")
    async with db.read() as s:
        stored = await s.get(User, 77)
    assert (stored.full_name, stored.username) == ("ninja", "badname")
    # the next update with the same Telegram name changes nothing (no write on every message)
    assert not people.needs_touch(
        stored, full_name="\u202eninja\u202c\u200b", username="bad\u200bname", locale="en", is_admin=False
    )
    async with db.tx() as s:
        volunteer = await profiles.set_name(s, await s.get(User, VOL), "\u2067Li\u2069 \u200bWei")
    assert volunteer.name == "Li Wei"
    async with db.read() as s:
        assert (await s.get(Volunteer, VOL)).name == "Li Wei"
        assert (await s.execute(select(func.count()).select_from(User))).scalar() == 3
