"""Thin aiogram routers, one module per feature; the order of routers is the order of matching."""
from aiogram import Router
from aiogram.dispatcher.event.handler import HandlerObject

from handlers import calendar, certificates, common, fallback, menu, reports, shop
from handlers.activities import publish as activity_publish
from handlers.activities import signup as activity_signup
from handlers.ledger import entries as ledger_entries
from handlers.ledger import standing
from handlers.people import profile, roles, teams, volunteer
from handlers.requests import claim, closing, order, proxy, reminders, review, views

TEMPLATES = (common.router, roles.router, menu.router, volunteer.router, order.router, review.router,
             claim.router, closing.router, views.router, profile.router, teams.router, proxy.router,
             calendar.router, reminders.router, reports.router, shop.router, certificates.router,
             ledger_entries.router, standing.router, activity_publish.router, activity_signup.router, fallback.router)


def _fresh(template: Router) -> Router:
    """A new router with the template's handlers: a router can belong to one dispatcher only, and
    tests (or a supervisor) may build several apps in one process."""
    router = Router(name=template.name)
    for name, observer in template.observers.items():
        target = router.observers[name]
        target.handlers.extend(observer.handlers)
        # The router-wide filters (router.message.filter(...)): aiogram 3.31 keeps them on the observer's
        # private HandlerObject, with no public way to read or copy them.
        target._handler.filters = list(observer._handler.filters or [])
        for handler in [target._handler, *target.handlers]:
            on_the_loop(handler)
    return router


def on_the_loop(handler: HandlerObject) -> None:
    """aiogram runs a plain function, and so every F filter, in a worker thread (asyncio.to_thread): a thread hop
    for each filter of each handler it tries on each update, a fifth of the bot's CPU. Ours are pure and quick, so
    they run on the event loop instead."""
    for obj in [handler, *(handler.filters or [])]:
        if not obj.awaitable:
            obj.callback, obj.awaitable = _awaitable(obj.callback), True


def _awaitable(function):
    async def call(*args, **kwargs):
        return function(*args, **kwargs)
    return call


def routers() -> list[Router]:
    return [_fresh(template) for template in TEMPLATES]
