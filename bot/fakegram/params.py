"""Decode Bot API request parameters the way Telegram does.

Clients send form fields (urlencoded or multipart), JSON bodies or query strings;
nested objects always arrive as JSON strings inside forms, scalars as text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import bad_request

JSON_KEYS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "reply_parameters",
        "link_preview_options",
        "allowed_updates",
        "options",
        "explanation_entities",
        "question_entities",
        "media",
        "results",
        "permissions",
        "menu_button",
        "rights",
        "message_ids",
        "reaction",
        "input_message_content",
    }
)
INT_KEYS = frozenset(
    {
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "open_period",
        "close_date",
        "max_connections",
        "until_date",
        "width",
        "height",
        "duration",
        "correct_option_id",
    }
)
# "*_id" keys that are opaque strings in the Bot API, not integers.
STR_ID_KEYS = frozenset(
    {
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "file_unique_id",
        "business_connection_id",
        "message_effect_id",
        "custom_emoji_id",
        "poll_id",
        "web_app_query_id",
        "pre_checkout_query_id",
        "shipping_query_id",
        "gift_id",
    }
)
# Free text keys must never be coerced, whatever they look like.
TEXT_KEYS = frozenset({"text", "caption", "question", "explanation", "description", "title", "url", "data"})
_INT_RE = re.compile(r"-?\d+")


@dataclass
class UploadedFile:
    filename: str
    content: bytes
    content_type: str | None = None

    def __repr__(self) -> str:  # keep call logs readable
        return f"UploadedFile({self.filename!r}, {len(self.content)} bytes)"


async def read_params(request: web.Request) -> dict[str, Any]:
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as exc:
                raise bad_request("can't parse JSON body") from exc
            if not isinstance(body, dict):
                raise bad_request("JSON body must be an object")
            raw.update(body)
        else:
            for key, field in (await request.post()).items():
                value: Any = field
                if isinstance(field, web.FileField):
                    value = UploadedFile(field.filename, field.file.read(), field.content_type)
                raw[key] = value
    return {key: coerce(key, value) for key, value in raw.items()}


def coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str) or key in TEXT_KEYS:
        return value
    if key in JSON_KEYS:
        try:
            return json.loads(value)
        except ValueError as exc:
            what = "reply keyboard markup" if key == "reply_markup" else key
            raise bad_request(f"can't parse {what} JSON object") from exc
    is_int_key = key in INT_KEYS or (key.endswith("_id") and key not in STR_ID_KEYS)
    if is_int_key and _INT_RE.fullmatch(value):
        return int(value)
    if value in ("true", "false") and key not in STR_ID_KEYS:
        return value == "true"
    return value
