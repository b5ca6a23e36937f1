"""One voice in every Chinese text (docs: ../shared/ZH_STYLE.md): 您 not 你, 小时 not “h”, Chinese punctuation inside
Chinese sentences, no “№”. Checked on every msgstr of the zh_Hans catalogue, and on texts assembled in code."""

from __future__ import annotations

import re

import pytest

from bot.core.i18n import make_i18n, read_catalog
from bot.requests import keyboards as request_keyboards
from bot.ui import texts

HAN = r"[\u4e00-\u9fff]"
# next to a Chinese character, or an enumeration “7, 1” inside Chinese text
ASCII_PUNCT_IN_CHINESE = re.compile(rf"{HAN}\s?[,;:?!]|[,;:?!]\s?{HAN}|\d, \d")
HOURS_AS_H = re.compile(r"\d\s*h\b|\bhrs?\b|\bhours?\b")
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def zh_texts() -> list[tuple[str, str]]:
    return [(m.id, m.string) for m in read_catalog("zh_Hans") if m.id and isinstance(m.string, str) and m.string]


def problems(text: str) -> list[str]:
    text = PLACEHOLDER.sub("0", text)  # "{hours} h" reads as "0 h"; a placeholder's name is not text
    found = []
    if "你" in text:
        found.append("你 (write 您)")
    m = ASCII_PUNCT_IN_CHINESE.search(text)
    if m:
        found.append(f"ASCII punctuation in Chinese: {m.group(0)!r}")
    m = HOURS_AS_H.search(text)
    if m:
        found.append(f"hours as {m.group(0)!r} (write 小时)")
    if "№" in text:
        found.append("№ (write 第 12 号)")
    return found


@pytest.mark.parametrize(
    "bad",
    ["你好", "时间,地点", "提前 7, 1 天", "请确认:", "好吗?", "谢谢!", "0.5 h", "{hours} h", "共 3 hrs", "记录 №3"],
)
def test_the_check_catches_what_it_should(bad):
    assert problems(bad)


@pytest.mark.parametrize("good", ["您好", "时间：14:00-16:00", "提前 7、1 天", "2 小时", "发送 /cancel", "#2026-0001"])
def test_the_check_lets_good_text_through(good):
    assert problems(good) == []


def test_every_chinese_text_speaks_in_one_voice():
    wrong = {msgid: problems(text) for msgid, text in zh_texts() if problems(text)}
    assert wrong == {}


def test_texts_assembled_in_code_are_in_the_same_voice():
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("zh_Hans"):
        hour_buttons = [b.text for row in request_keyboards.hours(1, 240).inline_keyboard for b in row]
        days = texts.enumerate_items(["7", "1"])
    assert hour_buttons == ["0.5 小时", "1 小时", "1.5 小时", "2 小时", "3 小时", "4 小时"]
    assert days == "7、1"
    assert all(problems(text) == [] for text in hour_buttons + [days])
