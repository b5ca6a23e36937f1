"""The SQL that differs between SQLite and PostgreSQL: INSERT ... ON CONFLICT, written once for both."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from storage.models import Base, Counter

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


async def next_counter(s: AsyncSession, name: str) -> int:
    """The next value of a named counter (1 the first time): one upsert, so two processes numbering at once (the
    year's first request, activity or task order) each get their own."""
    result = await s.execute(
        insert(s, Counter)
        .values(name=name, value=1)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )
    return int(result.scalar_one())


async def move_status(s: AsyncSession, row: Any, expect: Sequence[str], **values: Any) -> bool:
    """A state change as one conditional UPDATE: `row` (a mapped object with `id` and `status`) leaves one of the
    `expect` states with `values`, unless something else moved it first (of two at once, one passes). The object is
    refreshed either way; returns whether this update moved it."""
    model = type(row)
    result = await s.execute(
        update(model)
        .where(model.id == row.id, model.status.in_(expect))
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    )
    moved = result.scalar() is not None
    await s.refresh(row)
    return moved
