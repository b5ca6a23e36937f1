"""Texts of the ledger, disputes, star levels, /me, rankings and 最美志愿者 (call inside a locale context)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy

from bot.ui import texts
from storage.models import LedgerEntry, LedgerKind

STAR_NAMES = {
    1: __("1-star volunteer"),
    2: __("2-star volunteer"),
    3: __("3-star volunteer"),
    4: __("4-star volunteer"),
    5: __("5-star volunteer"),
}

KIND_NAMES: dict[str, LazyProxy] = {
    LedgerKind.SERVICE: __("service hours"),
    LedgerKind.REVERSAL: __("reversal"),
    LedgerKind.CORRECTION: __("correction"),
    LedgerKind.REDEEM: __("points exchanged"),
    LedgerKind.REFUND: __("points refunded"),
}

ERRORS = {
    "ledger_no_entry": __("This ledger entry does not exist."),
    "ledger_not_your_entry": __("This is not one of your ledger entries."),
    "ledger_not_disputable": __("Only entries with service hours can be disputed."),
    "ledger_already_corrected": __("This entry has already been corrected."),
    "ledger_not_allowed": __("You can only see your own ledger (team leaders: their team's members)."),
    "ledger_not_volunteer": __("This user is not a registered volunteer."),
    "dispute_already_open": __("There is already an open dispute about this entry; a coordinator will answer it."),
    "dispute_missing": __("This dispute does not exist."),
    "dispute_closed": __("This dispute has already been decided."),
    "rank_bad_args": __(
        "Usage: /rank, /rank year, /rank team NAME, /rank station (or 所, 中心); coordinators of a 所 or of the 中心: "
        "/rank stations [year]"
    ),
    "vote_too_few": __("Fewer than two volunteers can be named publicly; a vote needs at least two."),
    "vote_already_open": __("The vote for this month has already been opened in that group."),
    "vote_no_group": __("This team has no bound group."),
}


def star_name(level: int) -> str:
    return str(STAR_NAMES[level]) if level in STAR_NAMES else _("no star yet")


def signed(value: int) -> str:
    return f"+{value}" if value > 0 else str(value)


def signed_hours(minutes: int) -> str:
    return ("+" if minutes > 0 else "") + texts.hours(minutes) if minutes >= 0 else f"-{texts.hours(-minutes)}"


def entry_line(entry: LedgerEntry, tz: ZoneInfo, numbers: dict[int, str]) -> str:
    """One entry: id, date, kind, hours and points, what it is for, the reason."""
    parts = [
        f"№{entry.id}",
        f"{texts.local(entry.created_at, tz):%Y-%m-%d}",
        str(KIND_NAMES.get(entry.kind, entry.kind)),
    ]
    if entry.minutes or entry.kind not in (LedgerKind.REDEEM, LedgerKind.REFUND):
        parts.append(_("{hours} h").format(hours=signed_hours(entry.minutes)))
    parts.append(_("{points} points").format(points=signed(entry.points)))
    if entry.request_id:
        parts.append(_("request #{number}").format(number=numbers.get(entry.request_id, entry.request_id)))
    elif entry.activity_id:
        parts.append(_("activity {id}").format(id=entry.activity_id))
    if entry.reverses_id:
        parts.append(_("reverses №{id}").format(id=entry.reverses_id))
    line = " · ".join(parts)
    return line + (f"\n    {entry.reason}" if entry.reason else "")


def points_line(points: int) -> str:
    """A balance for /me: below zero it is owed (a correction downwards after the points were spent)."""
    if points < 0:
        return _("you owe {owed} points").format(owed=-points)
    return str(points)


def display_name(name: str, public: bool) -> str:
    return name if public else _("a volunteer")
