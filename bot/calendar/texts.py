"""Error texts of the calendar features (/theme, /festival, /civic)."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

ERRORS = {
    "calendar_bad_month": __("There is no month “{month}”. Please give a month from 1 to 12."),
    "calendar_no_festival": __("I do not know the festival “{name}”. /festival lists them."),
    "calendar_too_many": __("That is {count} activities; at most {limit}. Please leave some out."),
}
