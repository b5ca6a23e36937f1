"""Domain errors carry a code; handlers turn the code into text in the user's language."""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, code: str, **params: object):
        super().__init__(code)
        self.code = code
        self.params = params
