import datetime as dt
from functools import cache

import chinese_calendar
import pytest
from lunar_python import Solar

from scheduling.holidays import (
    CIVIC_KEYS,
    FESTIVAL_ACTIVITIES,
    FESTIVAL_KEYS,
    CalendarUnknown,
    civic_days,
    day_status,
    festival_dates,
    format_year,
    published_years,
    scheduled_posts,
)
from scheduling.themes import MONTHLY_THEMES, default_theme

D = dt.date
YEARS = range(1950, 2101)
LUNAR_MD = {
    "chunjie": (1, 1),
    "yuanxiao": (1, 15),
    "duanwu": (5, 5),
    "qixi": (7, 7),
    "zhongqiu": (8, 15),
    "chongyang": (9, 9),
}


@cache  # lunar-python takes a few ms a year; many tests walk 150 years
def festivals(year):
    return tuple(festival_dates(year))


def by_key(year):
    return {f.key: f.date for f in festivals(year)}


# ---- festivals ----

KNOWN = [
    ("chunjie", D(2024, 2, 10)),
    ("chunjie", D(2025, 1, 29)),
    ("chunjie", D(2026, 2, 17)),
    ("zhongqiu", D(2025, 10, 6)),
    ("zhongqiu", D(2026, 9, 25)),
    ("duanwu", D(2026, 6, 19)),
    ("qingming", D(2026, 4, 5)),
    ("qingming", D(2025, 4, 4)),
    ("chuxi", D(2025, 1, 28)),
    ("chuxi", D(2026, 2, 16)),
    # new moon 1978-09-03 00:08 Beijing time; the lunardate package says 09-16
    ("zhongqiu", D(1978, 9, 17)),
]


@pytest.mark.parametrize("key,date", KNOWN)
def test_known_dates(key, date):
    assert by_key(date.year)[key] == date


def test_every_festival_once_and_in_its_year():
    for year in YEARS:
        fs = festivals(year)
        assert sorted(f.key for f in fs) == sorted(FESTIVAL_KEYS)
        assert all(f.date.year == year and f.kind == "festival" for f in fs)
        assert [f.date for f in fs] == sorted(f.date for f in fs)


def test_chuxi_is_eve_of_chunjie_and_last_day_of_month_12():
    for year in YEARS:
        k = by_key(year)
        assert k["chuxi"] == k["chunjie"] - dt.timedelta(days=1)
        lunar = Solar.fromYmd(k["chuxi"].year, k["chuxi"].month, k["chuxi"].day).getLunar()
        assert (lunar.getYear(), lunar.getMonth()) == (year - 1, 12)
        assert lunar.getDay() in (29, 30)


@pytest.mark.parametrize("year,date", [(2025, D(2025, 1, 28)), (2026, D(2026, 2, 16)), (2022, D(2022, 1, 31))])
def test_chuxi_on_the_29th_when_month_12_is_short(year, date):
    assert by_key(year)["chuxi"] == date
    assert Solar.fromYmd(date.year, date.month, date.day).getLunar().getDay() == 29


def test_chuxi_on_the_30th():
    # lunar 2022's 12th month is long: 除夕 2023-01-21 is 腊月三十
    assert by_key(2023)["chuxi"] == D(2023, 1, 21)
    assert Solar.fromYmd(2023, 1, 21).getLunar().getDay() == 30


def test_chuxi_of_a_lunar_year_belongs_to_the_next_gregorian_year():
    assert by_key(2024)["chuxi"] == D(2024, 2, 9)  # eve of 2024's 春节, not 2025-01-28
    assert by_key(2025)["chuxi"] == D(2025, 1, 28)


# 2057's 9th month starts on a new moon seconds from midnight (about 23:59:50
# Beijing time): lunar-python says 09-29, table-based libraries 09-28.
AMBIGUOUS = {(2057, "chongyang"): {D(2057, 10, 6), D(2057, 10, 7)}}


def test_lunar_festivals_match_zhdate():
    zhdate = pytest.importorskip("zhdate")
    mismatches = []
    for year in YEARS:
        ours = by_key(year)
        for key, (m, d) in LUNAR_MD.items():
            theirs = zhdate.ZhDate(year, m, d).to_datetime().date()
            if ours[key] != theirs:
                mismatches.append((year, key, ours[key], theirs))
        theirs_eve = zhdate.ZhDate(year, 1, 1).to_datetime().date() - dt.timedelta(days=1)
        eve = zhdate.ZhDate.from_datetime(dt.datetime.combine(theirs_eve, dt.time()))
        assert (eve.lunar_month, eve.lunar_day in (29, 30)) == (12, True)
        if ours["chuxi"] != theirs_eve:
            mismatches.append((year, "chuxi", ours["chuxi"], theirs_eve))
    unexplained = [m for m in mismatches if m[2] not in AMBIGUOUS.get(m[:2], ())]
    assert not unexplained
    assert len(mismatches) <= len(AMBIGUOUS)


def test_qingming_is_april_4_or_5():
    for year in YEARS:
        assert by_key(year)["qingming"] in (D(year, 4, 4), D(year, 4, 5))


def test_qingming_matches_chinese_calendar_solar_term_formula():
    # chinese_calendar computes terms with the 寿星 formula, independent of lunar-python;
    # its constants are for the 20th and 21st centuries, so stop at 2099.
    for year in range(1950, 2100):
        terms = chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 10))
        assert [d for d, name in terms if name == "清明"] == [by_key(year)["qingming"]]


def test_every_festival_and_civic_day_has_activities():
    for key in FESTIVAL_KEYS + CIVIC_KEYS:
        assert FESTIVAL_ACTIVITIES[key]["zh"] and FESTIVAL_ACTIVITIES[key]["en"]


# ---- civic days ----


def test_civic_days_fixed_dates_and_keys():
    days = {f.key: f for f in civic_days(2026)}
    assert set(days) == set(CIVIC_KEYS)
    assert all(f.kind == "civic" for f in days.values())
    assert days["leifeng"].date == D(2026, 3, 5)
    assert days["womens_day"].date == D(2026, 3, 8)
    assert days["reading_day"].date == D(2026, 4, 23)
    assert days["party_day"].date == D(2026, 7, 1)
    assert days["national_day"].date == D(2026, 10, 1)
    assert days["volunteer_day"].date == D(2026, 12, 5)


@pytest.mark.parametrize(
    "year,mother,father",
    [
        (2024, D(2024, 5, 12), D(2024, 6, 16)),
        (2025, D(2025, 5, 11), D(2025, 6, 15)),
        (2026, D(2026, 5, 10), D(2026, 6, 21)),
    ],
)
def test_mothers_and_fathers_day_known(year, mother, father):
    days = {f.key: f.date for f in civic_days(year)}
    assert (days["mothers_day"], days["fathers_day"]) == (mother, father)


def test_mothers_and_fathers_day_rules():
    for year in YEARS:
        days = {f.key: f.date for f in civic_days(year)}
        m, f = days["mothers_day"], days["fathers_day"]
        assert m.month == 5 and m.weekday() == 6 and 8 <= m.day <= 14  # second Sunday
        assert f.month == 6 and f.weekday() == 6 and 15 <= f.day <= 21  # third Sunday


# ---- statutory holidays ----


def test_published_years_match_package():
    years = published_years()
    assert years[0] == 2004 and 2026 in years
    for year in (years[0], years[-1]):
        day_status(D(year, 1, 1))  # does not raise


@pytest.mark.parametrize("d", [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28)])
def test_known_makeup_workdays_2026(d):
    s = day_status(d)
    assert d.weekday() >= 5
    assert s.is_makeup_workday and s.is_workday and not s.is_holiday
    assert s.holiday_name is None and s.makeup_for


def test_makeup_workday_detection_matches_package_for_2026():
    d = D(2026, 1, 1)
    found = 0
    while d.year == 2026:
        s = day_status(d)
        expected = d.weekday() >= 5 and chinese_calendar.is_workday(d)
        assert s.is_makeup_workday == expected
        assert s.is_workday == chinese_calendar.is_workday(d) == (not s.is_holiday)
        found += expected
        d += dt.timedelta(days=1)
    assert found >= 3


def test_statutory_holiday_and_plain_days():
    s = day_status(D(2026, 2, 17))
    assert s.is_holiday and s.holiday_name == "Spring Festival" and s.holiday_name_zh == "春节"
    assert not s.is_makeup_workday and s.makeup_for is None
    weekend = day_status(D(2026, 3, 7))
    assert weekend.is_holiday and weekend.holiday_name is None
    monday = day_status(D(2026, 3, 9))
    assert monday.is_workday and not monday.is_makeup_workday and monday.holiday_name is None
    assert day_status(dt.datetime(2026, 2, 14, 9, 30)).makeup_for_zh == "春节"  # noqa: DTZ001  (a naive one too)


@pytest.mark.parametrize("offset", [-1, 1])
def test_unpublished_year_raises_calendar_unknown(offset):
    years = published_years()
    year = years[-1] + 1 if offset > 0 else years[0] - 1
    with pytest.raises(CalendarUnknown) as exc:
        day_status(D(year, 5, 1))
    assert exc.value.year == year
    assert str(year) in exc.value.message_zh and str(year) in exc.value.message_en
    assert "法定节假日" in str(exc.value) and "statutory" in str(exc.value)


# ---- scheduled posts ----


def test_scheduled_posts_default():
    posts = scheduled_posts(2026)
    assert posts == sorted(posts, key=lambda p: (p.date, ["theme", "festival", "civic"].index(p.kind)))
    assert all(p.date.year == 2026 for p in posts)
    themes = [p for p in posts if p.kind == "theme"]
    assert [p.date for p in themes] == [D(2026, m, 1) for m in range(1, 13)]
    duanwu = [(p.date, p.offset_days) for p in posts if p.key == "duanwu"]
    assert duanwu == [(D(2026, 6, 12), 7), (D(2026, 6, 18), 1), (D(2026, 6, 19), 0)]
    n_events = len(FESTIVAL_KEYS) + len(CIVIC_KEYS)
    assert len(posts) == 12 + 3 * n_events


def test_scheduled_posts_civic_switches():
    posts = scheduled_posts(2026, offsets=(0,), enabled_civic={"leifeng"})
    assert {p.key for p in posts if p.kind == "civic"} == {"leifeng"}
    assert not [p for p in scheduled_posts(2026, enabled_civic=()) if p.kind == "civic"]
    with pytest.raises(ValueError):
        scheduled_posts(2026, enabled_civic={"no_such_day"})
    with pytest.raises(ValueError):
        scheduled_posts(2026, offsets=(-1,))


def test_long_offsets_cross_the_year_boundary():
    # 除夕 2028 is 2028-01-25: a 30-day reminder lands in 2027's list, not 2028's
    ours = [p for p in scheduled_posts(2027, offsets=(30,)) if p.key == "chuxi"]
    assert (D(2027, 12, 26), 30) in [(p.date, p.offset_days) for p in ours]
    assert all(p.date.year == 2028 for p in scheduled_posts(2028, offsets=(30,)))


def test_format_year_shape():
    text = format_year(2026)
    lines = text.splitlines()
    assert len(lines) == len(scheduled_posts(2026))
    assert "2026-06-12  festival  端午  -7d" in lines
    assert "2026-06-19  festival  端午" in lines
    assert "2026-03-01  theme  学雷锋志愿服务月" in lines
    assert "2026-02-16  festival  除夕" in lines
    for line in lines:
        parts = line.split("  ")
        assert D.fromisoformat(parts[0]).year == 2026
        assert parts[1] in ("theme", "festival", "civic")
        assert len(parts) == 3 or (len(parts) == 4 and parts[3][0] == "-" and parts[3][-1] == "d")


# ---- themes ----


def test_every_month_has_a_theme():
    assert [t.month for t in MONTHLY_THEMES] == list(range(1, 13))
    for month in range(1, 13):
        t = default_theme(month)
        assert t.month == month
        assert t.title_zh and t.title_en and t.text_zh and t.text_en
        assert 2 <= len(t.activities_zh) <= 3
        assert len(t.activities_zh) == len(t.activities_en)
    assert default_theme(3).title_zh == "学雷锋志愿服务月"
    for bad in (0, 13):
        with pytest.raises(ValueError):
            default_theme(bad)
