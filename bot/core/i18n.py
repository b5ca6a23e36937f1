"""Translations from the Babel .po catalogues, and the user's locale from Telegram's language."""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LOCALES = ("zh_Hans", "en")


class PoI18n(I18n):
    """aiogram's I18n, reading .po files directly so no compiled .mo is kept in the repo.

    A locale's catalogue is the union of every .po file in its LC_MESSAGES folder: `messages.po`
    plus one file per feature added later (`shop.po`, `activities.po`, ...), so features can be
    translated without touching one shared file.
    """

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        found: dict[str, gettext.GNUTranslations] = {}
        for folder in sorted(p for p in self.path.iterdir() if (p / "LC_MESSAGES").is_dir()):
            catalog = read_catalog(folder.name, self.path)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            found[folder.name] = gettext.GNUTranslations(buffer)
        return found

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's gettext looks up I18n's own context variable; a subclass would get a separate one.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def read_catalog(locale: str, root: Path = LOCALES_DIR) -> Catalog:
    """All .po files of a locale merged; `messages.po` first, the feature files after it."""
    files = sorted((root / locale / "LC_MESSAGES").glob("*.po"), key=lambda p: (p.stem != "messages", p.name))
    merged: Catalog | None = None
    for po_path in files:
        with po_path.open("rb") as fp:
            catalog = read_po(fp)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if message.id:
                merged[message.id] = message
    return merged if merged is not None else Catalog(locale=locale)


def make_i18n(default_locale: str = "zh_Hans") -> PoI18n:
    return PoI18n(path=LOCALES_DIR, default_locale=default_locale, domain="messages")


def pick_locale(language_code: str | None, default: str) -> str:
    """English speakers get English; Chinese (zh, zh-hans, zh-CN, ...) and everyone else the default."""
    code = (language_code or "").lower()
    if code.startswith("en"):
        return "en"
    if code.startswith("zh"):
        return "zh_Hans"
    return default
