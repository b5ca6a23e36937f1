"""HTTP side of the bot: the webhook endpoint (aiogram's aiohttp handler) and /healthz.

Webhook mode lets several processes behind a load balancer share the work: Telegram posts each update
to one of them, the secret token header proves it came from Telegram, and the answer (200) goes back at
once while the update is handled in the background. /healthz tells the load balancer whether this
process can reach the database.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web
from sqlalchemy import func, select

from storage.db import Database
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_TIMEOUT = 5.0
FINISH_TIMEOUT = 20.0  # seconds a stopping process gives updates it accepted


class SecretRequestHandler(SimpleRequestHandler):
    """aiogram's handler, but a request without the right secret token gets 403 Forbidden."""

    async def handle(self, request: web.Request) -> web.Response:
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), self.bot):
            return web.Response(status=403, text="Forbidden")
        return await super().handle(request)

    async def close(self) -> None:
        """On shutdown, let updates already answered 200 finish first: Telegram will not send them again."""
        # aiogram 3.31 has no public way to see those tasks: its private set is read, defensively.
        tasks = set(getattr(self, "_background_feed_update_tasks", ()))
        if tasks:
            await asyncio.wait(tasks, timeout=FINISH_TIMEOUT)
        await super().close()


def webhook_path(url: str) -> str:
    return urlsplit(url).path or "/"


async def health(db: Database) -> tuple[int, dict]:
    """200 with the outbox backlog when the database answers (within a few seconds), 503 otherwise."""

    async def backlog() -> int:
        async with db.read() as s:
            return (
                await s.execute(
                    select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
                )
            ).scalar_one()

    try:
        pending = await asyncio.wait_for(backlog(), HEALTH_TIMEOUT)
    except Exception as exc:  # any failure to reach the database means: send no traffic here
        log.warning("health check: database unreachable: %r", exc)
        return 503, {"database": "unreachable", "error": type(exc).__name__}
    return 200, {"database": "ok", "outbox_backlog": pending}


def add_health(web_app: web.Application, db: Database) -> None:
    async def healthz(_request: web.Request) -> web.Response:
        status, body = await health(db)
        return web.json_response(body, status=status)

    web_app.router.add_get("/healthz", healthz)


def webhook_app(dp: Dispatcher, bot: Bot, db: Database, url: str, secret: str) -> web.Application:
    web_app = web.Application()
    SecretRequestHandler(dispatcher=dp, bot=bot, secret_token=secret, handle_in_background=True).register(
        web_app, path=webhook_path(url)
    )
    setup_application(web_app, dp, bot=bot)
    add_health(web_app, db)
    return web_app


def health_app(db: Database) -> web.Application:
    web_app = web.Application()
    add_health(web_app, db)
    return web_app


async def serve(web_app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving; returns the runner and the bound port (port 0 picks a free one)."""
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner, runner.addresses[0][1]
