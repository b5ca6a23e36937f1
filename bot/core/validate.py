"""Checks of what people type: lengths, phone numbers, hours."""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Literal, overload

from bot.core.errors import DomainError

# What a spreadsheet may take as the start of a formula (OWASP's list: = + - @, tab and carriage return): a text that
# starts so is written as text (bot/reports/xlsx.py) or quoted (a CSV export).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

PHONE_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
PHONE_CN_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")
PHONE_INTL = re.compile(r"^\+\d{7,15}$")
# Control characters other than tab and newline: never meant, and PostgreSQL refuses NUL in text.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
KEY = re.compile(r"^[A-Za-z0-9-]{1,32}$")  # request and activity numbers, pick-up codes

LIMITS = {
    "description": 500,
    "area": 64,
    "address": 128,
    "name": 32,
    "team": 40,
    "reason": 300,
    "comment": 500,
    "service": 40,
    "node": 60,
}
NAME_FIELDS = ("name", "team", "node")  # names other people see: cleaned by clean_name
MAX_MINUTES = 12 * 60
HOURS_CEILING = 10_000  # typed hours beyond this are clamped: every caller rejects them as out of range
MAX_ID = 2**31 - 1  # row ids (Integer keys: int32 on PostgreSQL)
MAX_BIG_ID = 2**63 - 1  # Telegram's user and chat ids (BigInteger)


def fits_id(value: int, big: bool = False) -> bool:
    """Whether a number typed or carried in callback data can be an id at all (`big`: a Telegram user's);
    bigger ones would overflow the database driver instead of simply not being found."""
    limit = MAX_BIG_ID if big else MAX_ID
    return -limit - 1 <= value <= limit


def command_id(args: str | None, usage: str) -> int:
    """The arguments of '/x_on ID', '/x_off ID': one number and nothing else."""
    return _id_args(args, usage, value=False)[0]


def command_id_value(args: str | None, usage: str) -> tuple[int, str]:
    """The arguments of '/x ID VALUE': a number, then the rest of the line (which the caller reads)."""
    return _id_args(args, usage, value=True)


def _id_args(args: str | None, usage: str, *, value: bool) -> tuple[int, str]:
    """One parser for the 'command ID [value]' families; anything else is answered with the command's usage."""
    parts = (args or "").split(maxsplit=1)
    if len(parts) != (2 if value else 1) or not parts[0].isdecimal():
        raise DomainError("usage", usage=usage)
    return int(parts[0]), parts[1] if value else ""


def clean_name(value: str | None) -> str:
    """A name as others will see it: without bidi controls, zero-width and other format characters (Unicode
    category Cf, e.g. U+202E, U+200B, U+2066), lone surrogates, control characters and line breaks; runs of
    spaces become one. A name cannot reverse the text around it, hide in a blank, or break a line."""
    value = value or ""
    if value.isprintable() and value == value.strip() and "  " not in value:
        return value  # the usual name, checked at every update: nothing to drop (Cc, Cf, Cs, Zl, Zp are not printable)
    kept = []
    for char in value:
        category = unicodedata.category(char)
        if category in ("Cf", "Cs"):
            continue
        kept.append(" " if category in ("Cc", "Zl", "Zp") else char)
    return " ".join("".join(kept).split())


@overload
def text(value: str | None, field: str, *, required: Literal[True] = True) -> str: ...
@overload
def text(value: str | None, field: str, *, required: bool) -> str | None: ...
def text(value: str | None, field: str, *, required: bool = True) -> str | None:
    value = clean_name(value) if field in NAME_FIELDS else CONTROL.sub("", value or "").strip()
    if not value:
        if required:
            raise DomainError("empty", field=field)
        return None
    if len(value) > LIMITS[field]:
        raise DomainError("too_long", field=field, limit=LIMITS[field], length=len(value))
    return value


def key(value: str | None) -> str | None:
    """A number or code typed to look something up ("#2026-0001", "ab12cd"): None when it cannot be one,
    so that no query runs on arbitrary text."""
    value = (value or "").strip().lstrip("#")
    return value if KEY.match(value) else None


def phone(value: str | None) -> str:
    """Mainland mobile (1xxxxxxxxxx, with or without +86), landline with area code, or +international."""
    raw = re.sub(r"[\s\-()（）]", "", value or "")
    if raw.startswith("+86"):
        raw = raw[3:]
    elif raw.startswith("0086"):
        raw = raw[4:]
    if PHONE_CN_MOBILE.match(raw) or PHONE_CN_LANDLINE.match(raw) or PHONE_INTL.match(raw):
        return raw
    raise DomainError("bad_phone")


def hours_to_minutes(value: str | None) -> int:
    """'1.5', '2', '1,5', '1.5小时', '2h' → minutes; in steps of half an hour."""
    raw = (value or "").strip().lower().replace(",", ".")
    raw = re.sub(r"(小时|个小时|hours?|hrs?|h)$", "", raw).strip()
    try:
        hours = float(raw)
    except ValueError:
        raise DomainError("bad_hours") from None
    if not math.isfinite(hours) or hours <= 0:  # NaN, infinite or not positive
        raise DomainError("bad_hours")
    minutes = round(min(hours, HOURS_CEILING) * 60)  # "1e307" must not overflow
    if minutes % 30:
        raise DomainError("hours_step")
    return minutes
