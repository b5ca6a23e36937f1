"""The words of 微心愿: statuses, the card, and the error texts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.ui import texts
from storage.models import Wish

STATUS = {
    "review": __("waiting for review"),
    "open": __("waiting to be claimed"),
    "claimed": __("claimed"),
    "preparing": __("being prepared"),
    "delivered": __("delivered"),
    "fulfilled": __("come true"),
    "declined": __("not accepted"),
    "cancelled": __("cancelled"),
}

ERRORS = {
    "no_wish": __("Sorry, there is no such wish. /wishes lists the open ones."),
    "wish_private_text": __(
        "Sorry, what is posted on the wish wall may not carry a phone number, an address, a handle or a link. "
        "Please write it without them."
    ),
    "wish_name_long": __(
        "Please give only a first name (such as 小明) or a description (such as 一位老人), at most {limit} "
        "characters, never a full name."
    ),
    "wish_past_date": __("Sorry, that date has passed. Please send a date from today on, for example 12-20."),
    "wish_needs_station": __("Sorry, I do not know your station yet. Please choose it with /mystation first."),
    "wish_in_review": __("Sorry, this wish is still waiting for review."),
    "wish_not_claimed": __("Sorry, nobody has claimed this wish yet."),
    "wish_claimed": __("Sorry, someone else has claimed this wish already."),
    "wish_fulfilled": __("This wish has come true already."),
    "wish_closed": __("Sorry, this wish is closed."),
    "not_your_wish": __("Sorry, this is not your wish. Only its wisher or its claimer can do this."),
    "wish_proposal_answered": __("This proposal has been answered already."),
    "wish_register_first": __(
        "Sorry, only registered people can claim a wish. Send /donor to register as a caring person or company "
        "(no team needed), or /volunteer to become a volunteer."
    ),
    "own_wish": __("Sorry, you cannot claim your own wish."),
    "wish_step_done": __("This step has been recorded already."),
    "wish_delivered": __("Sorry, a delivered wish cannot be given back. Please contact a coordinator."),
    "wish_not_delivered": __("Please tap “Delivered” first, then send the photo."),
    "wish_no_photo": __("Sorry, the photo of the delivery has not been added yet. Please wait a moment."),
    "wish_thanked": __("Your thanks have been passed on already."),
    "wish_donor_no_hours": __("Sorry, hours are recorded for volunteers only; a donor gets a thank-you record."),
    "wish_hours_given": __("Hours for this wish have been given already."),
    "wall_needs_station": __(
        "Sorry, please name the station whose wish wall this chat is, for example /bind_wall A01."
    ),
    "wish_photo_expected": __("Please send a photo, or tap “Skip”."),
    "wall_channel_unreachable": __(
        "Sorry, I cannot post in that channel. Please add me to it as an administrator, then send /bind_wall CODE "
        "@channel again."
    ),
    "wish_proxy_needs_station": __(
        "Which station is the wish for? Please name it: /wish CODE, for example /wish Z01 (/org shows the codes)."
    ),
    "wall_channel_admin": __("Sorry, only an administrator of the channel can make it the wish wall."),
}


def status_name(status: str) -> str:
    return str(STATUS.get(status, status))


def number(wish: Wish) -> str:
    return _("wish No. {id}").format(id=wish.id)


def day(d: date) -> str:
    return texts.fmt_day(d)


def waited(wish: Wish, now: datetime) -> str:
    """How long an open wish has waited since it was made: “3 天”, or “今天” for less than a day."""
    days = (now - wish.created_at).days
    return _("{days} days").format(days=days) if days >= 1 else _("less than a day")


def card(wish: Wish, station: str, status_line: str) -> str:
    """The public card: what, for whom (a first name), why, cost, by when, the station. Never a phone or an address,
    never the wisher's or the claimer's full name."""
    lines = [
        _("🌟 Small wish: {number}").format(number=number(wish)),
        _("Wish: {what}").format(what=wish.what),
        _("For: {who}").format(who=wish.for_whom),
    ]
    if wish.why:
        lines.append(_("Why: {why}").format(why=wish.why))
    if wish.cost:
        lines.append(_("Roughly: {cost}").format(cost=wish.cost))
    lines += [
        _("Hoped for by: {day}").format(day=day(wish.due)),
        _("Station: {station}").format(station=station),
        status_line,
    ]
    return "\n".join(lines)


def when(at: datetime | None, tz: ZoneInfo) -> str:
    if at is None:
        return "—"
    local = at.astimezone(tz)
    return f"{texts.fmt_day(local.date())} {local:%H:%M}"


def steps(wish: Wish, tz: ZoneInfo) -> str:
    """The progress with dates: 已认领 → 准备中 → 已送达 → 已圆梦."""
    done = [
        (_("claimed"), wish.claimed_at),
        (_("being prepared"), wish.preparing_at),
        (_("delivered"), wish.delivered_at),
        (_("come true"), wish.fulfilled_at),
    ]
    return "\n".join(f"{'✅' if at else '⬜'} {label} {when(at, tz) if at else ''}".rstrip() for label, at in done)
