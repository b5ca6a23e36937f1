"""Days and time windows as people type them (bot/core/when.py): a table of real phrasings and what they mean.

Now is Wednesday 2 December 2026, 10:00 at the station (Asia/Shanghai). Each row: the text, what it answers ("day":
the day question, "window": the time question, the day already chosen), and the reading: the day, the window, and
whether it is sure (False: read back for a one-tap confirmation).
"""

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import DomainError
from bot.core.when import DEFAULT_WINDOWS, read

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)  # Wed 2 Dec 2026 10:00 in Shanghai
WED, THU, FRI, SAT, SUN = (date(2026, 12, d) for d in (2, 3, 4, 5, 6))
MON2, WED2 = date(2026, 12, 7), date(2026, 12, 9)


def t(h: int, m: int = 0) -> time:
    return time(h, m)


W = {part: window for part, window in DEFAULT_WINDOWS.items()}

CASES = [
    # the issue's own phrasings
    ("下午两点到四点", "window", None, (t(14), t(16)), True),
    ("下午2点到4点", "window", None, (t(14), t(16)), True),
    ("明天上午", "day", THU, W["上午"], True),
    ("2pm-4pm", "window", None, (t(14), t(16)), True),
    ("tomorrow 9-11", "day", THU, (t(9), t(11)), True),
    ("十点一刻", "window", None, (t(10, 15), t(12, 15)), False),
    ("2点半", "window", None, (t(14, 30), t(16, 30)), False),
    ("两点", "window", None, (t(14), t(16)), False),
    # days alone
    ("今天", "day", WED, None, True),
    ("今日", "day", WED, None, True),
    ("明天", "day", THU, None, True),
    ("明日", "day", THU, None, True),
    ("后天", "day", FRI, None, True),
    ("大后天", "day", SAT, None, True),
    ("today", "day", WED, None, True),
    ("Tomorrow", "day", THU, None, True),
    ("the day after tomorrow", "day", FRI, None, True),
    ("周六", "day", SAT, None, True),
    ("周日", "day", SUN, None, True),
    ("周三", "day", WED, None, True),
    ("星期天", "day", SUN, None, True),
    ("星期日", "day", SUN, None, True),
    ("星期五", "day", FRI, None, True),
    ("礼拜六", "day", SAT, None, True),
    ("这周六", "day", SAT, None, True),
    ("本周五", "day", FRI, None, True),
    ("下周三", "day", WED2, None, True),
    ("下周一", "day", MON2, None, True),
    ("下个星期三", "day", WED2, None, True),
    ("下下周一", "day", date(2026, 12, 14), None, True),
    ("saturday", "day", SAT, None, True),
    ("Sat", "day", SAT, None, True),
    ("next monday", "day", MON2, None, True),
    ("next wednesday", "day", WED2, None, True),
    ("12月5日", "day", SAT, None, True),
    ("12月5号", "day", SAT, None, True),
    ("十二月五日", "day", SAT, None, True),
    ("3月5日", "day", date(2027, 3, 5), None, True),
    ("1月5日", "day", date(2027, 1, 5), None, True),
    ("2026年12月5日", "day", SAT, None, True),
    ("2026-12-05", "day", SAT, None, True),
    ("2026/12/5", "day", SAT, None, True),
    ("2027.1.8", "day", date(2027, 1, 8), None, True),
    ("12/5", "day", SAT, None, True),
    ("1/5", "day", date(2027, 1, 5), None, True),
    ("5号", "day", SAT, None, True),
    ("6日", "day", SUN, None, True),
    ("1号", "day", date(2027, 1, 1), None, True),
    ("３月５日", "day", date(2027, 3, 5), None, True),
    # ambiguous days: read back
    ("3.5", "day", date(2027, 3, 5), None, False),
    ("12.6", "day", SUN, None, False),
    ("12-5", "day", SAT, None, False),
    # a day with a window
    ("明天下午两点到四点", "day", THU, (t(14), t(16)), True),
    ("明天下午2点到4点", "day", THU, (t(14), t(16)), True),
    ("明天 14:00-16:00", "day", THU, (t(14), t(16)), True),
    ("后天 14:00~16:00", "day", FRI, (t(14), t(16)), True),
    ("周六下午", "day", SAT, W["下午"], True),
    ("周六上午九点到十一点", "day", SAT, (t(9), t(11)), True),
    ("星期六 上午9点至11点", "day", SAT, (t(9), t(11)), True),
    ("下周三晚上", "day", WED2, W["晚上"], True),
    ("12月6日下午两点到四点", "day", SUN, (t(14), t(16)), True),
    ("十二月六日下午两点到四点", "day", SUN, (t(14), t(16)), True),
    ("12月6日 14:00-16:00", "day", SUN, (t(14), t(16)), True),
    ("今天下午3点到5点", "day", WED, (t(15), t(17)), True),
    ("今晚", "day", WED, W["晚上"], True),
    ("明早", "day", THU, W["早上"], True),
    ("明晚七点到九点", "day", THU, (t(19), t(21)), True),
    ("明天中午", "day", THU, W["中午"], True),
    ("明天傍晚", "day", THU, W["傍晚"], True),
    ("明天早上", "day", THU, W["早上"], True),
    ("明天的下午", "day", THU, W["下午"], True),
    ("tomorrow afternoon", "day", THU, W["下午"], True),
    ("saturday morning", "day", SAT, W["上午"], True),
    ("tomorrow 2pm-4pm", "day", THU, (t(14), t(16)), True),
    ("tomorrow 2-4pm", "day", THU, (t(14), t(16)), True),
    ("tomorrow 9am to 11am", "day", THU, (t(9), t(11)), True),
    ("next monday 2pm", "day", MON2, (t(14), t(16)), False),
    ("tonight", "day", WED, W["晚上"], True),
    ("明天两点", "day", THU, (t(14), t(16)), False),
    ("明天下午两点钟", "day", THU, (t(14), t(16)), False),
    # a window without a day where the day is asked: today if still ahead, else tomorrow; read back
    ("下午两点到四点", "day", WED, (t(14), t(16)), False),
    ("早上八点到十点", "day", THU, (t(8), t(10)), False),
    ("上午", "day", THU, W["上午"], False),
    ("晚上", "day", WED, W["晚上"], False),
    # windows
    ("14:00-16:00", "window", None, (t(14), t(16)), True),
    ("14点-16点", "window", None, (t(14), t(16)), True),
    ("14：30～16：00", "window", None, (t(14, 30), t(16)), True),
    ("8点到10点半", "window", None, (t(8), t(10, 30)), True),
    ("9-11", "window", None, (t(9), t(11)), True),
    ("9:30-11", "window", None, (t(9, 30), t(11)), True),
    ("14时至16时", "window", None, (t(14), t(16)), True),
    ("14时30分至16时", "window", None, (t(14, 30), t(16)), True),
    ("10点15分到12点", "window", None, (t(10, 15), t(12)), True),
    ("十点一刻到十二点", "window", None, (t(10, 15), t(12)), True),
    ("十点三刻到十二点", "window", None, (t(10, 45), t(12)), True),
    ("上午", "window", None, W["上午"], True),
    ("下午", "window", None, W["下午"], True),
    ("晚上", "window", None, W["晚上"], True),
    ("凌晨", "window", None, W["凌晨"], True),
    ("早上", "window", None, W["早上"], True),
    ("上午九点到十一点", "window", None, (t(9), t(11)), True),
    ("上午10点到下午2点", "window", None, (t(10), t(14)), True),
    ("10点到下午2点", "window", None, (t(10), t(14)), True),
    ("2到4点下午", "window", None, (t(14), t(16)), True),
    ("晚上八点到九点半", "window", None, (t(20), t(21, 30)), True),
    ("晚上7点-9点", "window", None, (t(19), t(21)), True),
    ("下午两点半到四点半", "window", None, (t(14, 30), t(16, 30)), True),
    ("下午2:30-4:30", "window", None, (t(14, 30), t(16, 30)), True),
    ("下午 2-4", "window", None, (t(14), t(16)), True),
    ("中午12点到1点", "window", None, (t(12), t(13)), True),
    ("2pm - 4pm", "window", None, (t(14), t(16)), True),
    ("2:30pm-4pm", "window", None, (t(14, 30), t(16)), True),
    ("9am-11am", "window", None, (t(9), t(11)), True),
    ("10am-2pm", "window", None, (t(10), t(14)), True),
    ("from 2pm to 4pm", "window", None, (t(14), t(16)), True),
    ("afternoon", "window", None, W["下午"], True),
    ("两点到四点", "window", None, (t(14), t(16)), False),  # no part of the day: the afternoon, read back
    ("2点到4点", "window", None, (t(14), t(16)), False),
    ("10点到2点", "window", None, (t(10), t(14)), False),
    ("下午三点", "window", None, (t(15), t(17)), False),
    ("3pm", "window", None, (t(15), t(17)), False),
    ("两点钟", "window", None, (t(14), t(16)), False),
    ("明天下午两点到四点", "window", THU, (t(14), t(16)), True),  # a day given at the time question
    ("周六上午", "window", SAT, W["上午"], True),
]


@pytest.mark.parametrize("text,want,day,window,sure", CASES, ids=[f"{c[1]}:{c[0]}" for c in CASES])
def test_phrasing(text, want, day, window, sure):
    reading = read(text, NOW, TZ, want=want)
    assert (reading.day, reading.window, reading.sure) == (day, window, sure)


def test_the_table_is_long_enough():
    assert len(CASES) >= 80


@pytest.mark.parametrize(
    "text,want,code",
    [
        ("", "day", "bad_date"),
        ("soon", "day", "bad_date"),
        ("abc", "day", "bad_date"),
        ("下次吧", "day", "bad_date"),
        ("随便", "window", "bad_time"),
        ("soon", "window", "bad_time"),
        ("25点", "window", "bad_time"),
        ("14:75-16:00", "window", "bad_time"),
        ("-16:00", "window", "bad_time"),
        ("上午下午", "window", "bad_time"),
        ("2026-02-30", "day", "bad_date"),
        ("13月5日", "day", "bad_date"),
        ("2月30日", "day", "bad_date"),
        ("16:00-14:00", "window", "bad_window"),
        ("下午四点到两点", "window", "bad_window"),
        ("16:00-14:00", "day", "bad_window"),
        # past days are refused, not moved to next year
        ("昨天", "day", "past_time"),
        ("yesterday", "day", "past_time"),
        ("11月30日", "day", "past_time"),
        ("2026-11-30", "day", "past_time"),
        ("2025年12月5日", "day", "past_time"),
        ("本周一", "day", "past_time"),
        ("今天早上", "day", "past_time"),
        ("今天上午八点到九点", "day", "past_time"),
    ],
)
def test_refusals(text, want, code):
    with pytest.raises(DomainError) as err:
        read(text, NOW, TZ, want=want)
    assert err.value.code == code
