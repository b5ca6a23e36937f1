"""Task orders (任务单): error texts and what the task cards, /tasks and the workbook say. Call the formatters inside
the reader's locale."""

from __future__ import annotations

from datetime import date

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.tasks import service as tasks
from bot.ui import texts
from storage.models import OrgNode, Task, TaskNode

ERRORS = {
    "task_not_issuer": __("Sorry, only coordinators of the 中心 or of a 实践所 issue task orders."),
    "task_missing": __("This task order does not exist."),
    "task_not_yours": __("Sorry, this task order is for another station. You see your own station's only."),
    "task_not_reviewer": __("Sorry, only the coordinator who issued this task order reviews its reports."),
    "task_wrong_state": __("This task order has already moved on. Please send /tasks to see where it stands."),
    "task_past_date": __("That day has already passed. Please type a day from today on, such as 12-20."),
    "task_bad_deadlines": __("The day to accept must not be later than the day to finish. Please type it again."),
    "task_no_stations": __("No station was picked. Please tap a button or type station codes such as Z01 Z02."),
    "task_bad_hours": __("Please send the hours as a number from 0.5 to {limit}, such as 2 or 1.5."),
    "task_bad_count": __("Please send the number of people served as a whole number, such as 30."),
    "task_photos_full": __("You have sent 3 photos already, the most a report takes."),
}


def status_word(status: str) -> str:
    names = {
        tasks.ISSUED: _("not accepted yet"),
        tasks.ACCEPTED: _("accepted"),
        tasks.DECLINED: _("cannot take it"),
        tasks.REPORTED: _("reported"),
        tasks.RETURNED: _("sent back"),
        tasks.FINISHED: _("finished"),
    }
    return str(names.get(status, status))


def state_name(task: Task, tn: TaskNode, today: date) -> str:
    name = status_word(tn.status)
    if tn.status in (tasks.DECLINED, tasks.RETURNED) and tn.reason:
        name = _("{state}: {reason}").format(state=name, reason=tn.reason)
    if tasks.is_overdue(task, tn, today):
        name = _("{state} (overdue)").format(state=name)
    return name


def hours_line(task: Task) -> str:
    if task.max_minutes:
        return _("Hours each volunteer may get: {hours}").format(hours=texts.hours(task.max_minutes))
    return _("Hours each volunteer may get: as approved")


def card(task: Task, station: OrgNode | None = None) -> str:
    """The task as the stations receive it."""
    lines = [_("📋 Task order {number}: {title}").format(number=task.number, title=task.title)]
    if station is not None:
        lines.append(_("For: {station}").format(station=f"{station.name} ({station.code})"))
    if task.theme:
        lines.append(_("Theme: {theme}").format(theme=task.theme))
    lines += [
        _("What is expected: {expected}").format(expected=task.expected),
        _("Accept by: {day}").format(day=texts.fmt_date(task.accept_by)),
        _("Finish and report by: {day}").format(day=texts.fmt_date(task.finish_by)),
        hours_line(task),
    ]
    return "\n".join(lines)


def line(item: tasks.Line) -> str:
    text = _("{number} {title}: accepted {taken}/{nodes}, finished {finished}/{nodes}").format(
        number=item.task.number,
        title=item.task.title,
        taken=item.taken,
        finished=item.finished,
        nodes=item.nodes,
    )
    if item.declined:
        text += _(", cannot take it {count}").format(count=item.declined)
    if item.overdue:
        text += _(", overdue {count}").format(count=item.overdue)
    return text


def report_lines(tn: TaskNode) -> list[str]:
    return [
        _("What was done: {text}").format(text=tn.report or "—"),
        _("People served: {count}").format(count=tn.served or 0),
        _("Volunteers: {count}, {hours} hours in all").format(count=tn.volunteers or 0, hours=texts.hours(tn.minutes)),
    ]


def view(v: tasks.View, today: date) -> str:
    lines = [card(v.task), "", _("Stations:")]
    for station, tn in v.nodes:
        lines.append(
            _("• {station}: {state}").format(
                station=f"{station.name} ({station.code})", state=state_name(v.task, tn, today)
            )
        )
        if tn.status in (tasks.REPORTED, tasks.FINISHED):
            lines += ["  " + x for x in report_lines(tn)]
    return "\n".join(lines)


def sheet_rows(v: tasks.View, today: date) -> list[list[object]]:
    rows: list[list[object]] = [
        [
            _("Station code"),
            _("Station"),
            _("State"),
            _("Reason"),
            _("Overdue"),
            _("People served"),
            _("Volunteers"),
            _("Hours"),
            _("What was done"),
        ]
    ]
    for station, tn in v.nodes:
        rows.append(
            [
                station.code,
                station.name,
                status_word(tn.status),
                tn.reason or "",
                _("yes") if tasks.is_overdue(v.task, tn, today) else "",
                tn.served if tn.served is not None else "",
                tn.volunteers if tn.volunteers is not None else "",
                (tn.minutes or 0) / 60 if tn.minutes is not None else "",
                tn.report or "",
            ]
        )
    return rows
