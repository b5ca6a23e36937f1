"""Webhook mode keeps its promise "nothing lost" when a process dies: an update is recorded before Telegram gets
its 200, and another process handles what a dead one left behind, once (bot/inbox.py)."""

from __future__ import annotations

import asyncio

import aiohttp
from sqlalchemy import select

from bot.app import App
from storage.models import InboxUpdate
from tests.conftest import Running, make_settings
from tests.e2e.test_scale import HOOK, SECRET, next_update

HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


async def start_webhook(fake, db_url: str, clock) -> tuple[Running, str]:
    """One more webhook process: serving once it told Telegram its webhook."""
    app = App(
        make_settings(fake, db_url, webhook_url=HOOK, webhook_secret=SECRET, webhook_host="127.0.0.1", webhook_port=0),
        clock=clock,
    )
    before = sum(1 for name, _ in fake.calls if name == "setWebhook")
    runner = Running(app)
    runner.task = asyncio.create_task(app.run(handle_signals=False, webhook=True))
    assert await fake.pulse.wait_until(
        lambda: sum(1 for name, _ in fake.calls if name == "setWebhook") > before or runner.task.done(), 15
    )
    assert not runner.task.done(), runner.task.exception()
    return runner, f"http://127.0.0.1:{app.web_port}"


async def test_an_update_answered_200_by_a_process_that_dies_is_handled_by_another_once(fake, db_url, clock):
    first, first_base = await start_webhook(fake, db_url, clock)
    second = None
    user = fake.user("Li", language_code="en")
    stuck: list[asyncio.Task] = []

    async def dies_here(handler, event, data):  # the process is killed while it handles the update
        stuck.append(asyncio.current_task())
        await asyncio.Event().wait()

    first.app.dp.update.outer_middleware(dies_here)
    try:
        async with aiohttp.ClientSession() as http:
            await user.send("/start")
            update = await next_update(fake)
            async with http.post(first_base + "/tg/hook", json=update, headers=HEADERS) as resp:
                assert resp.status == 200
            assert await fake.pulse.wait_until(lambda: bool(stuck), 10)
            # SIGKILL, as far as the inbox can tell: its lease is no longer renewed and the handling never ends.
            [inbox_task] = [t for t in first.app._tasks if t.get_name() == "inbox"]
            inbox_task.cancel()
            await asyncio.gather(inbox_task, return_exceptions=True)
            second, second_base = await start_webhook(fake, db_url, clock)
            clock.advance(seconds=6)  # the dead process's lease (5 s) runs out
            await fake.wait_message(user, contains="Hello", timeout=10)
            # Telegram (or the balancer) posts it again: stored once, handled once.
            async with http.post(second_base + "/tg/hook", json=update, headers=HEADERS) as resp:
                assert resp.status == 200
            await fake.wait_idle()
            async with second.app.db.read() as s:
                rows = (await s.execute(select(InboxUpdate.status, InboxUpdate.body))).all()
            assert rows == [("done", "")]
    finally:
        for task in stuck:
            task.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)
        if second is not None:
            await second.stop()
        await first.stop()
    assert len([m for m in fake.bot_messages(user) if "Hello" in (m.text or "")]) == 1


async def test_an_update_that_cannot_be_recorded_is_not_answered_200(fake, db_url, clock):
    """Without the inbox row the update is not acknowledged: Telegram posts it again later."""
    runner, base = await start_webhook(fake, db_url, clock)
    user = fake.user("Li", language_code="en")

    async def broken(body):
        raise OSError("database gone")

    runner.app.inbox.record = broken
    try:
        async with aiohttp.ClientSession() as http:
            await user.send("/start")
            async with http.post(base + "/tg/hook", json=await next_update(fake), headers=HEADERS) as resp:
                assert resp.status == 503
    finally:
        await runner.stop()


async def test_a_tap_answered_already_is_not_an_error(fake, start_app):
    """An update handled again after its process died may find its tap answered already: the answer is skipped and
    the handler goes on (bot/inbox.py LateCallbackAnswers)."""
    app = await start_app()
    user = fake.user("Li", language_code="en")
    await user.send("/start")
    hello = await fake.wait_message(user, contains="Hello")
    query = await user.tap_data(hello, "no-such-button")
    await fake.answer(query)
    assert await app.bot.answer_callback_query(query) is True
