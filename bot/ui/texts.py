"""Formatting shared by handlers and notices: times, statuses, hours, error messages.

All strings go through gettext; call these inside the right locale context.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from storage.models import Request, Service

STATUS = {
    "review": __("waiting for review"),
    "open": __("waiting for a volunteer"),
    "claimed": __("taken by a volunteer"),
    "done": __("done, waiting for your confirmation"),
    "confirmed": __("confirmed, hours being approved"),
    "approved": __("closed"),
    "cancelled": __("cancelled"),
    "rejected": __("not accepted"),
}

WEEKDAYS = (__("Mon"), __("Tue"), __("Wed"), __("Thu"), __("Fri"), __("Sat"), __("Sun"))

ERRORS = {
    "not_coordinator": __("Only a coordinator of the station can do this."),
    "not_admin": __("Only an administrator of the station can do this."),
    "empty": __("This cannot be empty. Please type it again."),
    "too_long": __("That is too long ({length} characters); at most {limit}. Please shorten it."),
    "bad_phone": __(
        "That does not look like a phone number. Send a mainland mobile number "
        "(11 digits), a landline with area code, or an international number starting with +."
    ),
    "bad_hours": __("Please send the hours as a number, for example 1.5."),
    "hours_step": __("Hours are counted in half hours: for example 0.5, 1, 1.5."),
    "hours_out_of_range": __("The hours must be more than 0 and at most {max_hours:g}."),
    "past_time": __("That time has already passed. Please choose a time in the future."),
    "bad_window": __("The end time must be after the start time."),
    "window_too_long": __("A time window can be at most 12 hours long."),
    "too_far_ahead": __("Requests can be placed at most 90 days ahead."),
    "bad_date": __("I could not read that date. Please use a button or type it like 2026-12-05."),
    "bad_time": __("I could not read that time window. Please use a button or type it like 14:00-16:00."),
    "team_exists": __("A team named “{name}” already exists."),
    "no_team": __("There is no active team “{ref}”. /teams lists them."),
    "no_team_chosen": __("Please choose at least one team."),
    "no_teams_yet": __("There are no teams yet. Please ask a coordinator to create one first."),
    "chat_not_bound": __("This group is not bound to any team."),
    "no_service": __("This service is not on the menu (any more)."),
    "no_request": __("This request does not exist."),
    "foreign_card": __("This card belongs to another team's group."),
    "not_volunteer": __(
        "Only registered volunteers can accept requests. Open a private chat with me and send /volunteer to register."
    ),
    "not_in_team": __("This request is for a team you have not joined. Send me /volunteer to choose your teams."),
    "own_request": __("You cannot accept your own request."),
    "claim_clash": __("Sorry, you cannot take this request: its time overlaps with {other}, which you signed up for."),
    "already_claimed": __("Sorry, this request has already been taken."),
    "already_done": __("This service has already been reported done."),
    "already_rated": __("You have already rated this service. Thank you!"),
    "already_approved": __("This service has already been closed."),
    "request_cancelled": __("This request has been cancelled."),
    "request_rejected": __("This request was not accepted."),
    "not_claimed": __("This request is not taken by anyone at the moment."),
    "in_review": __("This request is still waiting for review."),
    "bad_state": __("This cannot be done at the request's current stage."),
    "not_your_claim": __("Only the volunteer who took this request can do this."),
    "not_your_request": __("This is not your request."),
    "too_late_to_release": __("The service has already begun; please contact a coordinator instead."),
    "release_already_asked": __(
        "You have already asked the coordinators to release this request; please wait for their answer."
    ),
    "release_answered": __("This has already been answered, or the request is no longer his."),
    "not_started": __("The service has not started yet; please report it once it is done."),
    "bad_rating": __("Please choose 1 to 5 stars."),
    "own_hours": __("You cannot approve your own hours; another coordinator must do it."),
    "not_confirmed": __("The resident has not confirmed this service yet."),
    "no_user": __("I do not know this user. They must send /start to me first; use their numeric id or @username."),
    "stale": __("This button is out of date. Please use the latest message."),
    "text_expected": __("Please send text."),
    "group_only": __("Please use this command in the volunteer group."),
    "private_only": __("Please use this command in a private chat with me."),
    "usage": __("Usage: {usage}"),
    "user_blocked": __("Sorry, your use of this bot has been suspended by the station. Please contact a coordinator."),
    "too_many_open": __(
        "Sorry, you already have {limit} requests waiting or under way, the most one person may have. "
        "You can place a new one once one of them is done, or cancel one in /my."
    ),
    "team_archived": __(
        "Sorry, team “{team}” has been archived; its requests wait for a coordinator to choose another team."
    ),
    "not_your_data": __("Sorry, these buttons are for someone else: only he can erase his own data."),
    "button_private": __("Sorry, this button works only in your private chat with me. Nothing was changed."),
    "button_group": __(
        "Sorry, this button works only on its card in the group of the team concerned. Nothing was changed."
    ),
}


def local(dt: datetime, tz: ZoneInfo) -> datetime:
    return dt.astimezone(tz)


def fmt_day(d: date) -> str:
    return _("{month}/{day} ({weekday})").format(month=d.month, day=d.day, weekday=str(WEEKDAYS[d.weekday()]))


def fmt_date(d: date) -> str:
    """A date with its year and weekday, as people read it: 2027年6月19日（周六）."""
    return _("{year}-{month}-{day} ({weekday})").format(
        year=d.year, month=d.month, day=d.day, weekday=str(WEEKDAYS[d.weekday()])
    )


def enumerate_items(items: Iterable[str]) -> str:
    """An enumeration: “7, 1” in English, “7、1” in Chinese."""
    return str(_(", ")).join(items)


def fmt_window(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    a, b = local(start, tz), local(end, tz)
    return _("{day} {a}–{b}").format(day=fmt_day(a.date()), a=f"{a:%H:%M}", b=f"{b:%H:%M}")


def fmt_time(dt: datetime, tz: ZoneInfo) -> str:
    return f"{local(dt, tz):%Y-%m-%d %H:%M}"


def hours(minutes: int | None) -> str:
    return f"{(minutes or 0) / 60:g}"


def service_name(service: Service | None, locale: str) -> str:
    if service is None:
        return "—"
    return service.name_en if locale == "en" else service.name_zh


def status_name(status: str) -> str:
    return str(STATUS.get(status, status))


def number(req: Request) -> str:
    return f"#{req.number}"


TELEGRAM_LIMIT = 4096


def chunks(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split a long answer on line breaks into pieces Telegram accepts."""
    out, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single overlong line is cut hard
            out.append(line[:limit])
            line = line[limit:]
        if current and len(current) + 1 + len(line) > limit:
            out.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current or not out:
        out.append(current)
    return out
