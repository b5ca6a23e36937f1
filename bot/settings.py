"""Settings from the environment and `.env` (pydantic-settings)."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from typing import Annotated

# Telegram tokens look like "123456789:AA...": a numeric bot id, a colon, 30+ url-safe chars.
TOKEN_RE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")


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
    outbox_lease_seconds: int = Field(default=30, ge=1, le=3600)  # a sending row is locked this long
    outbox_per_second: float = Field(default=29.0, gt=0, le=1000)  # Telegram allows about 30 messages/s

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
