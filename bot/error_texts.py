"""Every DomainError code and its text, from each feature's texts module, assembled here in one table.

A feature keeps its own error texts in `bot/<feature>/texts.py` as `ERRORS`; a code defined twice is an error at
import, so one code always means one text.
"""

from __future__ import annotations

from bot.activities import texts as activities
from bot.calendar import texts as calendar
from bot.certificates import texts as certificates
from bot.core.errors import DomainError
from bot.ledger import texts as ledger
from bot.org import texts as org
from bot.people import texts as people
from bot.reports import texts as reports
from bot.requests import texts as requests
from bot.shop import texts as shop
from bot.showcase import texts as showcase
from bot.tasks import texts as tasks
from bot.ui import texts as common
from bot.wishes import texts as wishes


def _merge(*tables: dict) -> dict:
    out: dict = {}
    for table in tables:
        clash = set(out) & set(table)
        if clash:
            raise ValueError(f"error codes defined twice: {sorted(clash)}")
        out.update(table)
    return out


ERRORS = _merge(
    common.ERRORS,
    people.ERRORS,
    ledger.ERRORS,
    shop.ERRORS,
    certificates.ERRORS,
    reports.ERRORS,
    activities.ERRORS,
    calendar.ERRORS,
    requests.ERRORS,
    org.ERRORS,
    org.BUILD_ERRORS,
    tasks.ERRORS,
    wishes.ERRORS,
    showcase.ERRORS,
)


def error_text(exc: DomainError) -> str:
    template = ERRORS.get(exc.code, ERRORS["bad_state"])
    return str(template).format(**exc.params)
