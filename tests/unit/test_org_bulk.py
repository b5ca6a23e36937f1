"""`org import` / `org export` (bot/org/bulk.py): a county's sheet of 1 中心, 17 所 and 200 站 builds the tree;
a second run changes nothing; bad rows are reported and the rest imported; export → import is unchanged."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.org import bulk
from bot.org import service as org
from storage.db import Database
from storage.models import OrgNode

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def county_table(seed: int = 13) -> list[list[str]]:
    """1 中心 (CC), 17 所 (S01…S17), 200 站: 190 under the 所, 10 directly under the 中心; rows shuffled, so that
    many a 站 comes before its 所."""
    rows = [["所", f"第{i}实践所", f"S{i:02d}", "CC"] for i in range(1, 18)]
    for n in range(1, 201):
        parent = "CC" if n > 190 else f"S{(n - 1) % 17 + 1:02d}"
        rows.append(["站", f"第{n}实践站", f"Z{n:03d}", parent])
    rows.append(["中心", "县新时代文明实践中心", "CC", ""])
    random.Random(seed).shuffle(rows)
    return [list(bulk.COLUMNS)] + rows


async def run(db: Database, table: list[list[str]]) -> bulk.Outcome:
    async with db.tx() as s:
        return await bulk.import_rows(s, bulk.rows_of(table), NOW)


async def kinds(db: Database) -> Counter:
    async with db.read() as s:
        return Counter((await s.execute(select(OrgNode.kind).where(OrgNode.archived.is_(False)))).scalars())


@pytest.fixture
async def db(db_url):
    database = Database(db_url)
    yield database
    await database.dispose()


async def test_county_sheet_builds_the_tree_and_a_second_run_changes_nothing(db):
    first = await run(db, county_table())
    # the migrated 中心 (ZX) is the county's 中心: the sheet renames it and gives it its code
    assert (first.added, first.updated, first.unchanged, first.refused) == (217, 1, 0, [])
    # the migration's own station (Z01) stays beside the sheet's 200
    assert await kinds(db) == Counter({"centre": 1, "institute": 17, "station": 201})
    async with db.read() as s:
        tree = await org.load_tree(s)
    assert tree.root is not None and tree.root.code == "CC" and tree.root.name == "县新时代文明实践中心"
    assert len(tree.kids(tree.root.id, org.INSTITUTE)) == 17
    assert {n.code for n in tree.kids(tree.root.id, org.STATION)} == {f"Z{n:03d}" for n in range(191, 201)} | {"Z01"}
    s01 = tree.by_code("S01")
    assert s01 is not None and len(tree.stations(s01.id)) == 12  # 1, 18, 35, … 171, 188
    assert tree.institute_of(tree.by_code("Z018").id).code == "S01"

    again = await run(db, county_table(seed=99))  # the same sheet in another order
    assert (again.added, again.updated, again.unchanged, again.refused) == (0, 0, 218, [])
    assert again.summary() == "added 0, updated 0, unchanged 218, refused 0"
    assert await kinds(db) == Counter({"centre": 1, "institute": 17, "station": 201})


async def test_changed_name_or_parent_is_updated(db):
    await run(db, county_table())
    table = county_table()
    for row in table[1:]:
        if row[2] == "Z005":
            row[1] = "幸福社区实践站"
        if row[2] == "Z006":
            row[3] = "S09"
    outcome = await run(db, table)
    assert (outcome.added, outcome.updated, outcome.unchanged, outcome.refused) == (0, 2, 216, [])
    async with db.read() as s:
        tree = await org.load_tree(s)
    assert tree.by_code("Z005").name == "幸福社区实践站"
    assert tree.nodes[tree.by_code("Z006").parent_id].code == "S09"


async def test_bad_rows_are_reported_and_the_rest_imported(db):
    table = [
        ["层级", "名称", "代码", "上级代码"],  # Chinese headers
        ["中心", "县中心", "CC", ""],
        ["站", "好站", "OK1", "S01"],  # its 所 comes later: a later pass places it
        ["所", "一所", "S01", "CC"],
        ["站", "站下站", "BAD1", "OK1"],  # a 站 under a 站
        ["区", "错层级", "BAD2", "CC"],  # bad level
        ["站", "错代码", "B A D", "S01"],  # bad code
        ["站", "重复", "OK1", "S01"],  # duplicate code in the file
        ["站", "无上级", "BAD3", "NOPE"],  # unknown parent
        ["所", "所下所", "BAD4", "S01"],  # a 所 under a 所
        ["站", "", "BAD5", "S01"],  # no name
        ["中心", "第二中心", "CC2", ""],  # a second 中心
        ["站", "好站二", "OK2", ""],  # no parent: the 中心
    ]
    outcome = await run(db, table)
    why = {r.line: r.why for r in outcome.refused}
    assert sorted(why) == [5, 6, 7, 8, 9, 10, 11, 12]
    assert "a 站 cannot hang under a 站" in why[5]
    assert "bad level" in why[6]
    assert "bad code" in why[7]
    assert "duplicate code OK1" in why[8] and "row 3" in why[8]
    assert "unknown parent NOPE" in why[9]
    assert "a 所 cannot hang under a 所" in why[10]
    assert "name is empty" in why[11]
    assert "second 中心" in why[12]
    assert str(outcome.refused[0]).startswith("row 5: ")
    assert (outcome.added, outcome.updated) == (3, 1)  # OK1, S01, OK2; the 中心 renamed
    async with db.read() as s:
        tree = await org.load_tree(s)
    assert tree.nodes[tree.by_code("OK1").parent_id].code == "S01"
    assert tree.nodes[tree.by_code("OK2").parent_id].code == "CC"
    assert all(tree.by_code(c) is None for c in ("BAD1", "BAD2", "BAD3", "BAD4", "BAD5", "CC2"))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_export_then_import_is_unchanged(db, tmp_path: Path, suffix):
    await run(db, county_table())
    async with db.read() as s:
        exported = await bulk.export(s)
    assert exported[0] == list(bulk.COLUMNS) and len(exported) == 1 + 219
    assert exported[1] == ["中心", "县新时代文明实践中心", "CC", ""]
    path = tmp_path / f"org{suffix}"
    bulk.write_file(path, exported)
    rows = bulk.read_file(path)
    assert [[r.level, r.name, r.code, r.parent] for r in rows] == exported[1:]
    outcome = await run(db, [list(bulk.COLUMNS)] + [[r.level, r.name, r.code, r.parent] for r in rows])
    assert (outcome.added, outcome.updated, outcome.unchanged, outcome.refused) == (0, 0, 219, [])


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
async def test_a_sheet_file_builds_the_tree(db, tmp_path: Path, suffix):
    path = tmp_path / f"county{suffix}"
    bulk.write_file(path, county_table())
    outcome = await run(db, [list(bulk.COLUMNS)] + [[r.level, r.name, r.code, r.parent] for r in bulk.read_file(path)])
    assert (outcome.added, outcome.refused) == (217, [])
    assert await kinds(db) == Counter({"centre": 1, "institute": 17, "station": 201})


def test_formula_like_names_stay_text(tmp_path: Path):
    table = [list(bulk.COLUMNS), ["站", '=HYPERLINK("x")', "Z1", "CC"]]
    bulk.write_file(tmp_path / "o.csv", table)
    assert "'=HYPERLINK" in (tmp_path / "o.csv").read_text(encoding="utf-8-sig")
    bulk.write_file(tmp_path / "o.xlsx", table)
    assert bulk.read_file(tmp_path / "o.xlsx")[0].name == '=HYPERLINK("x")'


def test_a_sheet_without_its_header_is_refused_whole():
    with pytest.raises(bulk.SheetError, match="header"):
        bulk.rows_of([["站", "一站", "Z1", "CC"]])
