"""SQLAlchemy models. Times are stored as naive UTC and read back as aware UTC."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
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
    # blocked by a coordinator (/block): places nothing, claims nothing, registers nothing
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the county tree (bot/org): where a coordinator is appointed (his scope is its subtree; None with
    # is_coordinator: the 中心), and the station a resident belongs to (None: not placed yet)
    coord_node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)


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


class OrgNode(Base):
    """A node of the county tree: the 中心 (centre), a 实践所 (institute) or a 实践站 (station)."""

    __tablename__ = "org_nodes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # centre | institute | station
    name: Mapped[str] = mapped_column(String(60))
    code: Mapped[str] = mapped_column(String(20), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    __table_args__ = (CheckConstraint("kind IN ('centre', 'institute', 'station')", name="ck_org_nodes_kind"),)


class Team(Base):
    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)  # the node it belongs to


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


class NodeService(Base):
    """A node serves a service of the 总菜单 with one of its teams: routing takes the nearest level that does."""

    __tablename__ = "node_services"
    node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))


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
    # Voice messages and photos the resident sent (Telegram file ids, JSON: [{"step", "kind", "id", "secs"}]);
    # those of the address step are private like the address. Nothing is downloaded.
    media: Mapped[str | None] = mapped_column(Text)
    regular_id: Mapped[int | None] = mapped_column(Integer, index=True)  # placed by this regular need
    # A regular need's occurrence offered first to the previous occurrence's volunteer, until then.
    offered_to: Mapped[int | None] = mapped_column(BigInteger)
    offered_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)  # the resident's


class RegularNeed(Base):
    """A request that places itself: every week, every two weeks or every month, at a time window, until a
    date or until stopped (bot/requests/regular.py). Each occurrence is claimed once by key."""

    __tablename__ = "regular_needs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    description: Mapped[str] = mapped_column(Text)
    media: Mapped[str | None] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(128))  # private
    phone: Mapped[str | None] = mapped_column(String(20))  # private
    proxy_for: Mapped[str | None] = mapped_column(String(32))
    every: Mapped[str] = mapped_column(String(8))  # week | 2weeks | month
    first_day: Mapped[date] = mapped_column(Date)  # the first occurrence: its weekday, or its day of the month
    start: Mapped[str] = mapped_column(String(5))  # "09:00", station time
    end: Mapped[str] = mapped_column(String(5))
    until: Mapped[date | None] = mapped_column(Date)  # None: until stopped
    same_volunteer: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RequestCard(Base):
    """Where a request's card was posted, so it can be edited later."""

    __tablename__ = "request_cards"
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger)


class RequestEvent(Base):
    """Who did what to a request, and when: the request's history."""

    __tablename__ = "request_events"
    __table_args__ = (Index("ix_request_events_actor", "actor_id", "kind", "created_at"),)  # releases per day
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LedgerKind(StrEnum):
    """The one vocabulary of ledger entry kinds: bot/ledger/service.py writes them, everything else reads them
    from here, and the database accepts no other (check constraint ck_ledger_kind, migration 0005)."""

    SERVICE = "service"  # approved hours, with their points
    REVERSAL = "reversal"  # cancels one entry exactly (reverses_id)
    CORRECTION = "correction"  # the right figure after a reversal
    REDEEM = "redeem"  # points spent in the 爱心超市 (points < 0, no hours)
    REFUND = "refund"  # a cancelled redemption's points back


class LedgerEntry(Base):
    """Append-only hours and points. A correction is a reversal plus a new entry. The database itself refuses
    an UPDATE or DELETE of a row (triggers, migration 0005)."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # a LedgerKind
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"), index=True)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entries.id"))
    reason: Mapped[str | None] = mapped_column(String(300))
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (  # migration 0004_ledger
        Index("ix_ledger_volunteer_created", "volunteer_id", "created_at"),  # /me, rankings
        Index("uq_ledger_reverses", "reverses_id", unique=True),  # an entry is reversed at most once
        CheckConstraint(  # migration 0005
            "kind IN (" + ", ".join(f"'{kind.value}'" for kind in LedgerKind) + ")", name="ck_ledger_kind"
        ),
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


class InboxUpdate(Base):
    """A webhook update, recorded before Telegram got its 200 (bot/inbox.py): whichever process is alive handles
    it, once, in order per chat and person. Its body is emptied once handled; done rows are pruned after a day."""

    __tablename__ = "inbox"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)  # 0: the update has no chat
    user_id: Mapped[int] = mapped_column(BigInteger)  # 0: the update has no sender
    body: Mapped[str] = mapped_column(Text)  # the update's JSON, as Telegram posted it
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending | done | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # leased by a process until then
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_inbox_pending", "status", "chat_id", "user_id", "update_id"),)


class Occurrence(Base):
    """A scheduled post that has been claimed (its messages queued) or skipped: at most one row per key.

    Keys look like `theme:2026-12`, `festival:2026:duanwu:-7d`, `civic:2026:volunteer_day:0d`.
    """

    __tablename__ = "occurrences"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str] = mapped_column(String(80))  # host:pid:nonce of the process that claimed it
    status: Mapped[str] = mapped_column(String(8))  # queued | skipped | disabled | empty


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
    node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))  # offered to volunteers under it


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
    # The volunteer's name as it was on the day of issue, as the PDF says it (/verify shows this one; migration 0005)
    volunteer_name: Mapped[str] = mapped_column(String(32), default="", server_default="")


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
    node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))  # the station (or 所, 中心) it is of
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


class PeopleEvent(Base):
    """What was done to a person, and by whom: removed from a team, blocked, unblocked, a join request asked
    (counted against the daily limit). Kept for the record; nothing reads it back but the limits."""

    __tablename__ = "people_events"
    __table_args__ = (Index("ix_people_events_user_kind", "user_id", "kind", "created_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # removed | blocked | unblocked | join_asked
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Task(Base):
    """A task order (任务单) a 中心 or 所 coordinator issues to stations; each station's part is a TaskNode."""

    __tablename__ = "tasks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(60))
    theme: Mapped[str] = mapped_column(String(60), default="")
    expected: Mapped[str] = mapped_column(Text)
    issuer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issuer_node_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"))  # None: the 中心
    accept_by: Mapped[date] = mapped_column(Date)  # the last day to 领单 (station time)
    finish_by: Mapped[date] = mapped_column(Date)  # the last day to finish and 汇报
    max_minutes: Mapped[int | None] = mapped_column(Integer)  # the hours each volunteer may get (None: not set)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TaskNode(Base):
    """One station's part of a task: issued → accepted | declined; accepted → reported → finished | returned;
    returned → reported. An accepted task becomes an activity of the station (`activity_id`)."""

    __tablename__ = "task_nodes"
    __table_args__ = (
        UniqueConstraint("task_id", "node_id", name="uq_task_node"),
        Index("ix_task_nodes_node_status", "node_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"), index=True)
    node_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"))
    status: Mapped[str] = mapped_column(String(10))  # issued | accepted | declined | reported | returned | finished
    reason: Mapped[str | None] = mapped_column(String(300))  # why it was declined, or sent back
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id"))
    acted_by: Mapped[int | None] = mapped_column(BigInteger)  # who accepted or declined
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    report: Mapped[str | None] = mapped_column(Text)  # what was done
    served: Mapped[int | None] = mapped_column(Integer)  # people served (受众人次)
    volunteers: Mapped[int | None] = mapped_column(Integer)
    minutes: Mapped[int | None] = mapped_column(Integer)
    media: Mapped[str | None] = mapped_column(Text)  # photos' Telegram file ids (bot/requests/media.py's JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Wish(Base):
    """A 微心愿: a small wish of a resident (made by him, or for someone by a coordinator or team leader: 帮办),
    reviewed by a coordinator of its station, posted to the station's wish wall, claimed by one volunteer or donor,
    fulfilled with a photo and confirmed by the wisher. `for_whom` is a first name or “一位老人”, never a full name;
    the phone is private (only the claimer, when the coordinator chose the wisher's contact)."""

    __tablename__ = "wishes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wisher_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    proxy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # made for someone (帮办)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    what: Mapped[str] = mapped_column(String(200))
    for_whom: Mapped[str] = mapped_column(String(20))
    why: Mapped[str | None] = mapped_column(String(300))
    cost: Mapped[str | None] = mapped_column(String(40))
    due: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    photo: Mapped[str | None] = mapped_column(String(256))  # the wisher's photo: a Telegram file id, private
    # review | open | claimed | preparing | delivered | fulfilled | declined | cancelled
    status: Mapped[str] = mapped_column(String(16), index=True)
    proposed: Mapped[str | None] = mapped_column(String(200))  # a coordinator's edit, waiting for the wisher
    reason: Mapped[str | None] = mapped_column(String(300))  # why it was declined: only the wisher reads it
    contact: Mapped[str | None] = mapped_column(String(8))  # coord | wisher: whose contact the claimer gets
    approved_by: Mapped[int | None] = mapped_column(BigInteger)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    preparing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    given_back: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # once only
    done_photo: Mapped[str | None] = mapped_column(String(256))  # the delivery photo, shown on the wall
    thanks: Mapped[str | None] = mapped_column(String(200))
    hours_minutes: Mapped[int | None] = mapped_column(Integer)  # hours a coordinator gave the volunteer claimer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WishCard(Base):
    """Where a wish's card was posted (the wall, the volunteers' groups), so it can be edited later."""

    __tablename__ = "wish_cards"
    wish_id: Mapped[int] = mapped_column(ForeignKey("wishes.id"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger)


class WishWall(Base):
    """A station's 心愿墙: the group or channel its coordinator bound with /bind_wall."""

    __tablename__ = "wish_walls"
    station_id: Mapped[int] = mapped_column(ForeignKey("org_nodes.id"), primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    title: Mapped[str] = mapped_column(String(128), default="")
    bound_by: Mapped[int] = mapped_column(BigInteger)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Donor(Base):
    """爱心人士 / 爱心企业: someone who claims wishes without joining a team (/donor). No hours, a thank-you record."""

    __tablename__ = "donors"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    organisation: Mapped[str | None] = mapped_column(String(60))  # set: 爱心企业
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ShowcasePost(Base):
    """公示: an anonymised post of work done (an activity, a service, a wish) for the public channel
    (bot/showcase/service.py). At most SHOWCASE_PER_DAY a station day: a post past it waits (`waiting`) for the next
    day; `queued` is in the outbox, `sent` has its channel message id, `removed` was taken down by a coordinator."""

    __tablename__ = "showcase_posts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("org_nodes.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # activity | service | wish
    source: Mapped[str | None] = mapped_column(String(40), unique=True)  # "request:12": posted once
    text: Mapped[str] = mapped_column(Text)  # as posted: anonymised
    photo: Mapped[str | None] = mapped_column(String(200))  # a Telegram file id, nothing on our disk
    status: Mapped[str] = mapped_column(String(10), index=True)  # waiting | queued | sent | removed
    day: Mapped[date | None] = mapped_column(Date, index=True)  # the station day whose slot it took
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_by: Mapped[int | None] = mapped_column(BigInteger)
