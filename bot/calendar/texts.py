"""Error texts of the calendar features (/theme, /festival, /civic)."""

from __future__ import annotations

from aiogram.utils.i18n import lazy_gettext as __

ERRORS = {
    "calendar_bad_month": __("There is no month “{month}”. Please give a month from 1 to 12."),
    "calendar_no_festival": __("I do not know the festival “{name}”. /festival lists them."),
    "calendar_too_many": __("That is {count} activities; at most {limit}. Please leave some out."),
    "notice_empty": __("Please write the notice after the command, for example /notice 本周六上午九点在广场义诊。"),
    "notice_no_groups": __("None of your station's teams has a bound group yet: bind one with /bind in the group."),
    "notice_gone": __("That notice is no longer waiting: please send /notice again."),
}
