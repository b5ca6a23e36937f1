"""Task orders (任务单, issue 14) end to end through the fake Bot API, on the county of tests/e2e/test_county.py:
the 中心 issues a task to three stations; two 领单, one cannot take it and says why; the issuer sees 2/3 and the
reason in /tasks; one station publishes the task's activity, a volunteer signs up and checks in, the station reports
back with a photo and the 中心 confirms it; the task's workbook has each station's state; another station's
coordinator never sees that report."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.reports.xlsx import read_sheet
from storage.models import Activity, TaskNode
from tests.chat import assert_error, set_now
from tests.e2e.test_county import TZ, county  # noqa: F401  (the county fixture)
from tests.e2e.test_elderly import media_of

PHOTO = "AgACAgPHOTO-task-report"


async def tap(w, user, message, label: str, expect: str | None = None, chat=None):
    return await w.st.tap(user, message, label, expect, chat=chat)


async def then(w, user, message, label: str, expect: str):
    """Tap a button and return the next message that holds `expect`."""
    before = len(w.fake.bot_messages(user))
    await w.fake.answer(await user.tap(message, label))
    return await w.fake.wait_message(user, contains=expect, after=before)


async def last_with(w, user, words: str):
    return await w.fake.wait_message(user, contains=words)


async def test_centre_issues_two_accept_one_declines_a_report_is_confirmed_and_the_workbook_shows_it(county):  # noqa: F811
    w = county
    st, fake = w.st, w.fake
    today = w.clock.now().astimezone(TZ).date()
    accept_by, finish_by = today + timedelta(days=2), today + timedelta(days=6)

    # the 中心 issues, step by step; a past day is refused politely
    await st.say(w.coordc, "/task", "新建任务单")
    theme = await st.say(w.coordc, "重阳节敬老走访", "主题")
    await tap(w, w.coordc, theme, "不设主题", "任务要求")
    await st.say(w.coordc, "走访辖区独居老人，送去慰问品", "下发到哪些")
    await st.say(w.coordc, "Z01 Z02 Z03", "最晚哪天领单")
    refused = await st.say(w.coordc, "2020-01-01", "已经过去")
    assert_error(w.app, refused.text, "task_past_date", w.coordc)
    await st.say(w.coordc, f"{accept_by.month}-{accept_by.day}", "完成并汇报")
    await st.say(w.coordc, f"{finish_by.month}-{finish_by.day}", "多少小时")
    summary = await st.say(w.coordc, "2", "请核对任务单")
    assert "Z01、Z02、Z03" in summary.text and "2 小时" in summary.text
    await tap(w, w.coordc, summary, "下发")
    card1 = await last_with(w, w.coord1, "重阳节敬老走访")
    card3 = await last_with(w, w.coord3, "重阳节敬老走访")
    card2 = await w.fake.wait_message(w.coords1, contains="二站")  # Z02 has no coordinator: its 所's answers
    assert "领单" in " ".join(card1.buttons) and "无法承接" in card3.buttons

    # Z03 cannot take it and says why; Z02 and Z01 accept (Z01 then publishes its activity)
    await tap(w, w.coord3, card3, "无法承接", "原因")
    await st.say(w.coord3, "本周人手不足", "已记录")
    await tap(w, w.coords1, card2, "领单")
    before = len(fake.bot_messages(w.coord1))
    answer = await tap(w, w.coord1, card1, "领单")
    assert "已领取" in answer.text
    days = await fake.wait_message(w.coord1, contains="哪一天", after=before)
    issuer = await st.say(w.coordc, "/tasks", "/3")  # its counts: the 领单 notices also name the 任务单
    assert "领单 2/3" in issuer.text and "完成 0/3" in issuer.text and "无法承接 1 个" in issuer.text
    before = len(fake.bot_messages(w.coordc))
    await tap(w, w.coordc, issuer, "重阳节敬老走访")
    shown = await fake.wait_message(w.coordc, contains="各站情况", after=before)
    assert "本周人手不足" in shown.text and "待领单" not in shown.text

    before = len(fake.bot_messages(w.coord1))
    await fake.answer(await w.coord1.tap_data(days, days.reply_markup["inline_keyboard"][0][1]["callback_data"]))
    slots = await fake.wait_message(w.coord1, contains="什么时间", after=before)
    await tap(w, w.coord1, slots, "14:00", "地点")
    places = await st.say(w.coord1, "幸福敬老院", "名额")
    teams = await then(w, w.coord1, places, "5", "哪个服务队")
    deadline = await then(w, w.coord1, teams, "综合志愿服务队", "截止")
    check = await then(w, w.coord1, deadline, "不设截止", "请核对活动")
    await tap(w, w.coord1, check, "发布")
    activity_card = await fake.wait_message(w.A, contains="重阳节敬老走访")
    async with w.app.db.read() as s:
        act = (await s.execute(select(Activity))).scalar_one()
        linked = (await s.execute(select(TaskNode).where(TaskNode.activity_id == act.id))).scalar_one()
    assert act.node_id == w.nodes["Z01"] and linked.node_id == w.nodes["Z01"]

    # a volunteer signs up and checks in; the activity is closed at its end
    await tap(w, w.vol1, activity_card, "🙋")
    set_now(w.clock, act.starts_at - timedelta(minutes=10))
    await st.say(w.vol1, f"/checkin {act.checkin_code}", "✅")
    set_now(w.clock, act.ends_at + timedelta(minutes=5))
    await st.say(w.coord1, f"/activity_close {act.number}", "")
    await fake.wait_message(w.coord1, contains="🕒")  # the hours to approve: proposed 2 小时

    # Z01 reports back with a photo; the 中心 gets the photo and confirms
    mine = await st.say(w.coord1, "/tasks", "领单 1/1")
    nxt = await then(w, w.coord1, mine, "重阳节敬老走访", "下一步")
    await tap(w, w.coord1, nxt, "汇报", "完成情况")
    await st.say(w.coord1, "走访独居老人 12 户，送去慰问品", "受众人次")
    await st.say(w.coord1, "12", "照片")
    before = len(fake.bot_messages(w.coord1))
    await w.coord1.send_photo(PHOTO)
    got = await fake.wait_message(w.coord1, contains="第 1 张", after=before)
    check = await then(w, w.coord1, got, "完成", "请核对您对任务单")
    assert "志愿者：1 人，共 2 小时" in check.text and "照片：1 张" in check.text
    await tap(w, w.coord1, check, "提交")
    review = await fake.wait_message(w.coordc, contains="汇报了任务单")
    assert media_of(fake, w.coordc, "photo") == [PHOTO]
    assert not media_of(fake, w.coord3, "photo")

    # another station's coordinator sees his own station only, and cannot open or review Z01's report
    own = await st.say(w.coord3, "/tasks", "领单 0/1")
    before = len(fake.bot_messages(w.coord3))
    await tap(w, w.coord3, own, "重阳节敬老走访")
    his = await fake.wait_message(w.coord3, contains="各站情况", after=before)
    assert "三站" in his.text and "走访独居老人" not in his.text and "一站" not in his.text
    forged = await fake.answer(await w.coord3.tap_data(his, f"tk1:rep:{linked.id}"))
    assert_error(w.app, forged.text, "task_not_yours", w.coord3)
    forged = await fake.answer(await w.coord3.tap_data(his, f"tk1:fin:{linked.id}"))
    assert_error(w.app, forged.text, "task_not_reviewer", w.coord3)

    confirmed = await tap(w, w.coordc, review, "确认")
    assert "已确认" in confirmed.text
    await fake.wait_message(w.coord1, contains="已确认")

    # the workbook: a row per station with its state
    issuer = await st.say(w.coordc, "/tasks", "完成 1/3")
    nxt = await then(w, w.coordc, issuer, "重阳节敬老走访", "下一步")
    before = len(fake.bot_messages(w.coordc))
    await tap(w, w.coordc, nxt, "导出表格")
    sent = await fake.wait_message(w.coordc, contains="每个实践站一行", after=before)
    assert sent.document is not None
    rows = read_sheet(sent.document.content)
    assert rows[0][:4] == ["站点代码", "实践站", "状态", "原因"]
    states = {row[0]: row[2:] for row in rows[1:]}
    assert states["Z01"][0] == "已完成" and states["Z01"][3:6] == ["12", "1", "2"]
    assert states["Z02"][0] == "已领单"
    assert states["Z03"][:2] == ["无法承接", "本周人手不足"]
