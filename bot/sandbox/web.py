"""The sandbox's chat page and the JSON endpoints its script polls and posts to (127.0.0.1 only)."""

from __future__ import annotations

from importlib import resources
from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.fakegram import FakeMessage, FakeUser

from .station import GROUP_TITLE, PERSONAS, Sandbox

SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox", Sandbox)
TAP_WAIT = 15.0  # seconds the page waits for the bot's answer to a tap


def sandbox_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app[SANDBOX] = sandbox
    app.router.add_get("/", page)
    app.router.add_get("/api/state", state)
    app.router.add_post("/api/send", send)
    app.router.add_post("/api/contact", contact)
    app.router.add_post("/api/tap", tap)
    app.router.add_post("/api/upload", upload)
    app.router.add_post("/api/next-day", next_day)
    app.router.add_get("/api/file/{file_id}", file)
    return app


async def page(request: web.Request) -> web.Response:
    html = resources.files("bot.sandbox").joinpath("page.html").read_text(encoding="utf-8")
    return web.Response(text=html, content_type="text/html", charset="utf-8")


# --- reading ---------------------------------------------------------------------------------


async def state(request: web.Request) -> web.Response:
    """Everything the page shows: personas, the clock, and one chat (?persona=key&chat=private|group)."""
    sandbox = request.app[SANDBOX]
    body: dict[str, Any] = {
        "ready": sandbox.ready.is_set(),
        "now": _now_text(sandbox),
        "personas": [
            {"key": p.key, "name": p.name, "role": p.role, "label": p.role_label, "id": sandbox.users[p.key].id}
            for p in PERSONAS
        ],
        "group": {"id": sandbox.group.id, "title": GROUP_TITLE},
    }
    key = request.query.get("persona")
    if key in sandbox.users:
        user = sandbox.users[key]
        chat = request.query.get("chat", "private")
        if chat == "group" and sandbox.group.status_of(user) not in ("member", "administrator", "creator"):
            chat = "private"
        chat_id = sandbox.group.id if chat == "group" else user.id
        messages = sandbox.fake.chat_messages(chat_id)
        body["chat"] = {
            "kind": chat,
            "title": GROUP_TITLE if chat == "group" else sandbox.persona(key).name,
            "in_group": sandbox.group.status_of(user) != "left",
            "messages": [_message(sandbox, m, user) for m in messages if not m.deleted],
            "keyboard": _keyboard(sandbox, messages),
        }
    return web.json_response(body)


def _now_text(sandbox: Sandbox) -> str:
    if sandbox.app is None:
        return ""
    local = sandbox.clock.now().astimezone(sandbox.app.settings.tz)
    return local.strftime("%Y-%m-%d %H:%M ") + "一二三四五六日"[local.weekday()].join(("周", ""))


def _message(sandbox: Sandbox, message: FakeMessage, viewer: FakeUser) -> dict[str, Any]:
    fake = sandbox.fake
    raw = message.raw
    if message.sender_id == fake.bot_id:
        sender = fake.bot_name
    else:
        sender = raw.get("from", {}).get("first_name", "")
    out: dict[str, Any] = {
        "id": message.message_id,
        "from": sender,
        "bot": message.sender_id == fake.bot_id,
        "mine": message.sender_id == viewer.id,
        "text": message.content,
        "edited": bool(message.edits),
        "buttons": [
            [{"text": b.get("text", ""), "data": b.get("callback_data"), "url": b.get("url")} for b in row]
            for row in (message.reply_markup or {}).get("inline_keyboard", [])
        ],
    }
    if "contact" in raw:
        out["text"] = "📞 " + raw["contact"].get("phone_number", "")
    stored = message.document
    if stored is not None:
        link = f"/api/file/{quote(stored.file_id)}"
        kind = "photo" if "photo" in raw else "document"
        out[kind] = {"name": stored.filename, "url": link, "size": len(stored.content)}
    return out


def _keyboard(sandbox: Sandbox, messages: list[FakeMessage]) -> list[list[dict[str, Any]]]:
    """The reply keyboard the bot's newest message with one left in this chat (none once removed)."""
    for message in reversed(messages):
        if message.sender_id != sandbox.fake.bot_id:
            continue
        markup = message.params.get("reply_markup") if message.params else None
        if not isinstance(markup, dict):
            continue
        if markup.get("remove_keyboard"):
            return []
        if "keyboard" in markup:
            return [
                [{"text": b if isinstance(b, str) else b.get("text", ""), "contact": _asks_contact(b)} for b in row]
                for row in markup["keyboard"]
            ]
    return []


def _asks_contact(button: Any) -> bool:
    return isinstance(button, dict) and bool(button.get("request_contact"))


# --- acting ----------------------------------------------------------------------------------


async def _who(request: web.Request) -> tuple[Sandbox, FakeUser, dict[str, Any]]:
    sandbox = request.app[SANDBOX]
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="JSON body expected") from None
    if not isinstance(body, dict) or body.get("persona") not in sandbox.users:
        raise web.HTTPBadRequest(text="unknown persona")
    if not sandbox.ready.is_set():
        raise web.HTTPServiceUnavailable(text="the station is still being set up")
    return sandbox, sandbox.users[body["persona"]], body


async def send(request: web.Request) -> web.Response:
    sandbox, user, body = await _who(request)
    text = str(body.get("text") or "").strip()
    if not text:
        raise web.HTTPBadRequest(text="empty message")
    chat = sandbox.group if body.get("chat") == "group" else None
    if chat is not None and chat.status_of(user) == "left":
        raise web.HTTPBadRequest(text="not a member of the group")
    message = await user.send(text[:4096], chat=chat)
    return web.json_response({"id": message.message_id})


async def contact(request: web.Request) -> web.Response:
    """A reply keyboard's "share my number" button: the persona's own phone, as Telegram would send it."""
    sandbox, user, body = await _who(request)
    message = await user.share_contact(sandbox.persona(body["persona"]).phone)
    return web.json_response({"id": message.message_id})


async def upload(request: web.Request) -> web.Response:
    """The page's 📎: a photo (image/*) or a document, sent by the persona (multipart: persona, chat, file)."""
    sandbox = request.app[SANDBOX]
    form = await request.post()
    key, chat_kind, part = form.get("persona"), form.get("chat"), form.get("file")
    if not isinstance(key, str) or key not in sandbox.users or not isinstance(part, web.FileField):
        raise web.HTTPBadRequest(text="persona and file expected")
    if not sandbox.ready.is_set():
        raise web.HTTPServiceUnavailable(text="the station is still being set up")
    user = sandbox.users[key]
    chat = sandbox.group if chat_kind == "group" and sandbox.group.status_of(user) != "left" else None
    content = part.file.read()
    if not content:
        raise web.HTTPBadRequest(text="empty file")
    if (part.content_type or "").startswith("image/"):
        stored = sandbox.fake.store_file(part.filename, content, part.content_type)
        size = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": 800, "height": 800}
        message = await user.send_raw({"photo": [{**size, "file_size": len(content)}]}, chat=chat)
        message.document = stored
    else:
        message = await user.send_document(part.filename, content, chat=chat, mime_type=part.content_type)
    return web.json_response({"id": message.message_id})


async def tap(request: web.Request) -> web.Response:
    """Tap an inline button of a message (the data as the page saw it); answers with the bot's callback answer."""
    sandbox, user, body = await _who(request)
    chat_id = sandbox.group.id if body.get("chat") == "group" else user.id
    message = sandbox.fake.find_message(chat_id, body.get("message_id"))
    data = body.get("data")
    if message is None or not isinstance(data, str):
        raise web.HTTPNotFound(text="no such message")
    query = await user.tap_data(message, data)
    try:
        answer = await sandbox.fake.answer(query, timeout=TAP_WAIT)
    except AssertionError:
        return web.json_response({"text": None, "alert": False, "answered": False})
    return web.json_response({"text": answer.text, "alert": answer.show_alert, "answered": True})


async def next_day(request: web.Request) -> web.Response:
    sandbox = request.app[SANDBOX]
    if not sandbox.ready.is_set():
        raise web.HTTPServiceUnavailable(text="the station is still being set up")
    await sandbox.next_day()
    return web.json_response({"now": _now_text(sandbox)})


async def file(request: web.Request) -> web.Response:
    stored = request.app[SANDBOX].fake.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound(text="no such file")
    disposition = f"attachment; filename*=UTF-8''{quote(stored.filename)}"
    return web.Response(
        body=stored.content,
        content_type=stored.mime_type or "application/octet-stream",
        headers={"Content-Disposition": disposition},
    )
