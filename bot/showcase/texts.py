"""Words of 公示: the channel's posts (anonymised: built from the service, station, month and hours only), the
photo step of the done report, the consent at the rating step, /showcase."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.ui import texts
from storage.models import Service, ShowcasePost

ERRORS = {
    "no_post": __("Sorry, this post does not exist. /showcase lists the recent posts."),
    "post_removed": __("This post has already been taken down."),
    "too_many_photos": __("That is enough: at most 3 photos. Please tap “Done”."),
}

KINDS = {
    "activity": __("activity"),
    "service": __("service"),
    "wish": __("wish"),
}

STATUSES = {
    "waiting": __("waiting for tomorrow"),
    "queued": __("being posted"),
    "sent": __("posted"),
    "removed": __("taken down"),
}


def month(at: dt.datetime, tz: ZoneInfo) -> str:
    """ "2026年12月"."""
    local = at.astimezone(tz)
    return _("{month}/{year}").format(month=local.month, year=local.year)


def service_post(
    service: Service | None, locale: str, station: str, at: dt.datetime, minutes: int, tz: ZoneInfo
) -> str:
    return "\n".join(
        [
            _("🌟 Volunteer service done"),
            _("Service: {service}").format(service=texts.service_name(service, locale)),
            _("Station: {station}").format(station=station),
            _("Month: {month}").format(month=month(at, tz)),
            _("Hours: {hours} h").format(hours=texts.hours(minutes)),
        ]
    )


def activity_post(title: str, station: str, at: dt.datetime, volunteers: int, minutes: int, tz: ZoneInfo) -> str:
    lines = [
        _("🌟 Volunteer activity held: {title}").format(title=title),
        _("Station: {station}").format(station=station),
        _("Month: {month}").format(month=month(at, tz)),
        _("Volunteers: {count}").format(count=volunteers),
    ]
    if minutes:
        lines.append(_("Hours: {hours} h").format(hours=texts.hours(minutes)))
    return "\n".join(lines)


def post_line(post: ShowcasePost, tz: ZoneInfo) -> str:
    first = post.text.splitlines()[0] if post.text else ""
    return _("No. {id} ({kind}, {status}, {day}): {text}").format(
        id=post.id,
        kind=str(KINDS.get(post.kind, post.kind)),
        status=str(STATUSES.get(post.status, post.status)),
        day=f"{texts.fmt_day(texts.local(post.created_at, tz).date())} {texts.local(post.created_at, tz):%H:%M}",
        text=first,
    )
