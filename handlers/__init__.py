"""Thin aiogram routers, one module per feature; the order of routers is the order of matching."""

from aiogram import Router

from handlers import (
    calendar,
    certificates,
    common,
    fallback,
    menu,
    org,
    reports,
    setup,
    shop,
    showcase,
    stations,
    tasks,
    wishes,
)
from handlers.activities import publish as activity_publish
from handlers.activities import signup as activity_signup
from handlers.ledger import entries as ledger_entries
from handlers.ledger import standing
from handlers.people import moderation, profile, roles, teams, volunteer
from handlers.requests import claim, closing, order, privacy, proxy, regular, reminders, review, views
from handlers.routing import Blueprint

BLUEPRINTS: tuple[Blueprint, ...] = (
    stations.router,  # before common: `/start CODE` is a deep link, plain /start common's
    common.router,
    roles.router,
    menu.router,
    volunteer.router,
    order.router,
    review.router,
    claim.router,
    closing.router,
    views.router,
    regular.router,
    privacy.router,
    profile.router,
    teams.router,
    org.router,
    moderation.router,
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
    setup.router,
    tasks.router,
    wishes.router,
    showcase.router,
    fallback.router,
)


def routers() -> list[Router]:
    """New routers for one dispatcher (handlers/routing.py)."""
    return [blueprint.build() for blueprint in BLUEPRINTS]
