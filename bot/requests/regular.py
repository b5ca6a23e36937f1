"""Regular needs: a request that places itself (every week, every two weeks, every month), and its timed job.

- A resident (or a 帮办 for him) makes a past request regular: its service, need (text or voice), area, address
  and phone, at its time window, on its weekday (every week, every two weeks) or its day of the month, until a date
  or until stopped. That request is the first occurrence.
- `run_regular` (a job of scheduling.jobs) places each later occurrence REGULAR_LEAD_DAYS before its day, claimed
  once by the key `regular:<need id>:<day>` in the transaction that places it; the resident is told with a one-tap
  “这次不用了” (skip: the occurrence is cancelled, or, not yet placed, claimed as skipped so it never is).
- The volunteer who took the previous occurrence is offered the next one first, privately, for REGULAR_OFFER_HOURS
  (unless the resident turned it off); then, or when he passes, its card goes to the team's groups, once
  (a conditional update of `Request.offered_to`, and the key `regular:offer:<request id>`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import I18n
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import dates as when
from bot.core import validate
from bot.core.clock import StoppedClock
from bot.core.errors import DomainError
from bot.ledger.notices import LedgerNotices
from bot.outbox import Outbox
from bot.people.service import is_coordinator, team_chats
from bot.requests import media
from bot.requests import service as requests
from bot.requests.notices import RequestNotices
from bot.settings import Settings
from scheduling.occurrences import QUEUED, SKIPPED, claim_in
from storage.db import Database
from storage.models import Occurrence, RegularNeed, Request, RequestEvent, User

log = logging.getLogger(__name__)

WEEK, TWO_WEEKS, MONTH = "week", "2weeks", "month"
EVERY = (WEEK, TWO_WEEKS, MONTH)
TAKEN = (requests.CLAIMED, requests.DONE, requests.CONFIRMED, requests.APPROVED)


def occurrence_key(need_id: int, day: dt.date) -> str:
    return f"regular:{need_id}:{day.isoformat()}"


def offer_key(request_id: int) -> str:
    return f"regular:offer:{request_id}"


def falls_on(need: RegularNeed, day: dt.date) -> bool:
    """Whether `day` is one of the need's days (the first one, its own request, included)."""
    if day < need.first_day or (need.until is not None and day > need.until):
        return False
    if need.every == WEEK:
        return (day - need.first_day).days % 7 == 0
    if need.every == TWO_WEEKS:
        return (day - need.first_day).days % 14 == 0
    # monthly: its day of the month, or the month's last day when the month is shorter
    last = calendar.monthrange(day.year, day.month)[1]
    return day.day == min(need.first_day.day, last)


def next_days(need: RegularNeed, after: dt.date, count: int = 1, horizon: int = 400) -> list[dt.date]:
    out: list[dt.date] = []
    day = after + dt.timedelta(days=1)
    for _n in range(horizon):
        if need.until is not None and day > need.until:
            break
        if falls_on(need, day):
            out.append(day)
            if len(out) == count:
                break
        day += dt.timedelta(days=1)
    return out


def _window(need: RegularNeed, day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    return (
        when.to_utc(day, dt.time.fromisoformat(need.start), tz),
        when.to_utc(day, dt.time.fromisoformat(need.end), tz),
    )


def _own(need: RegularNeed | None, user: User) -> RegularNeed:
    if need is None or not need.active:
        raise DomainError("no_regular")
    if need.resident_id != user.id and not is_coordinator(user):
        raise DomainError("not_your_request")
    return need


async def get_need(s: AsyncSession, need_id: int, user: User) -> RegularNeed:
    return _own(await s.get(RegularNeed, need_id) if validate.fits_id(need_id) else None, user)


# the resident's side ------------------------------------------------------------------------------------------


async def make(
    s: AsyncSession, *, request_id: int, user: User, every: str, now: dt.datetime, tz: ZoneInfo
) -> RegularNeed:
    """A past request made regular: it is the first occurrence; the next are placed by `run_regular`."""
    if every not in EVERY:
        raise DomainError("stale")
    req = await requests.get(s, request_id)
    if req.resident_id != user.id:
        raise DomainError("not_your_request")
    if req.regular_id is not None:
        existing = await s.get(RegularNeed, req.regular_id)
        if existing is not None and existing.active:
            raise DomainError("already_regular")
    start, end = req.window_start.astimezone(tz), req.window_end.astimezone(tz)
    need = RegularNeed(
        resident_id=user.id,
        service_id=req.service_id,
        description=req.description,
        media=media.dumps(media.ordered(media.loads(req.media))),
        area=req.area,
        address=req.address,
        phone=req.phone,
        proxy_for=req.proxy_for,
        every=every,
        first_day=start.date(),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        until=None,
        same_volunteer=True,
        active=True,
        created_at=now,
    )
    s.add(need)
    await s.flush()
    req.regular_id = need.id
    await claim_in(s, occurrence_key(need.id, need.first_day), now, now)  # the request itself is the first
    s.add(RequestEvent(request_id=req.id, actor_id=user.id, kind="regular", detail=every, created_at=now))
    return need


async def set_until(s: AsyncSession, *, need_id: int, user: User, until: dt.date | None, today: dt.date) -> RegularNeed:
    need = await get_need(s, need_id, user)
    if until is not None and until < today:
        raise DomainError("past_time")
    need.until = until
    return need


def months_ahead(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def stop(s: AsyncSession, *, need_id: int, user: User) -> RegularNeed:
    """Stopped: no further occurrence is placed (those already placed stay, each may be cancelled)."""
    need = await get_need(s, need_id, user)
    won = await s.execute(
        update(RegularNeed)
        .where(RegularNeed.id == need.id, RegularNeed.active.is_(True))
        .values(active=False)
        .returning(RegularNeed.id)
        .execution_options(synchronize_session=False)
    )
    if won.first() is None:
        raise DomainError("no_regular")
    return need


async def toggle_same_volunteer(s: AsyncSession, *, need_id: int, user: User) -> RegularNeed:
    need = await get_need(s, need_id, user)
    need.same_volunteer = not need.same_volunteer
    return need


async def skip(
    s: AsyncSession, notices: RequestNotices, *, need_id: int, day: dt.date, user: User, now: dt.datetime, tz: ZoneInfo
) -> Request | None:
    """这次不用了: the occurrence of `day` is cancelled if it was placed, else claimed as skipped so it never is.
    Returns the cancelled request (None: skipped ahead)."""
    need = await get_need(s, need_id, user)
    if not falls_on(need, day) or day <= need.first_day:
        raise DomainError("stale")
    start, _end = _window(need, day, tz)
    placed = (
        (
            await s.execute(
                select(Request).where(
                    Request.regular_id == need.id,
                    Request.window_start == start,
                    Request.status.in_(requests.ACTIVE),
                )
            )
        )
        .scalars()
        .first()
    )
    if placed is not None:
        return await requests.cancel(s, notices, request_id=placed.id, user=user, now=now, reason=None)
    if start <= now:
        raise DomainError("past_time")
    if not await claim_in(s, occurrence_key(need.id, day), start, now, status=SKIPPED):
        raise DomainError("already_skipped")
    return None


async def of_resident(s: AsyncSession, user_id: int) -> list[RegularNeed]:
    rows = await s.execute(
        select(RegularNeed)
        .where(RegularNeed.resident_id == user_id, RegularNeed.active.is_(True))
        .order_by(RegularNeed.id)
    )
    return list(rows.scalars())


async def all_active(s: AsyncSession, limit: int = 50) -> list[RegularNeed]:
    rows = await s.execute(
        select(RegularNeed).where(RegularNeed.active.is_(True)).order_by(RegularNeed.id).limit(limit)
    )
    return list(rows.scalars())


async def next_open_day(s: AsyncSession, need: RegularNeed, today: dt.date) -> dt.date | None:
    """The next day of the need not yet placed nor skipped (what “这次不用了” in /regular skips)."""
    for day in next_days(need, max(today, need.first_day), count=8):
        if await s.get(Occurrence, occurrence_key(need.id, day)) is None:
            return day
    return None


# the volunteer's answer to an offer ---------------------------------------------------------------------------


async def _end_offer(s: AsyncSession, req: Request) -> bool:
    """The offer ends once: True for the one conditional update that ended it."""
    won = await s.execute(
        update(Request)
        .where(Request.id == req.id, Request.offered_to.is_not(None))
        .values(offered_to=None, offered_until=None)
        .returning(Request.id)
        .execution_options(synchronize_session=False)
    )
    return won.first() is not None


async def take_offer(
    s: AsyncSession, notices: RequestNotices, *, request_id: int, user: User, now: dt.datetime
) -> Request:
    req = await requests.get(s, request_id)
    if req.offered_to != user.id or req.status != requests.OPEN:
        raise DomainError("offer_over")
    if not await _end_offer(s, req):
        raise DomainError("offer_over")
    return await requests.claim(s, notices, request_id=req.id, user=user, chat_team_id=None, now=now)


async def pass_offer(
    s: AsyncSession, notices: RequestNotices, *, request_id: int, user: User, now: dt.datetime
) -> Request:
    req = await requests.get(s, request_id)
    if req.offered_to != user.id or req.status != requests.OPEN or not await _end_offer(s, req):
        raise DomainError("offer_over")
    await claim_in(s, offer_key(req.id), now, now)
    await _to_group(s, notices, req, now, user.id)
    return req


async def _to_group(
    s: AsyncSession, notices: RequestNotices, req: Request, now: dt.datetime, actor: int | None
) -> None:
    s.add(RequestEvent(request_id=req.id, actor_id=actor, kind="dispatched", detail=str(req.team_id), created_at=now))
    await notices.dispatched(s, req, await team_chats(s, req.team_id) if req.team_id else [])


# the timed job ----------------------------------------------------------------------------------------------


async def _previous_volunteer(s: AsyncSession, need: RegularNeed) -> int | None:
    row = await s.execute(
        select(Request.claimer_id)
        .where(Request.regular_id == need.id, Request.status.in_(TAKEN), Request.claimer_id.is_not(None))
        .order_by(Request.window_start.desc())
        .limit(1)
    )
    return row.scalar()


async def place_occurrence(
    s: AsyncSession,
    notices: RequestNotices,
    need: RegularNeed,
    day: dt.date,
    settings: Settings,
    now: dt.datetime,
    claimed_by: str,
) -> Request | None:
    """Place the occurrence of `day` inside an open transaction, claimed once by its key; None when another
    process placed it, or it was skipped."""
    start, end = _window(need, day, settings.tz)
    if not await claim_in(s, occurrence_key(need.id, day), start, now, claimed_by=claimed_by):
        return None
    resident = await s.get(User, need.resident_id)
    if resident is None:
        return None
    offer = None
    if need.same_volunteer and settings.regular_offer_hours > 0:
        previous = await _previous_volunteer(s, need)
        if previous is not None:
            offer = (previous, now + dt.timedelta(hours=settings.regular_offer_hours))
    draft = requests.Draft(
        service_id=need.service_id,
        description=need.description,
        window_start=start,
        window_end=end,
        area=need.area,
        address=need.address,
        phone=need.phone,
        proxy_for=need.proxy_for,
        media=need.media,
    )
    return await requests.place(
        s,
        notices,
        resident=resident,
        draft=draft,
        now=now,
        year=now.astimezone(settings.tz).year,
        regular_id=need.id,
        offer=offer,
    )


async def run_regular(db: Database, i18n: I18n, settings: Settings, *, now: dt.datetime, claimed_by: str) -> list[str]:
    """Place every occurrence due within REGULAR_LEAD_DAYS, and send to the group every offer that ran out."""
    outbox = Outbox(i18n, settings.tz, settings.default_locale, StoppedClock(now))
    notices = RequestNotices(outbox, LedgerNotices(outbox), settings.points_per_hour)
    today = now.astimezone(settings.tz).date()
    done: list[str] = []
    async with db.read() as s:
        needs = (await s.execute(select(RegularNeed).where(RegularNeed.active.is_(True)))).scalars().all()
        due: list[tuple[int, dt.date]] = []
        for need in needs:
            for day in next_days(need, today, count=settings.regular_lead_days + 1):
                if (day - today).days > settings.regular_lead_days:
                    break
                if day > need.first_day and await s.get(Occurrence, occurrence_key(need.id, day)) is None:
                    due.append((need.id, day))
        offers = (
            (
                await s.execute(
                    select(Request.id).where(
                        Request.status == requests.OPEN, Request.offered_to.is_not(None), Request.offered_until <= now
                    )
                )
            )
            .scalars()
            .all()
        )
    for need_id, day in due:
        try:
            async with db.tx() as s:
                found = await s.get(RegularNeed, need_id)
                if found is None or not found.active:
                    continue
                if _window(found, day, settings.tz)[0] <= now:
                    continue  # its time has passed (the bot was down): not placed late
                req = await place_occurrence(s, notices, found, day, settings, now, claimed_by)
        except DomainError as exc:  # e.g. the service was taken off the menu: logged, tried again next tick
            log.warning("regular need %s on %s not placed: %s", need_id, day, exc.code)
            continue
        if req is not None:
            done.append(occurrence_key(need_id, day))
            log.info("regular need %s placed %s for %s", need_id, req.number, day)
    for request_id in offers:
        async with db.tx() as s:
            req = await s.get(Request, request_id)
            if req is None or req.status != requests.OPEN or not await _end_offer(s, req):
                continue
            if not await claim_in(s, offer_key(req.id), now, now, status=QUEUED, claimed_by=claimed_by):
                continue
            await _to_group(s, notices, req, now, None)
        done.append(offer_key(request_id))
    return done
