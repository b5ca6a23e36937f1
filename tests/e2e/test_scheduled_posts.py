"""Scheduled posts reach the bound group through the running bot."""

from __future__ import annotations

import logging
from datetime import datetime

import pytest

from scheduling.themes import default_theme
from tests.helpers import Station
from tests.station_db import SHANGHAI


async def test_theme_post_reaches_the_bound_group(fake, start_app, clock):
    admin = fake.user("Wang", language_code="en")
    group = fake.group("Team 1", members=[admin])
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "Hello")
    await st.say(admin, "/bind 1", "receives the requests", chat=group)

    here = clock.now().astimezone(SHANGHAI)
    first = datetime(here.year + here.month // 12, here.month % 12 + 1, 1, 9, 0, 30, tzinfo=SHANGHAI)
    clock.advance(seconds=(first - clock.now()).total_seconds())  # just after 09:00 on the 1st
    theme = default_theme(first.month)
    app.scheduler.wake()
    post = await fake.wait_message(group, contains=theme.title_zh, timeout=10)
    assert theme.activities_zh[0] in post.text
    await fake.wait_message(admin, contains=theme.title_en)  # the coordinator, in English

    app.scheduler.wake()  # a second tick right away sends nothing again
    await fake.wait_idle(quiet=0.3)
    assert sum(theme.title_zh in (m.text or "") for m in fake.bot_messages(group)) == 1


@pytest.fixture(autouse=True)
def _scheduler_logs(caplog):
    caplog.set_level(logging.WARNING, logger="scheduling.scheduler")
