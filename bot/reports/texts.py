"""Texts of 周台账 / 月小结: the chat summary and the error messages. Call inside the reader's locale."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy

from bot.org import service as org
from bot.reports.service import WEEK, Figures, LevelLine, Period, Report
from bot.ui.texts import fmt_day, hours
from storage.models import LedgerKind

ERRORS = {
    "report_usage": __(
        "Usage: /report week [a day of the week, e.g. 2026-11-16] or /report month "
        "[e.g. 2026-10]. Without a date: the current week or month so far. For coordinators, "
        "and for team leaders (their own team)."
    ),
    "report_bad_month": __("“{value}” is not a month I can read. Please write it like 2026-10."),
    "report_bad_week": __("“{value}” is not a date I can read. Please write any day of the week like 2026-11-16."),
    "report_future": __("{label} has not begun yet, so there is nothing to report."),
    "report_not_allowed": __("Only coordinators, and team leaders for their own team, can see reports."),
    "rank_stations_not_allowed": __(
        "Sorry, only coordinators of a 所 or of the 中心 can compare stations. Send /rank for the volunteers' ranking."
    ),
}

KINDS: dict[str, LazyProxy] = {
    LedgerKind.SERVICE: __("approved service"),
    LedgerKind.CORRECTION: __("correction"),
    LedgerKind.REVERSAL: __("reversal of an entry"),
}


def kind_name(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def title(period: Period) -> str:
    text = _("Weekly ledger (周台账)") if period.kind == WEEK else _("Monthly summary (月小结)")
    return f"{text} {period.label}"


def span(period: Period) -> str:
    return f"{period.first.isoformat()} – {period.last.isoformat()}"


def duration(minutes: float | None) -> str:
    if minutes is None:
        return "—"
    if minutes < 60:
        return _("{minutes} min").format(minutes=round(minutes))
    return _("{hours} h").format(hours=f"{minutes / 60:.1f}".removesuffix(".0"))


def average(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def summary(report: Report, locale: str, tz: ZoneInfo, now: dt.datetime | None = None) -> str:
    """The report as a chat message."""
    r = report
    head = f"📊 {title(r.period)} ({span(r.period)})" if locale == "en" else f"📊 {title(r.period)}（{span(r.period)}）"
    if r.team_name:
        head += "\n" + _("Team: {team} (this team's requests, hours and activities only)").format(team=r.team_name)
    if r.place_name:
        head += "\n" + _("{place}: the requests, hours and activities of its teams").format(place=r.place_name)
    if now is not None and now < r.end:
        head += " " + _("(so far)")
    lines = [
        head,
        _(
            "Requests placed {placed} · taken {claimed} · done {done} · cancelled {cancelled} · not accepted {rejected}"
        ).format(placed=r.placed, claimed=r.claimed, done=r.done, cancelled=r.cancelled, rejected=r.rejected),
        _("Placed in this period and still waiting: {waiting} for a volunteer, {review} for review").format(
            waiting=r.waiting, review=r.in_review
        ),
        _("Median time to take a request: {time}").format(time=duration(r.median_claim_minutes)),
        _("Approved service hours: {hours} h, {points} points; active volunteers: {volunteers}").format(
            hours=hours(r.minutes), points=r.points, volunteers=r.volunteers_active
        ),
        _("Residents served: {people}; services delivered (受众人次): {services}").format(
            people=r.residents_served, services=r.services_delivered
        ),
        _("Ratings: {count}, average {average} ★ ({spread})").format(
            count=r.rating_count,
            average=average(r.rating_average),
            spread=" ".join(f"{n}★{r.ratings[n]}" for n in range(5, 0, -1)),
        ),
    ]
    lines += [named(label, value) for label, value in extra_rows(r)]
    lines += overdue_lines(r)
    if r.previous is not None:
        lines.append(change_line(r, r.previous))
    if r.lines:
        lines += ["", level_heading(r)]
        lines += [line_text(line) for line in r.lines]
    if r.by_team:
        lines += ["", _("Hours by team:")]
        lines += [
            _("  {name}: {hours} h, {volunteers} volunteer(s)").format(
                name=h.name(locale) if h.kind == "team" else _("(no team)"),
                hours=hours(h.minutes),
                volunteers=h.volunteers,
            )
            for h in r.by_team
        ]
    if r.by_service:
        lines += ["", _("Hours by service:")]
        lines += [
            _("  {name}: {hours} h, {volunteers} volunteer(s)").format(
                name=service_label(h, locale), hours=hours(h.minutes), volunteers=h.volunteers
            )
            for h in r.by_service
        ]
    if r.activities:
        lines += ["", _("Activities held: {count}").format(count=len(r.activities))]
        lines += [
            _("  {title} ({date}): {volunteers} volunteer(s), {hours} h").format(
                title=a.title,
                date=a.starts_at.astimezone(tz).date().isoformat(),
                volunteers=a.volunteers,
                hours=hours(a.minutes),
            )
            for a in r.activities
        ]
    return "\n".join(lines)


def service_label(h, locale: str) -> str:
    if h.kind == "activity":
        return _("Activity: {title}").format(title=h.name(locale))
    if h.kind == "service":
        return h.name(locale)
    return _("(other)")


# Issue 14: a level's report ---------------------------------------------------------------------------------


def extra_rows(r: Report) -> list[tuple[str, str | int | float]]:
    """The figures other features keep (task orders, 微心愿), as (label, value): the chat text and the workbook's
    summary sheet both read this list, so a new figure is one more row here."""
    if r.node_id is None:
        return []
    rows: list[tuple[str, str | int | float]] = [
        (_("Task orders accepted"), r.tasks_accepted),
        (_("Task orders finished"), r.tasks_finished),
    ]
    w = r.wishes
    if w.any:
        rows += [
            (_("Small wishes (微心愿) collected"), w.collected),
            (_("Small wishes approved"), w.approved),
            (_("Small wishes claimed"), w.claimed),
            (_("Small wishes fulfilled"), w.fulfilled),
            (_("Median days to fulfil a wish"), average(w.median_days)),
        ]
    return rows


OVERDUE_SHOWN = 15  # lines of overdue task-order parts in a chat report; /tasks lists them all


def overdue_lines(r: Report) -> list[str]:
    """The parts of task orders past their day at the report's stations (issue 14: flagged in the 周台账)."""
    if not r.overdue:
        return []
    out = ["", _("⚠️ Overdue task orders (a line per station): {count}").format(count=len(r.overdue))]
    for part in r.overdue[:OVERDUE_SHOWN]:
        text = (
            _("  {number} “{title}”: {station} ({code}) not accepted, due {day}")
            if part.stage == "accept"
            else _("  {number} “{title}”: {station} ({code}) not reported, due {day}")
        )
        out.append(
            text.format(
                number=part.number, title=part.title, station=part.station, code=part.code, day=fmt_day(part.by)
            )
        )
    if len(r.overdue) > OVERDUE_SHOWN:
        out.append(_("  … and {count} more: send /tasks").format(count=len(r.overdue) - OVERDUE_SHOWN))
    return out


def signed(value: float, unit: str = "") -> str:
    """+3, −1.5, ±0 (a change)."""
    if not value:
        return "±0" + unit
    text = f"{abs(value):.1f}".removesuffix(".0")
    return ("+" if value > 0 else "−") + text + unit


def change_line(r: Report, before: Report) -> str:
    return _(
        "Against the period before: placed {placed}, done {done}, hours {hours}, services delivered {services}, "
        "active volunteers {volunteers}, activities {activities}"
    ).format(
        placed=signed(r.placed - before.placed),
        done=signed(r.done - before.done),
        hours=signed((r.minutes - before.minutes) / 60),
        services=signed(r.services_delivered - before.services_delivered),
        volunteers=signed(r.volunteers_active - before.volunteers_active),
        activities=signed(len(r.activities) - len(before.activities)),
    )


def level_heading(r: Report) -> str:
    return _("By station:") if all(line.kind == org.STATION for line in r.lines) else _("By 所 (and station):")


def figures_text(f: Figures) -> str:
    return _(
        "placed {placed} · done {done} · {hours} h · services {services} · volunteers {volunteers} · "
        "time to take {time} · rating {rating}"
    ).format(
        placed=f.placed,
        done=f.done,
        hours=hours(f.minutes),
        services=f.services_delivered,
        volunteers=len(f.volunteers),
        time=duration(f.median_claim_minutes),
        rating=average(f.rating_average),
    )


def named(name: str, value: object) -> str:
    """“name: value” with the reader's colon."""
    return _("{key}: {val}").format(key=name, val=value)


def line_text(line: LevelLine) -> str:
    return "  " + named(line.name, figures_text(line.figures))


def figures_rows(f: Figures) -> list[tuple[str, str | int | float]]:
    """A station's (or 所's) figures as (label, value): the workbook's sheet of a station."""
    return [
        (_("Requests placed"), f.placed),
        (_("Requests taken"), f.claimed),
        (_("Requests done"), f.done),
        (
            _("Median time to take a request (minutes)"),
            round(f.median_claim_minutes) if f.median_claim_minutes is not None else "—",
        ),
        (_("Approved service hours"), f.minutes / 60),
        (_("Points"), f.points),
        (_("Active volunteers"), len(f.volunteers)),
        (_("Residents served"), f.residents_served),
        (_("Services delivered (受众人次)"), f.services_delivered),
        (_("Ratings"), f.rating_count),
        (_("Average rating"), round(f.rating_average, 2) if f.rating_average is not None else "—"),
        (_("Activities held"), len(f.activities)),
        (_("Task orders accepted"), f.tasks_accepted),
        (_("Task orders finished"), f.tasks_finished),
    ]


RANK_STATIONS = 30  # lines of /rank stations; the rest are counted


def station_rank(lines: list[LevelLine], period: Period, place: str) -> str:
    """/rank stations: the stations best first (service.compare_stations)."""
    from bot.reports.service import hours_per_volunteer

    out = [_("🏅 Stations compared, {when}, {place}:").format(when=period.label, place=place)]
    for i, line in enumerate(lines[:RANK_STATIONS], 1):
        f = line.figures
        out.append(
            f"{i}. "
            + named(line.name, "")
            + _(
                "{per} h per volunteer ({volunteers} registered) · done {done} · time to take {time} · "
                "rating {rating} · task orders finished {tasks}"
            ).format(
                per=f"{hours_per_volunteer(line):.1f}",
                volunteers=line.volunteers_registered,
                done=f.done,
                time=duration(f.median_claim_minutes),
                rating=average(f.rating_average),
                tasks=f.tasks_finished,
            )
        )
    if len(lines) > RANK_STATIONS:
        out.append(_("… and {count} more stations.").format(count=len(lines) - RANK_STATIONS))
    if not lines:
        out.append(_("There are no stations here yet."))
    return "\n".join(out)
