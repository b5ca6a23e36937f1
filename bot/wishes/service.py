"""微心愿: a resident's small wish, from 许愿 to 圆梦. The rules, no Telegram.

review (a coordinator of the wish's station or above approves it, proposes an edit the wisher agrees to, or declines
it with a reason only the wisher reads) → open (on the station's 心愿墙 and its teams' groups) → claimed (one
claimer: the conditional UPDATE … WHERE status='open', as 接单) → preparing → delivered (the claimer, privately) →
fulfilled (a photo added, the wisher confirms with one tap). A claimer may give a wish back: the first time it
returns to the wall, later it goes back to the coordinators' review (it returns to the wall once).

Every function runs inside the caller's transaction, with the notices it owes.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.ledger import stars
from bot.org import service as org
from bot.people.service import is_coordinator, require_leader_or_coordinator
from storage import dialects
from storage.models import Donor, OrgNode, Team, TeamChat, User, Volunteer, Wish, WishWall

REVIEW, OPEN, CLAIMED, PREPARING, DELIVERED, FULFILLED = (
    "review",
    "open",
    "claimed",
    "preparing",
    "delivered",
    "fulfilled",
)
DECLINED, CANCELLED = "declined", "cancelled"
TAKEN = (CLAIMED, PREPARING, DELIVERED)  # a claimer works on it
COORD, WISHER = "coord", "wisher"  # whose contact the claimer gets
WHAT_MAX, FOR_WHOM_MAX, WHY_MAX, COST_MAX, THANKS_MAX, ORG_MAX = 200, 8, 300, 40, 200, 60
MAX_AHEAD = timedelta(days=366)
REMIND_BEFORE = 3  # days before the wish's date, a claimer who has not moved it on is reminded
PAGE = 5
STATION, INSTITUTE, COUNTY = "station", "institute", "county"
_DIGITS = re.compile(r"\d[\d\s\-]{5,}\d")  # seven or more digits: a phone number, an id card, a house number
_PUBLIC_MARKS = re.compile(r"[@＠]|https?://|号楼")


class Notices(Protocol):
    async def review_needed(self, s: AsyncSession, wish: Wish) -> None: ...
    async def proposed(self, s: AsyncSession, wish: Wish) -> None: ...
    async def proposal_answered(self, s: AsyncSession, wish: Wish, agreed: bool, text: str) -> None: ...
    async def declined(self, s: AsyncSession, wish: Wish) -> None: ...
    async def posted(self, s: AsyncSession, wish: Wish, chats: list[int]) -> None: ...
    async def claimed(self, s: AsyncSession, wish: Wish, claimer: str) -> None: ...
    async def progressed(self, s: AsyncSession, wish: Wish) -> None: ...
    async def given_back(self, s: AsyncSession, wish: Wish, to_wall: bool, chats: list[int]) -> None: ...
    async def photo_added(self, s: AsyncSession, wish: Wish) -> None: ...
    async def fulfilled(self, s: AsyncSession, wish: Wish) -> None: ...
    async def thanked(self, s: AsyncSession, wish: Wish) -> None: ...
    async def hours_given(self, s: AsyncSession, wish: Wish) -> None: ...
    async def remind(self, s: AsyncSession, wish: Wish) -> None: ...
    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None: ...


@dataclass
class WishDraft:
    what: str
    for_whom: str
    due: date
    why: str | None = None
    cost: str | None = None
    phone: str | None = None
    photo: str | None = None  # a Telegram file id
    station_id: int | None = None  # a station the 帮办 named; else the wisher's own
    proxy: bool = False


# Checks ---------------------------------------------------------------------------------------------------


def _public(value: str | None, field: str, limit: int, *, required: bool = True) -> str | None:
    """A text posted on the wall: no phone numbers, addresses, handles or links, within `limit`."""
    value = validate.CONTROL.sub("", value or "").strip()
    if not value:
        if required:
            raise DomainError("empty", field=field)
        return None
    if len(value) > limit:
        raise DomainError("too_long", field=field, limit=limit, length=len(value))
    if _DIGITS.search(value) or _PUBLIC_MARKS.search(value):
        raise DomainError("wish_private_text")
    return value


def check_what(value: str | None) -> str:
    return _public(value, "what", WHAT_MAX) or ""


def check_for_whom(value: str | None) -> str:
    """A first name (小明) or “一位老人”: short, never a full name with a phone or an address."""
    clean = validate.clean_name(value)
    if not clean:
        raise DomainError("empty", field="for_whom")
    if len(clean) > FOR_WHOM_MAX:
        raise DomainError("wish_name_long", limit=FOR_WHOM_MAX)
    if any(c.isdigit() for c in clean) or _PUBLIC_MARKS.search(clean):
        raise DomainError("wish_private_text")
    return clean


def check_why(value: str | None) -> str | None:
    return _public(value, "why", WHY_MAX, required=False)


def check_cost(value: str | None) -> str | None:
    value = validate.CONTROL.sub("", value or "").strip()
    if not value:
        return None
    if len(value) > COST_MAX:
        raise DomainError("too_long", field="cost", limit=COST_MAX, length=len(value))
    if _DIGITS.search(value):
        raise DomainError("wish_private_text")
    return value


def check_due(due: date, today: date) -> date:
    if due < today:
        raise DomainError("wish_past_date")
    if due > today + MAX_AHEAD:
        raise DomainError("too_far_ahead")
    return due


def check_draft(d: WishDraft, today: date) -> WishDraft:
    return WishDraft(
        what=check_what(d.what),
        for_whom=check_for_whom(d.for_whom),
        due=check_due(d.due, today),
        why=check_why(d.why),
        cost=check_cost(d.cost),
        phone=validate.phone(d.phone) if d.phone else None,
        photo=d.photo[:256] if d.photo else None,
        station_id=d.station_id,
        proxy=d.proxy,
    )


# Reading ---------------------------------------------------------------------------------------------------


async def get(s: AsyncSession, wish_id: int) -> Wish:
    wish = await s.get(Wish, wish_id) if validate.fits_id(wish_id) else None
    if wish is None:
        raise DomainError("no_wish")
    return wish


def why_not(status: str) -> str:
    return {
        REVIEW: "wish_in_review",
        OPEN: "wish_not_claimed",
        CLAIMED: "wish_claimed",
        PREPARING: "wish_claimed",
        DELIVERED: "wish_claimed",
        FULFILLED: "wish_fulfilled",
        DECLINED: "wish_closed",
        CANCELLED: "wish_closed",
    }.get(status, "bad_state")


async def _transition(s: AsyncSession, wish: Wish, expect: tuple[str, ...], now: datetime, **values: Any) -> None:
    """Move the wish out of one of `expect`; of two at once only one passes (the one-winner guarantee of 接单)."""
    if not await dialects.move_status(s, wish, expect, updated_at=now, **values):
        raise DomainError(why_not(wish.status))


async def claimer_name(s: AsyncSession, user_id: int | None) -> tuple[str, bool]:
    """(name, is a donor) of a claimer: a volunteer's registered name, or a donor's (his organisation's)."""
    if user_id is None:
        return "—", False
    volunteer = await s.get(Volunteer, user_id)
    if volunteer is not None:
        return volunteer.name, False
    donor = await s.get(Donor, user_id)
    if donor is not None:
        return donor.organisation or donor.name, True
    return "—", False


async def wall_of(s: AsyncSession, station_id: int | None) -> WishWall | None:
    return await s.get(WishWall, station_id) if station_id is not None else None


async def wall_chats(s: AsyncSession, station_id: int | None) -> list[int]:
    """Where a wish's card goes: the station's 心愿墙 and the bound groups of the station's teams."""
    if station_id is None:
        return []
    wall = await wall_of(s, station_id)
    rows = await s.execute(
        select(TeamChat.chat_id)
        .join(Team, Team.id == TeamChat.team_id)
        .where(Team.node_id == station_id, Team.archived.is_(False))
        .order_by(TeamChat.chat_id)
    )
    chats = [wall.chat_id] if wall else []
    return chats + [c for c in dict.fromkeys(rows.scalars()) if c not in chats]


async def require_covers(s: AsyncSession, actor: User, wish: Wish) -> None:
    """A coordinator of the wish's station, its 所 or the 中心 (administrators too)."""
    await org.require_covers(s, actor, wish.station_id)


# Making and reviewing ------------------------------------------------------------------------------------------


async def wish_station(s: AsyncSession, user: User, station_id: int | None, proxy: bool) -> int:
    """The station a wish belongs to: the one a 帮办 named (within his scope), else the wisher's own."""
    if station_id is not None:
        if not proxy or not await org.may_order_for(s, user, station_id):
            raise DomainError("not_your_station")
        return station_id
    home = await org.home_station(s, user)
    if home is None:
        raise DomainError("wish_needs_station")
    return home


async def make(
    s: AsyncSession, notices: Notices, *, wisher: User, draft: WishDraft, today: date, now: datetime
) -> Wish:
    """许愿: the wish waits for a coordinator of its station (or above)."""
    d = check_draft(draft, today)
    if d.proxy:
        await require_leader_or_coordinator(s, wisher)
    blocked = await s.scalar(select(User.is_blocked).where(User.id == wisher.id).with_for_update())
    if blocked:
        raise DomainError("user_blocked")
    station_id = await wish_station(s, wisher, d.station_id, d.proxy)
    wish = Wish(
        wisher_id=wisher.id,
        proxy=d.proxy,
        station_id=station_id,
        what=d.what,
        for_whom=d.for_whom,
        why=d.why,
        cost=d.cost,
        due=d.due,
        phone=d.phone,
        photo=d.photo,
        status=REVIEW,
        given_back=False,
        created_at=now,
        updated_at=now,
    )
    s.add(wish)
    await s.flush()
    await notices.review_needed(s, wish)
    return wish


async def approve(s: AsyncSession, notices: Notices, *, wish_id: int, actor: User, contact: str, now: datetime) -> Wish:
    """审核通过: on the wall, with the contact the claimer will get (the coordinator's or the wisher's)."""
    wish = await get(s, wish_id)
    await require_covers(s, actor, wish)
    if contact not in (COORD, WISHER):
        raise DomainError("bad_state")
    await _transition(
        s, wish, (REVIEW,), now, status=OPEN, contact=contact, approved_by=actor.id, approved_at=now, proposed=None
    )
    await notices.posted(s, wish, await wall_chats(s, wish.station_id))
    return wish


async def propose(s: AsyncSession, notices: Notices, *, wish_id: int, actor: User, text: str, now: datetime) -> Wish:
    """A coordinator proposes the wish in other words; it changes only when the wisher agrees."""
    wish = await get(s, wish_id)
    await require_covers(s, actor, wish)
    text = check_what(text)
    if wish.status != REVIEW:
        raise DomainError(why_not(wish.status))
    await _transition(s, wish, (REVIEW,), now, proposed=text)
    await notices.proposed(s, wish)
    return wish


async def answer_proposal(
    s: AsyncSession, notices: Notices, *, wish_id: int, user: User, agree: bool, now: datetime
) -> Wish:
    """The wisher agrees (the proposed text replaces his) or not (his stays); the coordinators are told."""
    wish = await get(s, wish_id)
    if wish.wisher_id != user.id:
        raise DomainError("not_your_wish")
    if wish.status != REVIEW or wish.proposed is None:
        raise DomainError("wish_proposal_answered")
    text = wish.proposed
    values: dict[str, Any] = {"proposed": None}
    if agree:
        values["what"] = text
    result = await s.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.status == REVIEW, Wish.proposed == text)
        .values(updated_at=now, **values)
        .returning(Wish.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar() is None:
        raise DomainError("wish_proposal_answered")
    await s.refresh(wish)
    await notices.proposal_answered(s, wish, agree, text)
    return wish


async def decline(
    s: AsyncSession, notices: Notices, *, wish_id: int, actor: User, reason: str | None, now: datetime
) -> Wish:
    """Declined with a reason that only the wisher reads."""
    wish = await get(s, wish_id)
    await require_covers(s, actor, wish)
    reason = validate.text(reason, "reason")
    await _transition(s, wish, (REVIEW,), now, status=DECLINED, reason=reason, proposed=None)
    await notices.declined(s, wish)
    return wish


# Claiming and fulfilling ---------------------------------------------------------------------------------------


async def claim_rules(s: AsyncSession, *, wish_id: int, user: User) -> Wish:
    """Anyone registered (a volunteer or a donor) claims an open wish that is not his own."""
    wish = await get(s, wish_id)
    if await s.get(Volunteer, user.id) is None and await s.get(Donor, user.id) is None:
        raise DomainError("wish_register_first")
    if wish.wisher_id == user.id:
        raise DomainError("own_wish")
    if wish.status != OPEN:
        raise DomainError(why_not(wish.status))
    return wish


async def claim(s: AsyncSession, notices: Notices, *, wish_id: int, user: User, now: datetime) -> Wish:
    """认领: the one conditional UPDATE … WHERE status='open' decides the single winner."""
    wish = await claim_rules(s, wish_id=wish_id, user=user)
    blocked = await s.scalar(select(User.is_blocked).where(User.id == user.id).with_for_update())
    if blocked:
        raise DomainError("user_blocked")
    await _transition(s, wish, (OPEN,), now, status=CLAIMED, claimer_id=user.id, claimed_at=now)
    name, _donor = await claimer_name(s, user.id)
    await notices.claimed(s, wish, name)
    return wish


def _require_claimer(wish: Wish, user: User) -> None:
    if wish.claimer_id is None or wish.claimer_id != user.id:
        raise DomainError("not_your_wish")


NEXT_STEP = {PREPARING: (CLAIMED,), DELIVERED: (CLAIMED, PREPARING)}


async def progress(s: AsyncSession, notices: Notices, *, wish_id: int, user: User, step: str, now: datetime) -> Wish:
    """准备中 → 已送达, each with its date; only forward, only the claimer."""
    wish = await get(s, wish_id)
    _require_claimer(wish, user)
    if step not in NEXT_STEP:
        raise DomainError("bad_state")
    if wish.status not in NEXT_STEP[step]:
        raise DomainError("wish_step_done" if wish.status in TAKEN else why_not(wish.status))
    stamp = {"preparing_at": now} if step == PREPARING else {"delivered_at": now}
    await _transition(s, wish, NEXT_STEP[step], now, status=step, **stamp)
    await notices.progressed(s, wish)
    return wish


async def give_back(s: AsyncSession, notices: Notices, *, wish_id: int, user: User, now: datetime) -> Wish:
    """The claimer cannot fulfil it. The first time it returns to the wall (its card updated once); after that it
    goes to the coordinators' review instead (a wish returns to the wall once)."""
    wish = await get(s, wish_id)
    _require_claimer(wish, user)
    if wish.status not in (CLAIMED, PREPARING):
        raise DomainError(why_not(wish.status) if wish.status not in TAKEN else "wish_delivered")
    to_wall = not wish.given_back
    await _transition(
        s,
        wish,
        (CLAIMED, PREPARING),
        now,
        status=OPEN if to_wall else REVIEW,
        claimer_id=None,
        claimed_at=None,
        preparing_at=None,
        given_back=True,
    )
    await notices.given_back(s, wish, to_wall, await wall_chats(s, wish.station_id) if to_wall else [])
    return wish


async def add_photo(
    s: AsyncSession, notices: Notices, *, wish_id: int, user: User, file_id: str, now: datetime
) -> Wish:
    """The delivery photo, by the claimer or a coordinator of the wish; the wisher is then asked to confirm."""
    wish = await get(s, wish_id)
    if wish.claimer_id != user.id:
        if not is_coordinator(user):
            raise DomainError("not_your_wish")
        await require_covers(s, user, wish)
    if wish.status != DELIVERED:
        raise DomainError("wish_not_delivered" if wish.status in (CLAIMED, PREPARING) else why_not(wish.status))
    first = wish.done_photo is None
    await _transition(s, wish, (DELIVERED,), now, done_photo=file_id[:256])
    if first:
        await notices.photo_added(s, wish)
    return wish


async def confirm(s: AsyncSession, notices: Notices, *, wish_id: int, user: User, now: datetime) -> Wish:
    """圆梦: the wisher confirms with one tap (after the photo)."""
    wish = await get(s, wish_id)
    if wish.wisher_id != user.id:
        raise DomainError("not_your_wish")
    if wish.status == DELIVERED and wish.done_photo is None:
        raise DomainError("wish_no_photo")
    await _transition(s, wish, (DELIVERED,), now, status=FULFILLED, fulfilled_at=now)
    await notices.fulfilled(s, wish)
    return wish


async def thank(
    s: AsyncSession, notices: Notices, *, wish_id: int, user: User, text: str | None, now: datetime
) -> Wish:
    """A line of thanks from the wisher, once, to the claimer."""
    wish = await get(s, wish_id)
    if wish.wisher_id != user.id:
        raise DomainError("not_your_wish")
    line = _public(text, "thanks", THANKS_MAX) or ""
    result = await s.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.status == FULFILLED, Wish.thanks.is_(None))
        .values(thanks=line, updated_at=now)
        .returning(Wish.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar() is None:
        raise DomainError("wish_thanked" if wish.status == FULFILLED else why_not(wish.status))
    await s.refresh(wish)
    await notices.thanked(s, wish)
    return wish


async def give_hours(
    s: AsyncSession,
    notices: Notices,
    *,
    wish_id: int,
    actor: User,
    minutes: int,
    points_per_hour: int,
    now: datetime,
) -> Wish:
    """A coordinator gives the volunteer who fulfilled a wish service hours, through the ledger's approval path
    (`ledger.add_service`, as approved request hours), once. Donors get no hours."""
    wish = await get(s, wish_id)
    await require_covers(s, actor, wish)
    if wish.status != FULFILLED or wish.claimer_id is None:
        raise DomainError(why_not(wish.status) if wish.status != FULFILLED else "bad_state")
    if wish.claimer_id == actor.id:
        raise DomainError("own_hours")
    if await s.get(Volunteer, wish.claimer_id) is None:
        raise DomainError("wish_donor_no_hours")
    if not 0 < minutes <= validate.MAX_MINUTES:
        raise DomainError("hours_out_of_range", max_hours=validate.MAX_MINUTES / 60)
    result = await s.execute(
        update(Wish)
        .where(Wish.id == wish.id, Wish.hours_minutes.is_(None))
        .values(hours_minutes=minutes, updated_at=now)
        .returning(Wish.id)
        .execution_options(synchronize_session=False)
    )
    if result.scalar() is None:
        raise DomainError("wish_hours_given")
    await s.refresh(wish)
    ledger.add_service(
        s,
        volunteer_id=wish.claimer_id,
        minutes=minutes,
        points_per_hour=points_per_hour,
        request_id=None,
        approved_by=actor.id,
        now=now,
        reason=f"微心愿 #{wish.id}",
    )
    await notices.hours_given(s, wish)
    await stars.after_credit(s, notices, wish.claimer_id, now)
    return wish


# Donors and walls ------------------------------------------------------------------------------------------------


async def register_donor(
    s: AsyncSession, user: User, *, name: str | None, phone: str | None, organisation: str | None, now: datetime
) -> Donor:
    """爱心人士 (or 爱心企业 with an organisation): claims wishes without joining a team."""
    clean_name = validate.text(name, "name")
    clean_phone = validate.phone(phone)
    organisation = validate.clean_name(organisation)[:ORG_MAX] or None
    blocked = await s.scalar(select(User.is_blocked).where(User.id == user.id))
    if blocked:
        raise DomainError("user_blocked")
    donor = await s.get(Donor, user.id)
    if donor is None:
        donor = Donor(user_id=user.id, name=clean_name, phone=clean_phone, organisation=organisation, registered_at=now)
        s.add(donor)
    else:
        donor.name, donor.phone, donor.organisation = clean_name, clean_phone, organisation
    return donor


async def wall_station(s: AsyncSession, actor: User, code: str | None) -> OrgNode:
    """The station whose wall a coordinator binds: the one he names within his scope, else his own (or the only
    one in his scope)."""
    found = await org.poster_station(s, actor, code)
    if found is None:
        raise DomainError("wall_needs_station")
    return found


async def bind_wall(
    s: AsyncSession, actor: User, *, chat_id: int, title: str, code: str | None, now: datetime
) -> OrgNode:
    station = await wall_station(s, actor, code)
    await org.require_covers(s, actor, station.id)
    wall = await s.get(WishWall, station.id)
    title = validate.clean_name(title)[:128]
    if wall is None:
        s.add(WishWall(station_id=station.id, chat_id=chat_id, title=title, bound_by=actor.id, bound_at=now))
    else:
        wall.chat_id, wall.title, wall.bound_by, wall.bound_at = chat_id, title, actor.id, now
    return station


# Views ----------------------------------------------------------------------------------------------------------


async def stations_at(s: AsyncSession, user: User, level: str) -> list[int] | None:
    """The stations of /wishes at a level: the user's station, its 所's, the county's (None: all)."""
    if level == COUNTY:
        return None
    home = await org.home_station(s, user)
    if home is None:
        raise DomainError("wish_needs_station")
    if level == STATION:
        return [home]
    tree = await org.load_tree(s)
    institute = tree.institute_of(home)
    return [n.id for n in tree.stations(institute.id)] if institute else [home]


async def open_wishes(s: AsyncSession, user: User, level: str, page: int, size: int = PAGE) -> tuple[list[Wish], int]:
    """Open wishes (newest first) at a level, one page, and how many there are."""
    stations = await stations_at(s, user, level)
    where = [Wish.status == OPEN]
    if stations is not None:
        where.append(Wish.station_id.in_(stations))
    total = int(await s.scalar(select(func.count()).select_from(Wish).where(*where)) or 0)
    rows = await s.execute(
        select(Wish).where(*where).order_by(Wish.created_at.desc(), Wish.id.desc()).offset(page * size).limit(size)
    )
    return list(rows.scalars()), total


async def of_wisher(s: AsyncSession, user_id: int, limit: int = 10) -> list[Wish]:
    rows = await s.execute(select(Wish).where(Wish.wisher_id == user_id).order_by(Wish.id.desc()).limit(limit))
    return list(rows.scalars())


async def of_claimer(s: AsyncSession, user_id: int, limit: int = 10) -> list[Wish]:
    rows = await s.execute(select(Wish).where(Wish.claimer_id == user_id).order_by(Wish.id.desc()).limit(limit))
    return list(rows.scalars())


async def due_soon(s: AsyncSession, today: date, days: int = REMIND_BEFORE) -> list[Wish]:
    """Claimed wishes whose date is near and that have not moved on (still 已认领)."""
    rows = await s.execute(
        select(Wish).where(Wish.status == CLAIMED, Wish.due <= today + timedelta(days=days)).order_by(Wish.id)
    )
    return list(rows.scalars())


# Figures for reports ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodCounts:
    collected: int  # wishes made in the period
    approved: int  # approved in the period
    claimed: int  # claimed in the period (the latest claim of each)
    fulfilled: int  # fulfilled in the period
    median_days: float | None  # from approval to fulfilment, of those fulfilled in the period


async def period_counts(s: AsyncSession, station_ids: list[int] | None, start: datetime, end: datetime) -> PeriodCounts:
    """The wishes of the stations (None: all) in [start, end): for 周台账 and 月小结."""

    def within(column: Any) -> list[Any]:
        out = [column >= start, column < end]
        if station_ids is not None:
            out.append(Wish.station_id.in_(station_ids))
        return out

    async def count(column: Any) -> int:
        return int(await s.scalar(select(func.count()).select_from(Wish).where(*within(column))) or 0)

    rows = await s.execute(select(Wish.approved_at, Wish.fulfilled_at).where(*within(Wish.fulfilled_at)))
    days = [(done - approved).total_seconds() / 86400 for approved, done in rows.all() if approved and done]
    return PeriodCounts(
        collected=await count(Wish.created_at),
        approved=await count(Wish.approved_at),
        claimed=await count(Wish.claimed_at),
        fulfilled=await count(Wish.fulfilled_at),
        median_days=round(statistics.median(days), 1) if days else None,
    )


async def clear_old_contacts(s: AsyncSession, *, now: datetime, days: int) -> int:
    """Retention: the phone and the wisher's photo of wishes fulfilled, declined or cancelled more than `days` ago
    are erased (CONTACT_RETENTION_DAYS, as a request's address and phone). A closed wish's last change (updated_at)
    is when it closed: only a thank-you or hours move it after that. Returns how many wishes were touched."""
    result = await s.execute(
        update(Wish)
        .where(
            Wish.status.in_((FULFILLED, DECLINED, CANCELLED)),
            Wish.updated_at < now - timedelta(days=days),
            (Wish.phone.is_not(None)) | (Wish.photo.is_not(None)),
        )
        .values(phone=None, photo=None)
        .returning(Wish.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.scalars().all())


async def forget(s: AsyncSession, user_id: int) -> int:
    """/forget: the phone and photo of the wishes a person made are erased (what is public stays: the wish, a first
    name). Returns how many wishes were touched."""
    result = await s.execute(
        update(Wish)
        .where(Wish.wisher_id == user_id, (Wish.phone.is_not(None)) | (Wish.photo.is_not(None)))
        .values(phone=None, photo=None)
        .returning(Wish.id)
        .execution_options(synchronize_session=False)
    )
    return len(result.scalars().all())
