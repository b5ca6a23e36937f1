"""志愿服务证明: the station, which organised and recorded the services, certifies a volunteer's
approved hours (谁组织谁记录，谁记录谁证明). Each certificate gets a number coordinators can verify."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.dates import parse_date
from bot.core.errors import DomainError
from bot.core.limits import Daily
from bot.org import service as org
from bot.people.service import require_coordinator
from storage.models import Activity, Certificate, LedgerEntry, Request, Service, User, Volunteer

NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
NUMBER_RE = re.compile(r"^ZYFW-\d{4}-[A-Z0-9]{6}$")


@dataclass(frozen=True)
class Line:
    day: date  # the day of the service, in station time
    what: str  # the service or the activity
    minutes: int
    approver: str


@dataclass(frozen=True)
class Issued:
    certificate: Certificate
    volunteer: Volunteer
    lines: list[Line]


def parse_range(args: str | None, today: date) -> tuple[date | None, date | None]:
    """'' (all records), 'FROM' (from then until today) or 'FROM TO', each like 2026-01-01."""
    parts = (args or "").split()
    if len(parts) > 2:
        raise DomainError("cert_bad_range")
    days = []
    for part in parts:
        if not re.match(r"^\d{4}", part):  # a certificate needs full dates, not "5-1"
            raise DomainError("bad_date")
        days.append(parse_date(part, today))
    if not days:
        return None, None
    start, end = days[0], days[1] if len(days) == 2 else today
    if end < start:
        raise DomainError("cert_bad_range")
    return start, end


async def _names(s: AsyncSession, ids: set[int]) -> dict[int, str]:
    names = {u.id: u.full_name for u in (await s.execute(select(User).where(User.id.in_(ids)))).scalars()}
    names |= {
        v.user_id: v.name for v in (await s.execute(select(Volunteer).where(Volunteer.user_id.in_(ids)))).scalars()
    }
    return names


async def service_lines(
    s: AsyncSession, volunteer_id: int, date_from: date | None, date_to: date | None, tz: ZoneInfo, locale: str
) -> list[Line]:
    """Approved hours, one line per service; a reversed entry and its reversal are both left out."""
    rows = (
        await s.execute(
            select(LedgerEntry, Request, Service, Activity)
            .outerjoin(Request, Request.id == LedgerEntry.request_id)
            .outerjoin(Service, Service.id == Request.service_id)
            .outerjoin(Activity, Activity.id == LedgerEntry.activity_id)
            .where(LedgerEntry.volunteer_id == volunteer_id, LedgerEntry.minutes != 0)
            .order_by(LedgerEntry.id)
        )
    ).all()
    reversed_ids = {e.reverses_id for e, *_ in rows if e.reverses_id is not None}
    kept = [(e, r, sv, a) for e, r, sv, a in rows if e.reverses_id is None and e.id not in reversed_ids]
    names = await _names(s, {e.approved_by for e, *_ in kept if e.approved_by})
    lines = []
    for entry, req, service, activity in kept:
        when = req.window_start if req else activity.starts_at if activity else entry.created_at
        day = when.astimezone(tz).date()
        if (date_from and day < date_from) or (date_to and day > date_to):
            continue
        if activity is not None:
            what = activity.title
        elif service is not None:
            what = service.name_en if locale == "en" else service.name_zh
        else:
            what = entry.reason or "—"
        if req is not None:
            what = f"{what} (#{req.number})"
        approver = "—" if entry.approved_by is None else names.get(entry.approved_by, "—")
        lines.append(Line(day, what, entry.minutes, approver))
    lines.sort(key=lambda line: line.day)
    return lines


async def _new_number(s: AsyncSession, year: int) -> str:
    for _attempt in range(10):
        number = f"ZYFW-{year}-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(6))
        if (await s.execute(select(Certificate.id).where(Certificate.number == number))).first() is None:
            return number
    raise RuntimeError("could not find a free certificate number")


async def issue(
    s: AsyncSession,
    user: User,
    *,
    date_from: date | None,
    date_to: date | None,
    now: datetime,
    tz: ZoneInfo,
    daily: Daily | None = None,
) -> Issued:
    """Only for the volunteer himself: there is no way to name anyone else. `daily`: MAX_CERTIFICATES_PER_DAY."""
    volunteer = await s.get(Volunteer, user.id)
    if volunteer is None:
        raise DomainError("cert_not_volunteer")
    if daily is not None:
        issued_today = (
            await s.execute(
                select(func.count())
                .select_from(Certificate)
                .where(Certificate.volunteer_id == user.id, Certificate.issued_at >= daily.since(now))
            )
        ).scalar_one()
        if issued_today >= daily.count:
            raise DomainError("cert_limit", limit=daily.count)
    lines = await service_lines(s, user.id, date_from, date_to, tz, user.locale)
    minutes = sum(line.minutes for line in lines)
    if not lines or minutes <= 0:
        raise DomainError("cert_no_hours")
    certificate = Certificate(
        number=await _new_number(s, now.astimezone(tz).year),
        volunteer_id=user.id,
        date_from=date_from,
        date_to=date_to,
        minutes=minutes,
        entries=len(lines),
        issued_at=now,
        volunteer_name=volunteer.name,  # as it is today: a later change of name does not rewrite the certificate
    )
    s.add(certificate)
    await s.flush()
    return Issued(certificate, volunteer, lines)


async def verify(s: AsyncSession, actor: User, number: str) -> tuple[Certificate, Volunteer | None]:
    """The certificate with that number; show its `volunteer_name` (the name it was issued to), not today's."""
    require_coordinator(actor)
    number = (number or "").strip().upper()
    found = None
    if NUMBER_RE.match(number):
        found = (await s.execute(select(Certificate).where(Certificate.number == number))).scalars().first()
    if found is None:
        raise DomainError("cert_not_found", number=number[:24])
    await org.require_person(s, actor, found.volunteer_id)
    return found, await s.get(Volunteer, found.volunteer_id)
