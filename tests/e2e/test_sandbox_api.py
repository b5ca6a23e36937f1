"""The sandbox's JSON endpoints (bot/sandbox/web.py) through aiohttp's test client: the station it sets up, a
message and a tap as a persona, files, the next-day clock, and a restart on the same file."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from bot.sandbox import Sandbox
from bot.sandbox.station import PERSONAS


async def started(path) -> tuple[Sandbox, TestClient]:
    sandbox = Sandbox(path, polling_timeout=1)
    await sandbox.start()
    client = TestClient(TestServer(sandbox.web_app()))
    await client.start_server()
    return sandbox, client


async def chat(client: TestClient, persona: str, kind: str = "private") -> dict:
    response = await client.get("/api/state", params={"persona": persona, "chat": kind})
    assert response.status == 200
    return (await response.json())["chat"]


async def test_the_station_is_set_up_and_personas_talk_to_the_real_bot(tmp_path):
    sandbox, client = await started(tmp_path / "s.sqlite3")
    fake = sandbox.fake
    try:
        state = await (await client.get("/api/state")).json()
        assert state["ready"] is True and [p["key"] for p in state["personas"]] == [p.key for p in PERSONAS]
        page = await client.get("/")
        assert page.status == 200 and "next-day" in await page.text()

        # set up through the bot: the group is bound, the roles were announced, everyone got the welcome
        group = await chat(client, "admin", "group")
        assert group["kind"] == "group" and group["messages"][0]["text"] == "/bind 1"
        assert "综合志愿服务队" in group["messages"][-1]["text"]
        assert (await chat(client, "resident", "group"))["kind"] == "private"  # the resident is not in the group
        coordinator = await chat(client, "coordinator")
        assert len(coordinator["messages"]) >= 3 and coordinator["keyboard"]

        # a message typed on the page reaches the real bot, whose answer the page reads
        before = len(fake.bot_messages(sandbox.users["volunteer1"]))
        assert (await client.post("/api/send", json={"persona": "volunteer1", "text": "/me"})).status == 200
        await fake.wait_message(sandbox.users["volunteer1"], contains="小时", after=before)
        mine = await chat(client, "volunteer1")
        assert mine["messages"][-2]["mine"] and mine["messages"][-2]["text"] == "/me"
        assert mine["messages"][-1]["bot"] and not mine["messages"][-1]["mine"]

        # a tap: the bot's callback answer comes back to the page; the service menu of /request
        before = len(fake.bot_messages(sandbox.users["resident"]))
        await client.post("/api/send", json={"persona": "resident", "text": "/request"})
        menu = await fake.wait_message(sandbox.users["resident"], after=before)
        data = menu.reply_markup["inline_keyboard"][0][0]["callback_data"]
        answer = await client.post(
            "/api/tap", json={"persona": "resident", "chat": "private", "message_id": menu.message_id, "data": data}
        )
        assert answer.status == 200 and (await answer.json())["answered"] is True

        # bad input is refused without a change
        assert (await client.post("/api/send", json={"persona": "nobody", "text": "x"})).status == 400
        assert (await client.post("/api/send", json={"persona": "resident", "text": "  "})).status == 400
        assert (
            await client.post("/api/tap", json={"persona": "resident", "message_id": 999, "data": "x"})
        ).status == 404
        assert (await client.get("/api/file/nothing")).status == 404

        # files the bot sends are downloadable with their names
        stored = fake.store_file("周台账.xlsx", b"PK\x03\x04 workbook", "application/vnd.ms-excel")
        response = await client.get(f"/api/file/{stored.file_id}")
        assert await response.read() == b"PK\x03\x04 workbook"
        assert "%E5%91%A8%E5%8F%B0%E8%B4%A6.xlsx" in response.headers["Content-Disposition"]

        # the page's 📎: a photo the persona sends, downloadable from the chat
        form = aiohttp.FormData(quote_fields=False)  # as a browser sends it: the name in UTF-8
        form.add_field("persona", "volunteer3")
        form.add_field("chat", "private")
        form.add_field("file", b"\x89PNG photo", filename="门牌.png", content_type="image/png")
        assert (await client.post("/api/upload", data=form)).status == 200
        sent = next(m for m in (await chat(client, "volunteer3"))["messages"] if "photo" in m)
        assert sent["mine"] and sent["photo"]["name"] == "门牌.png"
        assert await (await client.get(sent["photo"]["url"])).read() == b"\x89PNG photo"

        # next day: the bot's clock moves a day on
        now = sandbox.clock.now()
        moved = await (await client.post("/api/next-day")).json()
        assert sandbox.clock.now() - now >= timedelta(days=1) and moved["now"]
        assert fake.group_leaks() == []
        offset = sandbox.clock.offset
    finally:
        await client.close()
        await sandbox.stop()

    # the same file again: the station is kept (no second set-up), the clock where it was
    again, client = await started(tmp_path / "s.sqlite3")
    try:
        group = await chat(client, "admin", "group")
        assert not any(m["text"] == "/bind 1" for m in group["messages"])
        assert abs(again.clock.offset - offset) < timedelta(seconds=1)
        before = len(again.fake.bot_messages(again.users["volunteer2"]))
        await client.post("/api/send", json={"persona": "volunteer2", "text": "/me"})
        await again.fake.wait_message(again.users["volunteer2"], contains="小时", after=before)
    finally:
        await client.close()
        await again.stop()
