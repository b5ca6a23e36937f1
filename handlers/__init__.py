"""Thin aiogram routers, one module per feature; the order of routers is the order of matching."""

from aiogram import Router

from handlers import calendar, certificates, common, fallback, menu, reports, shop
from handlers.activities import publish as activity_publish
from handlers.activities import signup as activity_signup
from handlers.ledger import entries as ledger_entries
from handlers.ledger import standing
from handlers.people import profile, roles, teams, volunteer
from handlers.requests import claim, closing, order, proxy, reminders, review, views
from handlers.routing import Blueprint

BLUEPRINTS: tuple[Blueprint, ...] = (
    common.router,
    roles.router,
    menu.router,
    volunteer.router,
    order.router,
    review.router,
    claim.router,
    closing.router,
    views.router,
    profile.router,
    teams.router,
    proxy.router,
    calendar.router,
    reminders.router,
    reports.router,
    shop.router,
    certificates.router,
    ledger_entries.router,
    standing.router,
    activity_publish.router,
    activity_signup.router,
    fallback.router,
)


def routers() -> list[Router]:
    """New routers for one dispatcher (handlers/routing.py)."""
    return [blueprint.build() for blueprint in BLUEPRINTS]
