"""The 月小结's chart (issue 14): hours and requests done week by week (and 微心愿 fulfilled, when there were
any), and for a 所 or the 中心 its stations side by side (the TOP_STATIONS with the most hours), as a PNG drawn
with Pillow in the font of bot/core/fonts.py (one that has the Chinese glyphs). Rendering is CPU work: callers run
`render` off the event loop (asyncio.to_thread).

`chart_of` builds what is drawn (its texts through the catalogue, so call it inside the reader's locale); `render`
only draws, so a test can check every label against the font.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from aiogram.utils.i18n import gettext as _
from PIL import Image, ImageDraw, ImageFont

from bot.core.fonts import Font
from bot.reports import texts as rt
from bot.reports.service import Report

WIDTH = 1200
PANEL = 440  # the height of one panel (the weeks; the stations)
HEAD = 130  # the title and the legend
HEIGHT_ONE, HEIGHT_TWO = HEAD + PANEL + 20, HEAD + 2 * PANEL + 40
TOP_STATIONS = 12
WHITE, INK, GREY, LINE = (255, 255, 255), (33, 33, 33), (110, 110, 110), (210, 210, 210)
HOURS_COLOUR, DONE_COLOUR, WISH_COLOUR = (198, 40, 40), (30, 110, 180), (46, 125, 50)
NAME_CHARS = 6  # a station's name under its bars, cut to fit


@dataclass(frozen=True)
class Bar:
    label: str
    hours: float
    done: int
    wishes: int | None = None  # 微心愿 fulfilled: a third bar, in the weeks' panel when the month had any


@dataclass(frozen=True)
class Chart:
    title: str
    hours_legend: str
    done_legend: str
    weeks_title: str
    weeks: list[Bar]
    stations_title: str | None = None
    stations: tuple[Bar, ...] = ()
    wishes_legend: str | None = None  # set when the weeks carry a third series (微心愿 fulfilled)

    @property
    def size(self) -> tuple[int, int]:
        return (WIDTH, HEIGHT_TWO if self.stations else HEIGHT_ONE)

    def labels(self) -> list[str]:
        """Every text the chart draws (the numbers included)."""
        out = [self.title, self.hours_legend, self.done_legend, self.weeks_title]
        out += [self.stations_title] if self.stations_title else []
        out += [self.wishes_legend] if self.wishes_legend else []
        for bar in [*self.weeks, *self.stations]:
            out += [bar.label, _number(bar.hours), str(bar.done)]
            out += [str(bar.wishes)] if bar.wishes is not None else []
        return out


def week_label(first, last) -> str:
    return _("{month}/{day}–{last_month}/{last_day}").format(
        month=first.month, day=first.day, last_month=last.month, last_day=last.day
    )


def chart_of(report: Report) -> Chart | None:
    """What the 月小结's chart shows; None when there is nothing to draw (no weeks: not a month's report)."""
    if not report.weeks:
        return None
    place = report.node_name
    title = rt.title(report.period) + (f" · {place}" if place else "")
    any_wish = any(f.wishes_fulfilled for _p, f in report.weeks)
    weeks = [
        Bar(week_label(p.first, p.last), f.minutes / 60, f.done, f.wishes_fulfilled if any_wish else None)
        for p, f in report.weeks
    ]
    top = sorted(report.stations, key=lambda line: (-line.figures.minutes, -line.figures.done, line.code))
    stations = tuple(
        Bar(line.name[:NAME_CHARS], line.figures.minutes / 60, line.figures.done) for line in top[:TOP_STATIONS]
    )
    many = len(report.stations) > TOP_STATIONS
    return Chart(
        title=title,
        hours_legend=_("Service hours"),
        done_legend=_("Requests done"),
        weeks_title=_("Week by week"),
        weeks=weeks,
        stations_title=(
            _("The {count} stations with the most hours").format(count=TOP_STATIONS) if many else _("By station")
        )
        if stations
        else None,
        stations=stations,
        wishes_legend=_("Small wishes fulfilled") if any_wish else None,
    )


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], text: str, face, fill, anchor: str = "la") -> None:
    draw.text(xy, text, font=face, fill=fill, anchor=anchor)


def _panel(draw: ImageDraw.ImageDraw, top: int, title: str, bars: list[Bar] | tuple[Bar, ...], font: Font) -> None:
    """Two bars per group (hours, requests done; a third, wishes fulfilled, when the bars carry it), each series on
    its own scale, its value above each bar."""
    heading, small = font.sized(26), font.sized(18 if len(bars) > 8 else 20)
    _text(draw, (60, top), title, heading, INK)
    base, height = top + PANEL - 60, PANEL - 130
    draw.line((50, base, WIDTH - 40, base), fill=LINE, width=2)
    if not bars:
        return
    most_hours = max(b.hours for b in bars) or 1.0
    most_done = max(b.done for b in bars) or 1
    most_wishes = max(b.wishes or 0 for b in bars) or 1
    series = 3 if any(b.wishes is not None for b in bars) else 2
    slot = (WIDTH - 100) / len(bars)
    bar = min(44.0, slot / (series + 1))
    for i, b in enumerate(bars):
        x = 60 + i * slot + (slot - series * bar) / 2
        values = [(b.hours, most_hours, HOURS_COLOUR, _number(b.hours)), (b.done, most_done, DONE_COLOUR, str(b.done))]
        if series == 3:
            values.append((b.wishes or 0, most_wishes, WISH_COLOUR, str(b.wishes or 0)))
        for k, (value, most, colour, text) in enumerate(values):
            left = x + k * bar
            h = max(0.0, value / most * height) if value > 0 else 0.0
            draw.rectangle((left, base - h, left + bar - 4, base), fill=colour)
            _text(draw, (left + (bar - 4) / 2, base - h - 4), text, small, GREY, "ms")
        _text(draw, (60 + i * slot + slot / 2, base + 10), b.label, small, INK, "ma")


def render(chart: Chart, font: Font) -> bytes:
    """The chart as PNG bytes."""
    image = Image.new("RGB", chart.size, WHITE)
    draw = ImageDraw.Draw(image)
    _text(draw, (WIDTH / 2, 30), chart.title, font.sized(36), INK, "ma")
    legend: ImageFont.FreeTypeFont = font.sized(22)
    legends = [(HOURS_COLOUR, chart.hours_legend), (DONE_COLOUR, chart.done_legend)]
    legends += [(WISH_COLOUR, chart.wishes_legend)] if chart.wishes_legend else []
    x = WIDTH / 2 - 120 * len(legends) + 20
    for colour, text in legends:
        draw.rectangle((x, 88, x + 22, 110), fill=colour)
        _text(draw, (x + 32, 99), text, legend, INK, "lm")
        x += 240
    _panel(draw, HEAD, chart.weeks_title, chart.weeks, font)
    if chart.stations:
        _panel(draw, HEAD + PANEL + 20, chart.stations_title or "", chart.stations, font)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
