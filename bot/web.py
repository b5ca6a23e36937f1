"""HTTP side of the bot: the webhook endpoint (aiogram's aiohttp handler) and /healthz.

Webhook mode lets several processes behind a load balancer share the work: Telegram posts each update
to one of them, the secret token header proves it came from Telegram, the update is recorded in the inbox
table (bot/inbox.py) and only then answered 200; whichever process is alive handles it from there. A body that
is not a JSON object with an update id gets 400; an update that could not be recorded gets 503, and Telegram
posts it again later. /healthz tells the load balancer whether this process can do its work (database, Redis, the
outbox moving), and nothing more: it is public. /metrics (Prometheus) has the figures, on a listener of its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from bot.core.metrics import Metrics
from bot.inbox import Inbox
from bot.outbox.sender import Backlog, OutboxSender
from storage.db import sqlite_file

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_TIMEOUT = 1.0  # seconds each probe of /healthz (and the backlog of /metrics) may take
FINISH_TIMEOUT = 20.0  # seconds a stopping process gives updates it accepted


class SecretRequestHandler(SimpleRequestHandler):
    """aiogram's handler, but a request without the right secret token gets 403 Forbidden, and an update is
    recorded in the inbox before it is answered (without an inbox: handled in the background, as aiogram does)."""

    def __init__(self, *args, inbox: Inbox | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.inbox = inbox

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            return web.Response(status=403, text="Forbidden")
        # aiogram parses the body in the request's own task: broken JSON would be a 500 with a traceback in the
        # log, and a list or a string an error later. Checked here first (aiohttp keeps the body it read).
        try:
            body = await request.json(loads=self.bot.session.json_loads)
        except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError is a ValueError too)
            return web.Response(status=400, text="Bad Request")
        if not isinstance(body, dict) or type(body.get("update_id")) is not int:
            return web.Response(status=400, text="Bad Request")
        if self.inbox is None:
            return await super().handle(request)
        try:
            await self.inbox.record(body)
        except Exception as exc:  # not recorded: not answered 200, so Telegram posts it again
            log.warning("update %s could not be recorded: %r", body["update_id"], exc)
            return web.Response(status=503, text="Service Unavailable")
        return web.json_response({})

    async def close(self) -> None:
        """On shutdown, let updates already answered 200 finish first: Telegram will not send them again."""
        # aiogram 3.31 has no public way to see those tasks: its private set is read, defensively.
        tasks = set(getattr(self, "_background_feed_update_tasks", ()))
        if tasks:
            await asyncio.wait(tasks, timeout=FINISH_TIMEOUT)
        await super().close()


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


class Health:
    """/healthz: 200 when everything this process needs answers, 503 otherwise, with one word per dependency:
    `{"database": "ok", "redis": "unreachable", "outbox": "ok"}` (redis only when REDIS_URL is set).

    - database, redis: answers within `timeout` seconds ("unreachable" otherwise);
    - outbox: "stuck" when a message due to be sent has waited `stuck_after` while Telegram answers (a Telegram that
      does not answer is no reason to take this process out of service), "stopped" when this process's sender is
      not running, "unknown" while the database does not answer.

    It is public, so it says no figures: the backlog goes to /metrics and to the log (logger `bot.web`, at most once
    a minute at INFO)."""

    LOG_EVERY = 60.0  # seconds between INFO lines of the backlog (a load balancer asks every few seconds)

    def __init__(
        self,
        sender: OutboxSender,
        redis: Redis | None = None,
        *,
        stuck_after: timedelta = timedelta(minutes=10),
        timeout: float = HEALTH_TIMEOUT,
    ):
        self.sender, self.redis = sender, redis
        self.stuck_after, self.timeout = stuck_after, timeout
        self._logged = -self.LOG_EVERY  # monotonic time of the last INFO line
        self.sqlite_path = sqlite_file(sender.db.url)

    async def _database(self) -> Backlog:
        # An open SQLite connection goes on reading a file that was moved or deleted: the path is looked at too.
        if self.sqlite_path is not None and not await asyncio.to_thread(os.path.isfile, self.sqlite_path):
            raise FileNotFoundError(self.sqlite_path)
        return await self.sender.backlog()

    async def _redis(self) -> None:
        assert self.redis is not None
        await self.redis.ping()

    async def check(self) -> tuple[int, dict[str, str]]:
        probes: list[Awaitable[Any]] = [asyncio.wait_for(self._database(), self.timeout)]
        if self.redis is not None:
            probes.append(asyncio.wait_for(self._redis(), self.timeout))
        backlog, *others = await asyncio.gather(*probes, return_exceptions=True)
        body: dict[str, str] = {}
        if isinstance(backlog, BaseException):
            log.warning("health check: database unreachable: %r", backlog)
            body["database"] = "unreachable"
        else:
            body["database"] = "ok"
        if self.redis is not None:
            if isinstance(others[0], BaseException):
                log.warning("health check: Redis unreachable: %r", others[0])
                body["redis"] = "unreachable"
            else:
                body["redis"] = "ok"
        body["outbox"] = self._outbox(None if isinstance(backlog, BaseException) else backlog)
        ok = all(value == "ok" for value in body.values())
        return (200 if ok else 503), body

    def _outbox(self, backlog: Backlog | None) -> str:
        if self.sender.stopped:
            return "stopped"
        if backlog is None:
            return "unknown"
        now = time.monotonic()
        level = logging.INFO if now - self._logged >= self.LOG_EVERY else logging.DEBUG
        if level == logging.INFO:
            self._logged = now
        log.log(level, "health check: database ok, outbox backlog %d", backlog.owed)
        if backlog.oldest_due_age >= self.stuck_after.total_seconds() and self.sender.unreachable_since is None:
            log.warning("health check: outbox stuck, a due message has waited %.0f s", backlog.oldest_due_age)
            return "stuck"
        return "ok"


def add_health(web_app: web.Application, checker: Health) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        status, body = await checker.check()
        return web.json_response(body, status=status)

    web_app.router.add_get("/healthz", healthz)


def webhook_app(
    dp: Dispatcher, bot: Bot, health: Health, url: str, secret: str, inbox: Inbox | None = None
) -> web.Application:
    web_app = web.Application()
    SecretRequestHandler(dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=True, inbox=inbox).register(
        web_app, path=webhook_path(url)
    )
    setup_application(web_app, dp, bot=bot)
    add_health(web_app, health)
    return web_app


def health_app(health: Health) -> web.Application:
    web_app = web.Application()
    add_health(web_app, health)
    return web_app


def metrics_app(metrics: Metrics, sender: OutboxSender, timeout: float = HEALTH_TIMEOUT) -> web.Application:
    """/metrics in Prometheus's text format, on a listener of its own (METRICS_HOST, METRICS_PORT): the webhook's
    listener faces the internet, and behind a reverse proxy on the same machine every request comes from
    localhost, so a check of the caller's address there would not keep the figures private."""
    web_app = web.Application()

    async def scrape(_request: web.Request) -> web.Response:
        try:  # the backlog is read when asked; a database that does not answer leaves the last figures
            backlog = await asyncio.wait_for(sender.backlog(), timeout)
        except Exception as exc:
            log.warning("metrics: could not read the outbox backlog: %r", exc)
        else:
            metrics.outbox_owed.set(backlog.owed)
            metrics.outbox_oldest.set(backlog.oldest_due_age)
        return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app.router.add_get("/metrics", scrape)
    return web_app


async def serve(web_app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner and the bound port (port 0 picks a free one)."""
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, runner.addresses[0][1]
