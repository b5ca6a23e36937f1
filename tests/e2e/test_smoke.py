from tests.helpers import Station


async def test_english_lifecycle_smoke(fake, start_app, clock):
    admin = fake.user("Wang", language_code="en", username="wang")
    vol = fake.user("Li", language_code="en")
    res = fake.user("Zhao", language_code="en")
    group = fake.group("Team 1", members=[admin, vol])
    await start_app(admin_ids=[admin.id])
    st = Station(fake)
    await st.say(admin, "/start", "Hello")
    await st.say(admin, "/bind 1", "receives the requests", chat=group)
    await st.register(vol, "Li Ming", "13800138000", ["综合志愿服务队"], done="Done", prompt_name="name")
    number = await st.place(
        res,
        "Help for the elderly",
        "Need help buying groceries",
        "Xingfu compound",
        address="Building 3, Room 402",
        phone="+8613912345678",
    )
    card = await fake.wait_message(group, contains=number)
    answer = await st.tap(vol, card, "🙋")  # groups speak the station language (zh)
    assert "took" in answer.text
    await fake.wait_message(group, contains="Li Ming")
    details = await fake.wait_message(vol, contains="Building 3, Room 402")
    await fake.wait_message(res, contains="Li Ming")
    clock.advance(days=1, hours=3)
    await st.tap(vol, details, "Service done", expect="How many hours")
    await st.report_hours(vol, "1.5")
    rate = await fake.wait_message(res, contains="Please confirm")
    await st.tap(res, rate, "⭐⭐⭐⭐⭐")
    approve = await fake.wait_message(admin, contains="Hours to approve")
    await st.tap(admin, approve, "Approve")
    await fake.wait_message(vol, contains="+15 points")


async def test_filters_run_on_the_event_loop(monkeypatch):
    """aiogram runs a filter that is neither a Filter nor a coroutine function (a bare F expression, a State) in a
    worker thread; the blueprints give the routers awaitable ones only (handlers/routing.py)."""
    import asyncio

    import pytest
    from aiogram import F
    from aiogram.fsm.state import State, StatesGroup

    import handlers
    from handlers.routing import Blueprint

    def no_thread(*args, **kwargs):
        raise AssertionError("a filter was sent to a worker thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    routers = handlers.routers()
    # `awaitable` is what aiogram decides by: a callable that is not is called in asyncio.to_thread
    checked = [f for r in routers for o in r.observers.values() for h in o.handlers for f in [h, *(h.filters or [])]]
    assert len(checked) > 200 and all(f.awaitable for f in checked)

    class Chat:
        type = "private"

    class Event:
        chat = Chat()
        text = "/my"

    for router in routers:  # the routers' own filters (private chats only, for some) are awaited as well
        assert (await router.message.check_root_filters(Event()))[0] is True

    class Form(StatesGroup):
        step = State()

    probe = Blueprint(name="probe")  # a bare F expression and a State, declared as the handler modules do

    @probe.message(F.text == "/my", Form.step)
    async def handler(message) -> None: ...

    [registered] = probe.build().message.handlers
    assert (await registered.check(Event(), raw_state="Form:step"))[0] is True
    assert (await registered.check(Event(), raw_state=None))[0] is False
    Event.text = "/me"
    assert (await registered.check(Event(), raw_state="Form:step"))[0] is False
    with pytest.raises(TypeError):
        probe.message(lambda message: True)
    with pytest.raises(TypeError):
        probe.message()(lambda message: None)
