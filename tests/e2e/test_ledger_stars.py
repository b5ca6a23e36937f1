"""Star levels, /me, /settings and /ledger through the fake Bot API, in Chinese and English."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import LedgerEntry, Volunteer
from tests.ledger_setup import confirmed_request, seed_hours, station


def stars_in(fake, chat) -> list[str]:
    return [m.text for m in fake.bot_messages(chat) if m.text and "🌟" in m.text]


async def approve(fake, st, admin, number: str, button: str) -> None:
    msg = await fake.wait_message(admin, contains=number)
    await st.tap(admin, msg, button)


async def test_star_crossing_100_hours_in_chinese_with_group_once(fake, start_app):
    app, st, admin, vol, vol2, res, group = await station(fake, start_app, "zh-hans")
    # He agrees to have his star level announced in the group.
    prefs = await st.say(vol, "/settings", "个人设置")
    assert "⬜ 在服务队群里公布我的星级" in prefs.buttons and "✅ 在排行榜上显示我的名字" in prefs.buttons
    answer = await st.tap(vol, prefs, "公布我的星级")
    assert answer.text == "已保存。"
    await fake.wait_idle()
    edited = fake.bot_messages(vol)[-1]
    assert "✅ 在服务队群里公布我的星级" in edited.buttons
    await seed_hours(app, vol.id, 99 * 60, days_ago=400)

    number = await confirmed_request(app, res.id, vol.id, 120)
    await approve(fake, st, admin, number, "审核通过")
    private = await fake.wait_message(vol, contains="🌟")
    assert "一星志愿者" in private.text and "101" in private.text
    public = await fake.wait_message(group, contains="🌟")
    assert "李明" in public.text and "一星志愿者" in public.text and "13800138000" not in public.text

    me = await st.say(vol, "/me", "星级")
    for part in (
        "101 小时",
        "积分：1010",
        "一星志愿者",
        "再服务 199 小时即可成为二星志愿者",
        "本月：服务 1 次，2 小时",
        "本年：服务 1 次，2 小时",
    ):
        assert part in me.text, part

    # A correction down below 100 h, then up again: no second congratulation.
    async with app.db.read() as s:
        entry = (await s.execute(select(LedgerEntry).where(LedgerEntry.request_id.is_not(None)))).scalar_one()
    pick = await st.say(vol, "/dispute", "哪条记录有误")
    await st.tap(vol, pick, f"№{entry.id}", expect="哪里有误")
    await st.say(vol, "其实我那天没去成", "已提交给协调员")
    dispute = await fake.wait_message(admin, contains="其实我那天没去成")
    await st.tap(admin, dispute, "更正", expect="正确的时长")
    await st.say(admin, "0", "原因")
    await st.say(admin, "核实后服务未发生", "已更正为 0 小时")
    told = await fake.wait_message(vol, contains="已采纳")
    assert "由 2 小时更正为 0 小时" in told.text and "核实后服务未发生" in told.text and "99 小时" in told.text

    again = await confirmed_request(app, res.id, vol.id, 180)
    await approve(fake, st, admin, again, "审核通过")
    await fake.wait_message(vol, contains="+30")
    await fake.wait_idle()
    assert len(stars_in(fake, vol)) == 1 and len(stars_in(fake, group)) == 1
    async with app.db.read() as s:
        assert (await s.get(Volunteer, vol.id)).star_level == 1
        kinds = [e.kind for e in (await s.execute(select(LedgerEntry).order_by(LedgerEntry.id))).scalars()]
    assert kinds == ["service", "service", "reversal", "correction", "service"]

    ledger = await st.say(vol, "/ledger", "志愿服务台账")
    assert "102 小时" in ledger.text and "冲销" in ledger.text and "核实后服务未发生" in ledger.text
    assert ledger.text.index("+3 小时") < ledger.text.index("冲销")  # newest first


async def test_star_in_english_not_in_group_without_consent(fake, start_app):
    app, st, admin, vol, vol2, res, group = await station(fake, start_app, "en")
    await seed_hours(app, vol.id, 99 * 60, days_ago=400)
    number = await confirmed_request(app, res.id, vol.id, 60)
    await approve(fake, st, admin, number, "Approve hours")
    private = await fake.wait_message(vol, contains="🌟")
    assert "1-star volunteer" in private.text and "100" in private.text
    await fake.wait_idle()
    assert stars_in(fake, group) == []
    me = await st.say(vol, "/me", "Star level")
    for part in (
        "100 h",
        "1-star volunteer",
        "200 h more to become a 2-star volunteer",
        "This month: 1 services, 1 h",
        "This year: 1 services, 1 h",
    ):
        assert part in me.text, part
    # /settings toggles both ways and is a volunteer's own.
    prefs = await st.say(vol, "/settings", "preferences")
    await st.tap(vol, prefs, "Show my name")
    await fake.wait_idle()
    edited = fake.bot_messages(vol)[-1]
    assert "⬜ Show my name in rankings" in edited.buttons
    async with app.db.read() as s:
        assert (await s.get(Volunteer, vol.id)).show_in_rank is False
    await st.say(res, "/settings", "Only registered volunteers")
    await st.say(res, "/me", "Only registered volunteers")
