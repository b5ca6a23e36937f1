"""微心愿 end to end, in Chinese: a resident's wish reviewed, on the wall, claimed by one of two at once, moved on,
photographed, confirmed and shown as 已圆梦, announced in the public channel and counted in the month's report; a
declined wish's reason reaches only the wisher; a wish given back returns to the wall once. The fixture checks that
no phone and no wisher's photo reach the wall or a group."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from bot.org import service as org
from storage.models import Wish
from tests.chat import seed_volunteer
from tests.helpers import Station

PHONE, WISH_PHOTO, DONE_PHOTO = "13911112222", "WISHPHOTO01", "DONEPHOTO01"


@pytest.fixture
async def world(fake, start_app):
    names = ("admin", "res", "vol", "donor")
    users = {n: fake.user(n.capitalize(), language_code="zh-hans", username=n) for n in names}
    wall = fake.group("心愿墙", members=list(users.values()))
    channel = fake.channel("文明实践公示")
    app = await start_app(admin_ids=[users["admin"].id], public_channel_id=channel.id)
    w = SimpleNamespace(app=app, fake=fake, st=Station(fake), wall=wall, channel=channel, **users)
    for user in users.values():
        await w.st.say(user, "/start", "/")
    await seed_volunteer(app, w.vol, "钱多多", "13800000001")
    await w.st.say(w.donor, "/donor", "姓名")
    await w.st.say(w.donor, "孙先生", "手机号")
    ask = await w.st.say(w.donor, "13800000002", "单位")
    await w.st.tap(w.donor, ask, "跳过", expect="登记完成")
    await w.st.say(w.admin, "/bind_wall", "心愿墙", chat=wall)
    fake.mark_private(PHONE, WISH_PHOTO)
    return w


async def make_wish(w, what: str = "一个新书包") -> None:
    st, fake, res = w.st, w.fake, w.res
    await st.say(res, "/wish", "心愿")
    await st.say(res, "请打 " + PHONE, "不能包含电话")  # refused: it would be posted on the wall
    await st.say(res, what, "为谁")
    await st.say(res, "王小明同学的奶奶家人", "不要写全名")
    ask = await st.say(res, "小明", "为什么")
    ask = await st.tap(res, ask, "跳过", expect="多少钱") and fake.bot_messages(res)[-1]
    due = (w.app.clock.now() + timedelta(days=10)).astimezone(w.app.settings.tz).date()
    await st.say(res, "约 100 元", "哪天")
    ask = await st.say(res, f"{due.month}-{due.day}", "联系电话")
    ask = await st.say(res, PHONE, "照片")
    before = len(fake.bot_messages(res))
    await res.send_photo(WISH_PHOTO)
    summary = await fake.wait_message(res, contains="请核对", after=before)
    await st.tap(res, summary, "✅", expect="已收到")


async def review(w):
    return await w.fake.wait_message(w.admin, contains="待审核")


async def test_a_wish_comes_true(world):
    w, fake, st = world, world.fake, world.st
    await make_wish(w)
    pending = await review(w)
    assert PHONE in pending.text  # the coordinator sees the private phone, in private
    await st.tap(w.admin, pending, "通过，联系许愿人")
    card = await fake.wait_message(w.wall, contains="一个新书包")
    assert "小明" in card.text and "认领心愿" in card.buttons[0]
    await fake.wait_message(w.res, contains="已发布到心愿墙")

    # two taps at once: one claimer
    q1, q2 = await w.vol.tap(card, "认领心愿"), await w.donor.tap(card, "认领心愿")
    answers = [await fake.answer(q1), await fake.answer(q2)]
    won = [a for a in answers if "您已认领" in (a.text or "")]
    lost = [a for a in answers if "已被他人认领" in (a.text or "")]
    assert len(won) == 1 and len(lost) == 1
    winner = w.vol if won[0] is answers[0] else w.donor
    task = await fake.wait_message(winner, contains="感谢您认领")
    assert PHONE in task.text  # the contact, privately
    await fake.wait_message(w.wall, contains="已认领")

    await st.tap(winner, task, "准备中", expect="准备中")
    steps = fake.bot_messages(winner)[-1]
    await st.tap(winner, steps, "已送达", expect="送达照片")
    before = len(fake.bot_messages(w.res))
    await winner.send_photo(DONE_PHOTO)
    ask = await fake.wait_message(w.res, contains="请点下面的按钮确认", after=before)
    await st.tap(w.res, ask, "确认已圆梦", expect="说一句感谢")
    thanks = fake.bot_messages(w.res)[-1]
    await st.tap(w.res, thanks, "说声感谢", expect="感谢")
    await st.say(w.res, "谢谢您！", "已转达")
    await fake.wait_message(winner, contains="谢谢您！")
    await fake.wait_message(w.wall, contains="已圆梦")
    photos = [m for m in fake.bot_messages(w.wall) if m.raw.get("photo")]
    assert photos and photos[-1].raw["photo"][-1]["file_id"] == DONE_PHOTO
    async with w.app.db.read() as s:
        wish = (await s.execute(select(Wish))).scalar_one()
    assert wish.status == "fulfilled" and wish.thanks == "谢谢您！"

    # 公示: the public channel gets the anonymised post with the delivery photo; no name, phone or wisher's photo.
    post = await fake.wait_message(w.channel, contains="微心愿已圆梦")
    assert "一个新书包" in post.content and post.raw["photo"][-1]["file_id"] == DONE_PHOTO
    for private in ("小明", "钱多多", "孙先生", PHONE, WISH_PHOTO):
        assert private not in post.content, private

    # The month's report counts it.
    report = await st.say(w.admin, "/report month", "圆梦的心愿")
    assert "征集微心愿：1" in report.text and "圆梦的心愿：1" in report.text


async def test_a_declined_wish_tells_only_the_wisher(world):
    w, fake, st = world, world.fake, world.st
    await make_wish(w, "一台旧电视修好")
    pending = await review(w)
    await st.tap(w.admin, pending, "❌", expect="原因")
    await st.say(w.admin, "本站已有人捐赠同款", "只告知了许愿人")
    told = await fake.wait_message(w.res, contains="本站已有人捐赠同款")
    assert "未能通过" in told.text
    await fake.wait_idle(quiet=0.1)
    others = [m for u in (w.wall, w.vol, w.donor) for m in fake.bot_messages(u)]
    assert not any("本站已有人捐赠同款" in (m.content or "") for m in others)


async def test_a_given_back_wish_returns_to_the_wall_once(world):
    """The wall here is a channel, bound from private chat (a channel's posts do not say who wrote them)."""
    w, fake, st = world, world.fake, world.st
    channel = fake.group("心愿墙频道", admins=[w.admin], channel=True)
    async with w.app.db.read() as s:
        code = (await org.default_station(s)).code
    await st.say(w.admin, f"/bind_wall {code} {channel.id}", "抱歉")  # the bot is not its administrator yet
    channel.set_status(fake.bot_id, "administrator")
    await st.say(w.vol, f"/bind_wall {code} {channel.id}", "协调员")  # not a coordinator
    await st.say(w.admin, f"/bind_wall {code} {channel.id}", "心愿墙频道")
    w.wall = channel
    await make_wish(w, "一套课外书")
    await st.tap(w.admin, await review(w), "通过，联系我")
    card = await fake.wait_message(w.wall, contains="一套课外书")
    await fake.answer(await w.vol.tap(card, "认领心愿"))
    task = await fake.wait_message(w.vol, contains="感谢您认领")
    await st.tap(w.vol, task, "放弃认领")
    await fake.wait_message(w.vol, contains="您已放弃")
    card = await fake.wait_message(w.wall, contains="重新等待认领")
    await fake.answer(await w.donor.tap(card, "认领心愿"))
    task = await fake.wait_message(w.donor, contains="感谢您认领")
    await st.tap(w.donor, task, "放弃认领")
    await fake.wait_message(w.donor, contains="您已放弃")
    await fake.wait_message(w.wall, contains="已退回协调员")
    await fake.wait_message(w.admin, contains="不再重新上墙")
    assert len(fake.bot_messages(w.wall)) == 1  # the one card, edited
    assert not fake.bot_messages(w.wall)[-1].buttons
