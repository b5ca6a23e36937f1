"""/rank with opt-out, and the monthly 最美志愿者 shortlist and vote, through the fake Bot API."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import select

from bot.ledger.ranking import month_bounds
from storage.models import Occurrence, OutboxMessage, Volunteer
from tests.ledger_setup import seed_hours, station


async def test_rank_with_opt_out_in_chinese(fake, start_app):
    app, st, admin, vol, vol2, res, group = await station(fake, start_app, "zh-hans")
    await seed_hours(app, vol.id, 300, approved_by=admin.id)
    await seed_hours(app, vol2.id, 600, approved_by=admin.id)
    await seed_hours(app, vol.id, 6000, days_ago=400, approved_by=admin.id)  # another year: not counted
    prefs = await st.say(vol2, "/settings", "个人设置")
    await st.tap(vol2, prefs, "排行榜")
    await fake.wait_idle()

    month = await st.say(vol, "/rank", "志愿服务时长排行")
    assert "全站" in month.text
    lines = month.text.split("\n")
    assert lines[1] == "1. 一位志愿者 · 10 小时" and lines[2] == "2. 李明 · 5 小时"
    assert "张华" not in month.text and "13800138001" not in month.text
    await st.say(vol, "/rank year", "1. 一位志愿者 · 10 小时")
    team = await st.say(vol, "/rank team 综合志愿服务队", "综合志愿服务队")
    assert "2. 李明 · 5 小时" in team.text
    await st.tap(vol, team, "本年")
    await fake.wait_idle()
    assert str(app.clock.now().year) in fake.bot_messages(vol)[-1].text
    in_group = await st.say(vol, "/rank", "排行", chat=group)
    assert "张华" not in in_group.text
    await st.say(vol, "/rank month please", "用法")
    await st.say(vol, "/rank team 不存在的队", "不存在的队")
    await st.say(res, "/rank", "志愿者")  # a resident: only volunteers and coordinators


async def test_rank_in_english(fake, start_app):
    app, st, admin, vol, vol2, res, group = await station(fake, start_app, "en")
    await seed_hours(app, vol.id, 90, approved_by=admin.id)
    await seed_hours(app, vol2.id, 60, approved_by=admin.id)
    prefs = await st.say(vol, "/settings", "preferences")
    await st.tap(vol, prefs, "Show my name")
    await fake.wait_idle()
    ranked = await st.say(admin, "/rank", "Volunteers by approved hours")
    assert "1. a volunteer · 1.5 h" in ranked.text and "2. 张华 · 1 h" in ranked.text and "李明" not in ranked.text
    await st.tap(admin, ranked, "This year")
    await fake.wait_idle()
    assert "1. a volunteer · 1.5 h" in fake.bot_messages(admin)[-1].text

    # Forged or stale buttons change nothing.
    hello = await st.say(res, "/start", "/")
    for data, expect in (
        ("st1:rank", "Only registered volunteers"),
        ("rk1:month:0", "Only registered volunteers"),
        ("mv1:2026-10:1", "Only a coordinator"),
    ):
        assert expect in (await fake.answer(await res.tap_data(hello, data))).text
    for data in ("st1:phone", "rk1:week:0", "rk1:month:99999999999"):
        assert "out of date" in (await fake.answer(await vol.tap_data(prefs, data))).text
    assert "out of date" in (await fake.answer(await admin.tap_data(ranked, "mv1:2026-13:1"))).text
    async with app.db.read() as s:
        assert (await s.get(Volunteer, vol.id)).show_in_rank is False
        assert (await s.get(Volunteer, vol2.id)).show_in_rank is True


async def _first_of_next_month(app) -> datetime:
    tz = app.settings.tz
    today = app.clock.now().astimezone(tz).date()
    _, end = month_bounds(today.year, today.month, tz)  # 00:00 of next month's 1st, station time
    return datetime.combine(end.astimezone(tz).date(), time(app.settings.theme_post_hour), tzinfo=tz)


async def run_shortlist_month(fake, start_app, lang: str):
    app, st, admin, vol, vol2, res, group = await station(fake, start_app, lang)
    third = fake.user("陈静", language_code=lang)
    group.add(third)
    await st.register(
        third,
        "陈静",
        "13800138002",
        ["综合志愿服务队"],
        **(dict(done="Done", prompt_name="name") if lang == "en" else {}),
    )
    await seed_hours(app, vol.id, 600, approved_by=admin.id)
    await seed_hours(app, vol2.id, 300, approved_by=admin.id)
    await seed_hours(app, third.id, 120, approved_by=admin.id)
    month = app.clock.now().astimezone(app.settings.tz).strftime("%Y-%m")
    due = await _first_of_next_month(app)
    app.clock.advance(seconds=(due - app.clock.now()).total_seconds() - 60)
    assert "recognition:" not in " ".join((await app.scheduler.run_due()).followups)  # 08:59: not yet
    app.clock.advance(seconds=60)
    await app.scheduler.run_due()
    await app.scheduler.run_due()  # a second tick sends nothing more
    return app, st, admin, vol, vol2, third, group, month


async def test_monthly_shortlist_and_poll_in_chinese(fake, start_app):
    app, st, admin, vol, vol2, third, group, month = await run_shortlist_month(fake, start_app, "zh-hans")
    shortlist = await fake.wait_message(admin, contains="最美志愿者候选名单")
    assert month in shortlist.text
    assert shortlist.text.index("李明") < shortlist.text.index("张华") < shortlist.text.index("陈静")
    assert "13800138000" not in shortlist.text
    async with app.db.read() as s:
        keys = (await s.execute(select(Occurrence.key).where(Occurrence.key.like("recognition:%")))).scalars().all()
        sent = (
            (
                await s.execute(
                    select(OutboxMessage).where(
                        OutboxMessage.chat_id == admin.id, OutboxMessage.text.like("%最美志愿者%")
                    )
                )
            )
            .scalars()
            .all()
        )
    this_month = app.clock.now().astimezone(app.settings.tz).strftime("%Y-%m")
    assert keys == [f"recognition:{this_month}"] and len(sent) == 1

    answer = await st.tap(admin, shortlist, "综合志愿服务队")
    assert "3 位候选人" in answer.text
    await fake.wait_idle()
    polls = fake.calls_to("sendPoll")
    assert len(polls) == 1 and int(polls[0]["chat_id"]) == group.id
    assert month in polls[0]["question"]
    options = [o if isinstance(o, str) else o["text"] for o in polls[0]["options"]]
    assert options == ["李明", "张华", "陈静"]
    again = await st.tap(admin, shortlist, "综合志愿服务队")
    assert "已在该群发起过" in again.text
    forged = await fake.answer(await vol.tap_data(fake.bot_messages(vol)[-1], f"mv1:{month}:1"))  # in his chat
    assert "协调员" in forged.text
    assert len(fake.calls_to("sendPoll")) == 1


async def test_monthly_shortlist_and_poll_in_english_without_opted_out(fake, start_app):
    app, st, admin, vol, vol2, third, group, month = await run_shortlist_month(fake, start_app, "en")
    async with app.db.tx() as s:
        (await s.get(Volunteer, third.id)).show_in_rank = False
    shortlist = await fake.wait_message(admin, contains="top volunteers")
    answer = await st.tap(admin, shortlist, "Open a vote")
    assert "2 candidates" in answer.text
    await fake.wait_idle()
    polls = fake.calls_to("sendPoll")
    options = [o if isinstance(o, str) else o["text"] for o in polls[0]["options"]]
    assert options == ["李明", "张华"] and "Who should be" not in polls[0]["question"]  # groups speak Chinese
