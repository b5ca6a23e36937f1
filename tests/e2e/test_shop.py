"""爱心超市 end to end: the catalogue, browsing, redeeming with a confirmation, races, limits,
cancelling, handover, forged buttons and bad input, in Chinese and English."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.ledger import service as ledger
from bot.people import service as people
from storage.models import LedgerEntry, Redemption, ShopItem, User
from tests.helpers import Station

EN, ZH = "en", "zh-hans"


class Shop:
    def __init__(self, fake, app, clock, lang):
        self.fake, self.app, self.clock, self.st = fake, app, clock, Station(fake)
        self.lang = lang

    async def add_points(self, user, points: int) -> None:
        async with self.app.db.tx() as s:
            s.add(
                LedgerEntry(
                    volunteer_id=user.id,
                    minutes=points * 6,
                    points=points,
                    kind="service",
                    approved_by=self.admin.id,
                    created_at=self.clock.now(),
                )
            )

    async def item(self, name: str, price: int, stock: int, limit: str | None = None) -> int:
        text = f"/shop_add {name} | {price} | {stock}" + (f" | {limit}" if limit else "")
        await self.st.say(self.admin, text, name)
        async with self.app.db.read() as s:
            return (await s.execute(select(ShopItem.id).where(ShopItem.name == name))).scalar_one()

    async def confirmation(self, vol, item_name: str):
        """/shop, tap the item: returns the confirmation message."""
        listing = await self.st.say(vol, "/shop", item_name)
        before = len(self.fake.bot_messages(vol))
        answer = await self.fake.answer(await vol.tap(listing, item_name))
        assert not answer.show_alert, answer.text
        return await self.fake.wait_message(vol, contains=item_name, after=before)

    async def redeem(self, vol, item_name: str, yes: str):
        ask = await self.confirmation(vol, item_name)
        answer = await self.fake.answer(await vol.tap(ask, yes))
        return answer, ask

    async def balance(self, user) -> int:
        async with self.app.db.read() as s:
            return (
                await s.execute(
                    select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(LedgerEntry.volunteer_id == user.id)
                )
            ).scalar()

    async def stock(self, item_id: int) -> int:
        async with self.app.db.read() as s:
            return (await s.get(ShopItem, item_id)).stock

    async def redemptions(self) -> list[Redemption]:
        async with self.app.db.read() as s:
            return list((await s.execute(select(Redemption).order_by(Redemption.id))).scalars())


async def make_shop(fake, start_app, clock, lang) -> Shop:
    admin = fake.user("王站长", language_code=lang, username="wang")
    vol = fake.user("李明", language_code=lang)
    vol2 = fake.user("张华", language_code=lang)
    res = fake.user("赵阿姨", language_code=lang)
    app = await start_app(admin_ids=[admin.id])
    shop = Shop(fake, app, clock, lang)
    shop.admin, shop.vol, shop.vol2, shop.res = admin, vol, vol2, res
    for user in (admin, vol, vol2, res):
        await shop.st.say(user, "/start", "/")
    async with app.db.tx() as s:
        for user, name, phone in ((vol, "李明", "13800138000"), (vol2, "张华", "13800138001")):
            await people.register_volunteer(
                s, await s.get(User, user.id), name=name, phone=phone, team_ids=[1], now=clock.now()
            )
    return shop


@pytest.fixture
async def zh(fake, start_app, clock) -> Shop:
    return await make_shop(fake, start_app, clock, ZH)


@pytest.fixture
async def en(fake, start_app, clock) -> Shop:
    return await make_shop(fake, start_app, clock, EN)


async def snapshot(app) -> tuple:
    async with app.db.read() as s:
        items = [
            (i.id, i.name, i.price, i.stock, i.monthly_limit, i.active)
            for i in (await s.execute(select(ShopItem).order_by(ShopItem.id))).scalars()
        ]
        reds = [(r.id, r.status) for r in (await s.execute(select(Redemption).order_by(Redemption.id))).scalars()]
        entries = (await s.execute(select(func.count()).select_from(LedgerEntry))).scalar()
    return items, reds, entries


# --- the catalogue ---------------------------------------------------------------------------------


async def test_catalogue_editing_in_chinese(zh):
    st, admin = zh.st, zh.admin
    added = await st.say(admin, "/shop_add 洗衣液 | 50 | 10 | 2", "已上架")
    assert "洗衣液" in added.text and "50 积分" in added.text and "每人每月限兑 2 件" in added.text
    await st.say(admin, "/shop_price 1 60", "已修改")
    await st.say(admin, "/shop_stock 1 5", "剩余 5 件")
    changed = await st.say(admin, "/shop_limit 1 none", "已修改")
    assert "限兑" not in changed.text
    await st.say(admin, "/shop_off 1", "已下架")
    listing = await st.say(admin, "/shop_items", "物品清单")
    assert "1. 洗衣液 – 60 积分（剩余 5 件）（已下架）" in listing.text
    async with zh.app.db.read() as s:
        item = await s.get(ShopItem, 1)
    assert (item.price, item.stock, item.monthly_limit, item.active) == (60, 5, None, False)
    # Withdrawn items are not offered to volunteers.
    shop = await st.say(zh.vol, "/shop", "爱心超市")
    assert "洗衣液" not in shop.text and not shop.buttons
    await st.say(admin, "/shop", "物品清单")  # a coordinator who is not a volunteer gets the catalogue
    await st.say(admin, "/shop_on 1", "重新上架")
    shop = await st.say(zh.vol, "/shop", "洗衣液")
    assert any("洗衣液" in b for b in shop.buttons)


@pytest.mark.parametrize(
    "text, expect",
    [
        ("/shop_add 洗衣液 | -5 | 10", "数字须在 1 到 100000 之间"),
        ("/shop_add 洗衣液 | 0 | 10", "数字须在 1 到 100000 之间"),
        ("/shop_add 洗衣液 | 50 | 十个", "“十个”不是整数"),
        ("/shop_add 洗衣液 | 50 | 10 | 2.5", "“2.5”不是整数"),
        ("/shop_add " + "长" * 41 + " | 50 | 10", "41"),
        ("/shop_add  | 50 | 10", "内容不能为空"),
        ("/shop_add 洗衣液 50 10", "/shop_add"),
        ("/shop_price 1 0", "数字须在 1 到 100000 之间"),
        ("/shop_price 1 abc", "“abc”不是整数"),
        ("/shop_stock 1 -1", "数字须在 0 到 100000 之间"),
        ("/shop_stock 9 3", "没有编号为 9 的物品"),
        ("/shop_limit 1 many", "不是整数"),
        ("/shop_price x 10", "/shop_price"),
    ],
)
async def test_bad_catalogue_input_changes_nothing(zh, text, expect):
    await zh.item("大米", 80, 3)
    before = await snapshot(zh.app)
    reply = await zh.st.say(zh.admin, text, expect)
    assert "已上架" not in reply.text and "已修改" not in reply.text
    await zh.fake.wait_idle(quiet=0.05)
    assert await snapshot(zh.app) == before


async def test_only_coordinators_edit_the_catalogue(en):
    await en.item("Rice", 80, 3)
    before = await snapshot(en.app)
    for text in (
        "/shop_add Soap | 10 | 5",
        "/shop_price 1 1",
        "/shop_stock 1 99",
        "/shop_off 1",
        "/shop_items",
        "/handover ABCDEF",
    ):
        await en.st.say(en.vol, text, "Only a coordinator")
    assert await snapshot(en.app) == before


async def test_shop_is_for_volunteers_in_private(en):
    await en.item("Rice", 80, 3)
    await en.st.say(en.res, "/shop", "for registered volunteers")
    await en.st.say(en.res, "/redemptions", "for registered volunteers")
    group = en.fake.group("Team 1", members=[en.admin, en.vol])
    for text in ("/shop", "/redemptions"):
        reply = await en.st.say(en.vol, text, "private chat", chat=group)
        assert not reply.buttons


# --- redeeming -------------------------------------------------------------------------------------


async def test_browse_redeem_and_handover_in_english(en):
    fake, st = en.fake, en.st
    item = await en.item("Rice 5 kg", 50, 10, limit="2")
    await en.add_points(en.vol, 120)
    listing = await st.say(en.vol, "/shop", "your points: 120")
    assert "Rice 5 kg – 50 points (left: 10, at most 2 a month)" in listing.text
    ask = await en.confirmation(en.vol, "Rice 5 kg")
    assert "Redeem “Rice 5 kg” for 50 points? You have 120; 70 will be left." == ask.text
    # "No" changes nothing.
    no = await fake.answer(await en.vol.tap(ask, "No"))
    assert no.text == "Nothing was changed."
    assert await en.redemptions() == [] and await en.stock(item) == 10

    answer, ask = await en.redeem(en.vol, "Rice 5 kg", "Yes, redeem")
    assert answer.text == "Redeemed!"
    done = await fake.wait_message(en.vol, contains="pick-up code")
    [r] = await en.redemptions()
    assert r.code in done.text and "70 left" in done.text and not done.buttons
    assert (r.status, r.price, r.volunteer_id) == ("reserved", 50, en.vol.id)
    assert await en.stock(item) == 9 and await en.balance(en.vol) == 70
    async with en.app.db.read() as s:
        entry = await s.get(LedgerEntry, r.entry_id)
    assert (entry.kind, entry.minutes, entry.points) == ("redeem", 0, -50)

    # The coordinators are told, with a button; the volunteer sees it in /redemptions.
    notice = await fake.wait_message(en.admin, contains=r.code)
    assert "李明 redeemed “Rice 5 kg” for 50 points" in notice.text
    mine = await st.say(en.vol, "/redemptions", r.code)
    assert "waiting to be picked up" in mine.text and "Cancel redemption" in mine.buttons
    pending = await st.say(en.admin, "/redemptions", r.code)
    assert "李明" in pending.text

    before = len(fake.bot_messages(en.vol))
    handed = await fake.answer(await en.admin.tap(notice, "Handed over"))
    assert handed.text == "Marked as handed over."
    told = await fake.wait_message(en.vol, contains="has been handed over to you", after=before)
    assert r.code in told.text
    [r] = await en.redemptions()
    assert (r.status, r.handed_by) == ("handed", en.admin.id)
    # Handed once only: again by command, or cancelling it now, changes nothing.
    await st.say(en.admin, f"/handover {r.code.lower()}", "already been handed over")
    again = await fake.answer(await en.vol.tap(mine, "Cancel redemption"))
    assert again.text is None  # the confirmation buttons
    await fake.wait_idle(quiet=0.05)
    refused = await fake.answer(await en.vol.tap(mine, "Yes, cancel it"))
    assert refused.text == "This item has already been handed over."
    assert await en.balance(en.vol) == 70 and await en.stock(item) == 9
    await st.say(en.admin, "/handover NOSUCH", "no redemption with pick-up code “NOSUCH”")


async def test_handover_by_command_in_chinese(zh):
    await zh.item("挂面", 20, 5)
    await zh.add_points(zh.vol, 30)
    answer, _ask = await zh.redeem(zh.vol, "挂面", "确认兑换")
    assert answer.text == "兑换成功！"
    [r] = await zh.redemptions()
    before = len(zh.fake.bot_messages(zh.vol))
    await zh.st.say(zh.admin, f"/handover {r.code}", "已发放")
    await zh.fake.wait_message(zh.vol, contains="已发放给您", after=before)
    assert (await zh.redemptions())[0].status == "handed"


async def test_not_enough_points_and_sold_out(zh):
    await zh.item("食用油", 100, 1)
    await zh.add_points(zh.vol, 99)
    listing = await zh.st.say(zh.vol, "/shop", "您的积分：99")
    refused = await zh.fake.answer(await zh.vol.tap(listing, "食用油"))
    assert refused.text == "积分不足：需要 100 积分，您现有 99 积分。" and refused.show_alert
    await zh.add_points(zh.vol2, 100)
    await zh.redeem(zh.vol2, "食用油", "确认兑换")
    listing = await zh.st.say(zh.vol, "/shop", "已兑完")
    assert not listing.buttons
    assert "点击物品" not in listing.text and "物品暂时都已兑完，请过几天再来看看。" in listing.text  # nothing to tap
    assert await zh.balance(zh.vol2) == 0


async def test_confirm_button_goes_once_the_item_is_sold_out(zh):
    """Two volunteers ask for the last one; the one who confirms second is told it ran out, and his “确认兑换”
    is taken off the message (it could no longer do anything)."""
    await zh.item("大米", 10, 1)
    await zh.add_points(zh.vol, 10)
    await zh.add_points(zh.vol2, 10)
    late = await zh.confirmation(zh.vol, "大米")
    await zh.redeem(zh.vol2, "大米", "确认兑换")
    refused = await zh.fake.answer(await zh.vol.tap(late, "确认兑换"))
    assert refused.text == "抱歉，“大米”刚刚兑完了，积分未扣除。"

    def tidied() -> bool:
        return not next(m for m in zh.fake.bot_messages(zh.vol) if m.message_id == late.message_id).buttons

    assert await zh.fake.pulse.wait_until(tidied, 15), "“确认兑换” is still on the message"


async def test_points_owed_after_a_correction_are_shown_and_block_the_shop(zh):
    """Hours corrected downwards after their points were spent: the correction is kept (hours are facts), the
    balance goes below zero, /me and /shop show it as owed, and nothing can be redeemed until it is above zero."""
    st, vol = zh.st, zh.vol
    await zh.item("洗衣液", 20, 5)
    async with zh.app.db.tx() as s:
        entry = ledger.add_service(
            s,
            volunteer_id=vol.id,
            minutes=120,
            points_per_hour=10,
            request_id=None,
            approved_by=zh.admin.id,
            now=zh.clock.now(),
        )
        await s.flush()
        entry_id = entry.id
    await zh.redeem(vol, "洗衣液", "确认兑换")
    async with zh.app.db.tx() as s:  # a dispute decided: 1 hour, not 2
        await ledger.correct(
            s,
            entry_id=entry_id,
            minutes=60,
            reason="实际1小时",
            actor_id=zh.admin.id,
            points_per_hour=10,
            now=zh.clock.now(),
        )
    assert await zh.balance(vol) == -10

    me = await st.say(vol, "/me", "积分")
    assert "已认定服务时长：1 小时；积分：欠 10 积分。" in me.text
    listing = await st.say(vol, "/shop", "您的积分：欠 10 积分")
    before = await snapshot(zh.app)
    refused = await zh.fake.answer(await vol.tap(listing, "洗衣液"))
    assert refused.show_alert and refused.text.startswith("抱歉，您目前欠 10 积分")
    assert await snapshot(zh.app) == before

    await zh.add_points(vol, 15)  # 5 points: no longer owed, but not enough
    listing = await st.say(vol, "/shop", "您的积分：5")
    refused = await zh.fake.answer(await vol.tap(listing, "洗衣液"))
    assert refused.text == "积分不足：需要 20 积分，您现有 5 积分。"
    await zh.add_points(vol, 15)
    await zh.redeem(vol, "洗衣液", "确认兑换")
    assert await zh.balance(vol) == 0 and len(await zh.redemptions()) == 2


async def test_cancel_returns_points_and_stock(zh):
    fake, st = zh.fake, zh.st
    item = await zh.item("洗衣液", 40, 2)
    await zh.add_points(zh.vol, 50)
    await zh.redeem(zh.vol, "洗衣液", "确认兑换")
    [r] = await zh.redemptions()
    assert await zh.balance(zh.vol) == 10 and await zh.stock(item) == 1
    mine = await st.say(zh.vol, "/redemptions", r.code)
    await fake.answer(await zh.vol.tap(mine, "取消兑换"))
    await fake.wait_idle(quiet=0.05)
    assert mine.buttons == ["确定取消", "不，保留"]
    before = len(fake.bot_messages(zh.admin))
    answer = await fake.answer(await zh.vol.tap(mine, "确定取消"))
    assert answer.text == "已取消，40 积分已退回。"
    await fake.wait_message(zh.admin, contains="取消了“洗衣液”的兑换", after=before)
    assert await zh.balance(zh.vol) == 50 and await zh.stock(item) == 2
    async with zh.app.db.read() as s:
        kinds = [
            (e.kind, e.minutes, e.points)
            for e in (
                await s.execute(
                    select(LedgerEntry).where(LedgerEntry.kind.in_(("redeem", "refund"))).order_by(LedgerEntry.id)
                )
            ).scalars()
        ]
    assert kinds == [("redeem", 0, -40), ("refund", 0, 40)]
    assert (await zh.redemptions())[0].status == "cancelled"
    # A second cancel (a stale copy of the button) and a handover change nothing.
    again = await fake.answer(await zh.vol.tap_data(mine, f"rd1:yes:{r.id}"))
    assert again.text == "该兑换已经取消。"
    await st.say(zh.admin, f"/handover {r.code}", "该兑换已经取消")
    assert await zh.balance(zh.vol) == 50 and await zh.stock(item) == 2


async def test_monthly_limit_in_station_time(en, clock):
    item = await en.item("Soap", 10, 10, limit="1")
    await en.add_points(en.vol, 100)
    await en.redeem(en.vol, "Soap", "Yes, redeem")
    listing = await en.st.say(en.vol, "/shop", "Soap")
    refused = await en.fake.answer(await en.vol.tap(listing, "Soap"))
    assert refused.text == (
        "You have already redeemed “Soap” 1 time(s) this month, the monthly limit. Please come back next month."
    )
    # A confirmation shown earlier cannot pass the limit either.
    ask = await en.fake.wait_message(en.vol, contains="Redeem “Soap”")
    refused = await en.fake.answer(await en.vol.tap_data(ask, f"s1:yes:{item}:10"))
    assert "monthly limit" in refused.text
    assert len(await en.redemptions()) == 1
    # Cancelled ones do not count; next month starts afresh.
    clock.advance(days=32)
    answer, _ask = await en.redeem(en.vol, "Soap", "Yes, redeem")
    assert answer.text == "Redeemed!"
    assert len(await en.redemptions()) == 2 and await en.balance(en.vol) == 80


# --- races -----------------------------------------------------------------------------------------


async def test_two_volunteers_race_for_the_last_item(en):
    fake = en.fake
    item = await en.item("Mooncakes", 30, 1)
    await en.add_points(en.vol, 30)
    await en.add_points(en.vol2, 30)
    ask1 = await en.confirmation(en.vol, "Mooncakes")
    ask2 = await en.confirmation(en.vol2, "Mooncakes")
    queries = [await en.vol.tap(ask1, "Yes, redeem"), await en.vol2.tap(ask2, "Yes, redeem")]
    answers = await asyncio.gather(*(fake.answer(q, timeout=15) for q in queries))
    texts = sorted(a.text for a in answers)
    assert texts == ["Redeemed!", "Sorry, “Mooncakes” has just run out. Nothing was deducted."], texts
    await fake.wait_idle()
    [r] = await en.redemptions()
    loser = en.vol2 if r.volunteer_id == en.vol.id else en.vol
    assert await en.stock(item) == 0
    assert await en.balance(loser) == 30 and await en.balance(en.vol if loser is en.vol2 else en.vol2) == 0


async def test_one_volunteer_cannot_spend_points_twice(zh):
    fake = zh.fake
    await zh.item("毛巾", 50, 5)
    await zh.item("牙膏", 50, 5)
    await zh.add_points(zh.vol, 50)
    ask1 = await zh.confirmation(zh.vol, "毛巾")
    ask2 = await zh.confirmation(zh.vol, "牙膏")
    ask3 = await zh.confirmation(zh.vol, "毛巾")
    queries = [await zh.vol.tap(m, "确认兑换") for m in (ask1, ask2, ask3)]
    answers = await asyncio.gather(*(fake.answer(q, timeout=15) for q in queries))
    texts = sorted(a.text for a in answers)
    assert texts.count("兑换成功！") == 1, texts
    assert texts.count("积分不足：需要 50 积分，您现有 0 积分。") == 2, texts
    await fake.wait_idle()
    assert len(await zh.redemptions()) == 1 and await zh.balance(zh.vol) == 0
    async with zh.app.db.read() as s:
        stocks = sorted(i.stock for i in (await s.execute(select(ShopItem))).scalars())
    assert stocks == [4, 5]


# --- forged and stale buttons ----------------------------------------------------------------------


async def test_forged_callbacks_change_nothing(en):
    fake = en.fake
    item = await en.item("Rice", 50, 5)
    await en.add_points(en.vol, 100)
    await en.add_points(en.vol2, 100)
    ask = await en.confirmation(en.vol2, "Rice")
    await en.redeem(en.vol, "Rice", "Yes, redeem")
    [r] = await en.redemptions()
    await fake.wait_idle(quiet=0.05)
    before = (await snapshot(en.app), await en.balance(en.vol), await en.balance(en.vol2))
    cases = [
        (en.vol2, f"rd1:yes:{r.id}", "This is not your redemption."),
        (en.vol2, f"rd1:ask:{r.id}", "This is not your redemption."),
        (en.vol2, f"rd1:hand:{r.id}", "Only a coordinator of the station can do this."),
        (en.vol2, "rd1:yes:999", "This redemption does not exist."),
        (en.vol2, "rd1:yes:99999999999999999999999", "This redemption does not exist."),
        (
            en.vol2,
            f"s1:yes:{item}:1",
            ("The price of “Rice” has just changed to 50 points. Please open /shop again and confirm the new price."),
        ),
        (en.vol2, "s1:yes:77:50", "There is no item 77 in the 爱心超市. /shop_items lists them."),
        (en.res, f"s1:yes:{item}:50", "The 爱心超市 is for registered volunteers. Send /volunteer to register."),
        (en.vol2, "s9:yes:1:50", "This button is out of date. Please use the latest message."),
    ]
    for user, data, expect in cases:  # each taps in his own private chat (the only place private buttons work)
        answer = await fake.answer(await user.tap_data(ask if user is en.vol2 else fake.bot_messages(user)[-1], data))
        assert answer.text == expect, (data, answer.text)
    await fake.wait_idle(quiet=0.05)
    assert (await snapshot(en.app), await en.balance(en.vol), await en.balance(en.vol2)) == before


async def test_price_change_after_the_confirmation_is_shown(zh):
    await zh.item("大米", 50, 5)
    await zh.add_points(zh.vol, 100)
    ask = await zh.confirmation(zh.vol, "大米")
    await zh.st.say(zh.admin, "/shop_price 1 70", "已修改")
    refused = await zh.fake.answer(await zh.vol.tap(ask, "确认兑换"))
    assert refused.text == "“大米”的兑换积分刚刚调整为 70。请重新打开 /shop，按新积分确认。"
    assert await zh.redemptions() == [] and await zh.balance(zh.vol) == 100
