"""The request lifecycle: 点单 → (审单) → 派单 → 接单 → 结单 → 评单 → approval.

Every function here runs inside the caller's transaction; state changes use conditional
updates so that concurrent taps cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.activities.service import signed_overlap
from bot.core import validate
from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.ledger import stars
from bot.menu.service import review_enabled
from bot.org import service as org
from bot.people.service import is_coordinator, is_member, require_coordinator, require_leader_or_coordinator, team_chats
from bot.requests import media
from bot.showcase import service as showcase
from storage import dialects
from storage.models import Request, RequestEvent, Service, Team, User, Volunteer

# Statuses, in lifecycle order.
REVIEW, OPEN, CLAIMED, DONE, CONFIRMED, APPROVED = "review", "open", "claimed", "done", "confirmed", "approved"
CANCELLED, REJECTED = "cancelled", "rejected"
ACTIVE = (REVIEW, OPEN, CLAIMED)
MAX_AHEAD = timedelta(days=90)
MAX_WINDOW = timedelta(hours=12)
UNRATED_AFTER = timedelta(hours=72)  # a done request not rated by then may be approved without a rating
RELEASE_PERIOD = timedelta(hours=24)  # RELEASES_PER_DAY counts a volunteer's releases over this rolling period
# Events of a request's history about its contact (the address and phone): who received them, and releases asked.
CONTACT, RELEASE_ASKED, RELEASE_KEPT = "contact", "release_asked", "release_kept"


class Notices(Protocol):
    async def placed(self, s: AsyncSession, req: Request) -> None: ...
    async def offered(self, s: AsyncSession, req: Request) -> None: ...
    async def review_needed(self, s: AsyncSession, req: Request) -> None: ...
    async def dispatched(self, s: AsyncSession, req: Request, chats: list[int]) -> None: ...
    async def claimed(self, s: AsyncSession, req: Request, volunteer: Volunteer) -> None: ...
    async def released(
        self, s: AsyncSession, req: Request, volunteer: Volunteer, by: User | None = None, count: int = 0
    ) -> None: ...
    async def release_asked(self, s: AsyncSession, req: Request, volunteer: Volunteer, count: int) -> None: ...
    async def release_kept(self, s: AsyncSession, req: Request, volunteer: Volunteer, by: User) -> None: ...
    async def reported(self, s: AsyncSession, req: Request) -> None: ...
    async def confirmed(self, s: AsyncSession, req: Request) -> None: ...
    async def approved(self, s: AsyncSession, req: Request, corrected: bool) -> None: ...
    async def cancelled(self, s: AsyncSession, req: Request, by_coordinator: bool) -> None: ...
    async def rejected(self, s: AsyncSession, req: Request) -> None: ...
    async def returned_to_review(self, s: AsyncSession, req: Request) -> None: ...
    async def moved(
        self, s: AsyncSession, req: Request, chats: list[int], *, to: str, reason: str | None, by_hand: bool
    ) -> None: ...
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
    media: str | None = None  # voice and photo file ids (bot/requests/media.py), JSON
    station_id: int | None = None  # the resident's station when the placer picked one (帮办); else the placer's


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
        # a voice message or a photo may describe the need instead of text
        description=validate.text(
            d.description, "description", required=not media.of_step(media.loads(d.media), media.NEED)
        )
        or "",
        window_start=d.window_start,
        window_end=d.window_end,
        area=validate.text(d.area, "area"),
        address=validate.text(d.address, "address", required=False),
        phone=validate.phone(d.phone) if d.phone else None,
        proxy_for=validate.text(d.proxy_for, "name", required=False),
        media=d.media,
        station_id=d.station_id,
    )


async def _next_number(s: AsyncSession, year: int) -> str:
    """Readable numbers per year: 2026-0001, 2026-0002, ..."""
    value = await dialects.next_counter(s, f"request:{year}")
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
    if not await dialects.move_status(s, req, expect, updated_at=now, **values):
        raise DomainError(why_not(req.status))


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


async def check_not_blocked(s: AsyncSession, user_id: int) -> None:
    """Refuses a blocked user, read under a lock on his row (PostgreSQL): a /block committing at the same moment
    either commits first, and this sees it, or waits for this transaction and then takes back what it did. The lock
    also puts one resident's placings in a row, so two at once cannot both pass MAX_OPEN_REQUESTS."""
    blocked = await s.scalar(select(User.is_blocked).where(User.id == user_id).with_for_update())
    if blocked:
        raise DomainError("user_blocked")


async def check_open_limit(s: AsyncSession, resident: User, max_open: int | None) -> None:
    """MAX_OPEN_REQUESTS: a resident's own requests not yet done (帮办 orders for others aside). Asked when the
    点单 begins, and again when the request is placed."""
    if max_open is None:
        return
    count = (
        await s.execute(
            select(func.count())
            .select_from(Request)
            .where(Request.resident_id == resident.id, Request.status.in_(ACTIVE), Request.proxy_for.is_(None))
        )
    ).scalar_one()
    if count >= max_open:
        raise DomainError("too_many_open", limit=max_open)


async def place(
    s: AsyncSession,
    notices: Notices,
    *,
    resident: User,
    draft: Draft,
    now: datetime,
    year: int,
    max_open: int | None = None,
    regular_id: int | None = None,
    offer: tuple[int, datetime] | None = None,
) -> Request:
    """Place a request. A regular need's occurrence (`regular_id`) may be offered first to its previous volunteer
    (`offer`: his user id, until when); its card goes to the group when the offer runs out
    (bot/requests/regular.py)."""
    d = check_draft(draft, now)
    if d.proxy_for:  # 帮办员: coordinators and team leaders only, checked again at the moment of placing
        await require_leader_or_coordinator(s, resident)
    else:
        await check_not_blocked(s, resident.id)
        await check_open_limit(s, resident, max_open)
    service = await s.get(Service, d.service_id)
    if service is None or not service.active:
        raise DomainError("no_service", ref=d.service_id)
    station_id = d.station_id if d.station_id is not None else await org.home_station(s, resident)
    if d.station_id is not None and d.proxy_for:  # a 帮办 order for a station he picked: within his scope
        if not await org.may_order_for(s, resident, d.station_id):
            raise DomainError("not_your_station")
    if resident.station_id is None and station_id is not None and not d.proxy_for:  # he belongs there now
        await s.execute(update(User).where(User.id == resident.id).values(station_id=station_id))
        resident.station_id = station_id
    team_id = await org.route(s, station_id, service)
    review = await review_enabled(s) or team_id is None
    req = Request(
        number=await _next_number(s, year),
        resident_id=resident.id,
        service_id=service.id,
        team_id=team_id,
        station_id=station_id,
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
        media=d.media,
        regular_id=regular_id,
    )
    if offer is not None and not review:
        req.offered_to, req.offered_until = offer
    s.add(req)
    await s.flush()
    _event(s, req, resident.id, "placed", now)
    await notices.placed(s, req)
    if review:
        await notices.review_needed(s, req)
    elif req.offered_to is not None:
        await notices.offered(s, req)
    else:
        await notices.dispatched(s, req, await team_chats(s, req.team_id))
    return req


async def dispatch(
    s: AsyncSession, notices: Notices, *, request_id: int, actor: User, team_id: int | None, now: datetime
) -> Request:
    """审单: a coordinator sends a reviewed request to its team, or to another team."""
    require_coordinator(actor)
    req = await get(s, request_id)
    await org.require_request(s, actor, req)
    if team_id is not None:  # "Other team": the button's team must (still) exist
        team = await s.get(Team, team_id) if validate.fits_id(team_id) else None
        if team is None or team.archived:
            raise DomainError("no_team", ref=team_id)
    if req.status == OPEN:  # another coordinator dispatched it first ("not taken by anyone" would mislead)
        raise DomainError("bad_state")
    target = team_id or req.team_id
    if target is None:
        raise DomainError("no_team", ref="")
    if team_id is None:  # its own team, which may have been archived while it waited: choose another team
        own = await s.get(Team, target)
        if own is None or own.archived:
            raise DomainError("team_archived", team=own.name if own else target)
    await _transition(s, req, (REVIEW,), now, status=OPEN, team_id=target)
    _event(s, req, actor.id, "dispatched", now, detail=str(target))
    await notices.dispatched(s, req, await team_chats(s, target))
    return req


ESCALATED, TRANSFERRED = "escalated", "transferred"  # events: a hop to another team (up a level, or by hand)


async def escalate(s: AsyncSession, notices: Notices, req: Request, now: datetime) -> bool:
    """Nobody at its level took an open request in time: offer it one level up (the 所's team for its service,
    then the 中心's). False when no level above serves it (it is posted again where it is)."""
    if req.status != OPEN:
        return False
    up = await org.next_level_team(s, req.team_id, req.service_id)
    if up is None:
        return False
    team = await s.get(Team, up)
    assert team is not None
    above = await org.node(s, team.node_id)
    await _transition(s, req, (OPEN,), now, team_id=up)
    _event(s, req, None, ESCALATED, now, detail=f"{team.name}")
    await notices.moved(
        s, req, await team_chats(s, up), to=above.name if above else team.name, reason=None, by_hand=False
    )
    return True


async def transfer(
    s: AsyncSession, notices: Notices, *, request_id: int, actor: User, code: str, reason: str | None, now: datetime
) -> Request:
    """转派: a coordinator of the request hands it to another station (routed there) or to a level (the team
    that level names for its service), with a reason. Only before anyone took it."""
    require_coordinator(actor)
    req = await get(s, request_id)
    await org.require_request(s, actor, req)
    reason = validate.text(reason, "reason")
    if req.status not in (OPEN, REVIEW):
        raise DomainError(why_not(req.status))
    target = await org.find_node(s, code)
    if target.archived:
        raise DomainError("no_node", ref=code)
    service = await s.get(Service, req.service_id)
    assert service is not None
    station_id: int | None
    team_id: int | None
    if target.kind == org.STATION:
        station_id, team_id = target.id, await org.serving_team(s, target.id, service)
    else:
        station_id, team_id = req.station_id, await org.team_at(s, target.id, service.id)
    if team_id is None:
        raise DomainError("no_team_there", ref=target.code)
    await _transition(s, req, (OPEN, REVIEW), now, team_id=team_id, station_id=station_id)
    _event(s, req, actor.id, TRANSFERRED, now, detail=f"{target.name}: {reason}")
    await notices.moved(
        s,
        req,
        await team_chats(s, team_id) if req.status == OPEN else [],
        to=target.name,
        reason=reason,
        by_hand=True,
    )
    return req


async def reject(
    s: AsyncSession, notices: Notices, *, request_id: int, actor: User, reason: str | None, now: datetime
) -> Request:
    require_coordinator(actor)
    reason = validate.text(reason, "reason")
    req = await get(s, request_id)
    await org.require_request(s, actor, req)
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
    team = await s.get(Team, req.team_id)
    if team is None or team.archived:  # its open requests went to review when it was archived
        raise DomainError("team_archived", team=team.name if team else req.team_id)
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
    await check_not_blocked(s, user.id)
    await _transition(s, req, (OPEN,), now, status=CLAIMED, claimer_id=user.id, claimed_at=now)
    _event(s, req, user.id, "claimed", now)
    await notices.claimed(s, req, volunteer)  # gives him the address and phone, in private
    if has_contact(req):
        _event(s, req, user.id, CONTACT, now)  # who received which request's contact, and when: /history
    return req


def has_contact(req: Request) -> bool:
    """Whether the request carries a private contact (an address or a phone) that its claimer receives."""
    return bool(req.address or req.phone)


def _require_claimer(req: Request, user: User) -> None:
    if req.claimer_id != user.id:
        raise DomainError("not_your_claim")


async def releases_since(s: AsyncSession, user_id: int, since: datetime) -> int:
    """How many requests the volunteer released himself since `since` (a coordinator's release for him is not
    counted: it was the coordinator's decision)."""
    rows = await s.execute(
        select(func.count())
        .select_from(RequestEvent)
        .where(RequestEvent.actor_id == user_id, RequestEvent.kind == "released", RequestEvent.created_at >= since)
    )
    return int(rows.scalar() or 0)


async def _asked_since_claim(s: AsyncSession, req: Request) -> bool:
    """Whether the claimer has asked a coordinator to release this request since he took it (and nobody
    answered yet)."""
    last = await s.execute(
        select(RequestEvent.kind)
        .where(
            RequestEvent.request_id == req.id,
            RequestEvent.kind.in_(("claimed", RELEASE_ASKED, RELEASE_KEPT)),
        )
        .order_by(RequestEvent.id.desc())
        .limit(1)
    )
    return last.scalar() == RELEASE_ASKED


async def release(
    s: AsyncSession, notices: Notices, *, request_id: int, user: User, now: datetime, per_day: int | None = None
) -> Request:
    """The claimer gives a request back before it starts. Every claim gave him the resident's address and phone,
    so releases are limited (claim, read the address, release, and again, would harvest every open card's):
    past `per_day` releases in RELEASE_PERIOD, the request stays his and the coordinators are asked to release
    it for him (`release_for`) or to keep it (`keep_claim`). The returned request is then still CLAIMED."""
    req = await get(s, request_id)
    _require_claimer(req, user)
    if req.status == CLAIMED and now >= req.window_start:
        raise DomainError("too_late_to_release")
    volunteer = await s.get(Volunteer, user.id)
    assert volunteer is not None  # only a volunteer claims
    count = await releases_since(s, user.id, now - RELEASE_PERIOD)
    if per_day is not None and count >= per_day and req.status == CLAIMED:
        if await _asked_since_claim(s, req):
            raise DomainError("release_already_asked")
        _event(s, req, user.id, RELEASE_ASKED, now)
        await notices.release_asked(s, req, volunteer, count)
        return req
    await _transition(s, req, (CLAIMED,), now, status=OPEN, claimer_id=None, claimed_at=None)
    _event(s, req, user.id, "released", now)
    await notices.released(s, req, volunteer, None, count + 1)  # by himself, his release number count + 1
    return req


async def _asked_of(s: AsyncSession, actor: User, request_id: int, volunteer_id: int) -> tuple[Request, Volunteer]:
    """A coordinator answers a volunteer's request to release: the request must still be his, asked."""
    require_coordinator(actor)
    req = await get(s, request_id)
    await org.require_request(s, actor, req)
    volunteer = await s.get(Volunteer, volunteer_id) if validate.fits_id(volunteer_id, big=True) else None
    if volunteer is None or req.claimer_id != volunteer_id or req.status != CLAIMED:
        raise DomainError("release_answered")
    if not await _asked_since_claim(s, req):
        raise DomainError("release_answered")
    return req, volunteer


async def release_for(
    s: AsyncSession, notices: Notices, *, request_id: int, volunteer_id: int, actor: User, now: datetime
) -> Request:
    """A coordinator releases the request a volunteer asked to give back past his limit: it is open again."""
    req, volunteer = await _asked_of(s, actor, request_id, volunteer_id)
    if now >= req.window_start:
        raise DomainError("too_late_to_release")
    await _transition(s, req, (CLAIMED,), now, status=OPEN, claimer_id=None, claimed_at=None)
    _event(s, req, actor.id, "released", now, detail=str(volunteer_id))
    await notices.released(s, req, volunteer, actor)  # by the coordinator, for him
    return req


async def keep_claim(
    s: AsyncSession, notices: Notices, *, request_id: int, volunteer_id: int, actor: User, now: datetime
) -> Request:
    """A coordinator does not release it: the volunteer keeps the request, and is asked to get in touch."""
    req, volunteer = await _asked_of(s, actor, request_id, volunteer_id)
    _event(s, req, actor.id, RELEASE_KEPT, now, detail=str(volunteer_id))
    await notices.release_kept(s, req, volunteer, actor)
    return req


async def take_back(
    s: AsyncSession, notices: Notices, *, volunteer_id: int, actor: User, now: datetime, team_id: int | None = None
) -> list[Request]:
    """A volunteer removed from a team (`team_id`: its requests only) or blocked (all): his requests taken and not
    yet done go back to the pool, as if he had released them (the card is offered again, the resident told),
    whether or not their time has begun. The release is recorded as the actor's."""
    query = select(Request).where(Request.claimer_id == volunteer_id, Request.status == CLAIMED)
    if team_id is not None:
        query = query.where(Request.team_id == team_id)
    volunteer = await s.get(Volunteer, volunteer_id)
    back = []
    for req in (await s.execute(query.order_by(Request.id))).scalars().all():
        try:
            await _transition(s, req, (CLAIMED,), now, status=OPEN, claimer_id=None, claimed_at=None)
        except DomainError:  # reported done meanwhile: it stays his
            continue
        _event(s, req, actor.id, "released", now)
        if volunteer is not None:
            await notices.released(s, req, volunteer)
        back.append(req)
    return back


async def team_archived(
    s: AsyncSession, notices: Notices, *, team_id: int, actor: User, now: datetime
) -> list[Request]:
    """The open requests of a team just archived go to the coordinators' review, to be sent to another team; its
    members can no longer take them (claim_rules). Requests already taken stay with their volunteers."""
    rows = await s.execute(
        update(Request)
        .where(Request.team_id == team_id, Request.status == OPEN)
        .values(status=REVIEW, updated_at=now)
        .returning(Request.id)
        .execution_options(synchronize_session=False)
    )
    moved = []
    for request_id in sorted(rows.scalars().all()):
        req = await get(s, request_id)
        await s.refresh(req)
        _event(s, req, actor.id, "to_review", now)
        await notices.returned_to_review(s, req)
        moved.append(req)
    return moved


def max_report_minutes(req: Request, now: datetime) -> int:
    """Hours reported are bounded by the time since the service started, and by 12 h."""
    elapsed = int((now - req.window_start).total_seconds() // 60)
    return max(0, min(validate.MAX_MINUTES, elapsed))


def check_report(req: Request, user: User, minutes: int, now: datetime) -> None:
    """What a done report must be: by the claimer, of a taken request whose window began, with hours in bounds."""
    _require_claimer(req, user)
    if req.status != CLAIMED:
        raise DomainError(why_not(req.status))
    if now < req.window_start:
        raise DomainError("not_started")
    limit = max_report_minutes(req, now)
    if minutes <= 0 or minutes > limit:
        raise DomainError("hours_out_of_range", max_hours=limit / 60)


def report_detail(minutes: int, photos: int) -> str:
    """The done report's event detail: the minutes, and how many photos came with it ("90", "90 photos=2")."""
    return f"{minutes} photos={photos}" if photos else str(minutes)


async def report_done(
    s: AsyncSession,
    notices: Notices,
    *,
    request_id: int,
    user: User,
    minutes: int,
    now: datetime,
    photos: list[str] | tuple[str, ...] = (),
) -> Request:
    """结单: the claimer reports the service done with the hours spent, and up to 3 photos (Telegram file ids, kept
    with the request's media, step "done"; the approving coordinators receive them)."""
    req = await get(s, request_id)
    check_report(req, user, minutes, now)
    photos = list(dict.fromkeys(photos))[: media.MAX_DONE_PHOTOS]
    values: dict[str, Any] = {"status": DONE, "reported_minutes": minutes, "reported_at": now}
    if photos:
        items = media.loads(req.media) + [{"step": media.DONE, "kind": media.PHOTO, "id": p, "secs": 0} for p in photos]
        values["media"] = media.dumps(items)
    await _transition(s, req, (CLAIMED,), now, **values)
    _event(s, req, user.id, "reported", now, detail=report_detail(minutes, len(photos)))
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
    if req.rating is not None or req.status == CONFIRMED:
        raise DomainError("already_rated")
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
    await org.require_request(s, actor, req)
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
    await showcase.request_done(s, req, now)  # 公示, if the resident agreed
    return req


async def cancel(
    s: AsyncSession, notices: Notices, *, request_id: int, user: User, now: datetime, reason: str | None = None
) -> Request:
    """The resident, or a coordinator, cancels a request that is not done yet."""
    req = await get(s, request_id)
    await check_may_cancel(s, req, user)
    by_coordinator = req.resident_id != user.id
    reason = validate.text(reason, "reason", required=False)
    await _transition(s, req, ACTIVE, now, status=CANCELLED, closed_reason=reason)
    _event(s, req, user.id, "cancelled", now, detail=reason)
    await notices.cancelled(s, req, by_coordinator)
    return req


async def check_may_cancel(s: AsyncSession, req: Request, user: User) -> None:
    """Only the person who placed a request (for a 帮办 order: the proxy), or a coordinator of its station (or
    above), cancels it."""
    if req.resident_id == user.id:
        return
    if not is_coordinator(user):
        raise DomainError("not_your_request")
    await org.require_request(s, user, req)


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
    """What needs a coordinator's eye within his scope: in review, open, claimed, waiting for approval."""
    require_coordinator(actor)
    scope = await org.scope_of(s, actor)
    mine = None
    if not scope.everything:  # his subtree's stations, or a team of his subtree serving it (after it went up)
        teams = select(Team.id).where(Team.node_id.in_(scope.nodes))
        mine = Request.station_id.in_(scope.nodes) | Request.team_id.in_(teams)
    out: dict[str, list[Request]] = {}
    for status in (REVIEW, OPEN, CLAIMED, DONE, CONFIRMED):
        query = select(Request).where(Request.status == status)
        if mine is not None:
            query = query.where(mine)
        rows = await s.execute(query.order_by(Request.window_start).limit(limit))
        out[status] = list(rows.scalars())
    return out


async def history(s: AsyncSession, req: Request) -> list[RequestEvent]:
    rows = await s.execute(select(RequestEvent).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id))
    return list(rows.scalars())


async def can_see(s: AsyncSession, req: Request, user: User) -> bool:
    return user.id in (req.resident_id, req.claimer_id) or await org.covers_request(s, user, req)
