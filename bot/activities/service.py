"""Activities (定单 with places): publish, sign up (capacity never exceeded), waiting list, check-in/out,
hours approval into the ledger, no-shows.

Every function runs inside the caller's transaction. Sign-up and cancellation first lock the activity row
(`SELECT … FOR UPDATE` on PostgreSQL; on SQLite every transaction is BEGIN IMMEDIATE), so concurrent taps on one
activity are settled one after another, and the signed count is read and written in the same locked transaction.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import and_, case, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.ledger import service as ledger
from bot.ledger import stars
from bot.org import service as org
from bot.people.service import is_coordinator
from bot.showcase import service as showcase
from storage import dialects
from storage.models import Activity, ActivitySignup, Request, Team, TeamMember, User, Volunteer

PUBLISHED, CANCELLED, FINISHED = "published", "cancelled", "finished"
SIGNED, WAITING, LEFT = "signed", "waiting", "cancelled"
CHECKIN_EARLY = timedelta(minutes=30)
MAX_AHEAD = timedelta(days=180)
MAX_LENGTH = timedelta(hours=12)
MAX_CAPACITY = 500
LIMITS = {"title": 60, "theme": 60, "place": 100}


class Notices(Protocol):
    async def published(self, s: AsyncSession, act: Activity, chats: list[int]) -> None: ...
    async def card_changed(self, s: AsyncSession, act: Activity) -> None: ...
    async def promoted(self, s: AsyncSession, act: Activity, user_id: int) -> None: ...
    async def activity_cancelled(self, s: AsyncSession, act: Activity, user_ids: list[int]) -> None: ...
    async def to_approve(self, s: AsyncSession, act: Activity, approver_id: int) -> None: ...
    async def hours_approved(self, s: AsyncSession, act: Activity, signup: ActivitySignup) -> None: ...
    async def star_reached(self, s: AsyncSession, volunteer: Volunteer, level: int, chats: list[int]) -> None: ...


@dataclass
class Draft:
    title: str
    theme: str
    place: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    team_id: int | None
    signup_deadline: datetime | None = None


@dataclass(frozen=True)
class SignupResult:
    status: str  # signed | waiting
    position: int  # place in the waiting list (1 = next), 0 when signed


# rules -------------------------------------------------------------------------------------------------


def round_minutes(minutes: int) -> int:
    """The glossary's rounding of signed-in time: whole hours, then the remainder
    under 15 min → 0, 15 to under 45 → 0.5 h, 45 to 60 → 1 h."""
    if minutes <= 0:
        return 0
    hours, rest = divmod(minutes, 60)
    return hours * 60 + (0 if rest < 15 else 30 if rest < 45 else 60)


def check_times(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    if starts_at <= now:
        raise DomainError("past_time")
    if ends_at <= starts_at:
        raise DomainError("bad_window")
    if ends_at - starts_at > MAX_LENGTH:
        raise DomainError("window_too_long")
    if starts_at - now > MAX_AHEAD:
        raise DomainError("act_too_far_ahead")


def check_deadline(deadline: datetime | None, starts_at: datetime, now: datetime) -> None:
    if deadline is not None and not now < deadline <= starts_at:
        raise DomainError("act_bad_deadline")


def capacity(value: str | int | None) -> int:
    raw = str(value).strip()
    if not raw.isdecimal() or not 1 <= int(raw) <= MAX_CAPACITY:
        raise DomainError("act_bad_capacity", limit=MAX_CAPACITY)
    return int(raw)


def field(value: str | None, name: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError("empty")
    if len(value) > LIMITS[name]:
        raise DomainError("too_long", limit=LIMITS[name], length=len(value))
    return value


async def led_team_ids(s: AsyncSession, user_id: int) -> list[int]:
    rows = await s.execute(
        select(TeamMember.team_id)
        .join(Team, Team.id == TeamMember.team_id)
        .where(
            TeamMember.user_id == user_id,
            TeamMember.is_leader.is_(True),
            TeamMember.status == "active",
            Team.archived.is_(False),
        )
    )
    return list(rows.scalars())


async def may_publish(s: AsyncSession, user: User, team_id: int | None) -> bool:
    """A coordinator for a team of his subtree (or his whole node: team None); a leader for his team."""
    if is_coordinator(user):
        return team_id is None or await org.covers_team(s, user, team_id)
    return team_id is not None and team_id in await led_team_ids(s, user.id)


async def activity_nodes(s: AsyncSession, act: Activity) -> list[int | None]:
    return [act.node_id, await org.team_node(s, act.team_id)]


async def may_manage(s: AsyncSession, user: User, act: Activity) -> bool:
    """The creator, a coordinator of its station (or above), or a leader of the activity's team."""
    if user.id == act.created_by:
        return True
    if is_coordinator(user) and await org.covers_any_of(s, user, await activity_nodes(s, act)):
        return True
    return act.team_id is not None and act.team_id in await led_team_ids(s, user.id)


async def require_manager(s: AsyncSession, user: User, act: Activity) -> None:
    if not await may_manage(s, user, act):
        raise DomainError("act_not_manager")


# lookups -------------------------------------------------------------------------------------------------


async def get(s: AsyncSession, activity_id: int, *, lock: bool = False) -> Activity:
    act = None
    if validate.fits_id(activity_id):
        query = select(Activity).where(Activity.id == activity_id)
        if lock:  # PostgreSQL: row lock; SQLite ignores FOR UPDATE (BEGIN IMMEDIATE already serialises)
            query = query.with_for_update()
        act = (await s.execute(query)).scalars().first()
    if act is None:
        raise DomainError("act_missing")
    return act


async def by_number(s: AsyncSession, number: str) -> Activity:
    number = (validate.key(number) or "").upper()
    act = (await s.execute(select(Activity).where(Activity.number == number))).scalars().first() if number else None
    if act is None:
        raise DomainError("act_missing")
    return act


async def counts(s: AsyncSession, activity_id: int) -> tuple[int, int]:
    rows = await s.execute(
        select(ActivitySignup.status, func.count())
        .where(ActivitySignup.activity_id == activity_id)
        .group_by(ActivitySignup.status)
    )
    got = dict(rows.all())
    return got.get(SIGNED, 0), got.get(WAITING, 0)


async def signups(s: AsyncSession, activity_id: int, status: str | None = None) -> list[ActivitySignup]:
    query = select(ActivitySignup).where(ActivitySignup.activity_id == activity_id)
    if status:
        query = query.where(ActivitySignup.status == status)
    return list((await s.execute(query.order_by(ActivitySignup.created_at, ActivitySignup.id))).scalars())


async def waiting_position(s: AsyncSession, signup: ActivitySignup) -> int:
    ahead = await s.execute(
        select(func.count())
        .select_from(ActivitySignup)
        .where(
            ActivitySignup.activity_id == signup.activity_id,
            ActivitySignup.status == WAITING,
            (ActivitySignup.created_at < signup.created_at)
            | and_(ActivitySignup.created_at == signup.created_at, ActivitySignup.id < signup.id),
        )
    )
    return int(ahead.scalar_one()) + 1


# publishing ------------------------------------------------------------------------------------------------


async def _next_number(s: AsyncSession, year: int) -> str:
    value = await dialects.next_counter(s, f"activity:{year}")
    return f"A{year}-{value:03d}"


async def _new_code(s: AsyncSession) -> str:
    """Six digits, unique among activities still open (codes of old ones may come back)."""
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        taken = await s.execute(select(Activity.id).where(Activity.checkin_code == code, Activity.status == PUBLISHED))
        if taken.first() is None:
            return code


async def publish(
    s: AsyncSession, notices: Notices, *, actor: User, draft: Draft, chats: list[int], now: datetime, year: int
) -> Activity:
    if not await may_publish(s, actor, draft.team_id):
        raise DomainError("act_not_publisher")
    check_times(draft.starts_at, draft.ends_at, now)
    check_deadline(draft.signup_deadline, draft.starts_at, now)
    act = Activity(
        number=await _next_number(s, year),
        title=field(draft.title, "title"),
        theme=(draft.theme or "").strip()[: LIMITS["theme"]],
        place=field(draft.place, "place"),
        starts_at=draft.starts_at,
        ends_at=draft.ends_at,
        capacity=capacity(draft.capacity),
        team_id=draft.team_id,
        node_id=await org.team_node(s, draft.team_id) if draft.team_id else await org.own_node(s, actor),
        signup_deadline=draft.signup_deadline,
        created_by=actor.id,
        status=PUBLISHED,
        checkin_code=await _new_code(s),
        created_at=now,
        updated_at=now,
    )
    s.add(act)
    await s.flush()
    await notices.published(s, act, chats)
    return act


# sign-up -----------------------------------------------------------------------------------------------


def signup_open(act: Activity, now: datetime) -> bool:
    return (
        act.status == PUBLISHED and now < act.starts_at and (act.signup_deadline is None or now < act.signup_deadline)
    )


async def _check_volunteer(s: AsyncSession, act: Activity, user_id: int, chat_team_id: int | None) -> None:
    if await s.get(Volunteer, user_id) is None:
        raise DomainError("act_not_volunteer")
    if act.team_id is not None:
        if chat_team_id is not None and chat_team_id != act.team_id:
            raise DomainError("foreign_card")
        member = await s.get(TeamMember, (act.team_id, user_id))
        if member is None or member.status != "active":
            raise DomainError("act_not_in_team")
        team = await s.get(Team, act.team_id)
        if team is None or team.archived:
            raise DomainError("act_team_archived")


async def clash(s: AsyncSession, act: Activity, user_id: int) -> str | None:
    """An activity or a claimed request of this volunteer whose time overlaps: its name, else None."""
    other = (
        (
            await s.execute(
                select(Activity)
                .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
                .where(
                    ActivitySignup.user_id == user_id,
                    ActivitySignup.status.in_((SIGNED, WAITING)),
                    Activity.id != act.id,
                    Activity.status == PUBLISHED,
                    Activity.starts_at < act.ends_at,
                    Activity.ends_at > act.starts_at,
                )
                .limit(1)
            )
        )
        .scalars()
        .first()
    )
    if other is not None:
        return f"{other.title} ({other.number})"
    req = (
        (
            await s.execute(
                select(Request)
                .where(
                    Request.claimer_id == user_id,
                    Request.status == "claimed",
                    Request.window_start < act.ends_at,
                    Request.window_end > act.starts_at,
                )
                .limit(1)
            )
        )
        .scalars()
        .first()
    )
    return f"#{req.number}" if req is not None else None


async def signed_overlap(s: AsyncSession, user_id: int, start: datetime, end: datetime) -> str | None:
    """An activity this volunteer is signed up for (not waiting) whose time overlaps [start, end)."""
    other = (
        (
            await s.execute(
                select(Activity)
                .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
                .where(
                    ActivitySignup.user_id == user_id,
                    ActivitySignup.status == SIGNED,
                    Activity.status == PUBLISHED,
                    Activity.starts_at < end,
                    Activity.ends_at > start,
                )
                .limit(1)
            )
        )
        .scalars()
        .first()
    )
    return f"{other.title} ({other.number})" if other is not None else None


async def _queue_stamp(s: AsyncSession, activity_id: int, now: datetime) -> datetime:
    """The queue is ordered by the time of sign-up. `now` was read before the activity's lock was granted,
    so a tap read earlier may get the lock later: its stamp moves just after the last one, and the queue
    keeps the order in which the lock settled the taps."""
    last = (
        await s.execute(
            select(func.max(ActivitySignup.created_at)).where(
                ActivitySignup.activity_id == activity_id, ActivitySignup.status != LEFT
            )
        )
    ).scalar()
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=now.tzinfo)
    return max(now, last + timedelta(microseconds=1)) if last is not None else now


async def sign_up(
    s: AsyncSession, notices: Notices, *, activity_id: int, user_id: int, chat_team_id: int | None, now: datetime
) -> SignupResult:
    act = await get(s, activity_id, lock=True)
    if act.status == CANCELLED:
        raise DomainError("act_cancelled")
    if not signup_open(act, now):
        raise DomainError("act_signup_closed")
    await _check_volunteer(s, act, user_id, chat_team_id)
    mine = (
        (
            await s.execute(
                select(ActivitySignup).where(ActivitySignup.activity_id == act.id, ActivitySignup.user_id == user_id)
            )
        )
        .scalars()
        .first()
    )
    if mine is not None and mine.status == SIGNED:
        raise DomainError("act_already_signed")
    if mine is not None and mine.status == WAITING:
        raise DomainError("act_already_waiting", position=await waiting_position(s, mine))
    name = await clash(s, act, user_id)
    if name:
        raise DomainError("act_clash", other=name)
    # The status is decided by the database from the signed count, under the activity's lock.
    signed_count = (
        select(func.count())
        .select_from(ActivitySignup)
        .where(ActivitySignup.activity_id == act.id, ActivitySignup.status == SIGNED)
        .scalar_subquery()
    )
    places = select(Activity.capacity).where(Activity.id == act.id).scalar_subquery()
    decided = case((places > signed_count, literal(SIGNED)), else_=literal(WAITING))
    now = await _queue_stamp(s, act.id, now)
    if mine is None:
        row_id: int | None = (
            await s.execute(
                insert(ActivitySignup)
                .values(
                    activity_id=act.id, user_id=user_id, status=decided, created_at=now, updated_at=now, no_show=False
                )
                .returning(ActivitySignup.id)
            )
        ).scalar_one()
    else:  # signed up before and cancelled: back at the end of the queue
        row_id = (
            await s.execute(
                update(ActivitySignup)
                .where(ActivitySignup.id == mine.id, ActivitySignup.status == LEFT)
                .values(status=decided, created_at=now, updated_at=now)
                .returning(ActivitySignup.id)
                .execution_options(synchronize_session=False)
            )
        ).scalar()
        if row_id is None:
            raise DomainError("stale")
    signup = (
        await s.execute(
            select(ActivitySignup).where(ActivitySignup.id == row_id).execution_options(populate_existing=True)
        )
    ).scalar_one()
    await notices.card_changed(s, act)
    if signup.status == SIGNED:
        return SignupResult(SIGNED, 0)
    return SignupResult(WAITING, await waiting_position(s, signup))


async def leave(s: AsyncSession, notices: Notices, *, activity_id: int, user_id: int, now: datetime) -> Activity:
    """取消报名: a signed volunteer's place goes to the first on the waiting list. Returns the old status."""
    act = await get(s, activity_id, lock=True)
    if act.status != PUBLISHED or now >= act.starts_at:
        raise DomainError("act_cannot_leave")
    old = (
        await s.execute(
            update(ActivitySignup)
            .where(
                ActivitySignup.activity_id == act.id,
                ActivitySignup.user_id == user_id,
                ActivitySignup.status.in_((SIGNED, WAITING)),
            )
            .values(status=LEFT, updated_at=now)
            .returning(ActivitySignup.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar()
    if old is None:
        raise DomainError("act_not_signed")
    signed, _waiting = await counts(s, act.id)
    while signed < act.capacity:
        first = (
            (
                await s.execute(
                    select(ActivitySignup)
                    .where(ActivitySignup.activity_id == act.id, ActivitySignup.status == WAITING)
                    .order_by(ActivitySignup.created_at, ActivitySignup.id)
                    .limit(1)
                )
            )
            .scalars()
            .first()
        )
        if first is None:
            break
        moved = (
            await s.execute(
                update(ActivitySignup)
                .where(ActivitySignup.id == first.id, ActivitySignup.status == WAITING)
                .values(status=SIGNED, updated_at=now)
                .returning(ActivitySignup.user_id)
                .execution_options(synchronize_session=False)
            )
        ).scalar()
        if moved is not None:
            await notices.promoted(s, act, moved)
            signed += 1
    await notices.card_changed(s, act)
    return act


async def withdraw(
    s: AsyncSession, notices: Notices, *, user_id: int, now: datetime, team_id: int | None = None
) -> list[Activity]:
    """A volunteer removed from a team (`team_id`: its activities only) or blocked (all): his sign-ups to
    activities not yet begun are cancelled as if he had cancelled them (the waiting list moves up)."""
    query = (
        select(Activity.id)
        .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
        .where(
            ActivitySignup.user_id == user_id,
            ActivitySignup.status.in_((SIGNED, WAITING)),
            Activity.status == PUBLISHED,
            Activity.starts_at > now,
        )
    )
    if team_id is not None:
        query = query.where(Activity.team_id == team_id)
    left = []
    for activity_id in (await s.execute(query.order_by(Activity.id))).scalars().all():
        try:
            left.append(await leave(s, notices, activity_id=activity_id, user_id=user_id, now=now))
        except DomainError:  # cancelled or begun meanwhile
            continue
    return left


async def cancel(s: AsyncSession, notices: Notices, *, activity_id: int, actor: User, now: datetime) -> Activity:
    act = await get(s, activity_id, lock=True)
    if not (
        actor.id == act.created_by
        or (is_coordinator(actor) and await org.covers_any_of(s, actor, await activity_nodes(s, act)))
    ):
        raise DomainError("act_not_manager")
    if act.status != PUBLISHED:
        raise DomainError("act_cancelled" if act.status == CANCELLED else "act_finished")
    act.status, act.updated_at = CANCELLED, now
    told = [x.user_id for x in await signups(s, act.id) if x.status in (SIGNED, WAITING)]
    await s.flush()
    await notices.activity_cancelled(s, act, told)
    await notices.card_changed(s, act)
    return act


# check-in and out ----------------------------------------------------------------------------------------


def in_window(act: Activity, now: datetime) -> bool:
    return act.starts_at - CHECKIN_EARLY <= now <= act.ends_at


async def by_code(s: AsyncSession, code: str | None) -> Activity:
    code = (code or "").strip()
    act = (
        (await s.execute(select(Activity).where(Activity.checkin_code == code, Activity.status == PUBLISHED)))
        .scalars()
        .first()
        if code.isdecimal()
        else None
    )
    if act is None:
        raise DomainError("act_bad_code")
    return act


async def check_in(s: AsyncSession, *, act: Activity, user_id: int, now: datetime) -> ActivitySignup:
    if act.status != PUBLISHED:
        raise DomainError("act_finished" if act.status == FINISHED else "act_cancelled")
    if not in_window(act, now):
        raise DomainError("act_not_checkin_time")
    signup = (
        (
            await s.execute(
                select(ActivitySignup).where(ActivitySignup.activity_id == act.id, ActivitySignup.user_id == user_id)
            )
        )
        .scalars()
        .first()
    )
    if signup is None or signup.status != SIGNED:
        raise DomainError("act_not_signed")
    if signup.checked_in_at is not None:
        raise DomainError("act_already_in")
    signup.checked_in_at, signup.updated_at = now, now
    return signup


async def check_out(s: AsyncSession, *, user_id: int, now: datetime) -> tuple[Activity, ActivitySignup]:
    """The activity this volunteer is checked in to (and not yet out of), within its window."""
    row = (
        await s.execute(
            select(Activity, ActivitySignup)
            .join(ActivitySignup, ActivitySignup.activity_id == Activity.id)
            .where(
                ActivitySignup.user_id == user_id,
                ActivitySignup.status == SIGNED,
                ActivitySignup.checked_in_at.is_not(None),
                ActivitySignup.checked_out_at.is_(None),
                Activity.status == PUBLISHED,
            )
            .order_by(Activity.starts_at)
            .limit(1)
        )
    ).first()
    if row is None:
        raise DomainError("act_not_checked_in")
    act, signup = row
    if not in_window(act, now):
        raise DomainError("act_not_checkin_time")
    signup.checked_out_at, signup.updated_at = now, now
    signup.proposed_minutes = proposed(act, signup)
    return act, signup


def proposed(act: Activity, signup: ActivitySignup) -> int:
    """Rounded time between check-in and check-out, counted within the activity's window."""
    assert signup.checked_in_at is not None  # only a volunteer who checked in is proposed hours
    start = max(signup.checked_in_at, act.starts_at)
    end = min(signup.checked_out_at or act.ends_at, act.ends_at)
    return round_minutes(max(0, int((end - start).total_seconds() // 60)))


# closing and approval --------------------------------------------------------------------------------------


async def close(
    s: AsyncSession,
    notices: Notices,
    *,
    activity_id: int,
    actor: User | None,
    now: datetime,
    approver_id: int | None = None,
) -> Activity:
    """After the start: check everyone out at the end, record no-shows, and ask for approval.

    `actor` None: the scheduler closing it at its end (the approval list then goes to the creator)."""
    act = await get(s, activity_id, lock=True)
    if actor is not None:
        await require_manager(s, actor, act)
    if act.status != PUBLISHED:
        raise DomainError("act_cancelled" if act.status == CANCELLED else "act_finished")
    if now < act.starts_at:
        raise DomainError("act_not_started")
    done = await s.execute(
        update(Activity)
        .where(Activity.id == act.id, Activity.status == PUBLISHED)
        .values(status=FINISHED, updated_at=now)
        .returning(Activity.id)
        .execution_options(synchronize_session=False)
    )
    if done.scalar() is None:
        raise DomainError("act_finished")
    await s.refresh(act)
    for signup in await signups(s, act.id, SIGNED):
        if signup.checked_in_at is None:
            signup.no_show = True
        else:
            if signup.checked_out_at is None:
                signup.checked_out_at = min(now, act.ends_at)
            signup.proposed_minutes = proposed(act, signup)
        signup.updated_at = now
    await s.flush()
    await notices.card_changed(s, act)
    await notices.to_approve(s, act, approver_id or (actor.id if actor else act.created_by))
    await showcase.activity_finished(s, act, now)  # 公示, when a public channel is set
    return act


async def approve(
    s: AsyncSession,
    notices: Notices,
    *,
    activity_id: int,
    actor: User,
    user_id: int | None,
    minutes: int | None,
    points_per_hour: int,
    now: datetime,
) -> list[ActivitySignup]:
    """Approve one volunteer's hours (minutes None: as proposed) or, user_id None, everyone's proposed hours.

    Each approval is a conditional UPDATE … WHERE approved_minutes IS NULL, so a double tap approves once."""
    act = await get(s, activity_id)
    await require_manager(s, actor, act)
    if act.status != FINISHED:
        raise DomainError("act_not_closed")
    rows = [x for x in await signups(s, act.id, SIGNED) if not x.no_show and x.approved_minutes is None]
    if user_id is not None:
        rows = [x for x in rows if x.user_id == user_id]
        if not rows:
            raise DomainError("act_nothing_to_approve")
        if user_id == actor.id:
            raise DomainError("own_hours")
    else:
        rows = [x for x in rows if x.user_id != actor.id and (x.proposed_minutes or 0) > 0]
    if minutes is not None and not 0 < minutes <= int((act.ends_at - act.starts_at).total_seconds() // 60):
        raise DomainError("hours_out_of_range", max_hours=(act.ends_at - act.starts_at).total_seconds() / 3600)
    approved = []
    for signup in rows:
        value = minutes if minutes is not None else (signup.proposed_minutes or 0)
        if value <= 0:
            raise DomainError("act_zero_hours")
        won = (
            await s.execute(
                update(ActivitySignup)
                .where(ActivitySignup.id == signup.id, ActivitySignup.approved_minutes.is_(None))
                .values(approved_minutes=value, updated_at=now)
                .returning(ActivitySignup.id)
                .execution_options(synchronize_session=False)
            )
        ).scalar()
        if won is None:
            continue
        entry = ledger.add_service(
            s,
            volunteer_id=signup.user_id,
            minutes=value,
            points_per_hour=points_per_hour,
            request_id=None,
            activity_id=act.id,
            approved_by=actor.id,
            now=now,
            reason=None if value == signup.proposed_minutes else "adjusted",
        )
        await s.flush()
        await s.execute(
            update(ActivitySignup)
            .where(ActivitySignup.id == signup.id)
            .values(entry_id=entry.id)
            .execution_options(synchronize_session=False)
        )
        await s.refresh(signup)
        await notices.hours_approved(s, act, signup)
        await stars.after_credit(s, notices, signup.user_id, now)
        approved.append(signup)
    if not approved:
        raise DomainError("act_nothing_to_approve")
    return approved


# reminders and the end, for the scheduler ------------------------------------------------------------------


async def starting_between(s: AsyncSession, start: datetime, end: datetime) -> list[Activity]:
    rows = await s.execute(
        select(Activity).where(Activity.status == PUBLISHED, Activity.starts_at > start, Activity.starts_at <= end)
    )
    return list(rows.scalars())


async def ended_by(s: AsyncSession, now: datetime) -> list[Activity]:
    rows = await s.execute(select(Activity).where(Activity.status == PUBLISHED, Activity.ends_at <= now))
    return list(rows.scalars())
