"""帮办员 proxy ordering end to end, in Chinese and English: a coordinator or team leader orders for a
resident without Telegram; the proxy gets the notices and confirms; the typed phone stays private."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from storage.models import LedgerEntry, Request
from tests.chat import Unchanged, assert_error, fsm, register, reply, tr
from tests.helpers import Station, skip_label

TEAM1 = "综合志愿服务队"
GRANNY, PHONE = "刘奶奶", "13611112222"


@pytest.fixture(params=["zh-hans", "en"])
async def world(request, fake, start_app):
    lang = request.param
    admin = fake.user("Wang", language_code=lang, username="wang")
    lead = fake.user("Lu", language_code=lang, username="lu")
    vol = fake.user("Li", language_code=lang, username="li")
    res = fake.user("Zhao", language_code=lang, username="zhao")
    group = fake.group("Team 1", members=[admin, lead, vol, res])
    app = await start_app(admin_ids=[admin.id])
    w = SimpleNamespace(
        app=app, st=Station(fake), fake=fake, group=group, admin=admin, lead=lead, vol=vol, res=res, en=lang == "en"
    )
    for user in (admin, lead, vol, res):
        await w.st.say(user, "/start", "/")
    await w.st.say(admin, "/bind 1", "", chat=group)
    await register(w, vol, "李明", [TEAM1])
    await register(w, lead, "陆队长", [TEAM1])
    await w.st.say(admin, "/leader_add @lu 1", "陆队长")
    fake.mark_private(PHONE)  # the fixture checks it never reaches a group
    return w


async def proxy_order(w, proxy, need: str, confirm: bool = True):
    """/proxy: the resident's name and phone, then the usual 点单 steps; returns the request number
    (or, confirm=False, the summary waiting for “Confirm”)."""
    fake, st = w.fake, w.st
    await st.say(proxy, "/proxy", "帮办")
    async with Unchanged(w.app, fake, proxy):
        assert_error(w.app, await reply(fake, proxy, "刘" * 33), "too_long", proxy, length=33, limit=32)
        assert_error(w.app, await reply(fake, proxy, "   "), "empty", proxy)
    await st.say(proxy, GRANNY, "")
    async with Unchanged(w.app, fake, proxy):
        for bad in ("12345", "23800138000", "call me"):
            assert_error(w.app, await reply(fake, proxy, bad), "bad_phone", proxy)
    assert (await fsm(w.app, fake, proxy))[0] == "Proxy:phone"
    menu = await st.say(proxy, PHONE, "")
    await fake.answer(await proxy.tap(menu, "Help for the elderly" if w.en else "助老服务"))
    await fake.wait_idle(quiet=0.05)
    days = await st.say(proxy, need, "")
    before = len(fake.bot_messages(proxy))
    await fake.answer(await proxy.tap_data(days, days.reply_markup["inline_keyboard"][0][1]["callback_data"]))
    slots = await fake.wait_message(proxy, contains="14:00", after=before)
    before = len(fake.bot_messages(proxy))
    await fake.answer(await proxy.tap(slots, "14:00"))
    await fake.wait_message(proxy, after=before)
    ask_address = await st.say(proxy, "幸福小区", "")
    before = len(fake.bot_messages(proxy))
    await fake.answer(await proxy.tap(ask_address, skip_label(proxy)))
    # No phone step: the resident's phone was typed first. Straight to the summary.
    summary = await fake.wait_message(proxy, contains=need, after=before)
    assert GRANNY in summary.text and PHONE in summary.text
    if not confirm:
        return summary
    before = len(fake.bot_messages(proxy))
    await fake.answer(await proxy.tap(summary, "✅"))
    placed = await fake.wait_message(proxy, contains="#", after=before)
    return placed.text.split("#", 1)[1].split()[0]


async def test_coordinator_orders_for_a_resident_through_to_confirmation(world, clock):
    w, fake, app = world, world.fake, world.app
    number = await proxy_order(w, w.admin, "帮忙买药")
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
    assert (req.resident_id, req.proxy_for, req.phone) == (w.admin.id, GRANNY, PHONE)

    card = await fake.wait_message(w.group, contains=number)
    assert "帮办" in card.text and GRANNY in card.text and PHONE not in card.text
    await w.st.tap(w.vol, card, "🙋")
    details = await fake.wait_message(w.vol, contains=PHONE)
    assert GRANNY in details.text and "帮办" in details.text
    await fake.wait_message(w.admin, contains="李明")  # the proxy hears who is coming

    clock.advance(days=1, hours=4)
    await w.st.tap(w.vol, details, tr(app, w.vol, "✅ Service done"), expect="hours" if w.en else "小时")
    hours = fake.bot_messages(w.vol)[-1]
    before = len(fake.bot_messages(w.admin))
    asked = len(fake.bot_messages(w.vol))
    await w.st.tap(w.vol, hours, "2 ")  # “2 h” or “2 小时”
    photos = await fake.wait_message(w.vol, contains=skip_label(w.vol), after=asked)
    await w.st.tap(w.vol, photos, skip_label(w.vol))  # no photos of the service
    rate = await fake.wait_message(w.admin, contains=number, after=before)
    await w.st.tap(w.admin, rate, "⭐⭐⭐⭐⭐")
    approve = await fake.wait_message(w.admin, contains="🕒")
    await w.st.tap(w.admin, approve, tr(app, w.admin, "✅ Approve hours"))
    await fake.wait_message(w.vol, contains="+20")
    async with app.db.read() as s:
        req = (await s.execute(select(Request).where(Request.number == number))).scalar_one()
        entries = (await s.execute(select(LedgerEntry))).scalars().all()
    assert (req.status, req.rating) == ("approved", 5)
    assert [(e.volunteer_id, e.minutes) for e in entries] == [(w.vol.id, 120)]


async def test_team_leader_orders_and_the_phone_stays_private(world):
    w, fake, app = world, world.fake, world.app
    number = await proxy_order(w, w.lead, "陪同去医院")
    card = await fake.wait_message(w.group, contains=number)
    assert GRANNY in card.text
    # The coordinator's /history shows the phone; a volunteer who did not take it sees nothing.
    assert PHONE in (await w.st.say(w.admin, f"/history {number}", number)).text
    async with Unchanged(app, fake, w.vol):
        assert_error(app, await reply(fake, w.vol, f"/history {number}"), "not_your_request", w.vol)
    assert not any(PHONE in (m.text or "") for m in fake.bot_messages(w.vol))
    # The proxy is the request's owner: /my lists it.
    assert number in (await w.st.say(w.lead, "/my", number)).text


async def test_residents_and_volunteers_cannot_order_for_others(world):
    w, fake, app = world, world.fake, world.app
    for user in (w.res, w.vol):
        async with Unchanged(app, fake, user):
            assert_error(app, await reply(fake, user, "/proxy"), "not_team_leader", user)
    # A leader demoted in the middle of a 帮办 order cannot place it.
    summary = await proxy_order(w, w.lead, "陪同去医院", confirm=False)
    await w.st.say(w.admin, "/leader_remove @lu 1", "陆队长")
    answer = await fake.answer(await w.lead.tap(summary, "✅"))
    assert answer.show_alert
    assert_error(app, answer.text, "not_team_leader", w.lead)
    async with app.db.read() as s:
        assert (await s.execute(select(Request))).first() is None
