"""Ordering as the elderly order (issue 19), through the fake Bot API: a voice message and photos instead of typing,
再来一单 in three taps, regular needs that place themselves once each (also with two processes), a skipped time,
and the previous volunteer offered the next time first. Time is moved by the test; nothing sleeps."""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

from sqlalchemy import select

from bot.app import App
from bot.requests import media, regular
from bot.requests import service as requests
from storage.models import RegularNeed, Request
from tests.chat import set_now
from tests.conftest import make_settings
from tests.e2e.test_lifecycle import setup_station
from tests.fakegram import FakeMessage

ADDRESS_VOICE, ADDRESS_PHOTO = "AwACAgVOICE-address-5s", "AgACAgPHOTO-address"
NEED_VOICE, NEED_PHOTO = "AwACAgVOICE-need-12s", "AgACAgPHOTO-need"
PHONE = "13912345678"


def media_of(fake, chat, kind: str) -> list[str]:
    """The file ids of the voice messages or photos (largest size) the bot sent to a chat."""
    out = []
    for m in fake.bot_messages(chat):
        if kind == "voice" and m.raw.get("voice"):
            out.append(m.raw["voice"]["file_id"])
        if kind == "photo" and m.raw.get("photo"):
            out.append(m.raw["photo"][-1]["file_id"])
    return out


async def tapped(fake, user, message, label: str):
    """Tap a button by its label and wait for the callback answer."""
    return await fake.answer(await user.tap(message, label))


async def tapped_data(fake, user, message, data: str):
    return await fake.answer(await user.tap_data(message, data))


async def next_message(fake, chat, act, contains: str | None = None) -> FakeMessage:
    before = len(fake.bot_messages(chat))
    await act()
    return await fake.wait_message(chat, contains=contains, after=before)


async def voice_order(st, fake, res, *, address_media: bool = True) -> str:
    """点单 with a photo and a voice message for the need, and (address_media) a photo and a voice message for the
    address; returns the request's number."""
    await st.say(res, "/start", "/")
    menu = await next_message(fake, res, lambda: res.send("/request"))
    ask = await next_message(fake, res, lambda: tapped(fake, res, menu, "助老服务"), contains="语音")
    assert "发一条语音" in ask.text or "发语音" in ask.text
    await next_message(fake, res, lambda: res.send_photo(NEED_PHOTO), contains="照片收到了")
    days = await next_message(fake, res, lambda: res.send_voice(NEED_VOICE, 12), contains="哪一天")
    assert any(label.startswith("明天（周") for label in days.buttons), days.buttons  # large, plain day buttons
    slots = await next_message(fake, res, lambda: tapped(fake, res, days, "明天"), contains="14:00")
    assert "下午 2–4 点（14:00–16:00）" in slots.buttons, slots.buttons
    await next_message(fake, res, lambda: tapped(fake, res, slots, "14:00"), contains="小区")
    ask_address = await next_message(fake, res, lambda: res.send("幸福小区"), contains="地址")
    fake.mark_private(ADDRESS_VOICE, ADDRESS_PHOTO, PHONE)
    if address_media:
        await next_message(fake, res, lambda: res.send_photo(ADDRESS_PHOTO), contains="照片收到了")
        await next_message(fake, res, lambda: res.send_voice(ADDRESS_VOICE, 5), contains="电话")
    else:
        await next_message(fake, res, lambda: tapped(fake, res, ask_address, "跳过"), contains="电话")
    summary = await next_message(fake, res, lambda: res.share_contact(PHONE), contains="请核对")
    assert "语音 0:12" in summary.text and "照片 1 张" in summary.text
    if address_media:
        assert "地址补充：语音 0:05、照片 1 张" in summary.text
    placed = await next_message(fake, res, lambda: tapped(fake, res, summary, "✅"), contains="#")
    return placed.text.split("#", 1)[1].split()[0]


async def test_voice_and_photo_order_reach_only_the_claimer(fake, start_app, clock):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app)
    await st.register(vol, "李明", "13800138000", ["综合志愿服务队"])
    number = await voice_order(st, fake, res)

    card = await fake.wait_message(group, contains=number)
    assert "语音 0:12" in card.text and "照片 1 张" in card.text  # told about, never the file
    assert "幸福小区" in card.text and PHONE not in card.text and "0:05" not in card.text
    assert not media_of(fake, group, "voice") and not media_of(fake, group, "photo")
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
        assert req.description == "" and req.address is None
        assert {(i["step"], i["kind"], i["id"]) for i in media.loads(req.media)} == {
            ("need", "photo", NEED_PHOTO),
            ("need", "voice", NEED_VOICE),
            ("address", "photo", ADDRESS_PHOTO),
            ("address", "voice", ADDRESS_VOICE),
        }

    await st.tap(vol, card, "接单")
    details = await fake.wait_message(vol, contains=PHONE)
    assert "地址补充：语音 0:05" in details.text
    await fake.pulse.wait_until(lambda: len(media_of(fake, vol, "voice")) == 2, 10)
    await fake.pulse.wait_until(lambda: len(media_of(fake, vol, "photo")) == 2, 10)
    assert sorted(media_of(fake, vol, "voice")) == sorted([NEED_VOICE, ADDRESS_VOICE])
    assert sorted(media_of(fake, vol, "photo")) == sorted([NEED_PHOTO, ADDRESS_PHOTO])
    history = await st.say(res, f"/history {number}", "语音 0:12")
    assert "地址补充：语音 0:05" in history.text  # the resident's own view is private
    await fake.wait_idle(quiet=0.2)
    assert not media_of(fake, group, "voice") and not media_of(fake, group, "photo")
    assert fake.group_leaks() == []


async def test_coordinators_hear_the_voice_in_review(fake, start_app, clock):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app)
    await st.say(admin, "/review on", "审")
    number = await voice_order(st, fake, res)
    await fake.wait_message(admin, contains=number)
    await fake.pulse.wait_until(lambda: NEED_VOICE in media_of(fake, admin, "voice"), 10)
    await fake.pulse.wait_until(lambda: ADDRESS_PHOTO in media_of(fake, admin, "photo"), 10)
    assert not [m for m in fake.bot_messages(group) if number in (m.text or "")]  # not dispatched yet


async def test_order_again_in_three_taps(fake, start_app, clock):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app)
    number = await voice_order(st, fake, res)
    await fake.wait_message(group, contains=number)
    await st.say(res, "/my", number)
    line = next(m for m in fake.bot_messages(res) if m.text and number in m.text and "🔁 再来一单" in m.buttons)
    days = await next_message(fake, res, lambda: tapped(fake, res, line, "再来一单"), contains="哪一天")
    again_intro = fake.bot_messages(res)[-2].text
    assert "语音 0:12" in again_intro
    target = days.reply_markup["inline_keyboard"][1][0]  # three days ahead
    slots = await next_message(
        fake, res, lambda: tapped_data(fake, res, days, target["callback_data"]), contains="14:00"
    )  # tap 1
    summary = await next_message(fake, res, lambda: tapped(fake, res, slots, "10:00–12:00"), contains="请核对")  # 2
    assert "语音 0:12" in summary.text and "地址补充" in summary.text and PHONE in summary.text
    placed = await next_message(fake, res, lambda: tapped(fake, res, summary, "✅"), contains="#")  # tap 3
    second = placed.text.split("#", 1)[1].split()[0]
    assert second != number
    await fake.wait_message(group, contains=second)
    async with app.db.read() as s:
        first, copy = (
            (await s.execute(select(Request).where(Request.number.in_([number, second])).order_by(Request.id)))
            .scalars()
            .all()
        )
    assert (copy.service_id, copy.description, copy.media, copy.area, copy.address, copy.phone) == (
        first.service_id,
        first.description,
        first.media,
        first.area,
        first.address,
        first.phone,
    )
    tz = app.settings.tz
    assert copy.window_start.astimezone(tz).date() == first.window_start.astimezone(tz).date() + timedelta(days=2)
    assert copy.window_start.astimezone(tz).time() == time(10, 0)


async def _tick(apps: list[App], now: datetime) -> None:
    """Both processes' schedulers at once, twice: what is due is placed once."""
    await asyncio.gather(*(app.scheduler.run_due(now) for app in apps))
    await asyncio.gather(*(app.scheduler.run_due(now) for app in apps))


async def test_weekly_regular_need_places_itself_once_each_week(fake, start_app, clock, db_url):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app)
    await st.register(vol, "李明", "13800138000", ["综合志愿服务队"])
    await st.register(vol2, "张华", "13800138001", ["综合志愿服务队"])
    number = await voice_order(st, fake, res, address_media=False)
    card = await fake.wait_message(group, contains=number)
    await st.tap(vol, card, "接单")
    await fake.wait_message(vol, contains=PHONE)

    await st.say(res, "/my", number)
    line = next(m for m in fake.bot_messages(res) if m.text and number in m.text and m.buttons)
    every = await next_message(fake, res, lambda: tapped(fake, res, line, "设为定期"), contains="多久")
    await fake.answer(await res.tap(every, "每周一次"))
    await fake.wait_message(res, contains="直到您停止")
    async with app.db.read() as s:
        first = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
    tz = app.settings.tz
    day0 = first.window_start.astimezone(tz).date()

    second = App(make_settings(fake, db_url, admin_ids=[admin.id]), clock=clock)  # another process, same database
    try:
        placed: dict[int, str] = {}
        for week in range(1, 6):
            day = day0 + timedelta(days=7 * week)
            if week == 3:  # the resident skips the third time ahead, from /regular
                listing = await st.say(res, "/regular", "下一次")
                assert f"{day.month}月{day.day}日" in listing.text
                answer = await st.tap(res, listing, "这次不用了")
                assert "不用了" in answer.text
            morning = datetime.combine(day - timedelta(days=2), time(9, 0), tzinfo=tz)
            set_now(clock, morning - timedelta(days=1))  # three days before: nothing yet
            await _tick([app, second], clock.now())
            set_now(clock, morning)
            offers_before = len(fake.bot_messages(vol))
            await _tick([app, second], clock.now())
            async with app.db.read() as s:
                rows = (
                    (
                        await s.execute(
                            select(Request).where(Request.regular_id == first.regular_id).order_by(Request.id)
                        )
                    )
                    .scalars()
                    .all()
                )
            on_day = [r for r in rows if r.window_start.astimezone(tz).date() == day]
            if week == 3:
                assert on_day == []
                continue
            assert len(on_day) == 1, (week, [r.number for r in rows])
            req = on_day[0]
            placed[week] = req.number
            told = await fake.wait_message(res, contains=req.number)
            assert "这次不用了" in told.buttons and "定期" in told.text
            # the volunteer of the previous time is offered it first, privately; the group waits
            offer = await fake.wait_message(vol, contains="上次是您", after=offers_before)
            assert "我来接单" in offer.buttons and PHONE not in offer.text
            assert not [m for m in fake.bot_messages(group) if req.number in (m.text or "")]
            if week in (1, 2, 5):
                await next_message(fake, vol, lambda offer=offer: tapped(fake, vol, offer, "我来接单"), contains=PHONE)
                async with app.db.read() as s:
                    taken = await s.get(Request, req.id)
                    assert taken.status == requests.CLAIMED and taken.claimer_id == vol.id
            else:  # week 4: he does not answer; two hours later it goes to the group
                set_now(clock, morning + timedelta(hours=2, minutes=1))
                await _tick([app, second], clock.now())
                await fake.wait_message(group, contains=req.number)
                late = await fake.answer(await vol.tap(offer, "我来接单"))
                assert "已发到服务队群" in late.text
        assert len(placed) == 4
        async with app.db.read() as s:
            rows = (await s.execute(select(Request).where(Request.regular_id == first.regular_id))).scalars().all()
        assert len(rows) == 5  # the first request and four occurrences, each once
        await fake.wait_idle(quiet=0.2)
        for number_ in placed.values():  # the resident was told once each that it was placed
            told_ = [m for m in fake.bot_messages(res) if number_ in (m.text or "") and "我已为您点单" in m.text]
            assert len(told_) == 1, number_
        cards = [m for m in fake.bot_messages(group) if placed[4] in (m.text or "")]
        assert len(cards) == 1  # posted once, after the offer
    finally:
        await second.close()
    assert fake.group_leaks() == []


async def test_skip_a_placed_time_and_stop(fake, start_app, clock):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app)
    number = await voice_order(st, fake, res, address_media=False)
    await fake.wait_message(group, contains=number)
    await st.say(res, "/my", number)
    line = next(m for m in fake.bot_messages(res) if m.text and number in m.text and m.buttons)
    every = await next_message(fake, res, lambda: tapped(fake, res, line, "设为定期"), contains="多久")
    await fake.answer(await res.tap(every, "每两周一次"))
    made = await fake.wait_message(res, contains="每两周")
    await tapped(fake, res, made, "3 个月后结束")  # until a date
    await fake.wait_message(res, contains="为止")
    async with app.db.read() as s:
        first = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
        need = await s.get(RegularNeed, first.regular_id)
    tz = app.settings.tz
    today = clock.now().astimezone(tz).date()
    assert need.until == regular.months_ahead(today, 3) and need.every == "2weeks"
    day = first.window_start.astimezone(tz).date() + timedelta(days=14)
    set_now(clock, datetime.combine(day - timedelta(days=2), time(9, 0), tzinfo=tz))
    await app.scheduler.run_due()
    told = await fake.wait_message(res, contains="这次不用了")
    card = await fake.wait_message(group, contains=f"{day.month}月{day.day}日")
    answer = await st.tap(res, told, "这次不用了")
    assert "不用了" in answer.text
    await fake.wait_message(group, contains="已取消")
    async with app.db.read() as s:
        rows = (await s.execute(select(Request).where(Request.regular_id == first.regular_id))).scalars().all()
    assert sorted(r.status for r in rows) == sorted([requests.OPEN, requests.CANCELLED])
    assert card is not None

    pending = await st.say(admin, "/pending", "定期需求")
    assert "每两周" in pending.text and "助老服务" in pending.text
    listing = await st.say(res, "/regular", "下一次")
    answer = await st.tap(res, listing, "同一志愿者：开")  # the resident turns the same volunteer off
    assert "直接发到服务队群" in answer.text
    async with app.db.read() as s:
        assert (await s.get(RegularNeed, first.regular_id)).same_volunteer is False
    await fake.pulse.wait_until(lambda: "同一志愿者：关" in listing.buttons, 10)  # the buttons say so
    await st.tap(res, listing, "停止定期")
    set_now(clock, datetime.combine(day + timedelta(days=12), time(9, 0), tzinfo=tz))
    await app.scheduler.run_due()
    async with app.db.read() as s:
        rows = (await s.execute(select(Request).where(Request.regular_id == first.regular_id))).scalars().all()
    assert len(rows) == 2  # stopped: nothing more is placed


async def test_order_again_from_the_done_and_rated_message(fake, start_app, clock):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app)
    await st.register(vol, "李明", "13800138000", ["综合志愿服务队"])
    number = await voice_order(st, fake, res, address_media=False)
    card = await fake.wait_message(group, contains=number)
    await st.tap(vol, card, "接单")
    details = await fake.wait_message(vol, contains=PHONE)
    clock.advance(days=1, hours=4)
    await st.tap(vol, details, "完成", expect="小时")
    hours = await fake.wait_message(vol, contains="小时")  # (the voice he received may come after it)
    before = len(fake.bot_messages(res))
    asked = len(fake.bot_messages(vol))
    await tapped(fake, vol, hours, "2 小时")
    photos = await fake.wait_message(vol, contains="跳过", after=asked)
    await tapped(fake, vol, photos, "跳过")  # no photos of the service
    rate = await fake.wait_message(res, contains=number, after=before)
    await tapped(fake, res, rate, "⭐⭐⭐⭐⭐")
    await fake.wait_message(res, contains="/skip")
    rated = next(m for m in fake.bot_messages(res) if "🔁 再来一单" in m.buttons and "⭐" in (m.text or ""))
    assert "📅 设为定期" in rated.buttons
    days = await next_message(fake, res, lambda: tapped(fake, res, rated, "再来一单"), contains="哪一天")
    slots = await next_message(fake, res, lambda: tapped(fake, res, days, "明天"), contains="14:00")
    summary = await next_message(fake, res, lambda: tapped(fake, res, slots, "14:00"), contains="请核对")
    placed = await next_message(fake, res, lambda: tapped(fake, res, summary, "✅"), contains="#")
    again_number = placed.text.split("#", 1)[1].split()[0]
    await fake.wait_message(group, contains=again_number)
    card_again = next(m for m in fake.bot_messages(group) if again_number in (m.text or ""))
    assert "语音 0:12" in card_again.text and PHONE not in card_again.text
