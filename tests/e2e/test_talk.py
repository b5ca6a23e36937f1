"""First conversations as people really write them (issue 16): days and times typed in words, read back when they
are a guess; the findings of trying the bot as a new user would."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.requests.keyboards import RateCb
from tests.chat import (
    SERVICE_EN,
    SERVICE_ZH,
    Unchanged,
    assert_error,
    forge,
    fsm,
    render,
    reply,
    request_by_number,
    set_now,
    step,
)


async def _to_day_step(w, user, service):
    menu = await step(w.fake, user, lambda: user.send("/request"))
    await step(w.fake, user, lambda: user.tap(menu, service))
    return await step(
        w.fake, user, lambda: user.send("买米扛上楼"), contains="哪一天" if service == SERVICE_ZH else "day"
    )


async def test_day_and_time_typed_in_words_in_one_answer(world):
    """“明天下午两点到四点” at the day question: the day and the window at once; the time question is passed over."""
    w, chen = world, world.chen
    set_now(w.clock, datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc))  # Wed 2 Dec, 10:00 in Shanghai
    await _to_day_step(w, chen, SERVICE_ZH)
    await step(w.fake, chen, lambda: chen.send("明天下午两点到四点"), contains="小区")
    state, data = await fsm(w.app, w.fake, chen)
    assert (state, data["day"], data["start"], data["end"]) == ("Order:area", "2026-12-03", "14:00", "16:00")
    ask = await step(w.fake, chen, lambda: chen.send("幸福小区"), contains="详细地址")
    await step(w.fake, chen, lambda: chen.tap(ask, "跳过"), contains="电话")
    summary = await step(w.fake, chen, lambda: chen.send("跳过"), contains="时间：12月3日（周四）14:00–16:00")
    placed = await step(w.fake, chen, lambda: chen.tap(summary, "✅"), contains="#")
    req = await request_by_number(w.app, placed.text.split("#", 1)[1].split()[0][:9])
    assert req.window_start == datetime(2026, 12, 3, 6, 0, tzinfo=timezone.utc).replace(tzinfo=req.window_start.tzinfo)


async def test_a_guess_is_read_back_for_one_tap(world):
    """No day given (“下午两点到四点” at the day question): read back as today; 是的 takes it, 重新输入 asks again."""
    w, chen = world, world.chen
    set_now(w.clock, datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc))
    await _to_day_step(w, chen, SERVICE_ZH)
    asked = await step(w.fake, chen, lambda: chen.send("3.5"), contains="您是说")
    assert asked.text == "您是说 3月5日（周五） 吗？"
    await w.fake.answer(await chen.tap(asked, "重新输入"))
    again = await w.fake.wait_message(chen, contains="请重新输入")
    assert again.message_id == asked.message_id and not again.buttons  # edited in place, buttons gone
    assert (await fsm(w.app, w.fake, chen))[0] == "Order:day"
    asked = await step(w.fake, chen, lambda: chen.send("下午两点到四点"), contains="您是说")
    assert asked.text == "您是说 12月2日（周三）14:00–16:00 吗？"
    await step(w.fake, chen, lambda: chen.tap(asked, "是的"), contains="小区")
    assert (await w.fake.wait_message(chen, contains="✅ 12月2日")).message_id == asked.message_id
    _state, data = await fsm(w.app, w.fake, chen)
    assert (data["day"], data["start"], data["end"]) == ("2026-12-02", "14:00", "16:00")


async def test_time_question_takes_words_and_refuses_the_past(world):
    w, res = world, world.res
    set_now(w.clock, datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc))
    await _to_day_step(w, res, SERVICE_EN)
    refused = await step(w.fake, res, lambda: res.send("yesterday"))
    assert "already passed" in refused.text
    await step(w.fake, res, lambda: res.send("Saturday"), contains="At what time")
    await step(w.fake, res, lambda: res.send("2pm-4pm"), contains="compound")
    _state, data = await fsm(w.app, w.fake, res)
    assert (data["day"], data["start"], data["end"]) == ("2026-12-05", "14:00", "16:00")


# --- the findings of a first try ---------------------------------------------------------------------------


async def test_volunteer_phone_step_has_no_skip(world):
    """A volunteer's phone is needed: no “跳过” button that would only be answered “号码不对”; typing it is
    answered with why the number is needed."""
    w, chen = world, world.chen
    await step(w.fake, chen, lambda: chen.send("/volunteer"), contains="名字")
    ask = await step(w.fake, chen, lambda: chen.send("陈晓"), contains="电话")
    assert "跳过" not in ask.buttons and "📱 发送我的手机号" in ask.buttons
    async with Unchanged(w.app, w.fake, chen):
        assert_error(w.app, await reply(w.fake, chen, "跳过"), "phone_needed", chen)
    assert (await fsm(w.app, w.fake, chen))[0] == "Signup:phone"
    await step(w.fake, chen, lambda: chen.send("13800138000"), contains="技能")


async def test_profile_phone_step_has_no_skip(world):
    w, vol = world, world.vol
    profile = await step(w.fake, vol, lambda: vol.send("/profile"), contains="profile")
    ask = await step(w.fake, vol, lambda: vol.tap(profile, "✏️ Phone"), contains="new phone")
    assert "Skip" not in ask.buttons
    async with Unchanged(w.app, w.fake, vol):
        assert_error(w.app, await reply(w.fake, vol, "Skip"), "phone_needed", vol)


async def test_registration_says_the_join_waits_for_approval(world):
    w, chen = world, world.chen
    await w.st.register(chen, "陈晓", "13800138000", ["综合志愿服务队"], approve=False)
    done = await w.fake.wait_message(chen, contains="🎉")
    assert done.text.startswith("🎉 注册成功，陈晓！\n") and "：—" not in done.text
    assert "正在等待队长或协调员审核" in done.text


async def test_claimers_private_text_is_his_own(world):
    """The claimer's private message is written for him, not the group card with its “🆕 新点单 … 状态” lines."""
    w = world
    _req, task = await w.claimed()
    assert task.text.startswith("You have taken request")
    assert "🆕" not in task.text and "Status:" not in task.text
    assert "Building 3, Room 402" in task.text and "13912345678" in task.text and "Xingfu compound" in task.text


async def test_done_report_takes_the_task_buttons_away(world):
    """After the done report, “Service done” and “Release” on the task message can do nothing: they are removed."""
    w = world
    req, task = await w.claimed()
    assert task.buttons
    set_now(w.clock, req.window_start + timedelta(hours=2))
    hours = await step(w.fake, w.vol, lambda: w.vol.tap(task, "Service done"), contains="How many hours")
    assert hours.buttons[:2] == ["0.5 h", "1 h"]
    await w.st.report_hours(w.vol, "1.5")

    def tidied() -> bool:
        return not next(m for m in w.fake.bot_messages(w.vol) if m.message_id == task.message_id).buttons

    assert await w.fake.pulse.wait_until(tidied, 15), "the task message still has its buttons"


async def test_rating_twice_is_answered_as_rated(world):
    w = world
    req = await w.confirmed()
    rate = await w.fake.wait_message(w.res, contains="You rated")
    async with Unchanged(w.app, w.fake, w.res):
        answer = await forge(w.fake, w.res, rate, RateCb(rid=req.id, stars=5).pack())
    assert answer.text == render(w.app, "already_rated", "en")
    assert (await request_by_number(w.app, req.number)).rating == 4


# --- help by role, /setup ----------------------------------------------------------------------------------


async def test_start_and_help_show_what_each_role_can_do(world):
    """A resident sees a few lines for residents, not the volunteers' or coordinators' commands; a volunteer his;
    a coordinator hers, with /setup; /help all still lists everything."""
    w = world
    resident = await step(w.fake, w.chen, lambda: w.chen.send("/start"), contains="您好")
    assert "/request" in resident.text and "/volunteer" in resident.text
    assert (
        "/claims" not in resident.text and "/pending" not in resident.text and "/coordinator_add" not in resident.text
    )
    assert len(resident.text.splitlines()) <= 10
    volunteer = await step(w.fake, w.vol, lambda: w.vol.send("/help"), contains="/claims")
    assert "/pending" not in volunteer.text and "/joins" not in volunteer.text
    assert volunteer.text.index("/claims") < volunteer.text.index("/request")  # his own work first
    admin = await step(w.fake, w.admin, lambda: w.admin.send("/help"), contains="/setup")
    assert admin.text.index("/pending") < admin.text.index("/setup") < admin.text.index("/coordinator_add")
    assert "/claims" not in admin.text and len(admin.text.splitlines()) <= 14
    everything = await step(w.fake, w.chen, lambda: w.chen.send("/help all"), contains="/claims")
    assert "/certificate" in everything.text and "/pending" not in everything.text


async def test_team_leader_help_names_his_commands(world):
    w = world
    async with w.app.db.tx() as s:
        from storage.models import TeamMember

        (await s.get(TeamMember, (1, w.vol.id))).is_leader = True
    shown = await step(w.fake, w.vol, lambda: w.vol.send("/help"), contains="/joins")
    assert "/proxy" in shown.text and "/claims" in shown.text and "/pending" not in shown.text


async def test_setup_checklist_follows_the_database(world):
    w = world
    first = await step(w.fake, w.admin, lambda: w.admin.send("/setup"), contains="🧭")
    lines = first.text.splitlines()
    assert lines[0] == "🧭 Setting up the station: 4 done, 2 left."
    assert "✅ A volunteer group is bound to a team (1 bound)." in lines
    assert "✅ The menu has 11 services, each served by a team." in lines
    assert "✅ Every team that serves the menu has a group." in lines
    assert "⬜ Add a coordinator: an administrator sends /coordinator_add @username." in lines
    assert "✅ Volunteers in teams: 1." in lines
    assert "⬜ Print the QR poster (扫码点单) with /qr and put it up." in lines
    await w.st.say(w.admin, "/coordinator_add @chen", "coordinator")
    await w.st.say(w.admin, "/newteam 助老服务队", "助老服务队")
    await w.st.say(w.admin, "/service_team 1 2", "助老")
    second = await step(w.fake, w.admin, lambda: w.admin.send("/setup"), contains="🧭")
    assert "✅ Coordinators: 1." in second.text
    assert "⬜ These teams have no group yet: 助老服务队 (/bind TEAM in their group)." in second.text
    chen = await step(w.fake, w.chen, lambda: w.chen.send("/setup"), contains="🧭")  # now a coordinator, in Chinese
    assert chen.text.startswith("🧭 本站开通清单：已完成 4 项，待完成 2 项。")
    await step(w.fake, w.admin, lambda: w.admin.send("/qr"), contains="🖨")  # the poster, as a document
    third = await step(w.fake, w.admin, lambda: w.admin.send("/setup"), contains="🧭")
    assert "✅ The QR poster (扫码点单) is printed." in third.text
    assert "⬜ 这些服务队还没有绑定群：助老服务队（请在其群里发送 /bind 服务队）。" in chen.text
    async with Unchanged(w.app, w.fake, w.res):
        assert_error(w.app, await reply(w.fake, w.res, "/setup"), "not_coordinator", w.res)
