"""End-to-end tests: the real bot against the fake Bot API (tests/fakegram)."""

from tests.chat import world  # noqa: F401  (the station of tests/chat.py; a module's own `world` overrides it)
