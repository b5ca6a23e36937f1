"""Thin aiogram routers, one module per feature; the order of routers is the order of matching."""
from aiogram import Router

from handlers import claim, closing, common, fallback, menu, order, review, roles, views, volunteer


def routers() -> list[Router]:
    return [common.router, roles.router, menu.router, volunteer.router, order.router, review.router,
            claim.router, closing.router, views.router, fallback.router]
