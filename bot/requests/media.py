"""Voice messages and photos a resident sends instead of typing (点单's description and address steps).

Only Telegram's file ids are kept (nothing is downloaded), as JSON in `Request.media` / `RegularNeed.media`: a list
of {"step": "need" | "address" | "done", "kind": "voice" | "photo", "id": file id, "secs": a voice's length}. The
"done" step holds the volunteer's photos of the service (at most 3, with his done report). What was given
at the address step is private like the address: only the claimer and the coordinators receive it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aiogram.types import Message

NEED, ADDRESS = "need", "address"
DONE = "done"  # the volunteer's photos of the service, with his done report (结单): shown to the approving coordinators
MAX_DONE_PHOTOS = 3
VOICE, PHOTO = "voice", "photo"
MAX_ITEMS = 6  # per step: a voice message and a few photos
Item = dict[str, Any]


def loads(raw: str | None) -> list[Item]:
    return list(json.loads(raw)) if raw else []


def dumps(items: list[Item]) -> str | None:
    return json.dumps(items, ensure_ascii=False) if items else None


def of_message(message: Message, step: str) -> Item | None:
    """The voice message or photo (its largest size) a message carries, or None."""
    if message.voice is not None:
        return {"step": step, "kind": VOICE, "id": message.voice.file_id, "secs": int(message.voice.duration or 0)}
    if message.photo:
        return {"step": step, "kind": PHOTO, "id": message.photo[-1].file_id, "secs": 0}
    return None


def of_step(items: list[Item], step: str) -> list[Item]:
    return [item for item in items if item.get("step") == step]


def ordered(items: list[Item]) -> list[Item]:
    """What the resident gave when ordering (再来一单 and regular needs copy it), without the done report's photos."""
    return [item for item in items if item.get("step") != DONE]


def public(items: list[Item]) -> list[Item]:
    """What may be told about in a group: the description's media (and only ever as a line, never the file)."""
    return of_step(items, NEED)


def length(secs: int) -> str:
    return f"{secs // 60}:{secs % 60:02d}"


def label(items: list[Item]) -> str:
    """ "语音 0:12、照片 1 张": what the media are, never their content."""
    from aiogram.utils.i18n import gettext as _  # the services read the data helpers above without aiogram

    parts = [_("voice {length}").format(length=length(int(i.get("secs") or 0))) for i in items if i["kind"] == VOICE]
    photos = sum(1 for i in items if i["kind"] == PHOTO)
    if photos:
        parts.append(_("{count} photo(s)").format(count=photos))
    return str(_(", ")).join(parts)  # an enumeration: "、" in Chinese (texts.enumerate_items)


def described(description: str, items: list[Item]) -> str:
    """The need as a line shows it: the typed text, and what the description's voice and photos are."""
    from aiogram.utils.i18n import gettext as _

    told = label(of_step(items, NEED))
    if description and told:
        return _("{text}, with {media}").format(text=description, media=told)
    return description or told or "—"
