"""公示 (public showcase): anonymised posts of work done, in the public channel PUBLIC_CHANNEL_ID.

What is posted: a finished activity (its title, station, month, volunteers and hours), a completed service whose
resident agreed (“同意匿名公示” at the rating step; not agreed unless he taps it) once its hours are approved (the
service, station, month, hours and the volunteer's first photo), and what other features announce through
`announce` (a fulfilled 微心愿). Never a resident's name, address or phone, nor a volunteer's phone: the texts are
built here from those fields only, and a caller's text is its own responsibility.

At most SHOWCASE_PER_DAY posts a station day. Each post takes one of the day's slots, an occurrence claimed once by
key (`showcase:<day>:<n>`, scheduling/occurrences.py) in the transaction that queues it into the outbox, so two
processes never post more than the cap. A post past the cap, or made at night, waits (`waiting`) and the minute job
(bot/showcase/jobs.py) releases the waiting posts, oldest first, as the next days' slots allow. The outbox's Pace is a
per-process flood limit in real time; a daily cap must survive restarts and several processes, hence the slots.

A coordinator of the post's station (or above) takes a post down (`takedown`): still waiting, it is never sent;
queued and not yet leased, its outbox row is dropped; else a `delete` of its channel message is queued, after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.clock import Clock
from bot.core.errors import DomainError
from bot.org import service as org
from bot.outbox import Outbox
from bot.requests import media
from bot.showcase.notices import ShowcaseNotices
from scheduling.occurrences import claim_in
from storage.models import (
    Activity,
    ActivitySignup,
    OrgNode,
    OutboxMessage,
    Request,
    RequestEvent,
    Service,
    ShowcasePost,
    User,
)

WAITING, QUEUED, SENT, REMOVED = "waiting", "queued", "sent", "removed"
ACTIVITY, SERVICE, WISH = "activity", "service", "wish"
CONSENT = "showcase_consent"  # the request event of the resident's “同意匿名公示”
DAY_START, NIGHT_START = 7, 22  # posts go out between 07:00 and 22:00 station time
MAX_TEXT = 900  # a photo's caption holds 1024 characters


@dataclass
class Config:
    """Set once by the app (`configure`): where posts go, the daily cap, the outbox they are queued in."""

    channel_id: int | None = None
    per_day: int = 3
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    outbox: Outbox | None = None
    clock: Clock = field(default_factory=Clock)


CONFIG = Config()


def configure(channel_id: int | None, per_day: int, tz: ZoneInfo, outbox: Outbox | None, clock: Clock) -> None:
    CONFIG.channel_id, CONFIG.per_day, CONFIG.tz, CONFIG.outbox, CONFIG.clock = channel_id, per_day, tz, outbox, clock


def enabled() -> bool:
    return CONFIG.channel_id is not None and CONFIG.outbox is not None


def ref(post: ShowcasePost) -> str:
    return f"show:{post.id}"


def slot_key(day: dt.date, n: int) -> str:
    return f"showcase:{day.isoformat()}:{n}"


def daytime(now: dt.datetime, tz: ZoneInfo) -> bool:
    return DAY_START <= now.astimezone(tz).hour < NIGHT_START


# posting ----------------------------------------------------------------------------------------


async def announce(
    s: AsyncSession,
    station_id: int | None,
    kind: str,
    text: str,
    photo_file_id: str | None = None,
    *,
    source: str | None = None,
    now: dt.datetime | None = None,
) -> ShowcasePost | None:
    """Announce work done in the public channel, in the caller's transaction: `text` as it is posted (already
    anonymised and rendered, e.g. in the station's language), with a photo by its Telegram file id. Posted now if
    today's cap allows it (and it is day), else it waits for the next day. `source` (e.g. "wish:12") makes it once:
    a second announce of the same source returns the first post. None when no PUBLIC_CHANNEL_ID is set."""
    if not enabled():
        return None
    assert CONFIG.channel_id is not None
    now = now or CONFIG.clock.now()
    if source is not None:
        known = (await s.execute(select(ShowcasePost).where(ShowcasePost.source == source))).scalars().first()
        if known is not None:
            return known
    post = ShowcasePost(
        station_id=station_id,
        kind=kind,
        source=source,
        text=text[:MAX_TEXT],
        photo=photo_file_id,
        status=WAITING,
        chat_id=CONFIG.channel_id,
        created_at=now,
    )
    s.add(post)
    await s.flush()
    older = await s.execute(
        select(ShowcasePost.id).where(ShowcasePost.status == WAITING, ShowcasePost.id < post.id).limit(1)
    )
    if older.first() is None:  # the older waiting posts go first (the job): this one queues behind them
        assert CONFIG.outbox is not None
        await _release(s, CONFIG.outbox, post, now)
    return post


async def _release(s: AsyncSession, outbox: Outbox, post: ShowcasePost, now: dt.datetime) -> str | None:
    """Queue a waiting post if it is day and one of today's slots is free; the slot's key, else None."""
    if not daytime(now, CONFIG.tz):
        return None
    day = now.astimezone(CONFIG.tz).date()
    for n in range(1, CONFIG.per_day + 1):
        key = slot_key(day, n)
        if await claim_in(s, key, now, now):
            post.status, post.day = QUEUED, day
            outbox.channel_post(s, post.chat_id, post.text, post.photo, ref=ref(post))
            return key
    return None


async def release_waiting(s: AsyncSession, outbox: Outbox, now: dt.datetime) -> list[str]:
    """The job: waiting posts, oldest first, while today's slots last. The slot keys taken."""
    taken: list[str] = []
    waiting = await s.execute(select(ShowcasePost).where(ShowcasePost.status == WAITING).order_by(ShowcasePost.id))
    for post in waiting.scalars():
        key = await _release(s, outbox, post, now)
        if key is None:
            break
        taken.append(key)
    return taken


async def any_waiting(s: AsyncSession) -> bool:
    return (await s.execute(select(ShowcasePost.id).where(ShowcasePost.status == WAITING).limit(1))).first() is not None


# what is posted -----------------------------------------------------------------------------------


async def _station_name(s: AsyncSession, station_id: int | None) -> str:
    node = await s.get(OrgNode, station_id) if station_id is not None else None
    return node.name if node is not None else "—"


async def consented(s: AsyncSession, request_id: int) -> bool:
    found = await s.execute(
        select(RequestEvent.id).where(RequestEvent.request_id == request_id, RequestEvent.kind == CONSENT).limit(1)
    )
    return found.first() is not None


async def agree(s: AsyncSession, *, request_id: int, user: User, now: dt.datetime) -> Request:
    """The resident's one tap “同意匿名公示” after rating (not agreed until then): recorded once as an event of the
    request; if its hours are approved already, it is announced now, else at the approval."""
    req = await s.get(Request, request_id)
    if req is None:
        raise DomainError("no_request")
    if req.resident_id != user.id:
        raise DomainError("not_your_request")
    if req.status not in ("confirmed", "approved"):
        raise DomainError("not_confirmed")
    if await consented(s, req.id):
        return req
    s.add(RequestEvent(request_id=req.id, actor_id=user.id, kind=CONSENT, created_at=now))
    await s.flush()
    if req.status == "approved":
        await request_done(s, req, now)
    return req


async def request_done(s: AsyncSession, req: Request, now: dt.datetime) -> ShowcasePost | None:
    """A request's hours approved: announced if its resident agreed. Only the service, the station, the month, the
    hours and the volunteer's first photo of the done report; nothing the resident typed."""
    if not enabled() or req.approved_minutes is None or not await consented(s, req.id):
        return None
    from bot.showcase import texts  # rendered with gettext (aiogram), like the notices

    assert CONFIG.outbox is not None
    service = await s.get(Service, req.service_id)
    station = await _station_name(s, req.station_id)
    photos = media.of_step(media.loads(req.media), media.DONE)
    with CONFIG.outbox.in_station_locale():
        text = texts.service_post(
            service, CONFIG.outbox.current_locale, station, req.approved_at or now, req.approved_minutes, CONFIG.tz
        )
    return await announce(
        s, req.station_id, SERVICE, text, photos[0]["id"] if photos else None, source=f"request:{req.id}", now=now
    )


async def activity_finished(s: AsyncSession, act: Activity, now: dt.datetime) -> ShowcasePost | None:
    """An activity closed: its title, station, month, how many volunteers came and their hours (as proposed).
    Not its place (it may be someone's home) and no names."""
    if not enabled():
        return None
    from bot.showcase import texts

    assert CONFIG.outbox is not None
    came = (
        (
            await s.execute(
                select(ActivitySignup.proposed_minutes).where(
                    ActivitySignup.activity_id == act.id, ActivitySignup.checked_in_at.is_not(None)
                )
            )
        )
        .scalars()
        .all()
    )
    if not came:  # nobody checked in: nothing to show
        return None
    station = await _station_name(s, act.node_id)
    with CONFIG.outbox.in_station_locale():
        text = texts.activity_post(act.title, station, act.starts_at, len(came), sum(m or 0 for m in came), CONFIG.tz)
    return await announce(s, act.node_id, ACTIVITY, text, source=f"activity:{act.id}", now=now)


# taking down ----------------------------------------------------------------------------------------


async def get(s: AsyncSession, post_id: int) -> ShowcasePost:
    post = await s.get(ShowcasePost, post_id) if 0 < post_id < 2**31 else None
    if post is None:
        raise DomainError("no_post")
    return post


async def check_may_take_down(s: AsyncSession, actor: User, post: ShowcasePost) -> None:
    """A coordinator of the post's station, of its 所 or of the 中心; a post taken down stays down."""
    await org.require_covers(s, actor, post.station_id)
    if post.status == REMOVED:
        raise DomainError("post_removed")


async def takedown(s: AsyncSession, outbox: Outbox, *, actor: User, post_id: int, now: dt.datetime) -> ShowcasePost:
    """撤下: the post is not sent, or its channel message is deleted (deleteMessage, through the outbox)."""
    post = await get(s, post_id)
    await check_may_take_down(s, actor, post)
    was = post.status
    moved = await s.execute(
        update(ShowcasePost)
        .where(ShowcasePost.id == post.id, ShowcasePost.status == was)
        .values(status=REMOVED, removed_at=now, removed_by=actor.id)
        .returning(ShowcasePost.id)
        .execution_options(synchronize_session=False)
    )
    if moved.first() is None:  # someone else took it down (or it was sent) meanwhile
        await s.refresh(post)
        raise DomainError("post_removed")
    await s.refresh(post)
    if was == WAITING:
        await ShowcaseNotices(outbox).taken_down(s, post, actor)
        return post
    dropped = await s.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.ref == ref(post),
            OutboxMessage.status == "pending",
            OutboxMessage.method.in_(("send", "photo")),
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
        )
        .values(status="failed", error="taken down before it was sent")
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    )
    if dropped.first() is None:  # sent, or being sent: delete it after its send, in the channel's order
        outbox.delete(s, post.chat_id, ref=ref(post))
    await ShowcaseNotices(outbox).taken_down(s, post, actor)
    return post


async def recent(s: AsyncSession, actor: User, limit: int = 10) -> list[ShowcasePost]:
    """/showcase: the latest posts not taken down, of the stations in the coordinator's scope."""
    scope = await org.scope_of(s, actor)
    if not scope.any:
        raise DomainError("not_coordinator")
    rows = await s.execute(
        select(ShowcasePost).where(ShowcasePost.status != REMOVED).order_by(ShowcasePost.id.desc()).limit(200)
    )
    return [post for post in rows.scalars() if scope.covers(post.station_id)][:limit]
