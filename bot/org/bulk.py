"""The county tree in bulk: `python -m bot org import FILE.xlsx|csv` and `org export` (no Telegram here).

A sheet has a header row and the columns level (中心, 所 or 站), name, code, parent code (Chinese headers 层级, 名称,
代码, 上级代码 too). Import is idempotent: a row whose node exists with the same name and parent changes nothing; a
changed name or parent is updated (the node keeps its teams, residents and requests). The 中心 is unique: a 中心 row
is the county's 中心 whatever its code, and gives it that name and code. A row that cannot be taken is refused with
its row number and why; the rest are imported in the caller's one transaction. Rows may come in any order: those
whose parent is not known yet wait for a later pass. A sheet does not archive nodes (`/org_archive` does), and an
archived node's code stays taken.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.org import service as org
from storage.models import OrgNode

COLUMNS = ("level", "name", "code", "parent code")
HEADERS = {
    "level": "level",
    "层级": "level",
    "级别": "level",
    "name": "name",
    "名称": "name",
    "code": "code",
    "代码": "code",
    "编码": "code",
    "parent code": "parent",
    "parent_code": "parent",
    "parent": "parent",
    "上级代码": "parent",
    "上级编码": "parent",
}
LEVEL_OUT = {org.CENTRE: "中心", org.INSTITUTE: "所", org.STATION: "站"}
KIND_WORD = {org.CENTRE: "a 中心", org.INSTITUTE: "a 所", org.STATION: "a 站"}


class SheetError(Exception):
    """The file as a whole cannot be read (no header, an unknown column, not a workbook)."""


@dataclass
class Row:
    line: int  # the row number in the sheet (the header is row 1)
    level: str
    name: str
    code: str
    parent: str


@dataclass
class Refused:
    line: int
    why: str

    def __str__(self) -> str:
        return f"row {self.line}: {self.why}"


@dataclass
class Outcome:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[Refused] = field(default_factory=list)

    def summary(self) -> str:
        return f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, refused {len(self.refused)}"


# Reading and writing sheets ----------------------------------------------------------------------------------


def read_file(path: str | Path) -> list[Row]:
    path = Path(path)
    data = path.read_bytes()
    if path.suffix.lower() == ".xlsx":
        from bot.reports import xlsx  # with the bot's texts: imported for a workbook only (`org` answers in a second)

        try:
            table = xlsx.read_sheet(data)
        except Exception as exc:  # the reader raises many kinds for a file that is not a workbook
            raise SheetError(f"{path.name} is not an .xlsx workbook ({exc.__class__.__name__})") from None
    elif path.suffix.lower() == ".csv":
        table = read_csv(data)
    else:
        raise SheetError(f"{path.name}: use a .xlsx or .csv file")
    return rows_of(table)


def read_csv(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("the CSV file is neither UTF-8 nor GBK text")
    return [list(r) for r in csv.reader(io.StringIO(text))]


def rows_of(table: list[list[str]]) -> list[Row]:
    """The rows under the header (blank rows skipped), by column name."""
    if not table:
        raise SheetError("the sheet is empty: it needs a header row " + ", ".join(COLUMNS))
    header = [HEADERS.get(" ".join(str(h).split()).lower()) for h in table[0]]
    missing = [c for c in ("level", "name", "code") if c not in header]
    if missing:
        raise SheetError(
            "the first row must be the header: level, name, code, parent code (or 层级, 名称, 代码, 上级代码); "
            f"missing: {', '.join(missing)}"
        )
    out = []
    for number, raw in enumerate(table[1:], start=2):
        values = {col: (raw[i] if i < len(raw) else "").strip() for i, col in enumerate(header) if col}
        if not any(values.values()):
            continue
        out.append(Row(number, values["level"], values["name"], values["code"], values.get("parent", "")))
    return out


def table_of(nodes: Iterable[tuple[str, str, str, str]]) -> list[list[str]]:
    return [list(COLUMNS)] + [list(n) for n in nodes]


def csv_bytes(table: list[list[str]], *, bom: bool = True) -> bytes:
    """UTF-8 CSV; with a byte-order mark by default, so that Excel opens the Chinese right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in table:  # formula-safe as the workbook: a text that starts like a formula gets a leading quote
        writer.writerow([f"'{v}" if v.startswith(validate.FORMULA_START) else v for v in row])
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def write_file(path: str | Path, table: list[list[str]]) -> None:
    path = Path(path)
    if path.suffix.lower() == ".xlsx":
        from bot.reports import xlsx

        path.write_bytes(xlsx.sheet_bytes("org", table))
    elif path.suffix.lower() == ".csv":
        path.write_bytes(csv_bytes(table))
    else:
        raise SheetError(f"{path.name}: use a .xlsx or .csv file")


# Export ------------------------------------------------------------------------------------------------------


async def export(s: AsyncSession) -> list[list[str]]:
    """The tree's nodes not archived, parents first (the 中心, its 所, then the 站), as a sheet with its header."""
    tree = await org.load_tree(s)
    order = {org.CENTRE: 0, org.INSTITUTE: 1, org.STATION: 2}
    nodes = sorted((n for n in tree.nodes.values() if not n.archived), key=lambda n: (order[n.kind], n.code))
    return table_of(
        (
            LEVEL_OUT[n.kind],
            n.name,
            n.code,
            tree.nodes[n.parent_id].code if n.parent_id in tree.nodes else "",
        )
        for n in nodes
    )


# Import ------------------------------------------------------------------------------------------------------


@dataclass
class _Checked:
    row: Row
    kind: str
    name: str
    code: str
    parent: str  # upper-case code; "" for the 中心


def _why(exc: DomainError) -> str:
    ref = str(exc.params.get("ref", ""))
    return {
        "bad_node_code": f"bad code “{ref}”: use 1 to {org.CODE_MAX} letters, digits, - or _",
        "bad_node_kind": f"bad level “{ref}”: use 中心, 所 or 站",
        "empty": "the name is empty",
        "too_long": f"the name is longer than {org.NAME_MAX} characters",
    }.get(exc.code, exc.code)


def _check(row: Row) -> _Checked | Refused:
    try:
        kind = org.clean_kind(row.level)
        code = org.clean_code(row.code)
        name = validate.text(row.name, "node")
    except DomainError as exc:
        return Refused(row.line, _why(exc))
    try:
        parent = org.clean_code(row.parent) if row.parent else ""
    except DomainError as exc:
        return Refused(row.line, "bad parent " + _why(exc).removeprefix("bad "))
    if kind == org.CENTRE and parent:
        return Refused(row.line, "a 中心 has no parent: leave the parent code empty")
    if parent == code:
        return Refused(row.line, f"{code} cannot be its own parent")
    return _Checked(row, kind, name, code, parent)


async def import_rows(s: AsyncSession, rows: list[Row], now: datetime) -> Outcome:
    """Apply the rows to the tree in `s` (the caller commits); what was added, updated, unchanged, refused."""
    out = Outcome()
    tree = await org.load_tree(s)
    existing = {n.code.upper(): n for n in tree.nodes.values()}
    centre = tree.root

    checked: list[_Checked] = []
    first_row: dict[str, int] = {}
    centre_row: int | None = None
    for row in rows:
        got = _check(row)
        if isinstance(got, Refused):
            out.refused.append(got)
            continue
        if got.code in first_row:
            out.refused.append(
                Refused(row.line, f"duplicate code {got.code} in the file (first on row {first_row[got.code]})")
            )
            continue
        first_row[got.code] = row.line
        if got.kind == org.CENTRE:
            if centre_row is not None:
                out.refused.append(Refused(row.line, f"a second 中心 (the file's is on row {centre_row})"))
                continue
            centre_row = row.line
        else:
            known = existing.get(got.code)
            if known is not None and known.kind == org.CENTRE:
                out.refused.append(Refused(row.line, f"{got.code} is the 中心's code"))
                continue
            if known is not None and known.kind != got.kind:
                out.refused.append(
                    Refused(row.line, f"{got.code} is {KIND_WORD[known.kind]}: a node's level does not change")
                )
                continue
            if known is not None and known.archived:
                out.refused.append(Refused(row.line, f"{got.code} is archived; an archived node's code is not reused"))
                continue
        checked.append(got)

    # the 中心 first: it may bring a new code its rows' children use
    by_code: dict[str, OrgNode] = dict(existing)
    for item in [c for c in checked if c.kind == org.CENTRE]:
        checked.remove(item)
        clash = existing.get(item.code)
        if centre is None:
            if clash is not None:
                out.refused.append(Refused(item.row.line, f"{item.code} is already {KIND_WORD[clash.kind]}"))
                continue
            centre = OrgNode(
                kind=org.CENTRE, name=item.name, code=item.code, parent_id=None, archived=False, created_at=now
            )
            s.add(centre)
            await s.flush()
            out.added += 1
        elif clash is not None and clash is not centre:
            out.refused.append(Refused(item.row.line, f"{item.code} is already {KIND_WORD[clash.kind]}"))
            continue
        elif (centre.name, centre.code) == (item.name, item.code):
            out.unchanged += 1
        else:
            by_code.pop(centre.code.upper(), None)
            centre.name, centre.code = item.name, item.code
            out.updated += 1
        by_code[centre.code.upper()] = centre

    # the others by passes: a row waits until its parent is known (in the tree, or added by an earlier pass)
    file_codes = {c.code: c for c in checked}
    refused_codes = {_code_of(r, rows) for r in out.refused}
    waiting = checked
    while waiting:
        later = []
        for item in waiting:
            parent = by_code.get(item.parent) if item.parent else centre
            if parent is None or parent.id is None:  # not known yet, or added in this pass (no id before the flush)
                later.append(item)
                continue
            if parent.archived:
                out.refused.append(Refused(item.row.line, f"the parent {parent.code} is archived"))
                continue
            if parent.kind not in org.PARENT_KINDS[item.kind]:
                out.refused.append(
                    Refused(
                        item.row.line,
                        f"{KIND_WORD[item.kind]} cannot hang under {KIND_WORD[parent.kind]} ({parent.code}): "
                        "a 所 hangs under the 中心, a 站 under a 所 or the 中心",
                    )
                )
                continue
            known = existing.get(item.code)
            if known is None:
                node = OrgNode(
                    kind=item.kind, name=item.name, code=item.code, parent_id=parent.id, archived=False, created_at=now
                )
                s.add(node)
                by_code[item.code] = node
                out.added += 1
            elif known.name == item.name and known.parent_id == parent.id:
                out.unchanged += 1
            else:
                known.name, known.parent_id = item.name, parent.id
                out.updated += 1
        await s.flush()  # the new nodes get their ids: their children, in the next pass, point at them
        if len(later) == len(waiting):  # no progress: the rest have parents nowhere
            for item in later:
                if not item.parent:
                    why = "there is no 中心 to hang it under: add a 中心 row"
                elif item.parent in refused_codes:
                    why = f"its parent {item.parent} was refused"
                elif item.parent in file_codes:
                    why = f"its parent {item.parent} could not be placed"
                else:
                    why = f"unknown parent {item.parent}"
                out.refused.append(Refused(item.row.line, why))
            break
        waiting = later
    out.refused.sort(key=lambda r: r.line)
    return out


def _code_of(refused: Refused, rows: list[Row]) -> str:
    row = next((r for r in rows if r.line == refused.line), None)
    return row.code.strip().upper() if row else ""
