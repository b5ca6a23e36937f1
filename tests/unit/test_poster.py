"""The /qr poster's drawing (bot/org/poster.py), the font it needs (bot/core/fonts.py), and the picker's pages."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timezone
from pathlib import Path

import pytest
import reportlab
import zxingcpp
from PIL import Image

from bot.core import fonts
from bot.core.i18n import make_i18n
from bot.org import service as org
from bot.org.poster import SIZE, Poster, qr_image, render
from bot.org.station_keyboards import StationCb, groups, stations
from storage.models import OrgNode

LATIN_ONLY = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"  # a font without Chinese, shipped by a dependency
LINK = "https://t.me/station_test_bot?start=CC-01"


def test_the_font_found_draws_chinese():
    font = fonts.chinese_font()
    assert font.path.is_file()
    assert fonts.has_chinese(font.sized(40), "扫码点单幸福里实践站")
    assert fonts.check(font.path) == font


def test_a_font_without_chinese_is_refused():
    assert LATIN_ONLY.is_file()
    assert fonts.check(LATIN_ONLY) is None
    assert not fonts.has_chinese(fonts.Font(LATIN_ONLY).sized(40))
    assert fonts.check(LATIN_ONLY.with_name("no-such-font.ttf")) is None
    assert fonts.check(Path(reportlab.__file__)) is None  # a file that is not a font


def test_font_path_wins_and_a_wrong_one_is_logged_and_passed_over(caplog):
    packaged = fonts.chinese_font()
    assert fonts.chinese_font(str(packaged.path)) == packaged  # the operator's file, its Chinese face
    with caplog.at_level(logging.ERROR, logger="bot.core.fonts"):
        assert fonts.chinese_font(str(LATIN_ONLY)) == packaged
    assert "FONT_PATH" in caplog.text and "Vera.ttf" in caplog.text


def test_the_collection_s_simplified_chinese_face_is_taken():
    font = fonts.chinese_font()
    if font.path.suffix.lower() == ".ttc":
        family = font.sized(20).getname()[0] or ""
        assert "SC" in family or "GB" in family or "Hei" in family, family


def test_no_font_anywhere_says_what_to_install(monkeypatch):
    fonts.chinese_font.cache_clear()
    monkeypatch.setattr(fonts, "candidates", lambda font_path: [LATIN_ONLY])
    try:
        with pytest.raises(fonts.FontMissing, match="noto-cjk-sans-otc"):
            fonts.chinese_font(None)
    finally:
        monkeypatch.undo()
        fonts.chinese_font.cache_clear()


def read(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_the_poster_is_an_a4_png_whose_code_reads_back_as_the_link():
    sheet = Poster(LINK, "幸福里社区新时代文明实践站", "城关镇新时代文明实践所", "扫码点单", "站点代码 CC-01")
    png = render(sheet, fonts.chinese_font())
    image = read(png)
    assert image.format == "PNG" and image.size == SIZE
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [LINK]
    # the title is drawn (dark pixels in the band above the code), and the red line under it
    title_band = image.convert("L").crop((0, 100, SIZE[0], 260))
    assert title_band.getextrema()[0] < 80
    lower = image.crop((0, 1300, SIZE[0], 1600))
    assert any(r > 150 and g < 80 and b < 100 for _n, (r, g, b) in lower.getcolors(1 << 20) or [])


def test_a_long_name_is_made_smaller_to_fit_and_the_code_still_reads():
    long_name = "某某县某某镇某某村新时代文明实践站第一网格服务点" * 2
    png = render(Poster(LINK, long_name, "", "扫码点单", "CC-01"), fonts.chinese_font())
    image = read(png)
    assert image.size == SIZE
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [LINK]
    edges = image.convert("L").crop((0, 100, 40, 300))  # nothing spills over the left margin
    assert edges.getextrema()[0] > 200


def test_qr_modules_are_whole_pixels():
    qr = qr_image(LINK, 900)
    assert qr.width == qr.height <= 900 and qr.width >= 800
    assert [found.text for found in zxingcpp.read_barcodes(qr)] == [LINK]


# The picker's pages ---------------------------------------------------------------------------------------


def tree_of(institutes: int, per_institute: int, direct: int) -> org.Tree:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    nodes = [OrgNode(id=1, kind="centre", name="中心", code="ZX", parent_id=None, archived=False, created_at=now)]
    next_id = 2
    for i in range(institutes):
        inst = next_id
        nodes.append(OrgNode(id=inst, kind="institute", name=f"所{i:02}", code=f"S{i:02}", parent_id=1, archived=False))
        next_id += 1
        for j in range(per_institute):
            nodes.append(
                OrgNode(id=next_id, kind="station", name=f"站{i:02}-{j:02}", code=f"S{i:02}-{j:02}", parent_id=inst)
            )
            next_id += 1
    for j in range(direct):
        nodes.append(OrgNode(id=next_id, kind="station", name=f"直{j}", code=f"Z{j:02}", parent_id=1, archived=False))
        next_id += 1
    for n in nodes:
        n.archived = bool(n.archived)
    return org.Tree({n.id: n for n in nodes})


@pytest.fixture
def english():
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("en"):
        yield


def labels(markup) -> list[list[str]]:
    return [[b.text for b in row] for row in markup.inline_keyboard]


def datas(markup) -> list[StationCb]:
    return [StationCb.unpack(b.callback_data) for row in markup.inline_keyboard for b in row]


def test_page_of():
    items = list(range(17))
    assert org.page_of(items, 0) == (list(range(8)), 0, 3)
    assert org.page_of(items, 2) == ([16], 2, 3)
    assert org.page_of(items, 9) == ([16], 2, 3)  # out of range: the last
    assert org.page_of([], 0) == ([], 0, 1)


def test_the_first_list_pages_institutes_and_ends_with_the_direct_stations(english):
    tree = tree_of(institutes=10, per_institute=2, direct=1)
    first = groups(tree, 0, then="order")
    assert [r[0] for r in labels(first)[:8]] == [f"所{i:02}" for i in range(8)]
    assert labels(first)[-1] == ["▶"]
    assert all(d.then == "order" for d in datas(first))
    second = groups(tree, 1)
    assert labels(second)[:3] == [["所08"], ["所09"], ["直属站 (under the 中心)"]]
    assert labels(second)[-1] == ["◀"]
    assert datas(second)[2].node == 1  # the 中心: its own stations


def test_the_second_list_pages_stations_with_a_way_back(english):
    tree = tree_of(institutes=1, per_institute=10, direct=0)
    inst = tree.nodes[2]
    first = stations(tree, inst, 0)
    assert len(labels(first)) == 8 + 2 and labels(first)[-2] == ["▶"] and labels(first)[-1] == ["« Back"]
    second = stations(tree, inst, 1)
    assert [r[0] for r in labels(second)[:2]] == ["站00-08", "站00-09"] and labels(second)[2] == ["◀"]
    picks = [d for d in datas(second) if d.action == "pick"]
    assert [tree.nodes[d.node].code for d in picks] == ["S00-08", "S00-09"]
    assert org.pick_groups(tree) == [inst]  # no 直属站 choice without stations directly under the 中心
