from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.core.clock import daytime_offset

TZ = ZoneInfo("Asia/Shanghai")


def test_tests_start_in_the_afternoon_whatever_the_hour_they_run_at():
    """The e2e tests place a service for tomorrow 14:00 and report it done a day and three hours later: whenever
    they run, that is at least two hours after the service began and within the 12-hour cap (a run at 12:08 once
    gave 68 minutes, and a report of 1.5 hours was refused)."""
    start = datetime(2026, 12, 3, 0, 0, tzinfo=TZ)
    for minutes in range(0, 24 * 60, 4):
        now = (start + timedelta(minutes=minutes)).astimezone(timezone.utc)
        offset = daytime_offset(now, TZ)
        local = (now + offset).astimezone(TZ)
        assert timedelta() <= offset < timedelta(days=1), now
        assert 13 <= local.hour < 22, local
        tomorrow_2pm = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), TZ) + timedelta(hours=14)
        assert timedelta(hours=16) <= tomorrow_2pm - local <= timedelta(hours=25), local
        later = local + timedelta(days=1, hours=3)
        assert timedelta(hours=2) <= later - tomorrow_2pm <= timedelta(hours=12), local
