"""The fake Bot API server, driven by a real aiogram Bot and Dispatcher."""

from __future__ import annotations

import asyncio
import io

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from tests.fakegram import FakeTelegram

TOKEN = "123456:TEST-TOKEN"
KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [
            InlineKeyboardButton(text="✅ 接单", callback_data="take:1"),
            InlineKeyboardButton(text="拒绝", callback_data="reject:1"),
        ]
    ]
)


def make_bot(fake: FakeTelegram, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))


def build_router() -> Router:
    router = Router()

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}", reply_markup=KEYBOARD)

    @router.message(F.contact)
    async def contact(message: Message) -> None:
        await message.answer(f"contact of {message.contact.user_id}")

    @router.callback_query(F.data.startswith("take:"))
    async def take(query: CallbackQuery) -> None:
        await query.answer("已接单", show_alert=True)
        await query.message.edit_text(f"{query.message.text} / taken by {query.from_user.first_name}")

    @router.callback_query()
    async def other(query: CallbackQuery) -> None:
        await query.answer()

    return router


@pytest.fixture
async def fake():
    fake = FakeTelegram(token=TOKEN, bot_username="station_test_bot")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(fake):
    bot = make_bot(fake)
    yield bot
    await bot.session.close()


@pytest.fixture
async def polling(fake, bot):
    dp = Dispatcher()
    dp.include_router(build_router())
    task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=1, close_bot_session=False))
    await fake.wait_polling()
    yield dp
    await dp.stop_polling()
    await asyncio.wait_for(task, 5)


@pytest.fixture
def alice(fake):
    return fake.user("Alice", language_code="zh-hans", username="alice")


async def test_get_me_and_base_url(fake, bot):
    assert fake.base_url.startswith("http://127.0.0.1:")
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "station_test_bot")


async def test_polling_echo_in_private_and_group(fake, polling, alice):
    bob = fake.user("Bob", language_code="en")
    group = fake.group("志愿服务一队", members=[alice, bob])
    assert group.id == -100100001 and alice.id == 1001 and bob.id == 1002

    await alice.send("/start")
    reply = await fake.wait_message(alice, contains="echo: /start")
    assert reply.buttons == ["✅ 接单", "拒绝"] == fake.buttons(reply)
    assert reply.raw["from"]["id"] == fake.bot_id

    sent = await bob.send("/bind@station_test_bot now", chat=group)
    assert sent.raw["entities"] == [{"type": "bot_command", "offset": 0, "length": 22}]
    await fake.wait_message(group, contains="echo: /bind@station_test_bot now")
    await fake.wait_idle()
    assert [m.message_id for m in fake.chat_messages(group)] == [1, 2]
    assert [p["chat_id"] for p in fake.calls_to("sendMessage")] == [alice.id, group.id]


async def test_long_poll_returns_early_and_times_out(fake, bot, alice):
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_polling()
    await alice.send("hello")
    updates = await poll
    assert loop.time() - started < 1
    assert [u.message.text for u in updates] == ["hello"]

    started = loop.time()
    assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == []
    assert 0.9 <= loop.time() - started < 2


async def test_offset_limit_and_redelivery(fake, bot, alice):
    for text in ("a", "b", "c"):
        await alice.send(text)
    assert [u.message.text for u in await bot.get_updates(limit=2)] == ["a", "b"]
    ids = [u.update_id for u in await bot.get_updates()]  # nothing confirmed yet
    assert len(ids) == 3
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert await bot.get_updates(offset=ids[2] + 1) == []
    assert fake.updates.pending == 0

    fake.push_update({"message": fake.chat_messages(alice)[0].raw}, update_id=ids[0])
    duplicate = await bot.get_updates(offset=ids[2] + 1)
    assert [(u.update_id, u.message.text) for u in duplicate] == [(ids[0], "a")]
    assert await bot.get_updates(offset=ids[0] + 1) == []


async def test_concurrent_get_updates_conflict(fake, bot):
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await fake.wait_polling()
    second = asyncio.create_task(bot.get_updates(timeout=1))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    assert await second == []


async def test_tap_answer_and_edit(fake, polling, alice):
    await alice.send("order 1")
    message = await fake.wait_message(alice, contains="echo: order 1")
    query_id = await alice.tap(message, "接单")
    answer = await fake.answer(query_id)
    assert (answer.text, answer.show_alert) == ("已接单", True)

    edited = await fake.wait_message(alice, contains="taken by Alice")
    assert edited is message
    assert message.text == "echo: order 1 / taken by Alice"
    assert message.buttons == []  # editMessageText without reply_markup drops the keyboard
    assert [v.text for v in message.versions] == ["echo: order 1", "echo: order 1 / taken by Alice"]
    with pytest.raises(AssertionError, match=r"no inline button containing '接单'.*buttons: \[\]"):
        await alice.tap(message, "接单")

    forged = await alice.tap_data(message, "x" * 10)
    assert (await fake.answer(forged)).text is None


async def test_tap_missing_button_lists_buttons(fake, bot, alice):
    await alice.send("/start")
    await bot.send_message(alice.id, "订单", reply_markup=KEYBOARD)
    message = fake.bot_messages(alice)[0]
    with pytest.raises(AssertionError, match=r"'✅ 接单', '拒绝'"):
        await alice.tap(message, "完成")


async def test_bad_requests(fake, bot, alice):
    bob = fake.user("Bob")
    await alice.send("/start")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(alice.id, "字" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(alice.id, "")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(bob.id, "never started")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(-100999, "unknown group")
    too_long_data = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="d" * 65)]])
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(alice.id, "x", reply_markup=too_long_data)

    sent = await bot.send_message(alice.id, "4096 ok " + "字" * 4088, reply_markup=KEYBOARD)
    with pytest.raises(TelegramBadRequest, match="message is not modified: specified new message"):
        await bot.edit_message_text(sent.text, chat_id=alice.id, message_id=sent.message_id, reply_markup=KEYBOARD)
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=alice.id, message_id=sent.message_id, reply_markup=KEYBOARD)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("new", chat_id=alice.id, message_id=999)
    assert await bot.delete_message(alice.id, sent.message_id) is True
    assert fake.bot_messages(alice)[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("new", chat_id=alice.id, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)


async def test_html_is_rendered_and_validated(fake, bot, alice):
    await alice.send("/start")
    sent = await bot.send_message(alice.id, "<b>订单</b> &lt;3 <a href='https://x.org'>链接</a>", parse_mode="HTML")
    assert sent.text == "订单 <3 链接"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 2), ("text_link", 6, 2)]
    assert fake.bot_messages(alice)[0].text == "订单 <3 链接"
    with pytest.raises(TelegramBadRequest, match=r"can't parse entities: Unsupported start tag \"3\""):
        await bot.send_message(alice.id, "I <3 you", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match=r"Character '\.' is reserved"):
        await bot.send_message(alice.id, "Done.", parse_mode="MarkdownV2")


async def test_callback_answer_errors(fake, bot, alice):
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345")
    await alice.send("/start")
    await bot.send_message(alice.id, "pick", reply_markup=KEYBOARD)
    query_id = await alice.tap(fake.bot_messages(alice)[0], "拒绝")
    assert await bot.answer_callback_query(query_id, text="ok") is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)
    assert fake.callback_answers[query_id].text == "ok"


async def test_injected_retry_after(fake, bot, alice):
    await alice.send("/start")
    fake.fail("sendMessage", status=429, retry_after=2)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(alice.id, "first try")
    assert caught.value.retry_after == 2
    await bot.send_message(alice.id, "second try")
    assert [m.text for m in fake.bot_messages(alice)] == ["second try"]
    assert len(fake.calls_to("sendMessage")) == 2

    bob = fake.user("Bob")
    await bob.send("/start")
    fake.fail("sendMessage", status=500, chat_id=bob, times=2)
    await bot.send_message(alice.id, "other chat is unaffected")
    for _ in range(2):
        with pytest.raises(TelegramServerError, match="Internal Server Error"):
            await bot.send_message(bob.id, "x")
    await bot.send_message(bob.id, "recovered")


async def test_forbidden(fake, bot, alice):
    await alice.send("/start")
    alice.block()
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(alice.id, "hi")
    alice.unblock()
    await bot.send_message(alice.id, "hi")
    fake.fail(None, status=403)
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_chat_action(alice.id, "typing")


async def test_server_down(fake, bot):
    fake.set_down(True)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.get_me()
    fake.set_down(False)
    assert (await bot.get_me()).id == 123456


async def test_unknown_method_and_wrong_token(fake, bot, alice):
    await alice.send("/start")
    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot.send_video(alice.id, "BAACfake")
    stranger = make_bot(fake, "999:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_send_photo_is_stored_and_downloadable(fake, bot, alice):
    await alice.send("/start")
    sent = await bot.send_photo(alice.id, BufferedInputFile(b"\x89PNG fake", "poster.png"), caption="二维码")
    message = await fake.wait_message(alice, contains="二维码")
    assert message.document is not None and message.document.content == b"\x89PNG fake"
    assert sent.photo and sent.photo[-1].file_id == message.document.file_id
    file = await bot.get_file(sent.photo[-1].file_id)
    buffer = io.BytesIO()
    await bot.download_file(file.file_path, buffer)
    assert buffer.getvalue() == b"\x89PNG fake"
    with pytest.raises(TelegramBadRequest, match="no photo"):
        await bot.send_photo(alice.id, "")


async def test_chat_member_statuses(fake, bot, alice):
    bob, carol, dave = fake.user("Bob"), fake.user("Carol"), fake.user("Dave")
    group = fake.group("志愿服务一队", members=[bob], admins=[carol], creator=alice)
    statuses = {u.first_name: (await bot.get_chat_member(group.id, u.id)).status for u in (alice, bob, carol, dave)}
    assert statuses == {"Alice": "creator", "Bob": "member", "Carol": "administrator", "Dave": "left"}
    group.remove(bob)
    group.set_status(dave, "administrator")
    assert (await bot.get_chat_member(group.id, bob.id)).status == "left"
    member = await bot.get_chat_member(group.id, dave.id)
    assert (member.status, member.user.first_name) == ("administrator", "Dave")
    assert (await bot.get_chat_member(group.id, fake.bot_id)).status == "member"
    chat = await bot.get_chat(group.id)
    assert (chat.type, chat.title) == ("supergroup", "志愿服务一队")
    group.set_status(fake.bot_id, "left")
    with pytest.raises(TelegramForbiddenError, match="not a member"):
        await bot.send_message(group.id, "hi")


async def test_send_document_and_download(fake, bot, alice):
    await alice.send("/start")
    sent = await bot.send_document(
        alice.id, BufferedInputFile(b"id,name\n1,Alice\n", "report.csv"), caption="<i>报表</i>", parse_mode="HTML"
    )
    assert (sent.document.file_name, sent.caption) == ("report.csv", "报表")
    stored = fake.bot_messages(alice)[0]
    assert (stored.document.content, stored.document.mime_type) == (b"id,name\n1,Alice\n", "text/csv")
    assert stored.caption == "报表"
    buffer = io.BytesIO()
    await bot.download(sent.document.file_id, destination=buffer)
    assert buffer.getvalue() == b"id,name\n1,Alice\n"


async def test_commands_per_scope_and_language(fake, bot, alice):
    group = fake.group("一队", members=[alice])
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands([BotCommand(command="start", description="开始")], language_code="zh")
    await bot.set_my_commands(
        [BotCommand(command="bind", description="绑定")], scope=BotCommandScopeChat(chat_id=group.id)
    )
    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["开始"]
    assert fake.commands() == [{"command": "start", "description": "Start"}]
    assert fake.commands("zh")[0]["description"] == "开始"
    assert fake.commands(scope="chat", chat_id=group.id)[0]["command"] == "bind"
    assert await bot.get_my_commands(language_code="en") == []
    await bot.delete_my_commands(language_code="zh")
    assert fake.commands("zh") is None
    with pytest.raises(TelegramBadRequest, match="invalid language code specified"):
        await bot.set_my_commands([BotCommand(command="start", description="x")], language_code="zh-hans")
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])


async def test_poll_chat_action_and_reply_keyboard(fake, bot, alice):
    await alice.send("/start")
    sent = await bot.send_poll(alice.id, "满意吗?", ["满意", "不满意"], is_anonymous=False)
    assert [o.text for o in sent.poll.options] == ["满意", "不满意"] and sent.poll.is_anonymous is False
    assert await bot.send_chat_action(alice.id, "typing") is True
    keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="分享手机号", request_contact=True)]])
    sent = await bot.send_message(alice.id, "请分享", reply_markup=keyboard)
    assert sent.reply_markup is None  # Telegram only echoes inline keyboards
    assert fake.bot_messages(alice)[-1].buttons == ["分享手机号"]


async def test_contact_and_sticker_updates(fake, polling, alice):
    await alice.share_contact("+8613800138000")
    await fake.wait_message(alice, contains=f"contact of {alice.id}")
    await alice.send_sticker()
    await fake.wait_idle()
    assert len(fake.bot_messages(alice)) == 1  # no handler for stickers


async def test_privacy_guard(fake, bot, alice):
    group = fake.group("一队", members=[alice])
    fake.mark_private("中山路12号3单元", "+8613800138000")
    await alice.send("/start")
    await bot.send_message(alice.id, "地址: 中山路12号3单元, 电话 +86 138 0013 8000")
    await bot.send_message(group.id, "新订单: 中山路 (详情见私聊)")
    assert fake.group_leaks() == []
    sent = await bot.send_message(group.id, "新订单")
    await bot.edit_message_text("联系 138-0013-8000", chat_id=group.id, message_id=sent.message_id)
    assert fake.group_leaks() == [(group.id, "联系 138-0013-8000")]


async def test_group_leaks_cover_channels(fake, bot):
    """A channel (a station's wish wall may be one) is checked like a group: its posts, edits and photo captions."""
    channel = fake.group("心愿墙", channel=True)
    assert channel.chat_dict()["type"] == "channel"
    fake.mark_private("13911112222")
    sent = await bot.send_message(channel.id, "微心愿：一个新书包")
    assert fake.group_leaks() == []
    await bot.edit_message_text(
        "微心愿：一个新书包，联系 139 1111 2222", chat_id=channel.id, message_id=sent.message_id
    )
    assert fake.group_leaks() == [(channel.id, "微心愿：一个新书包，联系 139 1111 2222")]
    fake.privacy.secrets.clear()  # the fixture's own check at the end: this leak was the test's


async def test_wait_message_timeout_shows_recent(fake, bot, alice):
    await alice.send("/start")
    first = await bot.send_message(alice.id, "one")
    with pytest.raises(AssertionError, match=r"last bot messages:\n  #2: 'one'"):
        await fake.wait_message(alice, contains="two", timeout=0.2)
    with pytest.raises(AssertionError):
        await fake.wait_message(alice, contains="one", timeout=0.1, after=1)
    waiter = asyncio.create_task(fake.wait_message(alice, contains="o", after=fake.bot_messages(alice)[0]))
    await bot.send_message(alice.id, "two")
    assert (await waiter).message_id == first.message_id + 1


async def test_webhook_blocks_get_updates(fake, bot):
    await bot.set_webhook("https://example.org/hook")
    assert (await bot.get_webhook_info()).url == "https://example.org/hook"
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates() == []


async def test_raw_json_and_query_requests(fake, alice):
    await alice.send("/start")
    markup = {"inline_keyboard": [[{"text": "ok", "callback_data": "ok"}]]}
    async with aiohttp.ClientSession() as http:
        url = f"{fake.base_url}/bot{TOKEN}"
        async with http.post(
            f"{url}/sendMessage", json={"chat_id": alice.id, "text": "json", "reply_markup": markup}
        ) as resp:
            body = await resp.json()
        assert body["ok"] and body["result"]["reply_markup"] == markup
        async with http.get(f"{url}/getChat", params={"chat_id": str(alice.id)}) as resp:
            assert (await resp.json())["result"]["type"] == "private"
        async with http.post(f"{url}/noSuchMethod") as resp:
            assert resp.status == 404
            assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        fake.fail("getMe", status=429, retry_after=3)
        async with http.post(f"{url}/getme") as resp:  # method names are case-insensitive
            assert await resp.json() == {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            }


async def test_user_document_reply_and_default_parse_mode(fake, alice):
    bot = Bot(fake.token, session=fake.aiogram_session(), default=DefaultBotProperties(parse_mode="HTML"))
    try:
        sent = await alice.send_document("名单.csv", b"name\nAlice\n", caption="导入")
        [update] = await bot.get_updates()
        assert (update.message.document.file_name, update.message.caption) == ("名单.csv", "导入")
        buffer = io.BytesIO()
        await bot.download(update.message.document.file_id, destination=buffer)
        assert buffer.getvalue() == b"name\nAlice\n"

        reply = await bot.send_message(
            alice.id, "<b>收到</b>", reply_parameters=ReplyParameters(message_id=sent.message_id)
        )
        assert (reply.text, reply.reply_to_message.message_id) == ("收到", sent.message_id)
        assert fake.calls_to("sendMessage")[0]["parse_mode"] == "HTML"
        with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
            await bot.send_message(alice.id, "x", reply_parameters=ReplyParameters(message_id=99))
    finally:
        await bot.session.close()


async def test_wait_idle_fails_without_polling(fake, alice):
    await alice.send("nobody polls")
    with pytest.raises(AssertionError, match="not idle"):
        await fake.wait_idle(quiet=0.05, timeout=0.2)


async def test_voice_and_photos_by_file_id_and_the_privacy_guard(fake, bot, alice):
    """Users send voice messages and photos; the bot may send them on by file id (sendVoice, sendPhoto), never an
    id Telegram does not know; a private file id found in a group is a leak."""
    voice = await alice.send_voice("AwACvoice1", 12, caption="地址")
    photo = await alice.send_photo("AgACphoto1")
    assert voice.raw["voice"]["duration"] == 12 and photo.raw["photo"][-1]["file_id"] == "AgACphoto1"
    sent = await bot.send_voice(alice.id, "AwACvoice1", caption="点单 #2026-0001")
    assert sent.voice is not None and sent.voice.file_id == "AwACvoice1" and sent.caption == "点单 #2026-0001"
    shown = await bot.send_photo(alice.id, "AgACphoto1")
    assert shown.photo is not None and shown.photo[-1].file_id == "AgACphoto1"
    assert [m.raw.get("voice", {}).get("file_id") for m in fake.bot_messages(alice)][-2] == "AwACvoice1"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_voice(alice.id, "AwACnever-sent")
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(alice.id, "AwACvoice1")  # a voice message's id is not a photo
    group = fake.group("志愿服务一队", members=[alice])
    fake.mark_private("AwACvoice1", "AgACphoto1")
    await bot.send_photo(group.id, "AgACphoto1")
    assert {chat for chat, _text in fake.group_leaks()} == {group.id}  # each size of the photo
    fake.privacy.secrets.clear()  # the fixture's own check at the end: this leak was the test's
