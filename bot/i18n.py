"""Translations from the Babel .po catalogues, and the user's locale from Telegram's language."""
from __future__ import annotations

import gettext
import io
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LOCALES = ("zh_Hans", "en")


class PoI18n(I18n):
    """aiogram's I18n, reading .po files directly so no compiled .mo is kept in the repo."""

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        found: dict[str, gettext.GNUTranslations] = {}
        for po_path in sorted(self.path.glob(f"*/LC_MESSAGES/{self.domain}.po")):
            with po_path.open("rb") as fp:
                catalog = read_po(fp)
            buffer = io.BytesIO()
            write_mo(buffer, catalog)
            buffer.seek(0)
            found[po_path.parent.parent.name] = gettext.GNUTranslations(buffer)
        return found

    @contextmanager
    def context(self) -> Iterator[I18n]:
        # aiogram's gettext looks up I18n's own context variable; a subclass would get a separate one.
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


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
