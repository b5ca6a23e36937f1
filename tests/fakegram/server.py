"""FakeTelegram: an aiohttp Bot API server that a real aiogram bot talks to over HTTP."""

from __future__ import annotations

import asyncio
import copy
import inspect
import mimetypes
import time
import traceback
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import methods_bot, methods_messages  # noqa: F401  (register the handlers)
from .errors import CHAT_NOT_FOUND, ApiError, bad_request, forbidden
from .models import CallbackAnswer, FakeMessage, StoredFile
from .params import read_params
from .privacy import PrivacyGuard
from .registry import lookup
from .updates import Pulse, UpdateQueue
from .users import FakeGroup, FakeUser

Chat = FakeUser | FakeGroup | FakeMessage | int
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)


@dataclass
class _Failure:
    method: str | None
    error: ApiError
    times: int
    chat_id: int | None


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-TOKEN", bot_username: str = "station_test_bot",
                 bot_name: str = "Station Test Bot") -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.pulse = Pulse()
        self.updates = UpdateQueue(self.pulse)
        self.users: dict[int, FakeUser] = {}
        self.groups: dict[int, FakeGroup] = {}
        self.messages: dict[int, list[FakeMessage]] = {}  # chat id -> every message, both directions
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.my_commands: dict[tuple[str, int | None, int | None, str], list[dict]] = {}
        self.webhook: dict[str, Any] = {"url": ""}
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every call except getUpdates
        self.get_updates_calls: list[dict[str, Any]] = []
        self.internal_errors: list[str] = []
        self.privacy = PrivacyGuard()
        self._failures: list[_Failure] = []
        self._down = False
        self._next_user_id = 1001
        self._next_group = 1
        self._counters: dict[str, int] = {}
        self._in_flight = 0
        self._last_activity = 0.0
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self.updates.closed = False

    async def stop(self) -> None:
        self.updates.close()  # release held long polls so shutdown is immediate
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.internal_errors:
            raise AssertionError("fakegram internal errors:\n" + "\n".join(self.internal_errors))

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        assert self.port is not None, "call `await fake.start()` first"
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_name, "username": self.bot_username}

    # --- actors ----------------------------------------------------------------------------

    def user(self, first_name: str, *, language_code: str | None = None, username: str | None = None,
             last_name: str | None = None) -> FakeUser:
        user = FakeUser(self, self._next_user_id, first_name, last_name=last_name, username=username,
                        language_code=language_code)
        self._next_user_id += 1
        self.users[user.id] = user
        return user

    def group(self, title: str, members: list[FakeUser] = (), *, admins: list[FakeUser] = (),
              creator: FakeUser | None = None) -> FakeGroup:
        group = FakeGroup(self, -100100000 - self._next_group, title)
        self._next_group += 1
        for user in members:
            group.add(user)
        for user in admins:
            group.add(user, "administrator")
        if creator is not None:
            group.add(creator, "creator")
        self.groups[group.id] = group
        return group

    # --- updates ---------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any], update_id: int | None = None) -> int:
        """Queue a raw update (without update_id); pass update_id to redeliver a duplicate."""
        return self.updates.push(copy.deepcopy(update), update_id)

    def user_message(self, user: FakeUser, chat: FakeGroup | None, fields: dict[str, Any]) -> FakeMessage:
        chat_id = user.id if chat is None else chat.id
        fields = copy.deepcopy(fields)
        if "reply_to_message" in fields:
            fields["reply_to_message"].pop("reply_to_message", None)
        message = self._add_message(chat_id, user.to_dict(), fields)
        self.push_update({"message": message.raw})
        return message

    def callback_query(self, user: FakeUser, message: FakeMessage, data: str) -> str:
        query_id = str(4_000_000_000_000 + self._next("query"))
        self.callback_queries[query_id] = {"user_id": user.id, "message": message, "data": data}
        self.push_update({"callback_query": {
            "id": query_id, "from": user.to_dict(), "message": message.raw,
            "chat_instance": f"{abs(message.chat_id) * 7919}", "data": data,
        }})
        return query_id

    # --- state used by method handlers ------------------------------------------------------

    def resolve_chat(self, chat_id: Any, *, sending: bool = False) -> int:
        """Map a chat_id parameter to a known chat id, raising Telegram's errors."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, int) and chat_id in self.groups:
            status = self.groups[chat_id].bot_status
            if sending and status == "left":
                raise forbidden("bot is not a member of the supergroup chat")
            if sending and status == "kicked":
                raise forbidden("bot was kicked from the supergroup chat")
            return chat_id
        user = self.users.get(chat_id) if isinstance(chat_id, int) else None
        if user is None or not user.started:
            raise bad_request(CHAT_NOT_FOUND)
        if sending and user.blocked:
            raise forbidden("bot was blocked by the user")
        return chat_id

    def chat_dict(self, chat_id: int) -> dict[str, Any]:
        chat = self.groups.get(chat_id) or self.users[chat_id]
        return chat.chat_dict()

    def find_message(self, chat_id: int, message_id: Any) -> FakeMessage | None:
        for message in self.messages.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        return None

    def bot_message(self, chat_id: int, fields: dict[str, Any], params: dict[str, Any],
                    reply_markup: dict | None = None) -> FakeMessage:
        message = self._add_message(chat_id, self.bot_user, fields, reply_markup)
        message.params = params
        return message

    def store_file(self, filename: str, content: bytes, mime_type: str | None = None) -> StoredFile:
        n = self._next("file")
        ext = mimetypes.guess_extension(mime_type or "") or ("." + filename.rsplit(".", 1)[-1] if "." in filename else "")
        stored = StoredFile(f"BQACAgfake{n:06d}", f"AgADfake{n}", filename, content, mime_type,
                            f"documents/file_{n}{ext}")
        self.files[stored.file_id] = stored
        return stored

    def _add_message(self, chat_id: int, sender: dict[str, Any], fields: dict[str, Any],
                     reply_markup: dict | None = None) -> FakeMessage:
        chat_messages = self.messages.setdefault(chat_id, [])
        message_id = chat_messages[-1].message_id + 1 if chat_messages else 1
        raw = {"message_id": message_id, "from": sender, "chat": self.chat_dict(chat_id),
               "date": int(time.time()), **fields}
        message = FakeMessage(chat_id, message_id, text=fields.get("text"),
                              reply_markup=reply_markup or fields.get("reply_markup"),
                              caption=fields.get("caption"),
                              sender_id=sender["id"], raw=raw)
        chat_messages.append(message)
        self.pulse.fire()
        return message

    def _next(self, counter: str) -> int:
        self._counters[counter] = self._counters.get(counter, 0) + 1
        return self._counters[counter]

    # --- test helpers ----------------------------------------------------------------------

    @staticmethod
    def chat_id_of(chat: Chat) -> int:
        if isinstance(chat, (FakeUser, FakeGroup)):
            return chat.id
        if isinstance(chat, FakeMessage):
            return chat.chat_id
        return int(chat)

    def bot_messages(self, chat: Chat) -> list[FakeMessage]:
        """Messages the bot sent to this chat, in order, in their current state."""
        return [m for m in self.messages.get(self.chat_id_of(chat), []) if m.sender_id == self.bot_id]

    def chat_messages(self, chat: Chat) -> list[FakeMessage]:
        """Every message in the chat: the users' and the bot's."""
        return list(self.messages.get(self.chat_id_of(chat), []))

    @staticmethod
    def buttons(message: FakeMessage) -> list[str]:
        return message.buttons

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def commands(self, language_code: str = "", scope: str = "default", chat_id: int | None = None,
                 user_id: int | None = None) -> list[dict] | None:
        """Commands stored by setMyCommands for that scope and language (None if never set)."""
        return self.my_commands.get((scope, chat_id, user_id, language_code))

    async def wait_message(self, chat: Chat, contains: str | None = None, timeout: float = 5,
                           after: FakeMessage | int | None = None) -> FakeMessage:
        """Wait for a bot message (or edit) in `chat` containing `contains`; return the newest match.

        `after`: a message (only later message ids count) or a count of bot messages to skip.
        """
        chat_id = self.chat_id_of(chat)

        def match() -> FakeMessage | None:
            candidates = self.bot_messages(chat_id)
            if isinstance(after, int):
                candidates = candidates[after:]
            elif after is not None:
                candidates = [m for m in candidates if m.message_id > after.message_id]
            for message in reversed(candidates):
                if contains is None or any(contains in (v.text or v.caption or "") for v in message.versions):
                    return message
            return None

        if await self.pulse.wait_until(match, timeout):
            return match()
        recent = "\n".join(f"  #{m.message_id}{' (deleted)' if m.deleted else ''}: {m.content!r} {m.buttons}"
                           for m in self.bot_messages(chat_id)[-5:]) or "  (none)"
        raise AssertionError(f"no bot message containing {contains!r} in chat {chat_id} within {timeout}s; "
                             f"last bot messages:\n{recent}")

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 5) -> None:
        """Wait until every update was fetched and no API call arrived for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            settled = await self.pulse.wait_until(
                lambda: self.updates.all_fetched and self._in_flight == 0, deadline - loop.time())
            silence = loop.time() - self._last_activity
            if settled and silence >= quiet:
                return
            if not settled or loop.time() + quiet - silence > deadline:
                raise AssertionError(f"bot not idle within {timeout}s (unfetched updates: "
                                     f"{not self.updates.all_fetched}, last calls: {self.calls[-3:]})")
            await asyncio.sleep(quiet - silence)

    async def wait_polling(self, timeout: float = 5) -> None:
        """Wait until the bot holds a getUpdates long poll (i.e. polling has started)."""
        if not await self.pulse.wait_until(lambda: self.updates.waiting > 0, timeout):
            raise AssertionError(f"the bot did not start polling within {timeout}s")

    async def answer(self, query_id: str, timeout: float = 5) -> CallbackAnswer:
        """Wait for the bot's answerCallbackQuery to that query."""
        if await self.pulse.wait_until(lambda: query_id in self.callback_answers, timeout):
            return self.callback_answers[query_id]
        raise AssertionError(f"callback query {query_id} not answered within {timeout}s; "
                             f"last calls: {self.calls[-3:]}")

    # --- error injection and privacy -------------------------------------------------------

    def fail(self, method: str | None = "sendMessage", status: int = 429, retry_after: int | None = 2,
             times: int = 1, chat_id: Chat | None = None, description: str | None = None) -> None:
        """Make the next `times` matching calls fail (method=None: any method but getUpdates)."""
        retry = (retry_after or 1) if status == 429 else None
        self._failures.append(_Failure(method, ApiError(status, description, retry), times,
                                       None if chat_id is None else self.chat_id_of(chat_id)))

    def set_down(self, down: bool = True) -> None:
        """While down, every method answers 502 Bad Gateway."""
        self._down = down

    def mark_private(self, *secrets: str) -> None:
        self.privacy.mark(*secrets)

    def group_leaks(self) -> list[tuple[int, str]]:
        """(chat_id, text) of every bot message/edit in a group containing a private string."""
        group_messages = [m for cid, ms in self.messages.items() if cid < 0 for m in ms
                          if m.sender_id == self.bot_id]
        return self.privacy.leaks(group_messages)

    def _injected_failure(self, method: str, params: dict[str, Any]) -> ApiError | None:
        for failure in self._failures:
            if failure.method is None and method == "getUpdates":
                continue
            if failure.method is not None and failure.method.lower() != method.lower():
                continue
            if failure.chat_id is not None and params.get("chat_id") != failure.chat_id:
                continue
            failure.times -= 1
            if failure.times <= 0:
                self._failures.remove(failure)
            return failure.error
        return None

    # --- HTTP ------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        entry = lookup(name)
        method = "getUpdates" if name.lower() == "getupdates" else entry[0] if entry else name
        tracked = method != "getUpdates"  # long polls are not bot activity
        if tracked:
            self._in_flight += 1
            self._touch()
        try:
            result = await self._dispatch(request, method, entry, tracked)
        except ApiError as exc:
            return _error(exc)
        except Exception as exc:  # a bug in the fake must not look like a Telegram error
            self.internal_errors.append(traceback.format_exc())
            return _error(ApiError(500, f"Internal Server Error: fakegram bug: {exc!r}"))
        finally:
            if tracked:
                self._in_flight -= 1
                self._touch()
            self.pulse.fire()
        return web.json_response({"ok": True, "result": result})

    async def _dispatch(self, request: web.Request, method: str, entry: Any, tracked: bool) -> Any:
        params = await read_params(request)
        if tracked:
            self.calls.append((method, params))
        else:
            self.get_updates_calls.append(params)
        if self._down:
            raise ApiError(502)
        if entry is None and method != "getUpdates":
            raise ApiError(404, "Not Found")
        if error := self._injected_failure(method, params):
            raise error
        if method == "getUpdates":
            return await self._get_updates(request, params)
        result = entry[1](self, params)
        return await result if inspect.isawaitable(result) else result

    async def _get_updates(self, request: web.Request, params: dict[str, Any]) -> list[dict]:
        if self.webhook["url"]:
            raise ApiError(409, WEBHOOK_CONFLICT)
        batch = await self.updates.get(
            offset=int(params.get("offset", 0)), limit=int(params.get("limit", 100)),
            timeout=float(params.get("timeout", 0)),
            alive=lambda: request.transport is not None and not request.transport.is_closing(),
        )
        if batch:
            self._touch()
        return batch

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return _error(ApiError(401, "Unauthorized"))
        for stored in self.files.values():
            if stored.file_path == request.match_info["path"]:
                return web.Response(body=stored.content, content_type=stored.mime_type or "application/octet-stream")
        return _error(ApiError(404, "Not Found"))

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()


def _error(exc: ApiError) -> web.Response:
    return web.json_response(exc.to_json(), status=exc.status)
