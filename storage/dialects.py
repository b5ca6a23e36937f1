"""The SQL that differs between SQLite and PostgreSQL: INSERT ... ON CONFLICT, written once for both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.models import Base

# Where the statement will run: a session, an engine, or a dialect's name ("sqlite", "postgresql").
Target = AsyncSession | AsyncEngine | str
Insert = postgresql.Insert | sqlite.Insert


def dialect_name(target: Target) -> str:
    if isinstance(target, str):
        return target
    if isinstance(target, AsyncSession):
        return target.get_bind().dialect.name
    return target.dialect.name


def insert(target: Target, model: type[Base]) -> Insert:
    """An INSERT in the target's dialect, which has .on_conflict_do_nothing() and .on_conflict_do_update()."""
    name = dialect_name(target)
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"INSERT ... ON CONFLICT is not implemented for {name}")


def insert_ignore(target: Target, model: type[Base], *, index_elements: Sequence[Any] | None = None) -> Insert:
    """INSERT ... ON CONFLICT [(index_elements)] DO NOTHING: a row whose key is already there is left out, without
    an error; with .returning(), only the rows this statement inserted come back."""
    return insert(target, model).on_conflict_do_nothing(index_elements=index_elements)
