"""FakeTelegram: an aiohttp Bot API server that a real aiogram bot talks to over HTTP."""

from __future__ import annotations

import asyncio
import inspect
import sysconfig
import traceback
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from . import methods_bot, methods_messages  # noqa: F401  (register the handlers)
from .errors import ApiError
from .models import CallbackAnswer, FakeMessage
from .params import read_params
from .registry import lookup
from .state import Chat, TelegramState

# How long a test waits for the bot by default. A wait ends as soon as its condition holds, so the limit costs
# nothing when the bot answers; it is generous because the whole suite runs on every core at once (drills included).
WAIT = 30.0  # 15 s was exceeded now and then by a starved worker (five workers on two cores in CI)

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)


@dataclass
class _Failure:
    method: str | None
    error: ApiError
    times: int
    chat_id: int | None


def waiting_tasks(limit: int = 12) -> str:
    """Where the bot's tasks on this loop are waiting (the bot runs in the test's loop): a test that waited in vain
    says which update is stuck and on what (a lock, a connection, a future), for a failure seen once in many runs."""
    stdlib = sysconfig.get_paths()["stdlib"]
    lines = []
    for task in asyncio.all_tasks() - {asyncio.current_task()}:
        frames: list[Any] = []
        awaited: Any = task.get_coro()
        while awaited is not None and len(frames) < 60:  # the chain of awaits, outermost first
            frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
            if frame is None:
                break
            frames.append(frame)
            awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
        ours = [
            f
            for f in frames
            if not any(part in f.f_code.co_filename for part in ("/site-packages/", "/fakegram/", "/tests/"))
            and not f.f_code.co_filename.startswith(stdlib)
        ]
        if not ours:
            continue
        where = " -> ".join(f"{_short(f)} {f.f_code.co_name}" for f in ours)
        lines.append(f"  {task.get_name()}: {where} [waits in {_short(frames[-1])} {frames[-1].f_code.co_name}]")
    return ("\nthe bot's tasks waiting:\n" + "\n".join(sorted(lines)[:limit])) if lines else ""


def _short(frame: Any) -> str:
    return f"{'/'.join(frame.f_code.co_filename.rsplit('/', 2)[-2:])}:{frame.f_lineno}"


class FakeTelegram(TelegramState):
    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "station_test_bot",
        bot_name: str = "Station Test Bot",
    ) -> None:
        super().__init__(token, bot_username, bot_name)
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every call except getUpdates
        self.get_updates_calls: list[dict[str, Any]] = []
        self.internal_errors: list[str] = []
        self._failures: list[_Failure] = []
        self._down = False
        self._delays: list[list] = []  # [method or None, seconds, times left]
        self.limits: RateLimits | None = None  # Telegram's flood limits, when enforced
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

    def aiogram_session(self, **kwargs: Any) -> Any:
        """An aiogram AiohttpSession pointed at this server: Bot(token, session=fake.aiogram_session())."""
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        return AiohttpSession(api=TelegramAPIServer.from_base(self.base_url), **kwargs)

    # --- waiting for the bot ---------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name.lower() == method.lower()]

    async def wait_message(
        self, chat: Chat, contains: str | None = None, timeout: float = WAIT, after: FakeMessage | int | None = None
    ) -> FakeMessage:
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

        if await self.pulse.wait_until(match, timeout) and (found := match()) is not None:
            return found
        recent = (
            "\n".join(
                f"  #{m.message_id}{' (deleted)' if m.deleted else ''}: {m.content!r} {m.buttons}"
                for m in self.bot_messages(chat_id)[-5:]
            )
            or "  (none)"
        )
        raise AssertionError(
            f"no bot message containing {contains!r} in chat {chat_id} within {timeout}s; last bot messages:\n{recent}"
            + waiting_tasks()
        )

    async def wait_idle(self, quiet: float = 0.3, timeout: float = WAIT) -> None:
        """Wait until every update was fetched and no API call arrived for `quiet` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            settled = await self.pulse.wait_until(
                lambda: self.updates.all_fetched and self._in_flight == 0, deadline - loop.time()
            )
            silence = loop.time() - self._last_activity
            if settled and silence >= quiet:
                return
            if not settled or loop.time() + quiet - silence > deadline:
                raise AssertionError(
                    f"bot not idle within {timeout}s (unfetched updates: "
                    f"{not self.updates.all_fetched}, last calls: {self.calls[-3:]})"
                )
            await asyncio.sleep(quiet - silence)

    @property
    def in_flight(self) -> int:
        """API calls of the bot being answered right now (long polls aside)."""
        return self._in_flight

    async def wait_polling(self, timeout: float = WAIT) -> None:
        """Wait until the bot holds a getUpdates long poll (i.e. polling has started)."""
        if not await self.pulse.wait_until(lambda: self.updates.waiting > 0, timeout):
            raise AssertionError(f"the bot did not start polling within {timeout}s")

    async def answer(self, query_id: str, timeout: float = WAIT) -> CallbackAnswer:
        """Wait for the bot's answerCallbackQuery to that query."""
        if await self.pulse.wait_until(lambda: query_id in self.callback_answers, timeout):
            return self.callback_answers[query_id]
        raise AssertionError(
            f"callback query {query_id} not answered within {timeout}s (updates all fetched: "
            f"{self.updates.all_fetched}, polls held: {self.updates.waiting}); last calls: {self.calls[-3:]}"
            + waiting_tasks()
        )

    # --- error injection ----------------------------------------------------------------

    def fail(
        self,
        method: str | None = "sendMessage",
        status: int = 429,
        retry_after: int | None = 2,
        times: int = 1,
        chat_id: Chat | None = None,
        description: str | None = None,
    ) -> None:
        """Make the next `times` matching calls fail (method=None: any method but getUpdates)."""
        retry = (retry_after or 1) if status == 429 else None
        self._failures.append(
            _Failure(
                method,
                ApiError(status, description, retry),
                times,
                None if chat_id is None else self.chat_id_of(chat_id),
            )
        )

    def set_down(self, down: bool = True) -> None:
        """While down, every method answers 502 Bad Gateway."""
        self._down = down

    def delay(self, seconds: float, method: str | None = "sendMessage", times: int = 1) -> None:
        """Answer the next `times` matching calls `seconds` late, AFTER their effect (as a slow Telegram
        that did send the message): a bot whose timeout is shorter sees a timeout."""
        self._delays.append([method, seconds, times])

    def enforce_limits(self, per_second: int = 30, group_per_minute: int = 20, chat_interval: float = 1.0) -> None:
        """Answer 429 (with retry_after) to sends past Telegram's flood limits: `per_second` overall,
        `group_per_minute` in one group, one message per `chat_interval` seconds in one chat."""
        self.limits = RateLimits(per_second, group_per_minute, chat_interval)

    def _injected_delay(self, method: str) -> float:
        for entry in self._delays:
            if entry[0] is None and method == "getUpdates":
                continue
            if entry[0] is not None and entry[0].lower() != method.lower():
                continue
            entry[2] -= 1
            if entry[2] <= 0:
                self._delays.remove(entry)
            return entry[1]
        return 0.0

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
        if self.limits is not None and method.lower().startswith("send"):
            self.limits.check(params.get("chat_id"), asyncio.get_running_loop().time())
        late = self._injected_delay(method)
        result = entry[1](self, params)
        result = await result if inspect.isawaitable(result) else result
        if late:
            await asyncio.sleep(late)
        return result

    async def _get_updates(self, request: web.Request, params: dict[str, Any]) -> list[dict]:
        if self.webhook["url"]:
            raise ApiError(409, WEBHOOK_CONFLICT)
        batch = await self.updates.get(
            offset=int(params.get("offset", 0)),
            limit=int(params.get("limit", 100)),
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
                mime = stored.mime_type or "application/octet-stream"
                return web.Response(body=stored.content, content_type=mime)
        return _error(ApiError(404, "Not Found"))

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()


class RateLimits:
    """Telegram's flood control for sends, as sliding windows over the arrival times."""

    def __init__(self, per_second: int, group_per_minute: int, chat_interval: float) -> None:
        from collections import deque

        self.per_second, self.group_per_minute, self.chat_interval = per_second, group_per_minute, chat_interval
        self._all: deque[float] = deque()
        self._chats: dict[Any, deque[float]] = {}
        self.refused = 0  # 429s answered

    def check(self, chat_id: Any, now: float) -> None:
        from collections import deque

        while self._all and self._all[0] <= now - 1.0:
            self._all.popleft()
        chat = self._chats.setdefault(chat_id, deque())
        while chat and chat[0] <= now - 60.0:
            chat.popleft()
        wait = 0.0
        if len(self._all) >= self.per_second:
            wait = self._all[0] + 1.0 - now
        if chat and now - chat[-1] < self.chat_interval:
            wait = max(wait, chat[-1] + self.chat_interval - now)
        if isinstance(chat_id, int) and chat_id < 0 and len(chat) >= self.group_per_minute:
            wait = max(wait, chat[0] + 60.0 - now)
        if wait > 0:
            self.refused += 1
            raise ApiError(429, retry_after=max(1, int(wait + 0.999)))
        self._all.append(now)
        chat.append(now)


def _error(exc: ApiError) -> web.Response:
    return web.json_response(exc.to_json(), status=exc.status)
