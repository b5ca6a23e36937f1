"""Activities: error texts, the card, keyboards. Call the formatters inside the right locale context."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.ui import texts
from storage.models import Activity

ERRORS = {
    "act_missing": __("This activity does not exist."),
    "act_not_publisher": __("Only a coordinator, or a team leader for his own team, can publish an activity."),
    "act_not_manager": __("Only the activity's organiser, its team leader or a coordinator can do this."),
    "act_too_far_ahead": __("Activities can be published at most 180 days ahead."),
    "act_bad_deadline": __("The sign-up deadline must be in the future and no later than the start."),
    "act_bad_capacity": __("Please send the number of places as a whole number from 1 to {limit}."),
    "act_not_volunteer": __(
        "Only registered volunteers can sign up. Open a private chat with me and send /volunteer to register."
    ),
    "act_not_in_team": __("This activity is for a team you have not joined."),
    "act_team_archived": __("Sorry, this activity's team has been archived, so no one can sign up for it any more."),
    "act_cancelled": __("This activity has been cancelled."),
    "act_finished": __("This activity is over."),
    "act_signup_closed": __("Sign-up for this activity is closed."),
    "act_already_signed": __("You are already signed up for this activity."),
    "act_already_waiting": __("You are already on the waiting list (number {position})."),
    "act_clash": __("Sorry, you cannot sign up: the time overlaps with {other}, which you have already taken on."),
    "act_cannot_leave": __("Sign-up can no longer be cancelled for this activity."),
    "act_not_signed": __("You are not signed up for this activity."),
    "act_bad_code": __(
        "There is no open activity with this check-in code. Please check the code with the team leader."
    ),
    "act_not_checkin_time": __(
        "Check-in and check-out are open from 30 minutes before the start until the end of the activity."
    ),
    "act_already_in": __("You have already checked in."),
    "act_not_checked_in": __("You have not checked in to an activity that is going on now."),
    "act_not_started": __("The activity has not started yet."),
    "act_not_closed": __("Hours can be approved once the activity is closed."),
    "act_nothing_to_approve": __("There are no hours left to approve here."),
    "act_zero_hours": __("No hours were recorded for this volunteer; use “Adjust” to enter them."),
}


def who(team_name: str | None) -> str:
    return team_name if team_name else _("the whole station")


def details(act: Activity, tz: ZoneInfo, team_name: str | None) -> list[str]:
    lines = [
        _("📣 Activity {number}: {title}").format(number=act.number, title=act.title),
        _("Theme: {theme}").format(theme=act.theme or "—"),
        _("When: {window}").format(window=texts.fmt_window(act.starts_at, act.ends_at, tz)),
        _("Place: {place}").format(place=act.place),
        _("For: {who}").format(who=who(team_name)),
    ]
    if act.signup_deadline:
        lines.append(_("Sign-up until: {deadline}").format(deadline=texts.fmt_time(act.signup_deadline, tz)))
    return lines


def card_text(act: Activity, tz: ZoneInfo, team_name: str | None, signed: int, waiting: int) -> str:
    lines = details(act, tz, team_name)
    lines.append(
        _("Signed up {signed}/{capacity}, waiting list {waiting}").format(
            signed=signed, capacity=act.capacity, waiting=waiting
        )
    )
    if act.status == "cancelled":
        lines.append(_("❌ This activity has been cancelled."))
    elif act.status == "finished":
        lines.append(_("🏁 This activity is over. Thank you, everyone!"))
    return "\n".join(lines)
