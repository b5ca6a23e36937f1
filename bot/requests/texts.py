"""Words of voice orders, 再来一单 and regular needs (bot/requests/media.py, bot/requests/regular.py)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.ui import texts
from storage.models import RegularNeed

ERRORS = {
    "too_many_media": __("That is enough: at most {limit} voice messages and photos at this step. Please go on."),
    "no_regular": __("This regular need does not exist or has been stopped. /regular lists yours."),
    "already_regular": __("This request is already regular. /regular lists your regular needs."),
    "already_skipped": __("That time has already been skipped."),
    "offer_over": __("Sorry, this offer has ended: the request has gone to the team's group."),
}

EVERY = {
    "week": __("every week on {weekday}"),
    "2weeks": __("every two weeks on {weekday}"),
    "month": __("every month on day {day}"),
}


def every(need: RegularNeed) -> str:
    return str(EVERY[need.every]).format(weekday=str(texts.WEEKDAYS[need.first_day.weekday()]), day=need.first_day.day)


def regular_line(need: RegularNeed, service: str) -> str:
    """ "每周四 09:00–11:00，代取药品，直到您停止"."""
    until = _("until {day}").format(day=texts.fmt_day(need.until)) if need.until else _("until you stop it")
    return _("No. {id}: {service}, {every}, {start}–{end}, {until}").format(
        id=need.id, service=service, every=every(need), start=need.start, end=need.end, until=until
    )
