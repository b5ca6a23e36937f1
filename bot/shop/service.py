"""爱心超市: volunteers exchange points from approved hours for donated goods.

The balance is always the sum of the volunteer's ledger points. A redemption is one transaction:
the volunteer's row is locked (SELECT ... FOR UPDATE on PostgreSQL; SQLite serialises every
transaction with BEGIN IMMEDIATE), the balance and monthly limit are checked, the stock is taken
with a conditional UPDATE (stock > 0), and the points leave as a 'redeem' ledger entry, written by the ledger
(bot/ledger/service.py `add_points`), as the 'refund' of a cancel is.

A balance below zero (a correction downwards after the points were spent: the hours are facts and the correction
is kept) is owed: nothing can be redeemed until it is above zero again.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import validate
from bot.core.errors import DomainError
from bot.core.limits import Daily
from bot.ledger import service as ledger
from bot.org import service as org
from bot.people.service import require_coordinator
from storage.models import Redemption, ShopItem, User, Volunteer

RESERVED, HANDED, CANCELLED = "reserved", "handed", "cancelled"
NAME_LIMIT = 40  # ShopItem.name
MAX_PRICE = 100_000
MAX_STOCK = 100_000
MAX_LIMIT = 100
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at the counter
CODE_LENGTH = 6


class ShopNotices(Protocol):
    async def redeemed(self, s: AsyncSession, r: Redemption, item: ShopItem, volunteer: Volunteer) -> None: ...
    async def handed(self, s: AsyncSession, r: Redemption, item: ShopItem) -> None: ...
    async def cancelled(self, s: AsyncSession, r: Redemption, item: ShopItem, volunteer: Volunteer) -> None: ...


# Reading what coordinators type ----------------------------------------------------------------


def parse_int(raw: str | None, *, low: int, high: int) -> int:
    value = (raw or "").strip()
    if not value.lstrip("-").isdecimal():
        raise DomainError("shop_bad_number", value=value[:20])
    number = int(value)
    if not low <= number <= high:
        raise DomainError("shop_out_of_range", low=low, high=high)
    return number


def parse_limit(raw: str | None) -> int | None:
    """A monthly limit per volunteer; 0 or '-' or 'none' / '不限' means no limit."""
    value = (raw or "").strip().lower()
    if value in ("-", "none", "no", "不限", "无", "0"):
        return None
    return parse_int(value, low=1, high=MAX_LIMIT)


def check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("empty")
    if len(name) > NAME_LIMIT:
        raise DomainError("too_long", length=len(name), limit=NAME_LIMIT)
    return name


# The catalogue -------------------------------------------------------------------------------


async def get_item(s: AsyncSession, item_id: int) -> ShopItem:
    item = await s.get(ShopItem, item_id) if validate.fits_id(item_id) else None
    if item is None:
        raise DomainError("shop_no_item", ref=item_id)
    return item


async def add_item(
    s: AsyncSession, actor: User, *, name: str, price: int, stock: int, limit: int | None, now: datetime
) -> ShopItem:
    require_coordinator(actor)
    node_id = await org.own_node(s, actor)  # a 所 often runs the pick-up point: its items are offered under it
    item = ShopItem(
        name=check_name(name),
        price=price,
        stock=stock,
        monthly_limit=limit,
        active=True,
        created_at=now,
        node_id=node_id,
    )
    s.add(item)
    await s.flush()
    return item


async def change_item(s: AsyncSession, actor: User, item_id: int, **values: Any) -> ShopItem:
    """price / stock / monthly_limit / active; the values are checked by the caller's parsing."""
    require_coordinator(actor)
    item = await get_item(s, item_id)
    await org.require_covers(s, actor, item.node_id)
    for key, value in values.items():
        setattr(item, key, value)
    await s.flush()
    return item


async def items(s: AsyncSession, *, only_active: bool, viewer: User | None = None) -> list[ShopItem]:
    """The catalogue; with `viewer`, what concerns him: a volunteer's items offered under his station and teams,
    a coordinator's of his subtree."""
    query = select(ShopItem).order_by(ShopItem.id)
    if only_active:
        query = query.where(ShopItem.active.is_(True))
    found = list((await s.execute(query)).scalars())
    if viewer is None:
        return found
    scope = await org.scope_of(s, viewer)
    if scope.everything:
        return found
    offered = await org.nodes_above(s, await org.user_nodes(s, viewer.id))
    return [i for i in found if i.node_id is None or i.node_id in offered or scope.covers(i.node_id)]


async def balance(s: AsyncSession, volunteer_id: int) -> int:
    return (await ledger.totals(s, volunteer_id)).points


def month_start(now: datetime, tz: ZoneInfo) -> datetime:
    """The first moment of the station's current calendar month, as aware UTC."""
    local = now.astimezone(tz)
    return datetime.combine(local.date().replace(day=1), time(0), tzinfo=tz).astimezone(ZoneInfo("UTC"))


async def used_this_month(s: AsyncSession, volunteer_id: int, item_id: int, now: datetime, tz: ZoneInfo) -> int:
    return (
        await s.execute(
            select(func.count())
            .select_from(Redemption)
            .where(
                Redemption.volunteer_id == volunteer_id,
                Redemption.item_id == item_id,
                Redemption.status != CANCELLED,
                Redemption.created_at >= month_start(now, tz),
            )
        )
    ).scalar_one()


async def _new_code(s: AsyncSession) -> str:
    for _attempt in range(10):
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if (await s.execute(select(Redemption.id).where(Redemption.code == code))).first() is None:
            return code
    raise RuntimeError("could not find a free pick-up code")  # 32**6 codes: practically unreachable


def refusal(item: ShopItem, *, price: int | None = None) -> DomainError | None:
    """Why nobody can redeem `item` now, whatever their points (None: it is on offer). `price`: the price
    a volunteer confirmed, which must still be the item's."""
    if not item.active:
        return DomainError("shop_withdrawn", name=item.name)
    if price is not None and item.price != price:
        return DomainError("shop_price_changed", name=item.name, price=item.price)
    if item.stock <= 0:
        return DomainError("shop_sold_out", name=item.name)
    return None


def on_offer(item: ShopItem) -> bool:
    """Whether the 爱心超市 shows a button for `item`."""
    return refusal(item) is None


@dataclass(frozen=True)
class Offer:
    volunteer: Volunteer
    item: ShopItem
    points: int  # the volunteer's balance before redeeming


async def redeem_rules(
    s: AsyncSession,
    *,
    user_id: int,
    item_id: int,
    now: datetime,
    tz: ZoneInfo,
    price: int | None = None,
    lock: bool = False,
    cancels: Daily | None = None,
) -> Offer:
    """Every rule of a redemption, in the order its refusals take precedence. The handler asks it in a read
    when an item is tapped (a refusal comes before the confirmation); redeem() asks it again in its transaction,
    with the confirmed `price` and the volunteer's row locked (`lock`: SELECT ... FOR UPDATE on PostgreSQL, which
    serialises one volunteer's redemptions; SQLite's BEGIN IMMEDIATE already does, and SQLAlchemy leaves FOR UPDATE
    out there)."""
    query = select(Volunteer).where(Volunteer.user_id == user_id)
    volunteer = (await s.execute(query.with_for_update() if lock else query)).scalars().first()
    if volunteer is None:
        raise DomainError("shop_not_volunteer")
    item = await get_item(s, item_id)
    if item.node_id is not None and item.node_id not in await org.nodes_above(s, await org.user_nodes(s, user_id)):
        raise DomainError("shop_no_item", ref=item_id)  # another node's pick-up point: not offered to him
    refused = refusal(item, price=price)
    if refused is not None:
        raise refused
    points = await balance(s, user_id)
    if points < 0:
        raise DomainError("shop_owed", owed=ledger.owed(points))
    if points < item.price:
        raise DomainError("shop_not_enough", price=item.price, balance=points)
    if item.monthly_limit is not None and await used_this_month(s, user_id, item.id, now, tz) >= item.monthly_limit:
        raise DomainError("shop_limit_reached", name=item.name, limit=item.monthly_limit)
    if cancels is not None and await cancelled_today(s, user_id, now, cancels) >= cancels.count:
        raise DomainError("shop_cancel_limit", limit=cancels.count)
    return Offer(volunteer, item, points)


async def cancelled_today(s: AsyncSession, volunteer_id: int, now: datetime, daily: Daily) -> int:
    """Redemptions the volunteer cancelled today: past MAX_SHOP_CANCELS_PER_DAY he redeems again tomorrow, so
    redeeming and cancelling over and over (each a message to the coordinators) stops."""
    return (
        await s.execute(
            select(func.count())
            .select_from(Redemption)
            .where(
                Redemption.volunteer_id == volunteer_id,
                Redemption.status == CANCELLED,
                Redemption.cancelled_at >= daily.since(now),
            )
        )
    ).scalar_one()


async def redeem(
    s: AsyncSession,
    notices: ShopNotices,
    *,
    user: User,
    item_id: int,
    price: int,
    now: datetime,
    tz: ZoneInfo,
    cancels: Daily | None = None,
) -> Redemption:
    """Exchange points for one item. `price` is the price the volunteer confirmed."""
    offer = await redeem_rules(
        s, user_id=user.id, item_id=item_id, now=now, tz=tz, price=price, lock=True, cancels=cancels
    )
    volunteer, item = offer.volunteer, offer.item
    # The rules saw stock left; the conditional UPDATE takes it, so of two redeeming the last one at once
    # (two volunteers: their locks do not serialise them) only one does.
    taken = await s.execute(
        update(ShopItem)
        .where(ShopItem.id == item.id, ShopItem.stock > 0, ShopItem.active.is_(True), ShopItem.price == price)
        .values(stock=ShopItem.stock - 1)
        .returning(ShopItem.id)
        .execution_options(synchronize_session=False)
    )
    if taken.scalar() is None:
        raise DomainError("shop_sold_out", name=item.name)
    await s.refresh(item)
    entry = ledger.add_points(
        s, volunteer_id=user.id, points=-item.price, kind=ledger.REDEEM, approved_by=None, reason=item.name, now=now
    )
    await s.flush()
    redemption = Redemption(
        item_id=item.id,
        volunteer_id=user.id,
        price=item.price,
        code=await _new_code(s),
        status=RESERVED,
        entry_id=entry.id,
        created_at=now,
    )
    s.add(redemption)
    await s.flush()
    await notices.redeemed(s, redemption, item, volunteer)
    return redemption


async def get_redemption(s: AsyncSession, redemption_id: int) -> Redemption:
    r = await s.get(Redemption, redemption_id) if validate.fits_id(redemption_id) else None
    if r is None:
        raise DomainError("shop_no_redemption")
    return r


async def by_code(s: AsyncSession, typed: str | None) -> Redemption:
    code = (validate.key(typed) or "").upper()
    r = (await s.execute(select(Redemption).where(Redemption.code == code))).scalars().first() if code else None
    if r is None:
        raise DomainError("shop_no_code", ref=validate.CONTROL.sub("", (typed or "").strip())[:12])
    return r


async def _move(s: AsyncSession, r: Redemption, now: datetime, **values: Any) -> None:
    """Out of 'reserved' once: whoever's UPDATE returns nothing was second."""
    done = await s.execute(
        update(Redemption)
        .where(Redemption.id == r.id, Redemption.status == RESERVED)
        .values(**values)
        .returning(Redemption.id)
        .execution_options(synchronize_session=False)
    )
    await s.refresh(r)
    if done.scalar() is None:
        raise DomainError("shop_already_handed" if r.status == HANDED else "shop_already_cancelled")


async def cancel(s: AsyncSession, notices: ShopNotices, *, user: User, redemption_id: int, now: datetime) -> Redemption:
    """The volunteer takes back an unhanded redemption: points return as a 'refund', stock returns."""
    r = await get_redemption(s, redemption_id)
    if r.volunteer_id != user.id:
        raise DomainError("shop_not_yours")
    await _move(s, r, now, status=CANCELLED, cancelled_at=now)
    await s.execute(
        update(ShopItem)
        .where(ShopItem.id == r.item_id)
        .values(stock=ShopItem.stock + 1)
        .execution_options(synchronize_session=False)
    )
    ledger.add_points(
        s, volunteer_id=user.id, points=r.price, kind=ledger.REFUND, approved_by=None, reason=r.code, now=now
    )
    item = await s.get(ShopItem, r.item_id)
    assert item is not None  # a redemption's item stays
    await s.refresh(item)
    volunteer = await s.get(Volunteer, user.id)
    assert volunteer is not None  # the redemption was his
    await notices.cancelled(s, r, item, volunteer)
    return r


async def hand_over(
    s: AsyncSession, notices: ShopNotices, *, actor: User, redemption: Redemption, now: datetime
) -> Redemption:
    require_coordinator(actor)
    item = await s.get(ShopItem, redemption.item_id)
    assert item is not None  # a redemption's item stays
    await org.require_covers(s, actor, item.node_id, *await org.user_nodes(s, redemption.volunteer_id))
    await _move(s, redemption, now, status=HANDED, handed_at=now, handed_by=actor.id)
    await notices.handed(s, redemption, item)
    return redemption


async def of_volunteer(s: AsyncSession, user_id: int, limit: int = 20) -> list[tuple[Redemption, ShopItem]]:
    rows = await s.execute(
        select(Redemption, ShopItem)
        .join(ShopItem, ShopItem.id == Redemption.item_id)
        .where(Redemption.volunteer_id == user_id)
        .order_by(Redemption.id.desc())
        .limit(limit)
    )
    return [(r, item) for r, item in rows.all()]


async def pending(s: AsyncSession, actor: User, limit: int = 50) -> list[tuple[Redemption, ShopItem, Volunteer]]:
    require_coordinator(actor)
    scope = await org.scope_of(s, actor)
    query = (
        select(Redemption, ShopItem, Volunteer)
        .join(ShopItem, ShopItem.id == Redemption.item_id)
        .join(Volunteer, Volunteer.user_id == Redemption.volunteer_id)
        .where(Redemption.status == RESERVED)
    )
    if not scope.everything:
        query = query.where(ShopItem.node_id.in_(scope.nodes))
    rows = await s.execute(query.order_by(Redemption.id).limit(limit))
    return [(r, item, volunteer) for r, item, volunteer in rows.all()]
