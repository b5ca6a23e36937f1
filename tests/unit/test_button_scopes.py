"""Every button declares where it may be tapped (bot/ui/scope.py), so that a new one cannot forget; the group check
looks the request's or activity's team up in one statement."""

from __future__ import annotations

import importlib
from datetime import timedelta
from pathlib import Path

from aiogram.filters.callback_data import CallbackData

import bot.app  # noqa: F401  (every handler, so every button class, is imported)
from bot.people import service as people
from bot.ui import scope
from storage.models import Activity, Team, TeamChat
from tests.station_db import EN_COORDINATOR, GROUP, local, place

ROOT = Path(__file__).resolve().parents[2]
# Buttons of commands that coordinators may use in a group too; their handlers check the tapper's role before
# changing or editing anything (tests/e2e/test_button_scopes.py). Anything else is private or a group card's.
ANYWHERE = {"th1", "cv1", "tm1", "og1", "ws1"}  # ws1: a wish card, on a wall bound to no team


def all_classes() -> dict[str, type[CallbackData]]:
    for path in sorted(ROOT.glob("bot/**/keyboards.py")) + [ROOT / "bot/ui/wizard.py"]:
        importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    return scope.button_classes()


def test_every_button_class_declares_where_it_may_be_tapped():
    classes = all_classes()
    assert len(classes) >= 26
    missing = sorted(prefix for prefix, cls in classes.items() if scope.declared(cls) is None)
    assert missing == [], f"declare `scope: ClassVar[Scopes] = PRIVATE | GROUP | ...` on: {missing}"
    for prefix, cls in classes.items():
        declared = scope.declared(cls)
        values = [declared] if isinstance(declared, scope.Scope) else list(declared.values())
        assert values and all(isinstance(v, scope.Scope) for v in values), prefix
        if not isinstance(declared, scope.Scope):
            assert "action" in cls.model_fields, f"{prefix}: a scope per action needs an action field"
        for v in values:
            assert v.where in ("private", "group", "anywhere"), prefix
            if v.of is not None:
                assert v.where == "group" and cls.model_fields[v.field].annotation in (int, "int"), prefix
        if any(v.where == "anywhere" for v in values):
            assert prefix in ANYWHERE, f"{prefix} may be tapped anywhere: is that needed? see bot/ui/scope.py"


def test_what_a_tap_says_about_its_place():
    classes = all_classes()
    assert scope.read(classes, "x1:no:5") == scope.Tap(scope.PRIVATE)
    assert scope.read(classes, "ak1:cancel_no:1") == scope.Tap(scope.PRIVATE)
    assert scope.read(classes, "c1:7") == scope.Tap(scope.group_of("request", "rid"), 7)
    assert scope.read(classes, "ci1:in:3") == scope.Tap(scope.group_of("activity", "aid"), 3)
    assert scope.read(classes, "ci1:post:3") == scope.Tap(scope.PRIVATE)
    assert scope.read(classes, "tm1:keep:1") == scope.Tap(scope.ANYWHERE)
    # what no handler reads is left to the fallback ("out of date"), wherever it is tapped
    for data in ("c1:abc", "ci1:zz:3", "zz:1", "", None, "x1:no", "r1:x:y"):
        assert scope.read(classes, data) is None, data


async def test_a_group_fits_the_team_of_what_the_button_acts_on(request_db):
    db = request_db
    at = local(2025, 12, 1, 9)
    req = await place(db, at)
    async with db.tx() as s:
        s.add(Team(name="Team 2", archived=False, created_at=at))
        await s.flush()
        s.add(TeamChat(chat_id=-2002, team_id=2, title="Team 2", bound_by=EN_COORDINATOR, bound_at=at))
        common = dict(place="Hall", starts_at=at + timedelta(days=1), ends_at=at + timedelta(days=1, hours=2))
        for team_id, number in ((1, "A2025-001"), (None, "A2025-002")):
            s.add(
                Activity(
                    number=number,
                    title="Visit",
                    capacity=3,
                    team_id=team_id,
                    created_by=EN_COORDINATOR,
                    status="published",
                    checkin_code=number[-3:],
                    created_at=at,
                    updated_at=at,
                    **common,
                )
            )
    async with db.read() as s:
        assert await people.group_fits(s, GROUP)
        assert not await people.group_fits(s, -3003)  # not bound
        assert await people.group_fits(s, GROUP, request_id=req.id)
        assert not await people.group_fits(s, -2002, request_id=req.id)  # another team's group
        assert not await people.group_fits(s, -3003, request_id=req.id)
        assert await people.group_fits(s, GROUP, request_id=999)  # not found: its handler says so
        assert await people.group_fits(s, GROUP, request_id=10**30)
        assert await people.group_fits(s, GROUP, activity_id=1)
        assert not await people.group_fits(s, -2002, activity_id=1)
        assert await people.group_fits(s, -2002, activity_id=2)  # the whole station's: any bound group
        assert not await people.group_fits(s, -3003, activity_id=2)
