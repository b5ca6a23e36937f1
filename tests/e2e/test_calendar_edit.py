"""Coordinators edit the station's calendar from chat (/theme, /festival, /civic), and the scheduled posts use
it. Through the fake Bot API, in Chinese and English; the scheduler is run by the test at chosen times."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduling.cli import CalendarSettings, station_year
from scheduling.holidays import festival_dates
from scheduling.themes import default_theme
from storage.models import Activity, CustomText, Occurrence
from tests.chat import Unchanged, assert_error, forge, reply, set_now
from tests.helpers import Station
from tests.station_db import local

ROOT = Path(__file__).resolve().parents[2]


class Desk:
    """A station with a Chinese and an English coordinator, a resident and a bound group; the scheduler's
    own ticking is stopped so that each run is the test's."""

    def __init__(self, fake, app, zh, en, resident, group):
        self.fake, self.app, self.zh, self.en, self.resident, self.group = fake, app, zh, en, resident, group
        self.st = Station(fake)

    async def run(self, clock, at: datetime):
        set_now(clock, at)
        return await self.app.scheduler.run_due()

    async def occurrences(self) -> dict[str, str]:
        async with self.app.db.read() as s:
            return {o.key: o.status for o in (await s.execute(select(Occurrence))).scalars()}


async def desk(fake, start_app, clock, at: datetime, **settings) -> Desk:
    zh = fake.user("王站长", language_code="zh-hans")
    en = fake.user("Wang", language_code="en")
    resident = fake.user("Zhao", language_code="en")
    group = fake.group("Team 1", members=[zh, en, resident])
    set_now(clock, at)
    app = await start_app(admin_ids=[zh.id, en.id], **settings)
    app.scheduler.shutdown()
    d = Desk(fake, app, zh, en, resident, group)
    for user in (zh, en, resident):
        await d.st.say(user, "/start", "/")
    await d.st.say(en, "/bind 1", "receives the requests", chat=group)
    return d


async def tap_edit(fake, user, message, button: str, expect: str):
    """Tap a button of `message` and wait until that message is edited to contain `expect`."""
    index = [m.message_id for m in fake.bot_messages(user)].index(message.message_id)
    answer = await fake.answer(await user.tap(message, button))
    await fake.wait_message(user, contains=expect, after=index)
    return answer


async def custom_texts(app) -> int:
    async with app.db.read() as s:
        return (await s.execute(select(func.count()).select_from(CustomText))).scalar()


async def add_activity(app, title: str, starts: datetime, status: str = "published") -> None:
    now = app.clock.now()
    async with app.db.tx() as s:
        count = (await s.execute(select(func.count()).select_from(Activity))).scalar()
        s.add(
            Activity(
                number=f"A-{count + 1}",
                title=title,
                theme="",
                place="社区广场",
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                capacity=10,
                team_id=None,
                created_by=1,
                status=status,
                checkin_code="1234",
                created_at=now,
                updated_at=now,
            )
        )


# /theme ------------------------------------------------------------------------------------------------


async def test_theme_view_edit_reset_and_the_monthly_post(fake, start_app, clock):
    d = await desk(fake, start_app, clock, local(2027, 2, 27, 12))
    st, zh, en = d.st, d.zh, d.en

    listing = await st.say(zh, "/theme", "每月活动主题")
    assert "3. 学雷锋志愿服务月" in listing.text and "12. 冬日暖心·志愿同行" in listing.text
    march = await st.say(zh, "/theme 3", "学雷锋志愿服务月")
    assert march.text.startswith("📅 3月主题：学雷锋志愿服务月")  # not “本月主题” in February
    assert default_theme(3).activities_zh[0] in march.text and "默认内容" in march.text

    # Edit in Chinese: a preview first, nothing stored until saved.
    preview = await st.say(zh, "/theme 3 学雷锋·我先行 | 人人争做活雷锋。 | 义剪义诊；家电维修", "预览")
    assert "学雷锋·我先行" in preview.text and "• 家电维修" in preview.text and "人人争做活雷锋" in preview.text
    assert await custom_texts(d.app) == 0
    await tap_edit(fake, zh, preview, "保存", "✅ 已保存")
    assert await custom_texts(d.app) == 1
    shown = await st.say(zh, "/theme 3", "学雷锋·我先行")
    assert "本站已修改" in shown.text and "• 义剪义诊" in shown.text
    # An empty part keeps what is there: only the text changes.
    preview = await st.say(zh, "/theme 3 | 弘扬雷锋精神，志愿服务进万家。 |", "预览")
    await tap_edit(fake, zh, preview, "保存", "✅ 已保存")
    shown = await st.say(zh, "/theme 3", "志愿服务进万家")
    assert "学雷锋·我先行" in shown.text and "• 家电维修" in shown.text
    # The English text keeps its default until an English-speaking coordinator edits it.
    english = await st.say(en, "/theme 3", "Learn from Lei Feng Volunteer Month")
    assert "The default text." in english.text
    assert "3. 学雷锋·我先行（已修改）" in (await st.say(zh, "/theme", "每月")).text

    # The 1 March post: the edited theme, and March's published activities in station time.
    await add_activity(d.app, "义剪进社区", local(2027, 3, 5, 9, 30))
    await add_activity(d.app, "已取消的活动", local(2027, 3, 6, 9), status="cancelled")
    await add_activity(d.app, "四月读书会", local(2027, 4, 1, 0, 30))  # 31 March 16:30 UTC: still April here
    seen = {user.id: len(fake.bot_messages(user)) for user in (zh, en)}
    result = await d.run(clock, local(2027, 3, 1, 9, 0, 30))
    assert "theme:2027-03" in result.queued
    post = await fake.wait_message(d.group, contains="学雷锋·我先行")
    assert "志愿服务进万家" in post.text and "• 家电维修" in post.text
    assert "本月活动" in post.text and "3月5日" in post.text and "09:30 义剪进社区 – 社区广场" in post.text
    assert "已取消的活动" not in post.text and "四月读书会" not in post.text
    en_post = await fake.wait_message(en, contains="Learn from Lei Feng Volunteer Month", after=seen[en.id])
    assert "This month's activities" in en_post.text and "义剪进社区" in en_post.text
    zh_post = await fake.wait_message(zh, contains="📅", after=seen[zh.id])
    assert "学雷锋·我先行" in zh_post.text

    reset = await st.say(zh, "/theme 3 reset", "恢复默认")
    assert "3月" in reset.text and await custom_texts(d.app) == 0
    assert "默认内容" in (await st.say(zh, "/theme 3", "学雷锋志愿服务月")).text
    assert "nothing to reset" in (await st.say(en, "/theme 3 reset", "reset")).text


async def test_theme_discard_stale_roles_and_bad_input(fake, start_app, clock):
    d = await desk(fake, start_app, clock, local(2027, 2, 27, 12))
    st, zh, en, resident, app = d.st, d.zh, d.en, d.resident, d.app

    preview = await st.say(en, "/theme 5 Work and Mothers", "Preview")
    await tap_edit(fake, en, preview, "Discard", "Not saved")
    answer = await forge(fake, en, preview, "th1:save:5")  # the preview is gone: its button is stale
    assert_error(app, answer.text, "stale", en)
    assert await custom_texts(app) == 0

    preview = await st.say(en, "/theme 5 Work and Mothers", "Preview")
    await tap_edit(fake, en, preview, "Save", "✅ Saved")
    assert_error(app, (await forge(fake, en, preview, "th1:save:5")).text, "stale", en)  # a second tap saves nothing
    assert "Work and Mothers" in (await st.say(en, "/theme 5", "Work and Mothers")).text

    start = fake.bot_messages(resident)[0]
    async with Unchanged(app, fake, zh, en, resident):
        assert_error(app, await reply(fake, resident, "/theme"), "not_coordinator", resident)
        assert_error(app, await reply(fake, resident, "/theme 3 Mine | mine"), "not_coordinator", resident)
        assert_error(app, (await forge(fake, resident, start, "th1:save:3")).text, "not_coordinator", resident)
        assert_error(app, await reply(fake, zh, "/theme 13"), "calendar_bad_month", zh, month="13")
        assert_error(app, await reply(fake, en, "/theme 0 reset"), "calendar_bad_month", en, month="0")
        assert_error(app, await reply(fake, en, "/theme March"), "calendar_bad_month", en, month="March")
        assert_error(app, await reply(fake, zh, "/theme 3 " + "长" * 41), "too_long", zh, length=41, limit=40)
        assert_error(
            app,
            await reply(fake, en, "/theme 3 | | " + "; ".join(["x"] * 7)),
            "calendar_too_many",
            en,
            count=7,
            limit=6,
        )
        assert_error(
            app,
            await reply(fake, en, "/theme 3 a | b | c | d"),
            "usage",
            en,
            usage="/theme 3 title | text | activity; activity",
        )


async def test_theme_step_by_step(fake, start_app, clock):
    d = await desk(fake, start_app, clock, local(2027, 2, 27, 12))
    st, zh, en, app = d.st, d.zh, d.en, d.app

    ask = await st.say(zh, "/theme 6 修改", "请发送新标题")
    assert "关爱儿童·端午安康" in ask.text
    async with Unchanged(app, fake, zh):  # too long: asked again, nothing kept
        assert_error(app, await reply(fake, zh, "长" * 41), "too_long", zh, length=41, limit=40)
    ask = await st.say(zh, "-", "主题说明")
    assert default_theme(6).text_zh in ask.text
    ask = await st.say(zh, "童心向党，端午安康。", "建议活动")
    assert default_theme(6).activities_zh[1] in ask.text
    preview = await st.say(zh, "六一游园会\n包粽子送邻里", "预览")
    assert "关爱儿童·端午安康" in preview.text and "童心向党" in preview.text and "• 六一游园会" in preview.text
    await tap_edit(fake, zh, preview, "保存", "✅ 已保存")
    shown = await st.say(zh, "/theme 6", "童心向党")
    assert "• 包粽子送邻里" in shown.text and default_theme(6).activities_zh[2] not in shown.text

    await st.say(en, "/theme 6 edit", "Send the new title")
    await st.say(en, "Children First", "Send the new text")
    await st.say(en, "/cancel", "Cancelled")
    assert "Children First" not in (await st.say(en, "/theme 6", "Theme of month 6")).text
    assert await custom_texts(app) == 1


# /festival --------------------------------------------------------------------------------------------


async def test_festival_text_edited_used_by_the_configured_reminders(fake, start_app, clock):
    duanwu = {f.key: f.date for f in festival_dates(2027)}["duanwu"]

    def at(days_before: int) -> datetime:
        day = duanwu - timedelta(days=days_before)
        return local(day.year, day.month, day.day, 9, 0, 30)

    d = await desk(fake, start_app, clock, at(10), festival_remind_days="3")
    st, zh, en = d.st, d.zh, d.en

    shown = await st.say(en, "/festival Dragon Boat Festival", "zongzi")
    assert f"{duanwu.year}-{duanwu.month}-{duanwu.day}" in shown.text and "The default text." in shown.text
    assert duanwu.isoformat() not in shown.text  # never an ISO date in a message
    assert "Reminders go out 3 day(s) before and on the day." in shown.text
    assert "五彩绳" in (await st.say(zh, "/festival 端午节", "端午")).text
    saved = await st.say(zh, "/festival 端午 为独居老人包粽子，下午两点在活动室集合。", "已保存")
    assert "活动室集合" in saved.text
    shown = await st.say(zh, "/festival duanwu", "活动室集合")
    assert "本站已修改" in shown.text

    result = await d.run(clock, at(7))  # not configured: no reminder
    assert not [k for k in result.queued if "duanwu" in k]
    result = await d.run(clock, at(3))
    assert result.queued == ["festival:2027:duanwu:-3d"]
    post = await fake.wait_message(d.group, contains="距端午还有 3 天")
    assert "活动室集合" in post.text and "五彩绳" not in post.text
    en_post = await fake.wait_message(en, contains="Dragon Boat Festival is in 3 days")
    assert "zongzi" in en_post.text  # the English text was not edited

    reset = await st.say(zh, "/festival 端午 reset", "恢复默认")
    assert "端午" in reset.text
    result = await d.run(clock, at(1))  # not configured either
    assert not [k for k in result.queued if "duanwu" in k]
    result = await d.run(clock, at(0))
    assert result.queued == ["festival:2027:duanwu:0d"]
    post = await fake.wait_message(d.group, contains="今天是端午")
    assert "五彩绳" in post.text and "活动室集合" not in post.text
    assert {k for k in await d.occurrences() if "duanwu" in k} == {
        "festival:2027:duanwu:-3d",
        "festival:2027:duanwu:0d",
    }


async def test_festival_roles_and_bad_input(fake, start_app, clock):
    d = await desk(fake, start_app, clock, local(2027, 5, 1, 12))
    st, zh, en, resident, app = d.st, d.zh, d.en, d.resident, d.app
    listing = await st.say(en, "/festival", "Festivals and civic days")
    assert "• Dragon Boat Festival" in listing.text and "• Learn from Lei Feng Day" in listing.text
    shown = await st.say(zh, "/festival 端午", "端午")  # the default FESTIVAL_REMIND_DAYS, 7,1
    assert "提前 7、1 天及当天发布提醒。" in shown.text and "2027年6月9日（周三）" in shown.text
    async with Unchanged(app, fake, zh, en, resident):
        assert_error(app, await reply(fake, resident, "/festival 端午"), "not_coordinator", resident)
        assert_error(app, await reply(fake, resident, "/festival 端午 mine"), "not_coordinator", resident)
        assert_error(
            app, await reply(fake, en, "/festival Christmas party"), "calendar_no_festival", en, name="Christmas"
        )
        assert_error(app, await reply(fake, zh, "/festival 圣诞节 吃大餐"), "calendar_no_festival", zh, name="圣诞节")
        assert_error(app, await reply(fake, zh, "/festival 端午 " + "粽" * 501), "too_long", zh, length=501, limit=500)
    # a civic day's text is edited the same way
    saved = await st.say(en, "/festival Mother's Day Flowers for every mother in the compound.", "Saved")
    assert "Flowers for every mother" in saved.text


# /civic -----------------------------------------------------------------------------------------------


def buttons(fake, user) -> list[str]:
    return fake.bot_messages(user)[-1].buttons


@pytest.mark.long
async def test_civic_days_toggled_and_honoured(fake, start_app, clock):
    d = await desk(fake, start_app, clock, local(2027, 2, 20, 12))
    st, zh, en, resident, app = d.st, d.zh, d.en, d.resident, d.app

    listing = await st.say(zh, "/civic", "纪念日")
    assert "✅ 学雷锋纪念日 3/5" in listing.buttons and "✅ 母亲节 5/9" in listing.buttons
    answer = await st.tap(zh, listing, "学雷锋纪念日")
    assert answer.text == "学雷锋纪念日：已关闭"
    await fake.wait_idle(quiet=0.1)
    assert "⬜ 学雷锋纪念日 3/5" in buttons(fake, zh)
    answer = await st.tap(zh, fake.bot_messages(zh)[-1], "母亲节")
    assert answer.text == "母亲节：已关闭"

    mine = await st.say(en, "/civic", "Civic days")
    assert "⬜ Mother's Day 5/9" in mine.buttons and "✅ International Women's Day 3/8" in mine.buttons
    answer = await st.tap(en, mine, "Mother's Day")
    assert answer.text == "Mother's Day: on"
    answer = await forge(fake, en, mine, "cv1:mothers_day:1")  # a replayed tap changes nothing more
    assert answer.text == "Mother's Day: on"

    start = fake.bot_messages(resident)[0]
    async with Unchanged(app, fake, zh, en, resident):
        assert_error(app, await reply(fake, resident, "/civic"), "not_coordinator", resident)
        assert_error(app, (await forge(fake, resident, start, "cv1:leifeng:1")).text, "not_coordinator", resident)
        assert_error(app, (await forge(fake, en, mine, "cv1:no_such_day:1")).text, "stale", en)
        assert_error(app, (await forge(fake, en, mine, "cv1:leifeng:7")).text, "stale", en)

    # 学雷锋纪念日 is off: its reminders are recorded as not sent, never posted, even when turned on later.
    result = await d.run(clock, local(2027, 2, 26, 9, 0, 30))
    assert result.disabled == ["civic:2027:leifeng:-7d"] and result.queued == []
    result = await d.run(clock, local(2027, 3, 1, 9, 0, 30))
    assert "civic:2027:womens_day:-7d" in result.queued  # on
    await d.run(clock, local(2027, 3, 4, 9, 0, 30))
    result = await d.run(clock, local(2027, 3, 5, 9, 0, 30))
    assert result.disabled == ["civic:2027:leifeng:0d"] and result.queued == []
    await st.tap(zh, await st.say(zh, "/civic", "纪念日"), "学雷锋纪念日")  # on again, after the day's post time
    assert (await d.run(clock, local(2027, 3, 5, 10))).queued == []
    statuses = await d.occurrences()
    assert statuses["civic:2027:leifeng:-1d"] == "disabled" and statuses["civic:2027:womens_day:-7d"] == "queued"
    await fake.wait_message(d.group, contains="距妇女节还有 7 天")
    await fake.wait_idle(quiet=0.1)
    assert not [m for m in fake.bot_messages(d.group) if "学雷锋纪念日" in (m.text or "")]
    assert not [m for m in fake.bot_messages(zh) if "学雷锋纪念日" in (m.text or "") and "⏰" in (m.text or "")]

    # The calendar command shows what this station posts: 母亲节 on, 学雷锋纪念日 on again, the configured days.
    await st.tap(zh, await st.say(zh, "/civic", "纪念日"), "国庆节")
    text = await station_year(
        2027, CalendarSettings(_env_file=None, database_url=app.settings.database_url, festival_remind_days="3")
    )
    assert "2027-10-01  civic  国庆节" not in text and "2027-05-09  civic  母亲节" in text
    assert "2027-03-05  civic  学雷锋纪念日" in text and "-7d" not in text and "-3d" in text
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "calendar",
        "2027",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        env={**os.environ, "DATABASE_URL": app.settings.database_url, "FESTIVAL_REMIND_DAYS": "3"},
    )
    out, _err = await proc.communicate()
    assert proc.returncode == 0 and out.decode().strip() == text


def test_calendar_settings_days():
    assert CalendarSettings(_env_file=None, festival_remind_days="7, 1").festival_remind_days == (7, 1)
    assert CalendarSettings(_env_file=None, festival_remind_days="").festival_remind_days == ()
    for bad in ("0", "61", "seven", "-1"):
        try:
            CalendarSettings(_env_file=None, festival_remind_days=bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} accepted")
