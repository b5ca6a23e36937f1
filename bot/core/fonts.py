"""A font with Chinese glyphs, for pictures the bot draws (the /qr station poster; charts later).

Where it looks, first found wins:
1. FONT_PATH (a .ttf/.otf/.ttc file the operator names; for a collection, the face whose name ends in “SC” is taken);
2. the font shipped by the `noto-cjk-sans-otc` package, a dependency of the bot: Noto Sans CJK (SIL OFL 1.1),
   so `pip install station-bot` brings it on any machine, CI included;
3. fonts a Linux distribution installs (Debian's fonts-noto-cjk, fonts-wqy-microhei, fonts-wqy-zenhei).

Why a PyPI package rather than a system font: an operator installs the bot with pip and CI runs it on a fresh
machine; a package pinned in constraints.txt is there in both, with no apt step to forget and no FONT_PATH to set.
noto-cjk-sans-otc carries the font file and nothing else (OFL 1.1, about 15 MB installed as one .ttc, whose Simplified
Chinese face is taken). The system fonts stay as a fallback, and FONT_PATH for an operator's own choice.

Each candidate is checked for real: it must draw 中, 站 and 码 as glyphs of their own, not as its “missing glyph” box.
None found: `FontMissing`, whose message says what to install.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger(__name__)

SAMPLE = "中站码"  # characters every poster draws
SYSTEM_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
)
FACES = 16  # the most faces of a collection looked at


class FontMissing(RuntimeError):
    """No font with Chinese glyphs could be found."""


@dataclass(frozen=True)
class Font:
    """A font file and, for a collection (.ttc), the face to use."""

    path: Path
    index: int = 0

    def sized(self, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(self.path), size, index=self.index)


def _mask(font: ImageFont.FreeTypeFont, text: str) -> tuple[tuple[int, int], bytes]:
    mask = font.getmask(text)
    return mask.size, bytes(mask)


def has_chinese(font: ImageFont.FreeTypeFont, sample: str = SAMPLE) -> bool:
    """Does the face draw each character of `sample` as a glyph of its own (not blank, not its missing-glyph box)?"""
    missing = _mask(font, "\U000f0000")  # a private-use code point no font for Chinese maps: its .notdef
    for char in sample:
        drawn = font.getmask(char)
        if drawn.getbbox() is None or _mask(font, char) == missing:
            return False
    return True


def _faces(path: Path) -> list[Font]:
    """The faces of a file worth trying, the Simplified Chinese one of a collection first."""
    found: list[tuple[int, Font]] = []
    for index in range(FACES if path.suffix.lower() in (".ttc", ".otc") else 1):
        try:
            name = " ".join(part or "" for part in ImageFont.truetype(str(path), 24, index=index).getname())
        except OSError:
            break
        rank = 0 if " SC" in name or "GB" in name else 2 if "Mono" in name else 1
        found.append((rank, Font(path, index)))
    return [font for _rank, font in sorted(found, key=lambda pair: pair[0])]


def check(path: str | Path) -> Font | None:
    """The first face of the file that has Chinese glyphs; None if none (or the file is not a font)."""
    path = Path(path).expanduser()
    if not path.is_file():
        return None
    for font in _faces(path):
        try:
            if has_chinese(font.sized(32)):
                return font
        except OSError:
            continue
    return None


def _packaged() -> list[Path]:
    try:
        import noto_cjk_sans_otc  # type: ignore[import-untyped]  # the font's package: a font file, no code
    except ImportError:
        return []
    return [Path(str(noto_cjk_sans_otc.FONT_PATH))]


def candidates(font_path: str | None) -> list[Path]:
    out = [Path(font_path).expanduser()] if font_path else []
    return out + _packaged() + [Path(p) for p in SYSTEM_FONTS]


@lru_cache(maxsize=8)
def chinese_font(font_path: str | None = None) -> Font:
    """A font that draws Chinese (see the module's docstring for where it looks). Raises FontMissing."""
    if font_path:
        named = check(font_path)
        if named is not None:
            return named
        log.error("FONT_PATH %s is not a font with Chinese characters; looking elsewhere", font_path)
    for path in candidates(None):
        found = check(path)
        if found is not None:
            return found
    raise FontMissing(
        "no font with Chinese characters: reinstall the bot's dependencies (pip install noto-cjk-sans-otc), "
        "install Debian's fonts-noto-cjk, or set FONT_PATH to a .ttf/.otf/.ttc file with Chinese glyphs"
    )
