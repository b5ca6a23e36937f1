"""Settings from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Telegram tokens look like "123456789:AA...": a numeric bot id, a colon, 30+ url-safe chars.
TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


def remind_days(value: str | int | Iterable[int | str]) -> tuple[int, ...]:
    """FESTIVAL_REMIND_DAYS: "7,1" (or "7 1", or empty for the day itself only) -> (7, 1); each 1 to 60."""
    if isinstance(value, str):
        parts = [p for p in re.split(r"[,\s]+", value.strip()) if p]
        if not all(p.isdecimal() for p in parts):
            raise ValueError("FESTIVAL_REMIND_DAYS must be whole numbers of days, e.g. 7,1")
        value = [int(p) for p in parts]
    if isinstance(value, int):
        value = [value]
    days = tuple(sorted({int(v) for v in value}, reverse=True))
    if any(not 1 <= d <= 60 for d in days):
        raise ValueError("FESTIVAL_REMIND_DAYS: each number of days must be 1 to 60 (the day itself is always posted)")
    return days


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: str = Field(min_length=1)
    database_url: str = "sqlite+aiosqlite:///./data/station.db"
    telegram_api_url: str | None = None
    admin_ids: Annotated[list[int], NoDecode] = []
    timezone: str = "Asia/Shanghai"
    default_locale: str = "zh_Hans"
    points_per_hour: int = Field(default=10, ge=1, le=100)
    theme_post_hour: int = Field(default=9, ge=0, le=23)  # station-local hour of monthly themes and reminders
    catchup_grace_hours: int = Field(default=24, ge=1, le=24 * 31)  # older missed posts are skipped
    unclaimed_after_hours: int = Field(default=2, ge=1, le=72)  # an open request is posted again after this
    # days before a festival or civic day its reminder is posted ("7,1"); the day itself always gets one
    festival_remind_days: Annotated[tuple[int, ...], NoDecode] = (7, 1)
    station_name: str = Field(default="新时代文明实践站", min_length=1, max_length=60)  # on certificates
    # Running at scale (all optional): shared conversation state, webhook mode, a health endpoint.
    redis_url: str | None = None  # FSM state in Redis, so a conversation survives restarts and moves between processes
    redis_prefix: str = Field(default="station", min_length=1, max_length=60)  # prefix of this bot's Redis keys
    webhook_url: str | None = None  # public https URL Telegram posts updates to (`--webhook`)
    webhook_secret: str | None = None  # Telegram sends it back in a header; other requests get 403
    webhook_host: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    health_port: int | None = Field(default=None, ge=0, le=65535)  # polling mode: serve /healthz on this port

    @field_validator("redis_url", "webhook_url", "webhook_secret", "health_port", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        # Hosting providers hand out postgres://…; the bot talks to PostgreSQL through asyncpg.
        for plain in ("postgres://", "postgresql://"):
            if value.startswith(plain):
                return "postgresql+asyncpg://" + value[len(plain) :]
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: str | None) -> str | None:
        # Telegram's rule for secret_token: 1-256 characters A-Z, a-z, 0-9, _ and -.
        if value is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError("WEBHOOK_SECRET may only hold letters, digits, _ and - (at most 256)")
        return value

    # updates one process handles at the same time; the others wait their turn, in order (the database pool holds
    # this many connections and five more)
    updates_at_once: int = Field(default=10, ge=1, le=500)
    # a sending row is locked this long, renewed while it is sent: what a process that dies holds its chat up
    outbox_lease_seconds: int = Field(default=3, ge=1, le=3600)
    outbox_per_second: float = Field(default=29.0, gt=0, le=1000)  # Telegram allows about 30 messages/s
    outbox_group_per_minute: int = Field(default=20, ge=1, le=1000)  # and 20 a minute to one group
    # Limits per person, so that one person cannot flood the station (each refusal is a polite answer):
    max_open_requests: int = Field(default=3, ge=1, le=100)  # a resident's requests not yet done (帮办 orders aside)
    max_join_requests_per_day: int = Field(default=3, ge=1, le=100)  # join requests a volunteer sends a day
    max_shop_cancels_per_day: int = Field(
        default=3, ge=1, le=100
    )  # after so many cancels a day, no redeeming till tomorrow
    max_certificates_per_day: int = Field(default=3, ge=1, le=100)  # service certificates a volunteer gets a day

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: str) -> str:
        value = value.strip()
        if not TOKEN_RE.match(value):
            raise ValueError("BOT_TOKEN does not look like a token from @BotFather (digits:secret)")
        return value

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in re.split(r"[,\s]+", value.strip()) if part]
        if isinstance(value, int):
            return [value]
        return value

    @field_validator("festival_remind_days", mode="before")
    @classmethod
    def _split_days(cls, value: str | int | Iterable[int | str]) -> tuple[int, ...]:
        return remind_days(value)

    @property
    def reminder_offsets(self) -> tuple[int, ...]:
        """FESTIVAL_REMIND_DAYS plus the day itself (0), furthest first."""
        return tuple(sorted(set(self.festival_remind_days) | {0}, reverse=True))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh_Hans", "en"):
            raise ValueError("DEFAULT_LOCALE must be zh_Hans or en")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    # A volunteer may release this many taken requests himself in a rolling 24 h (each claim gave him the
    # resident's address and phone); past it, a release goes through a coordinator. 0: always through one.
    releases_per_day: int = Field(default=2, ge=0, le=100)
    # Residents' data (bot/requests/privacy.py): a closed, cancelled or rejected request's address and phone are
    # cleared this many days later; delivered outbox messages are deleted this many days after they were sent.
    contact_retention_days: int = Field(default=30, ge=1, le=3650)
    outbox_keep_days: int = Field(default=7, ge=1, le=365)
    # Running it for real (bot/core/retry.py, bot/logs.py, storage/backup.py):
    # when Telegram or the database cannot be reached at start, the bot waits RETRY_BASE_SECONDS, then twice as long
    # each time, up to RETRY_MAX_SECONDS, logging one line per attempt; the same backoff while polling
    retry_base_seconds: float = Field(default=1.0, gt=0, le=60)
    retry_max_seconds: float = Field(default=60.0, gt=0, le=3600)
    log_format: Literal["text", "json"] = "text"  # json: one JSON object a line, for log shippers
    # SQLite: a nightly backup at 03:00 station time into this folder (created 0700, files 0600); empty: none
    backup_dir: str | None = None
    backup_keep: int = Field(default=14, ge=1, le=3650)  # the newest this many nightly backups are kept

    @field_validator("backup_dir", mode="before")
    @classmethod
    def _empty_dir_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # Watching the bot (docs/deploy.md). Prometheus metrics on /metrics, served on a listener of their own only when
    # METRICS_PORT is set, on METRICS_HOST (localhost unless you open it to your Prometheus).
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    # /healthz answers 503 "stuck" when a message due to be sent has waited this many minutes while Telegram
    # answers; each of its probes (database, Redis) gets HEALTH_TIMEOUT_SECONDS before it counts as unreachable.
    outbox_stuck_minutes: int = Field(default=10, ge=1, le=24 * 60)
    health_timeout_seconds: float = Field(default=1.0, gt=0, le=30)

    @field_validator("metrics_port", mode="before")
    @classmethod
    def _empty_port_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # Regular needs (bot/requests/regular.py): each occurrence is placed this many days before its day, and offered
    # first to the volunteer who took the previous one for this many hours before its card goes to the group.
    regular_lead_days: int = Field(default=2, ge=1, le=30)
    regular_offer_hours: float = Field(default=2.0, ge=0, le=48)
    # `python -m bot sandbox` (no token, no Telegram): its chat page on 127.0.0.1 at this port (`--port` overrides)
    sandbox_port: int = Field(default=8088, ge=0, le=65535)
    # A font with Chinese glyphs for the pictures the bot draws (the /qr poster): a .ttf/.otf/.ttc file. Empty: the
    # Noto Sans CJK that the bot's dependency noto-cjk-sans-otc ships, else a system one (bot/core/fonts.py).
    font_path: str | None = None

    @field_validator("font_path", mode="before")
    @classmethod
    def _empty_font_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    # 公示 (bot/showcase/): the public channel that finished activities and services (the resident agreed) are
    # announced in, anonymised; empty: nothing is announced. The bot must be an administrator of the channel.
    # At most SHOWCASE_PER_DAY posts a station day; the rest wait for the next day.
    public_channel_id: int | None = None
    showcase_per_day: int = Field(default=3, ge=1, le=50)

    @field_validator("public_channel_id", mode="before")
    @classmethod
    def _empty_channel_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value
