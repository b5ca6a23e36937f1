"""The station's poster (/qr): its name, a QR code of its deep link, and one line on how to use it, as a PNG
sized for A4 at 150 dpi. Pure drawing, no Telegram and no database: the handler calls `render` in a worker thread."""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from PIL import Image, ImageDraw, ImageFont

from bot.core.fonts import Font

SIZE = (1240, 1754)  # A4 at 150 dpi, portrait
MARGIN = 90
QR_BORDER = 4  # the quiet zone, in modules
RED = (200, 16, 46)
INK = (33, 33, 33)
GREY = (110, 110, 110)
WHITE = (255, 255, 255)


@dataclass(frozen=True)
class Poster:
    link: str  # https://t.me/<bot>?start=<CODE>
    title: str  # the station's name
    subtitle: str  # where it hangs (its 所 or the 中心), may be empty
    how: str  # the line on how to use it (“扫码点单”)
    footer: str  # small print under it: the code and the link


def qr_image(link: str, side: int) -> Image.Image:
    """The QR code of `link`, black on white with its quiet zone, at most `side` pixels square (whole pixels a
    module, so a printer and a phone's camera see sharp edges)."""
    code = segno.make(link, error="m", micro=False)
    rows = list(code.matrix_iter(scale=1, border=QR_BORDER))
    modules = len(rows)
    small = Image.new("1", (modules, modules), 1)
    small.putdata([0 if dark else 1 for row in rows for dark in row])
    scale = max(1, side // modules)
    return small.resize((modules * scale, modules * scale), Image.Resampling.NEAREST).convert("RGB")


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, size: int, width: int, smallest: int = 28):
    """The largest size up to `size` at which `text` fits `width` on one line."""
    while True:
        face = font.sized(size)
        if size <= smallest or draw.textlength(text, font=face) <= width:
            return face
        size -= 4


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font: Font, size: int, width: int, lines: int = 3):
    """`text` at the largest size up to `size` that fits `width` on one line, down to two thirds of it; a longer text
    is then broken into up to `lines` lines (at character boundaries: Chinese has no spaces), the last one cut short
    with “…”. Returns the face and the lines."""
    face = _fit(draw, text, font, size, width, smallest=size * 2 // 3)
    out = [""]
    for char in text:
        if draw.textlength(out[-1] + char, font=face) > width:
            if len(out) == lines:
                while out[-1] and draw.textlength(out[-1] + "…", font=face) > width:
                    out[-1] = out[-1][:-1]
                out[-1] += "…"
                return face, out
            out.append("")
        out[-1] += char
    return face, out


def _centred(draw: ImageDraw.ImageDraw, y: int, text: str, face: ImageFont.FreeTypeFont, fill) -> int:
    """Draw `text` centred at height y; returns the y below it."""
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    draw.text(((SIZE[0] - (right - left)) // 2 - left, y - top), text, font=face, fill=fill)
    return int(y + (bottom - top))


def render(poster: Poster, font: Font) -> bytes:
    """The poster as PNG bytes."""
    image = Image.new("RGB", SIZE, WHITE)
    draw = ImageDraw.Draw(image)
    width = SIZE[0] - 2 * MARGIN
    draw.rectangle((0, 0, SIZE[0], 36), fill=RED)
    y = 130
    face, lines = _wrapped(draw, poster.title, font, 96, width, lines=2)
    for line in lines:
        y = _centred(draw, y, line, face, INK) + 16
    y += 14
    if poster.subtitle:
        y = _centred(draw, y, poster.subtitle, _fit(draw, poster.subtitle, font, 48, width), GREY)
    qr = qr_image(poster.link, 900)
    top = max(y + 60, 380)
    image.paste(qr, ((SIZE[0] - qr.width) // 2, top))
    y = top + qr.width + 50
    y = _centred(draw, y, poster.how, _fit(draw, poster.how, font, 110, width), RED) + 50
    _centred(draw, y, poster.footer, _fit(draw, poster.footer, font, 36, width, smallest=20), GREY)
    draw.rectangle((0, SIZE[1] - 36, SIZE[0], SIZE[1]), fill=RED)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, dpi=(150, 150))
    return out.getvalue()
