"""The days of a regular need (bot/requests/regular.py): every week, every two weeks, every month (the month's last
day when it is shorter), until a date."""

from __future__ import annotations

from datetime import date, datetime, timezone

from bot.requests import regular
from storage.models import RegularNeed


def need(every: str, first: date, until: date | None = None) -> RegularNeed:
    return RegularNeed(
        id=1,
        resident_id=1,
        service_id=1,
        description="",
        area="幸福小区",
        every=every,
        first_day=first,
        start="09:00",
        end="11:00",
        until=until,
        same_volunteer=True,
        active=True,
        created_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )


def test_weekly_and_fortnightly_days_until_a_date():
    weekly = need("week", date(2026, 12, 3), until=date(2026, 12, 24))
    assert regular.next_days(weekly, date(2026, 12, 3), count=10) == [
        date(2026, 12, 10),
        date(2026, 12, 17),
        date(2026, 12, 24),
    ]
    assert not regular.falls_on(weekly, date(2026, 11, 26))  # before the first
    fortnightly = need("2weeks", date(2026, 12, 3))
    assert regular.next_days(fortnightly, date(2026, 12, 4), count=2) == [date(2026, 12, 17), date(2026, 12, 31)]


def test_monthly_on_the_31st_falls_on_the_last_day_of_shorter_months():
    monthly = need("month", date(2027, 1, 31))
    assert regular.next_days(monthly, date(2027, 1, 31), count=3) == [
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    assert regular.months_ahead(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert regular.occurrence_key(7, date(2026, 12, 10)) == "regular:7:2026-12-10"
