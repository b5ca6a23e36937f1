"""The whole request lifecycle through the fake Bot API, in Chinese and in English."""

from sqlalchemy import select

from storage.models import LedgerEntry, Request
from tests.helpers import Station


async def setup_station(fake, start_app, lang="zh-hans"):
    admin = fake.user("王站长", language_code=lang, username="wang")
    vol = fake.user("李明", language_code=lang, username="liming")
    vol2 = fake.user("张华", language_code=lang)
    res = fake.user("赵阿姨", language_code=lang)
    group = fake.group("综合志愿服务队群", members=[admin, vol, vol2])
    app = await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "/")
    await st.say(admin, "/bind 1", "综合志愿服务队" if lang != "en" else "receives", chat=group)
    return app, st, admin, vol, vol2, res, group


async def test_chinese_lifecycle_with_release_correction_and_views(fake, start_app, clock):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app)
    await st.register(vol, "李明", "13800138000", ["综合志愿服务队"])
    await st.register(vol2, "张华", "13800138001", ["综合志愿服务队"])
    number = await st.place(
        res, "助老服务", "帮忙去超市买米和油", "幸福小区", address="幸福小区3栋2单元402", phone="13912345678"
    )
    assert number.startswith(str(clock.now().year)) or number[:4].isdigit()
    placed = fake.bot_messages(res)[-1].text
    assert f"#{number}" in placed and "Request" not in placed

    card = await fake.wait_message(group, contains=number)
    assert "帮忙去超市买米和油" in card.text and "幸福小区" in card.text and "接单" in " ".join(card.buttons)

    # 接单, then release before the service: the card reopens and the resident is told.
    answer = await st.tap(vol, card, "接单")
    assert number in answer.text
    await fake.wait_message(group, contains="李明")
    details = await fake.wait_message(vol, contains="3栋2单元402")
    assert "13912345678" in details.text
    await fake.wait_message(res, contains="李明")
    before = len(fake.bot_messages(res))
    await st.tap(vol, details, "放弃")
    await fake.wait_message(res, after=before)
    reopened = await fake.wait_message(group, contains="已放弃接单")
    assert any("接单" in b for b in reopened.buttons)
    assert "3栋2单元402" not in fake.bot_messages(vol)[-1].text  # the private details were replaced

    # Someone else takes it; the first volunteer's later tap loses.
    await st.tap(vol2, reopened, "接单")
    await fake.wait_message(group, contains="张华")
    details2 = await fake.wait_message(vol2, contains="3栋2单元402")

    # 结单 after the service started, with the hours button.
    clock.advance(days=1, hours=4)
    await st.tap(vol2, details2, "完成", expect="小时")
    hours_msg = fake.bot_messages(vol2)[-1]
    before = len(fake.bot_messages(res))
    asked = len(fake.bot_messages(vol2))
    await st.tap(vol2, hours_msg, "2 小时")
    photos = await fake.wait_message(vol2, contains="跳过", after=asked)
    await st.tap(vol2, photos, "跳过")  # no photos of the service
    rate = await fake.wait_message(res, contains=number, after=before)
    assert "⭐⭐⭐⭐⭐" in rate.buttons

    # 评单 with a comment.
    admin_before = len(fake.bot_messages(admin))  # he was told of the release above; the approval comes after
    await st.tap(res, rate, "⭐⭐⭐⭐⭐")
    await st.say(res, "张华很热心，谢谢！", "谢谢")
    approve = await fake.wait_message(admin, contains=number, after=admin_before)
    assert "2" in approve.text

    # The coordinator corrects the hours with a reason; only then does the ledger change.
    async with app.db.read() as s:
        assert (await s.execute(select(LedgerEntry))).first() is None
    await st.tap(admin, approve, "修正", expect="小时")
    await st.say(admin, "1.5", "原因")
    await st.say(admin, "实际服务一个半小时", number)
    told = await fake.wait_message(vol2, contains="+15")
    assert "1.5" in told.text
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
        entries = (await s.execute(select(LedgerEntry))).scalars().all()
    assert req.status == "approved" and req.rating == 5 and req.rating_comment == "张华很热心，谢谢！"
    assert [(e.volunteer_id, e.minutes, e.points, e.reason) for e in entries] == [
        (vol2.id, 90, 15, "实际服务一个半小时")
    ]

    # Views.
    mine = await st.say(res, "/my", number)
    assert "已结" in mine.text or "结单" in mine.text
    claims = await st.say(vol2, "/claims", "1.5")
    assert "15" in claims.text
    history = await st.say(admin, f"/history {number}", "处理记录")
    for word in ("李明", "张华", "王站长", "1.5h 实际服务一个半小时"):
        assert word in history.text
    pending = await st.say(admin, "/pending", "(0)")
    assert number not in pending.text


async def test_english_user_in_chinese_station_gets_english(fake, start_app):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app)
    en_res = fake.user("Alice", language_code="en-GB")
    number = await st.place(en_res, "Help for the elderly", "Read letters aloud", "Xingfu compound")
    placed = fake.bot_messages(en_res)[-1].text
    assert "has been placed" in placed
    card = await fake.wait_message(group, contains=number)
    assert "助老服务" in card.text  # groups speak the station's language


async def test_cancel_by_resident_tells_claimer_and_updates_card(fake, start_app):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app, lang="en")
    await st.register(vol, "Li Ming", "13800138000", ["综合志愿服务队"], done="Done", prompt_name="name")
    number = await st.place(res, "Household repairs", "Fix a dripping tap", "Xingfu compound")
    card = await fake.wait_message(group, contains=number)
    await st.tap(vol, card, "🙋")
    await fake.wait_message(vol, contains="You have taken")
    mine = await st.say(res, "/my", number)
    await st.tap(res, mine, "Cancel request")
    before = len(fake.bot_messages(vol))
    answer = await st.tap(res, fake.bot_messages(res)[-1], "Yes, cancel it")
    assert "cancelled" in answer.text
    await fake.wait_message(vol, contains="cancelled", after=before)
    await fake.wait_message(group, contains="已取消")
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
    assert req.status == "cancelled"


async def test_edit_from_summary_and_cancel_command_leaves_at_any_step(fake, start_app):
    app, st, admin, vol, vol2, res, group = await setup_station(fake, start_app, lang="en")
    await st.say(res, "/start", "Hello")
    await st.say(res, "/request", "Which service")
    await st.say(res, "/cancel", "Nothing was saved")
    async with app.db.read() as s:
        assert (await s.execute(select(Request))).first() is None
    # Edit the area from the summary, then confirm.
    number = await st.place(res, "Health care", "Measure blood pressure", "Old street")
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
    assert req.area == "Old street"


async def test_command_menu_is_set_in_both_languages(fake, start_app):
    await setup_station(fake, start_app)
    zh = fake.commands(language_code="")
    en = fake.commands(language_code="en")
    assert {c["command"] for c in zh} == {c["command"] for c in en} >= {"request", "my", "volunteer", "cancel"}
    assert any("点单" in c["description"] for c in zh) and any("Request" in c["description"] for c in en)
