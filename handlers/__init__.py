"""Thin aiogram routers, one module per feature; the order of routers is the order of matching."""
from aiogram import Router

from handlers import (activities, activity_publish, calendar, certificate, claim, closing, common, fallback, ledger,
                      menu, order, profile, proxy, reports, review, roles, shop, standing, teams, views, volunteer)

TEMPLATES = (common.router, roles.router, menu.router, volunteer.router, order.router, review.router,
             claim.router, closing.router, views.router, profile.router, teams.router, proxy.router,
             calendar.router, reports.router, shop.router, certificate.router, ledger.router, standing.router,
             activity_publish.router, activities.router, fallback.router)


def _fresh(template: Router) -> Router:
    """A new router with the template's handlers: a router can belong to one dispatcher only, and
    tests (or a supervisor) may build several apps in one process."""
    router = Router(name=template.name)
    for name, observer in template.observers.items():
        target = router.observers[name]
        target.handlers.extend(observer.handlers)
        target._handler.filters = list(observer._handler.filters or [])
    return router


def routers() -> list[Router]:
    return [_fresh(template) for template in TEMPLATES]
