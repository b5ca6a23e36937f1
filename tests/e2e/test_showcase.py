"""公示 and photos of service (issue 15, items 5 and 6), one story through the fake Bot API: a volunteer reports a
request done with 2 photos, the coordinator approving sees them, the resident rates and agrees to 公示, the public
channel gets the anonymised post with the photo, and a coordinator takes it down (deleteMessage)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage.models import RequestEvent, ShowcasePost
from tests.chat import request_by_number, set_now
from tests.e2e.test_elderly import media_of, next_message, tapped
from tests.helpers import Station

ADDRESS, PHONE, VOLUNTEER_PHONE = "幸福小区3栋2单元402", "13912345678", "13800138000"
PHOTOS = ["AgACAgDONE-photo-1", "AgACAgDONE-photo-2"]


async def test_done_with_photos_rated_with_consent_posted_and_taken_down(fake, start_app, clock):
    admin = fake.user("王站长", language_code="zh-hans", username="wang")
    vol = fake.user("李明", language_code="zh-hans", username="liming")
    res = fake.user("赵阿姨", language_code="zh-hans")
    group = fake.group("综合志愿服务队群", members=[admin, vol])
    channel = fake.channel("文明实践公示")
    app = await start_app(admin_ids=[admin.id], public_channel_id=channel.id)
    st = Station(fake)
    await st.say(admin, "/start", "/")
    await st.say(admin, "/bind 1", "综合志愿服务队", chat=group)
    await st.register(vol, "李明", VOLUNTEER_PHONE, ["综合志愿服务队"])
    fake.mark_private(VOLUNTEER_PHONE, "赵阿姨")  # never in a group or the channel, like the address and phone
    number = await st.place(res, "助老服务", "帮忙去超市买米和油", "幸福小区", address=ADDRESS, phone=PHONE)

    # 接单, then 结单 with the hours and two photos of the service.
    await st.tap(vol, await fake.wait_message(group, contains=number), "接单")
    details = await fake.wait_message(vol, contains=ADDRESS)
    req = await request_by_number(app, number)
    set_now(clock, req.window_start + timedelta(hours=2))  # 16:00 station time: daytime, posts go out now
    hours = await next_message(fake, vol, lambda: tapped(fake, vol, details, "完成服务"), contains="小时")
    ask = await next_message(fake, vol, lambda: tapped(fake, vol, hours, "2 小时"), contains="最多 3 张")
    assert ask.buttons == ["跳过"]
    await next_message(fake, vol, lambda: vol.send_photo(PHOTOS[0]), contains="第 1 张")
    second = await next_message(fake, vol, lambda: vol.send_photo(PHOTOS[1]), contains="第 2 张")
    await next_message(fake, vol, lambda: tapped(fake, vol, second, "完成"), contains="已请居民确认")
    async with app.db.read() as s:
        reported = (await s.execute(select(RequestEvent.detail).where(RequestEvent.kind == "reported"))).scalar_one()
    assert reported == "120 photos=2"  # the done report's event counts its photos

    # 评单, with the one-tap consent to 公示 (not agreed until tapped).
    rate = await fake.wait_message(res, contains=number)
    ask_comment = await next_message(fake, res, lambda: tapped(fake, res, rate, "⭐⭐⭐⭐⭐"), contains="/skip")
    assert "同意匿名公示" in ask_comment.buttons
    await tapped(fake, res, ask_comment, "同意匿名公示")

    # The coordinator approving the hours sees the photos, privately.
    approve = await fake.wait_message(admin, contains="🕒")
    assert await fake.pulse.wait_until(lambda: media_of(fake, admin, "photo") == PHOTOS, 10)
    assert not media_of(fake, group, "photo")
    await tapped(fake, admin, approve, "审核通过")

    # The channel gets the anonymised post with the first photo.
    post = await fake.wait_message(channel, contains="志愿服务公示")
    assert post.raw["photo"][-1]["file_id"] == PHOTOS[0]
    assert "助老服务" in post.content and "2 小时" in post.content
    for private in (ADDRESS, PHONE, VOLUNTEER_PHONE, "赵阿姨", "帮忙去超市买米和油", "幸福小区"):
        assert private not in post.content, private

    # A coordinator takes it down, after a confirmation: deleteMessage in the channel.
    listed = await st.say(admin, "/showcase", "最近的公示")
    confirm = await next_message(fake, admin, lambda: tapped(fake, admin, listed, "撤下第"), contains="要撤下")
    await tapped(fake, admin, confirm, "确认撤下")
    assert await fake.pulse.wait_until(lambda: bool(fake.calls_to("deleteMessage")), 10)
    assert fake.calls_to("deleteMessage")[0]["message_id"] in (post.message_id, str(post.message_id))
    assert await fake.pulse.wait_until(lambda: fake.bot_messages(channel)[-1].deleted, 10)
    async with app.db.read() as s:
        row = (await s.execute(select(ShowcasePost))).scalar_one()
    assert row.status == "removed" and row.message_id == post.message_id
