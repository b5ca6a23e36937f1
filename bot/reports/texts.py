"""Texts of 周台账 / 月小结: the chat summary and the error messages. Call inside the reader's locale."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.reports.service import WEEK, Period, Report
from bot.ui.texts import hours

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
}

KINDS = {"service": __("approved service"), "correction": __("correction"), "reversal": __("reversal of an entry")}


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
