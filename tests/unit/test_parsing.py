"""What people type: phones, hours, dates, time windows, locales, settings."""

from datetime import date, time

import pytest
from pydantic import ValidationError

from bot.core import validate
from bot.core.dates import parse_date, parse_window
from bot.core.errors import DomainError
from bot.core.i18n import pick_locale
from bot.settings import Settings


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("0086 13800138000", "13800138000"),
        ("0571-88886666", "057188886666"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_good_phones(raw, expected):
    assert validate.phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "12345", "23800138000", "phone", "+12", "1380013800a"])
def test_bad_phones(raw):
    with pytest.raises(DomainError):
        validate.phone(raw)


@pytest.mark.parametrize("raw,minutes", [("1.5", 90), ("2", 120), ("0.5小时", 30), ("3h", 180), ("1,5", 90)])
def test_hours(raw, minutes):
    assert validate.hours_to_minutes(raw) == minutes


@pytest.mark.parametrize(
    "raw,code",
    [("abc", "bad_hours"), ("0", "bad_hours"), ("-1", "bad_hours"), ("1.3", "hours_step"), ("nan", "bad_hours")],
)
def test_bad_hours(raw, code):
    with pytest.raises(DomainError) as err:
        validate.hours_to_minutes(raw)
    assert err.value.code == code


TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("2026-12-05", date(2026, 12, 5)),
        ("12-5", date(2026, 12, 5)),
        ("12月5日", date(2026, 12, 5)),
        ("明天", date(2026, 11, 24)),
        ("tomorrow", date(2026, 11, 24)),
        ("1/5", date(2027, 1, 5)),
        ("2026年12月5日", date(2026, 12, 5)),
    ],
)
def test_dates(raw, expected):
    assert parse_date(raw, TODAY) == expected


@pytest.mark.parametrize("raw", ["", "soon", "2026-02-30", "13-45"])
def test_bad_dates(raw):
    with pytest.raises(DomainError):
        parse_date(raw, TODAY)


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("14:00-16:00", (time(14), time(16))),
        ("9-11", (time(9), time(11))),
        ("14：30～16：00", (time(14, 30), time(16))),
        ("8点到10点半", (time(8), time(10, 30))),
        ("早上", None),
    ],
)
def test_windows(raw, expected):
    if expected is None:
        with pytest.raises(DomainError):
            parse_window(raw)
    else:
        assert parse_window(raw) == expected


def test_window_end_before_start():
    with pytest.raises(DomainError) as err:
        parse_window("16:00-14:00")
    assert err.value.code == "bad_window"


@pytest.mark.parametrize(
    "code,locale",
    [
        ("zh-hans", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh", "zh_Hans"),
        ("en", "en"),
        ("en-GB", "en"),
        ("ru", "zh_Hans"),
        (None, "zh_Hans"),
    ],
)
def test_locale_pick(code, locale):
    assert pick_locale(code, "zh_Hans") == locale


def test_settings_defaults_and_token_check():
    s = Settings(_env_file=None, bot_token="123456:" + "a" * 30, admin_ids="1, 2")
    assert s.admin_ids == [1, 2] and s.timezone == "Asia/Shanghai" and s.default_locale == "zh_Hans"
    assert s.points_per_hour == 10 and s.database_url.startswith("sqlite+aiosqlite:///./data/")
    with pytest.raises(ValidationError):
        Settings(_env_file=None, bot_token="not-a-token")
    with pytest.raises(ValidationError):
        Settings(_env_file=None, bot_token="123456:" + "a" * 30, timezone="Mars/Base")


def test_long_answers_are_split_under_telegrams_limit():
    from bot.ui.texts import chunks

    text = "\n".join(f"line {i} " + "x" * 90 for i in range(200))
    pieces = chunks(text)
    assert len(pieces) > 1 and all(len(p) <= 4096 for p in pieces)
    assert "\n".join(pieces) == text
    assert [len(p) for p in chunks("y" * 5000)] == [4096, 904]


def test_control_characters_are_dropped_and_lookup_keys_checked():
    from bot.core import validate

    assert validate.text("买米\x00和油\x07\n第二行", "description") == "买米和油\n第二行"
    assert validate.key(" #2026-0001 ") == "2026-0001"
    assert validate.key("AB12CD") == "AB12CD"
    for bad in ("2026\x00-0001", "2026 0001", "", None, "x" * 33, "'; drop table requests; --"):
        assert validate.key(bad) is None, bad
