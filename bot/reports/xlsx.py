"""The report as an .xlsx workbook: a summary sheet and every service-hours ledger line of the period.

Call inside the reader's locale (headers are translated). Write-only mode keeps big months fast.
Totals are written as numbers, not formulas, so any reader (and the tests) sees them.
"""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from bot.reports import texts as rt
from bot.reports.service import Line, Report

BOLD = Font(bold=True)


def _bold(ws, values: list) -> list:
    cells = []
    for value in values:
        cell = WriteOnlyCell(ws, value=value)
        cell.font = BOLD
        cells.append(cell)
    return cells


def _widths(ws, widths: list[int]) -> None:
    for index, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + index)].width = width


def _summary_sheet(book: Workbook, report: Report, locale: str, tz: ZoneInfo) -> None:
    r = report
    ws = book.create_sheet(_("Summary"))
    _widths(ws, [34, 14, 12, 14, 12])
    ws.append(_bold(ws, [rt.title(r.period), rt.span(r.period)] + ([r.team_name] if r.team_name else [])))
    ws.append([])
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
    ):
        ws.append([label, value])
    ws.append([])
    ws.append(_bold(ws, [_("Stars"), _("Ratings")]))
    for stars in range(5, 0, -1):
        ws.append([f"{stars}★", r.ratings[stars]])
    for heading, rows, name in (
        (_("Team"), r.by_team, lambda h: h.name(locale) if h.kind == "team" else _("(no team)")),
        (_("Service or activity"), r.by_service, lambda h: rt.service_label(h, locale)),
    ):
        ws.append([])
        ws.append(_bold(ws, [heading, _("Hours"), _("Points"), _("Volunteers"), _("Entries")]))
        for h in rows:
            ws.append([name(h), h.minutes / 60, h.points, h.volunteers, h.entries])
        ws.append(_bold(ws, [_("Total"), r.minutes / 60, r.points, r.volunteers, r.entries]))
    if r.activities:
        ws.append([])
        ws.append(_bold(ws, [_("Activity"), _("Date"), _("Volunteers"), _("Hours")]))
        for a in r.activities:
            ws.append(
                [f"{a.number} {a.title}", a.starts_at.astimezone(tz).date().isoformat(), a.volunteers, a.minutes / 60]
            )


def _ledger_sheet(book: Workbook, lines: list[Line], locale: str, tz: ZoneInfo) -> None:
    ws = book.create_sheet(_("Ledger"))
    _widths(ws, [17, 12, 16, 20, 8, 8, 10, 12, 30, 12])
    ws.freeze_panes = "A2"
    ws.append(
        _bold(
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
        )
    )
    minutes = points = 0
    for line in lines:
        minutes += line.minutes
        points += line.points
        ws.append(
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
            ]
        )
    ws.append(_bold(ws, [_("Total"), None, None, None, minutes / 60, points]))


def workbook(report: Report, lines: list[Line], tz: ZoneInfo, locale: str) -> bytes:
    book = Workbook(write_only=True)
    _summary_sheet(book, report, locale, tz)
    _ledger_sheet(book, lines, locale, tz)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(report: Report) -> str:
    team = f"-team{report.team_id}" if report.team_id is not None else ""
    return f"station-{report.period.kind}-{report.period.label}{team}.xlsx"


__all__ = ["workbook", "filename"]
