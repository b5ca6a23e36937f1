"""The request lifecycle: 点单 → (审单) → 派单 → 接单 → 结单 → 评单 → approval.

Every function here runs inside the caller's transaction; state changes use conditional
updates so that concurrent taps cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activities.service import signed_overlap
from bot.core import validate
from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.ledger import stars
from bot.menu.service import review_enabled
from bot.people.service import is_coordinator, is_member, require_coordinator, require_leader_or_coordinator, team_chats
from storage import dialects
from storage.models import Counter, Request, RequestEvent, Service, Team, User, Volunteer

# Statuses, in lifecycle order.
REVIEW, OPEN, CLAIMED, DONE, CONFIRMED, APPROVED = "review", "open", "claimed", "done", "confirmed", "approved"
CANCELLED, REJECTED = "cancelled", "rejected"
ACTIVE = (REVIEW, OPEN, CLAIMED)
MAX_AHEAD = timedelta(days=90)
MAX_WINDOW = timedelta(hours=12)
UNRATED_AFTER = timedelta(hours=72)  # a done request not rated by then may be approved without a rating


class Notices(Protocol):
    async def placed(self, s: AsyncSession, req: Request) -> None: ...
    async def review_needed(self, s: AsyncSession, req: Request) -> None: ...
    async def dispatched(self, s: AsyncSession, req: Request, chats: list[int]) -> None: ...
    async def claimed(self, s: AsyncSession, req: Request, volunteer: Volunteer) -> None: ...
    async def released(self, s: AsyncSession, req: Request, volunteer: Volunteer) -> None: ...
    async def reported(self, s: AsyncSession, req: Request) -> None: ...
    async def confirmed(self, s: AsyncSession, req: Request) -> None: ...
    async def approved(self, s: AsyncSession, req: Request, corrected: bool) -> None: ...
    async def cancelled(self, s: AsyncSession, req: Request, by_coordinator: bool) -> None: ...
    async def rejected(self, s: AsyncSession, req: Request) -> None: ...
    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None: ...


@dataclass
class Draft:
    service_id: int
    description: str
    window_start: datetime
    window_end: datetime
    area: str
    address: str | None = None
    phone: str | None = None
    proxy_for: str | None = None  # 帮办: the resident's name; the placer is then the proxy


def check_window(start: datetime, end: datetime, now: datetime) -> None:
    if start <= now:
        raise DomainError("past_time")
    if end <= start:
        raise DomainError("bad_window")
    if end - start > MAX_WINDOW:
        raise DomainError("window_too_long")
    if start - now > MAX_AHEAD:
        raise DomainError("too_far_ahead")


def check_draft(d: Draft, now: datetime) -> Draft:
    check_window(d.window_start, d.window_end, now)
    return Draft(
        service_id=d.service_id,
        description=validate.text(d.description, "description"),
        window_start=d.window_start,
        window_end=d.window_end,
        area=validate.text(d.area, "area"),
        address=validate.text(d.address, "address", required=False),
        phone=validate.phone(d.phone) if d.phone else None,
        proxy_for=validate.text(d.proxy_for, "name", required=False),
    )


async def _next_number(s: AsyncSession, year: int) -> str:
    """Readable numbers per year: 2026-0001, 2026-0002, ..."""
    name = f"request:{year}"
    # One upsert: two processes placing the year's first requests at once both get a number.
    result = await s.execute(
        dialects.insert(s, Counter)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    value = result.scalar_one()
    return f"{year}-{value:04d}"


def _event(
    s: AsyncSession, req: Request, actor_id: int | None, kind: str, now: datetime, detail: str | None = None
) -> None:
    s.add(RequestEvent(request_id=req.id, actor_id=actor_id, kind=kind, detail=detail, created_at=now))


async def get(s: AsyncSession, request_id: int) -> Request:
    req = await s.get(Request, request_id) if validate.fits_id(request_id) else None
    if req is None:
        raise DomainError("no_request")
    return req


async def by_number(s: AsyncSession, number: str | None) -> Request:
    number = validate.key(number)
    req = (await s.execute(select(Request).where(Request.number == number))).scalars().first() if number else None
    if req is None:
        raise DomainError("no_request")
    return req


async def _transition(s: AsyncSession, req: Request, expect: tuple[str, ...], now: datetime, **values: Any) -> None:
    """Move req out of one of `expect` states; raise if someone else moved it first."""
    result = await s.execute(
        update(Request)
        .where(Request.id == req.id, Request.status.in_(expect))
        .values(updated_at=now, **values)
        .returning(Request.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar() is None:
        await s.refresh(req)
        raise DomainError(why_not(req.status))
    await s.refresh(req)


def why_not(status: str) -> str:
    return {
        CLAIMED: "already_claimed",
        DONE: "already_done",
        CONFIRMED: "already_done",
        APPROVED: "already_approved",
        CANCELLED: "request_cancelled",
        REJECTED: "request_rejected",
        OPEN: "not_claimed",
        REVIEW: "in_review",
    }.get(status, "bad_state")


async def place(
    s: AsyncSession, notices: Notices, *, resident: User, draft: Draft, now: datetime, year: int
) -> Request:
    d = check_draft(draft, now)
    if d.proxy_for:  # 帮办员: coordinators and team leaders only, checked again at the moment of placing
        await require_leader_or_coordinator(s, resident)
    service = await s.get(Service, d.service_id)
    if service is None or not service.active:
        raise DomainError("no_service", ref=d.service_id)
    review = await review_enabled(s) or service.team_id is None
    req = Request(
        number=await _next_number(s, year),
        resident_id=resident.id,
        service_id=service.id,
        team_id=service.team_id,
        description=d.description,
        area=d.area,
        address=d.address,
        phone=d.phone,
        window_start=d.window_start,
        window_end=d.window_end,
        status=REVIEW if review else OPEN,
        created_at=now,
        updated_at=now,
        proxy_for=d.proxy_for,
    )
    s.add(req)
    await s.flush()
    _event(s, req, resident.id, "placed", now)
    await notices.placed(s, req)
    if review:
        await notices.review_needed(s, req)
    else:
        await notices.dispatched(s, req, await team_chats(s, req.team_id))
    return req


async def dispatch(
    s: AsyncSession, notices: Notices, *, request_id: int, actor: User, team_id: int | None, now: datetime
) -> Request:
    """审单: a coordinator sends a reviewed request to its team, or to another team."""
    require_coordinator(actor)
    req = await get(s, request_id)
    if team_id is not None:  # "Other team": the button's team must (still) exist
        team = await s.get(Team, team_id) if validate.fits_id(team_id) else None
        if team is None or team.archived:
            raise DomainError("no_team", ref=team_id)
    if req.status == OPEN:  # another coordinator dispatched it first ("not taken by anyone" would mislead)
        raise DomainError("bad_state")
    target = team_id or req.team_id
    if target is None:
        raise DomainError("no_team", ref="")
    await _transition(s, req, (REVIEW,), now, status=OPEN, team_id=target)
    _event(s, req, actor.id, "dispatched", now, detail=str(target))
    await notices.dispatched(s, req, await team_chats(s, target))
    return req


async def reject(
    s: AsyncSession, notices: Notices, *, request_id: int, actor: User, reason: str | None, now: datetime
) -> Request:
    require_coordinator(actor)
    reason = validate.text(reason, "reason")
    req = await get(s, request_id)
    await _transition(s, req, (REVIEW,), now, status=REJECTED, closed_reason=reason)
    _event(s, req, actor.id, "rejected", now, detail=reason)
    await notices.rejected(s, req)
    return req


async def claim_rules(
    s: AsyncSession, *, request_id: int, user: User, chat_team_id: int | None
) -> tuple[Request, Volunteer]:
    """Every rule of 接单, in the order its refusals take precedence. The handler runs it in a read first,
    so the many taps that lose (a card already taken) are answered without waiting for the write turn."""
    req = await get(s, request_id)
    if chat_team_id is not None and chat_team_id != req.team_id:
        raise DomainError("foreign_card")
    volunteer = await s.get(Volunteer, user.id)
    if volunteer is None:
        raise DomainError("not_volunteer")
    if req.team_id is None or not await is_member(s, user.id, req.team_id):
        raise DomainError("not_in_team")
    if req.resident_id == user.id:
        raise DomainError("own_request")
    other = await signed_overlap(s, user.id, req.window_start, req.window_end)
    if other is not None:
        raise DomainError("claim_clash", other=other)
    if req.status != OPEN:
        raise DomainError(why_not(req.status))
    return req, volunteer


async def claim(
    s: AsyncSession, notices: Notices, *, request_id: int, user: User, chat_team_id: int | None, now: datetime
) -> Request:
    """接单: the one conditional UPDATE ... WHERE status='open' decides the single winner."""
    req, volunteer = await claim_rules(s, request_id=request_id, user=user, chat_team_id=chat_team_id)
    await _transition(s, req, (OPEN,), now, status=CLAIMED, claimer_id=user.id, claimed_at=now)
    _event(s, req, user.id, "claimed", now)
    await notices.claimed(s, req, volunteer)
    return req


def _require_claimer(req: Request, user: User) -> None:
    if req.claimer_id != user.id:
        raise DomainError("not_your_claim")


async def release(s: AsyncSession, notices: Notices, *, request_id: int, user: User, now: datetime) -> Request:
    req = await get(s, request_id)
    _require_claimer(req, user)
    if req.status == CLAIMED and now >= req.window_start:
        raise DomainError("too_late_to_release")
    volunteer = await s.get(Volunteer, user.id)
    assert volunteer is not None  # only a volunteer claims
    await _transition(s, req, (CLAIMED,), now, status=OPEN, claimer_id=None, claimed_at=None)
    _event(s, req, user.id, "released", now)
    await notices.released(s, req, volunteer)
    return req


def max_report_minutes(req: Request, now: datetime) -> int:
    """Hours reported are bounded by the time since the service started, and by 12 h."""
    elapsed = int((now - req.window_start).total_seconds() // 60)
    return max(0, min(validate.MAX_MINUTES, elapsed))


async def report_done(
    s: AsyncSession, notices: Notices, *, request_id: int, user: User, minutes: int, now: datetime
) -> Request:
    """结单: the claimer reports the service done with the hours spent."""
    req = await get(s, request_id)
    _require_claimer(req, user)
    if req.status != CLAIMED:
        raise DomainError(why_not(req.status))
    if now < req.window_start:
        raise DomainError("not_started")
    limit = max_report_minutes(req, now)
    if minutes <= 0 or minutes > limit:
        raise DomainError("hours_out_of_range", max_hours=limit / 60)
    await _transition(s, req, (CLAIMED,), now, status=DONE, reported_minutes=minutes, reported_at=now)
    _event(s, req, user.id, "reported", now, detail=str(minutes))
    await notices.reported(s, req)
    return req


async def confirm(
    s: AsyncSession, notices: Notices, *, request_id: int, user: User, rating: int, now: datetime
) -> Request:
    """评单: the resident confirms the service and rates it from 1 to 5."""
    req = await get(s, request_id)
    if req.resident_id != user.id:
        raise DomainError("not_your_request")
    if not 1 <= rating <= 5:
        raise DomainError("bad_rating")
    await _transition(s, req, (DONE,), now, status=CONFIRMED, rating=rating, confirmed_at=now)
    _event(s, req, user.id, "confirmed", now, detail=str(rating))
    await notices.confirmed(s, req)
    return req


async def comment(s: AsyncSession, *, request_id: int, user: User, text: str | None, now: datetime) -> Request:
    req = await get(s, request_id)
    if req.resident_id != user.id:
        raise DomainError("not_your_request")
    if req.status not in (CONFIRMED, APPROVED):
        raise DomainError(why_not(req.status))
    req.rating_comment = validate.text(text, "comment")
    req.updated_at = now
    _event(s, req, user.id, "commented", now)
    return req


def unrated_overdue(req: Request, now: datetime) -> bool:
    """A done request the resident has not rated within UNRATED_AFTER of the report."""
    return req.status == DONE and req.reported_at is not None and now >= req.reported_at + UNRATED_AFTER


def check_approvable(req: Request, now: datetime) -> None:
    """Hours are approved once the resident confirmed, or once they left it unrated for 72 h."""
    if req.status == CONFIRMED or unrated_overdue(req, now):
        return
    raise DomainError(why_not(req.status) if req.status != DONE else "not_confirmed")


async def approve(
    s: AsyncSession,
    notices: Notices,
    *,
    request_id: int,
    actor: User,
    now: datetime,
    points_per_hour: int,
    minutes: int | None = None,
    reason: str | None = None,
) -> Request:
    """A coordinator approves (or corrects, with a reason) the hours; only now do they reach the ledger."""
    require_coordinator(actor)
    req = await get(s, request_id)
    if req.claimer_id == actor.id:
        raise DomainError("own_hours")
    check_approvable(req, now)
    assert req.claimer_id is not None and req.reported_minutes is not None  # done: claimed, hours reported
    final = req.reported_minutes if minutes is None else minutes
    corrected = final != req.reported_minutes
    if corrected:
        if not 0 < final <= validate.MAX_MINUTES:
            raise DomainError("hours_out_of_range", max_hours=validate.MAX_MINUTES / 60)
        reason = validate.text(reason, "reason")
    expect = (CONFIRMED, DONE) if req.status == DONE else (CONFIRMED,)  # DONE only when unrated for 72 h
    await _transition(
        s, req, expect, now, status=APPROVED, approved_minutes=final, approved_by=actor.id, approved_at=now
    )
    ledger.add_service(
        s,
        volunteer_id=req.claimer_id,
        minutes=final,
        points_per_hour=points_per_hour,
        request_id=req.id,
        approved_by=actor.id,
        now=now,
        reason=reason if corrected else None,
    )
    _event(
        s,
        req,
        actor.id,
        "corrected" if corrected else "approved",
        now,
        detail=f"{final / 60:g}h" + (f" {reason}" if corrected else ""),
    )
    await notices.approved(s, req, corrected)
    await stars.after_credit(s, notices, req.claimer_id, now)  # 星级: same transaction as the credit
    return req


async def cancel(
    s: AsyncSession, notices: Notices, *, request_id: int, user: User, now: datetime, reason: str | None = None
) -> Request:
    """The resident, or a coordinator, cancels a request that is not done yet."""
    req = await get(s, request_id)
    by_coordinator = req.resident_id != user.id
    if by_coordinator and not is_coordinator(user):
        raise DomainError("not_your_request")
    reason = validate.text(reason, "reason", required=False)
    await _transition(s, req, ACTIVE, now, status=CANCELLED, closed_reason=reason)
    _event(s, req, user.id, "cancelled", now, detail=reason)
    await notices.cancelled(s, req, by_coordinator)
    return req


# Views ---------------------------------------------------------------------------------------


async def of_resident(s: AsyncSession, user_id: int, limit: int = 10) -> list[Request]:
    rows = await s.execute(
        select(Request).where(Request.resident_id == user_id).order_by(Request.id.desc()).limit(limit)
    )
    return list(rows.scalars())


async def of_claimer(s: AsyncSession, user_id: int, limit: int = 10) -> list[Request]:
    rows = await s.execute(
        select(Request).where(Request.claimer_id == user_id).order_by(Request.id.desc()).limit(limit)
    )
    return list(rows.scalars())


async def queue(s: AsyncSession, actor: User, limit: int = 20) -> dict[str, list[Request]]:
    """What needs a coordinator's eye: in review, open, claimed, waiting for approval."""
    require_coordinator(actor)
    out: dict[str, list[Request]] = {}
    for status in (REVIEW, OPEN, CLAIMED, DONE, CONFIRMED):
        rows = await s.execute(
            select(Request).where(Request.status == status).order_by(Request.window_start).limit(limit)
        )
        out[status] = list(rows.scalars())
    return out


async def history(s: AsyncSession, req: Request) -> list[RequestEvent]:
    rows = await s.execute(select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id))
    return list(rows.scalars())


def can_see(req: Request, user: User) -> bool:
    return user.id in (req.resident_id, req.claimer_id) or is_coordinator(user)
