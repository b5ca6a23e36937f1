"""The report as an .xlsx workbook: a summary sheet and every service-hours ledger line of the period.

Call inside the reader's locale (headers are translated). Write-only mode keeps big months fast.
Totals are written as numbers, not formulas, so any reader (and the tests) sees them.

Every row of every workbook the bot sends goes through `append` (and its cells through `cell`): a text is always
written as text, never as a formula. A volunteer named "=HYPERLINK(…)" stays a name in the coordinator's Excel
(OWASP: CSV injection). Other exports use `workbook_bytes`, `append` and `cell` from here; no other module
imports openpyxl (tests/unit/test_reports.py::test_only_this_module_writes_workbooks).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.core.validate import FORMULA_START
from bot.reports import texts as rt
from bot.reports.service import Line, Report

BOLD = Font(bold=True)


def cell(ws: WriteOnlyWorksheet, value: Any, *, bold: bool = False) -> Cell:
    """One cell. A text is stored as a string (never a formula, an error value like "#N/A", or a number), and one
    that starts like a formula also carries Excel's quote prefix, so that editing the cell keeps it text.
    Characters a workbook cannot hold (control characters) are dropped instead of failing the whole export."""
    written = WriteOnlyCell(ws)
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        written.value = value
        written.data_type = "s"
        if value.startswith(FORMULA_START):
            written.quotePrefix = True
    else:
        written.value = value
    if bold:
        written.font = BOLD
    return written


def append(ws: WriteOnlyWorksheet, values: Iterable[Any], *, bold: bool = False) -> None:
    """A row, each value through `cell`: the one way rows are written."""
    ws.append([cell(ws, value, bold=bold) for value in values])


def workbook_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _widths(ws, widths: list[int]) -> None:
    for index, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + index)].width = width


def _summary_sheet(book: Workbook, report: Report, locale: str, tz: ZoneInfo) -> None:
    r = report
    ws = book.create_sheet(_("Summary"))
    _widths(ws, [34, 14, 12, 14, 12])
    place = r.team_name or r.place_name
    append(ws, [rt.title(r.period), rt.span(r.period)] + ([place] if place else []), bold=True)
    append(ws, [])
    for label, value in (
        (_("Requests placed"), r.placed),
        (_("Requests taken"), r.claimed),
        (_("Requests done"), r.done),
        (_("Requests cancelled"), r.cancelled),
        (_("Requests not accepted"), r.rejected),
        (_("Placed and still waiting for a volunteer"), r.waiting),
        (_("Placed and still in review"), r.in_review),
        (
            _("Median time to take a request (minutes)"),
            round(r.median_claim_minutes) if r.median_claim_minutes is not None else "—",
        ),
        (_("Approved service hours"), r.minutes / 60),
        (_("Points"), r.points),
        (_("Active volunteers"), r.volunteers_active),
        (_("Residents served"), r.residents_served),
        (_("Services delivered (受众人次)"), r.services_delivered),
        (_("Ratings"), r.rating_count),
        (_("Average rating"), round(r.rating_average, 2) if r.rating_average is not None else "—"),
        (_("Activities held"), len(r.activities)),
        *rt.extra_rows(r),
    ):
        append(ws, [label, value])
    append(ws, [])
    append(ws, [_("Stars"), _("Ratings")], bold=True)
    for stars in range(5, 0, -1):
        append(ws, [f"{stars}★", r.ratings[stars]])
    for heading, rows, name in (
        (_("Team"), r.by_team, lambda h: h.name(locale) if h.kind == "team" else _("(no team)")),
        (_("Service or activity"), r.by_service, lambda h: rt.service_label(h, locale)),
    ):
        append(ws, [])
        append(ws, [heading, _("Hours"), _("Points"), _("Volunteers"), _("Entries")], bold=True)
        for h in rows:
            append(ws, [name(h), h.minutes / 60, h.points, h.volunteers, h.entries])
        append(ws, [_("Total"), r.minutes / 60, r.points, r.volunteers, r.entries], bold=True)
    if r.activities:
        append(ws, [])
        append(ws, [_("Activity"), _("Date"), _("Volunteers"), _("Hours")], bold=True)
        for a in r.activities:
            append(
                ws,
                [f"{a.number} {a.title}", a.starts_at.astimezone(tz).date().isoformat(), a.volunteers, a.minutes / 60],
            )


def _ledger_sheet(book: Workbook, lines: list[Line], locale: str, tz: ZoneInfo) -> None:
    ws = book.create_sheet(_("Ledger"))
    _widths(ws, [17, 12, 16, 20, 8, 8, 10, 12, 30, 12])
    ws.freeze_panes = "A2"
    append(
        ws,
        [
            _("Date"),
            _("Volunteer"),
            _("Team"),
            _("Service or activity"),
            _("Hours"),
            _("Points"),
            _("Kind"),
            _("Approved by"),
            _("Reason"),
            _("Request or activity no."),
        ],
        bold=True,
    )
    minutes = points = 0
    for line in lines:
        minutes += line.minutes
        points += line.points
        append(
            ws,
            [
                f"{line.at.astimezone(tz):%Y-%m-%d %H:%M}",
                line.volunteer,
                line.team,
                line.service_en if locale == "en" else line.service_zh,
                line.minutes / 60,
                line.points,
                rt.kind_name(line.kind),
                line.approved_by,
                line.reason,
                line.request,
            ],
        )
    append(ws, [_("Total"), None, None, None, minutes / 60, points], bold=True)


def _levels_sheet(book: Workbook, report: Report) -> None:
    """A line per station (a 所's) or per 所 (the 中心's), a column per figure."""
    ws = book.create_sheet(_("By level"))
    _widths(ws, [20] + [12] * 14)
    rows = [rt.figures_rows(line.figures) for line in report.lines]
    append(ws, [_("Station or 所")] + [label for label, _value in rows[0]], bold=True)
    for line, row in zip(report.lines, rows, strict=True):
        append(ws, [line.name] + [value for _label, value in row])


SHEET_NAME_BAD = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_title(code: str, name: str, taken: set[str]) -> str:
    """A sheet's title: at most 31 characters, none of []:*?/\\, unique in its workbook."""
    title = f"{code} {name}".translate(SHEET_NAME_BAD).strip()[:31] or code[:31]
    n = 2
    while title.lower() in taken:
        title = f"{title[:27]} ({n})"
        n += 1
    taken.add(title.lower())
    return title


def _station_sheets(book: Workbook, report: Report) -> None:
    taken = {_("Summary").lower(), _("Ledger").lower(), _("By level").lower()}
    for line in report.stations:
        ws = book.create_sheet(sheet_title(line.code, line.name, taken))
        _widths(ws, [34, 14])
        append(ws, [line.name, line.code], bold=True)
        for label, value in rt.figures_rows(line.figures):
            append(ws, [label, value])


def workbook(report: Report, lines: list[Line] | None, tz: ZoneInfo, locale: str) -> bytes:
    """The summary, every ledger line (`lines`; None: no ledger sheet); a 所's and the 中心's: a line per station or
    所; the 中心's: a sheet per station."""
    book = Workbook(write_only=True)
    _summary_sheet(book, report, locale, tz)
    if lines is not None:
        _ledger_sheet(book, lines, locale, tz)
    if report.lines:
        _levels_sheet(book, report)
    if report.level == "centre" and report.stations:
        _station_sheets(book, report)
    return workbook_bytes(book)


def filename(report: Report) -> str:
    team = f"-team{report.team_id}" if report.team_id is not None else "-teams" if report.team_ids else ""
    return f"station-{report.period.kind}-{report.period.label}{team}.xlsx"


__all__ = ["workbook", "filename", "append", "cell", "workbook_bytes", "sheet_bytes", "read_sheet"]


def sheet_bytes(title: str, rows: Iterable[Iterable[Any]]) -> bytes:
    """A workbook of one sheet: the first row bold (a header), every row through `append` (formula-safe)."""
    book = Workbook(write_only=True)
    ws = book.create_sheet(title)
    for index, row in enumerate(rows):
        append(ws, row, bold=index == 0)
    return workbook_bytes(book)


def read_sheet(data: bytes) -> list[list[str]]:
    """The first sheet of a workbook as text cells (an empty cell: ""; a number: as typed, 12 not 12.0); a
    quote-prefixed cell reads as its text. Values only: a formula cell gives its cached value, never runs."""
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = book.worksheets[0]
        return [[_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
