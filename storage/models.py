"""SQLAlchemy models. Times are stored as naive UTC and read back as aware UTC."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use aware UTC")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class User(Base):
    """Everyone who has written to the bot. Residents by default."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    full_name: Mapped[str] = mapped_column(String(128), default="")
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    locale: Mapped[str] = mapped_column(String(8), default="zh_Hans")
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_bot: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Volunteer(Base):
    __tablename__ = "volunteers"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    skills: Mapped[str] = mapped_column(String(300), default="", server_default="")  # comma-joined Skill ids
    show_in_rank: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # else "a volunteer"
    share_stars: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # congratulate in group
    star_level: Mapped[int] = mapped_column(Integer, default=0, server_default=false())  # highest level congratulated


class Skill(Base):
    """A skill volunteers can tick at registration; the list is the station's."""

    __tablename__ = "skills"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TeamMember(Base):
    __tablename__ = "team_members"
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), default="active", server_default="active")  # pending | active
    decided_by: Mapped[int | None] = mapped_column(BigInteger)  # who approved the join request


class TeamChat(Base):
    """A group chat bound to a team with /bind."""

    __tablename__ = "team_chats"
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    title: Mapped[str] = mapped_column(String(128), default="")
    bound_by: Mapped[int] = mapped_column(BigInteger)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Service(Base):
    """An item of the station's menu (总菜单)."""

    __tablename__ = "services"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class StationSetting(Base):
    __tablename__ = "station_settings"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class Counter(Base):
    """Sequences for readable numbers (e.g. requests of a year)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Request(Base):
    """A resident's request (点单) and its whole lifecycle."""

    __tablename__ = "requests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(128))  # private
    phone: Mapped[str | None] = mapped_column(String(20))  # private
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), index=True)
    claimer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_minutes: Mapped[int | None] = mapped_column(Integer)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(String(500))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_minutes: Mapped[int | None] = mapped_column(Integer)
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 帮办员 proxy ordering: resident_id is then the proxy, who gets the notifications; this is the
    # resident's own name as typed in.
    proxy_for: Mapped[str | None] = mapped_column(String(32))


class RequestCard(Base):
    """Where a request's card was posted, so it can be edited later."""

    __tablename__ = "request_cards"
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger)


class RequestEvent(Base):
    """Who did what to a request, and when: the request's history."""

    __tablename__ = "request_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerEntry(Base):
    """Append-only hours and points. A correction is a reversal plus a new entry."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    # service | reversal | correction | redeem (points < 0) | refund (a cancelled redemption)
    kind: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    reason: Mapped[str | None] = mapped_column(String(300))
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (  # migration 0004_ledger
        Index("ix_ledger_volunteer_created", "volunteer_id", "created_at"),  # /me, rankings
        Index("uq_ledger_reverses", "reverses_id", unique=True),  # an entry is reversed at most once
    )


class OutboxMessage(Base):
    """A message owed to Telegram, written in the same transaction as the change that owes it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(8))  # send | edit
    text: Mapped[str] = mapped_column(Text)
    markup: Mapped[str | None] = mapped_column(Text)  # JSON of an InlineKeyboardMarkup
    ref: Mapped[str | None] = mapped_column(String(40))  # e.g. "card:12": which message to record or edit
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(300))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_outbox_pending", "status", "chat_id", "id"),)


class ProcessedUpdate(Base):
    """Telegram update ids already handled: a redelivered update has effect once."""

    __tablename__ = "processed_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Occurrence(Base):
    """A scheduled post that has been claimed (its messages queued) or skipped: at most one row per key.

    Keys look like `theme:2026-12`, `festival:2026:duanwu:-7d`, `civic:2026:volunteer_day:0d`.
    """

    __tablename__ = "occurrences"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(80))  # host:pid:nonce of the process that claimed it
    status: Mapped[str] = mapped_column(String(8))  # queued | skipped


class Dispute(Base):
    """A volunteer's objection to a ledger entry, until a coordinator corrects or rejects it."""

    __tablename__ = "disputes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10))  # open | corrected | rejected
    resolved_by: Mapped[int | None] = mapped_column(BigInteger)
    resolution: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShopItem(Base):
    """An item of the 爱心超市 catalogue."""

    __tablename__ = "shop_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    price: Mapped[int] = mapped_column(Integer)  # points
    stock: Mapped[int] = mapped_column(Integer)
    monthly_limit: Mapped[int | None] = mapped_column(Integer)  # per volunteer per month
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Redemption(Base):
    """Points exchanged for an item; the points leave through the ledger entry `entry_id`."""

    __tablename__ = "redemptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("shop_items.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    price: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # pick-up code
    status: Mapped[str] = mapped_column(String(10))  # reserved | handed | cancelled
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handed_by: Mapped[int | None] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Certificate(Base):
    """A 志愿服务证明 issued as a PDF; the number lets a coordinator verify it later."""

    __tablename__ = "certificates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    date_from: Mapped[date | None] = mapped_column(Date)
    date_to: Mapped[date | None] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Activity(Base):
    """A group activity (定单 with places) that volunteers sign up for."""

    __tablename__ = "activities"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(60))
    theme: Mapped[str] = mapped_column(String(60), default="")
    place: Mapped[str] = mapped_column(String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)  # None: the whole station
    signup_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))  # published | cancelled | finished
    checkin_code: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ActivitySignup(Base):
    __tablename__ = "activity_signups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))  # signed | waiting | cancelled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # waiting-list order
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proposed_minutes: Mapped[int | None] = mapped_column(Integer)
    approved_minutes: Mapped[int | None] = mapped_column(Integer)
    no_show: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))

    __table_args__ = (UniqueConstraint("activity_id", "user_id", name="uq_signup_once"),)


class ActivityCard(Base):
    """Where an activity's card was posted, so its count of places can be edited."""

    __tablename__ = "activity_cards"
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger)


class CustomText(Base):
    """A text a coordinator changed (a month's theme, a festival's customs), per locale."""

    __tablename__ = "custom_texts"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. theme:3, festival:duanwu
    locale: Mapped[str] = mapped_column(String(8), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


__all__ = [
    "Base",
    "User",
    "Volunteer",
    "Team",
    "TeamMember",
    "TeamChat",
    "Service",
    "StationSetting",
    "Counter",
    "Request",
    "RequestCard",
    "RequestEvent",
    "LedgerEntry",
    "OutboxMessage",
    "ProcessedUpdate",
    "Occurrence",
    "Skill",
    "Dispute",
    "ShopItem",
    "Redemption",
    "Certificate",
    "Activity",
    "ActivitySignup",
    "ActivityCard",
    "CustomText",
]
