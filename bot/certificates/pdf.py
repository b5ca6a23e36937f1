"""The 志愿服务证明 as a PDF (reportlab, built-in CID font STSong-Light so Chinese needs no font file).

Labels go through gettext: call inside the volunteer's locale context.
"""

from __future__ import annotations

import io
from datetime import date
from xml.sax.saxutils import escape

from aiogram.utils.i18n import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from bot.certificates.service import Issued
from bot.ui import texts

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TITLE = ParagraphStyle("title", fontName=FONT, fontSize=20, leading=28, alignment=1, spaceAfter=8 * mm)
BODY = ParagraphStyle("body", fontName=FONT, fontSize=11.5, leading=19, firstLineIndent=0)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=10, leading=13)
RIGHT = ParagraphStyle("right", parent=BODY, alignment=2)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text), style)


def _range(start: date | None, end: date | None, issued: date) -> str:
    if start is None:
        return _("all records up to {issued}").format(issued=issued.isoformat())
    assert end is not None  # a range has both ends or none (certificates.parse_range)
    return _("{start} to {end}").format(start=start.isoformat(), end=end.isoformat())


def render(doc: Issued, *, station: str, issued_on: date) -> bytes:
    cert = doc.certificate
    buffer = io.BytesIO()
    footer = _(
        "This certificate is issued by {station}, which organised and recorded these services "
        "(谁组织谁记录，谁记录谁证明). Verification number: {number}"
    ).format(station=station, number=cert.number)

    def on_page(canvas, pdf) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.grey)
        width = A4[0] - 2 * pdf.leftMargin
        line, lines = "", []
        for char in footer:  # the CID font has no word breaks to rely on: wrap by width
            if pdfmetrics.stringWidth(line + char, FONT, 8) > width:
                lines.append(line)
                line = ""
            line += char
        lines.append(line)
        for i, text in enumerate(lines):
            canvas.drawString(pdf.leftMargin, 14 * mm - i * 10, text)
        canvas.drawRightString(A4[0] - pdf.rightMargin, 22 * mm, _("Page {page}").format(page=canvas.getPageNumber()))
        canvas.restoreState()

    pdf = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=20 * mm,
        bottomMargin=30 * mm,
        title=_("Volunteer service certificate"),
        author=station,
    )
    table = Table(
        [[_p(_("Date"), CELL), _p(_("Service or activity"), CELL), _p(_("Hours"), CELL), _p(_("Approved by"), CELL)]]
        + [
            [
                _p(line.day.isoformat(), CELL),
                _p(line.what, CELL),
                _p(texts.hours(line.minutes), CELL),
                _p(line.approver, CELL),
            ]
            for line in doc.lines
        ],
        colWidths=[28 * mm, 82 * mm, 20 * mm, 40 * mm],
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story = [
        _p(_("Volunteer service certificate"), TITLE),
        _p(
            _(
                "This is to certify that volunteer {name} took part in volunteer service organised by {station} "
                "({range}). The hours confirmed by the station total {hours} h in {count} service(s):"
            ).format(
                name=doc.certificate.volunteer_name,
                station=station,
                range=_range(cert.date_from, cert.date_to, issued_on),
                hours=texts.hours(cert.minutes),
                count=cert.entries,
            )
        ),
        Spacer(1, 5 * mm),
        table,
        Spacer(1, 5 * mm),
        KeepTogether(
            [
                _p(_("Total: {hours} h").format(hours=texts.hours(cert.minutes))),
                Spacer(1, 12 * mm),
                _p(station, RIGHT),
                _p(_("Date of issue: {date}").format(date=issued_on.isoformat()), RIGHT),
                _p(_("Verification number: {number}").format(number=cert.number), RIGHT),
            ]
        ),
    ]
    pdf.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
