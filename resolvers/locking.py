"""Writes that replace a value take the record's write lock before they read what they replace,
so concurrent writers queue instead of overwriting each other (a lost update), and the history
records the value each write really replaced.

PostgreSQL locks the row (`UPDATE`, `SELECT … FOR UPDATE`). SQLite locks the whole database
for writing, and its driver opens a transaction only at the first write: so a write statement
comes first, and every read after it in the transaction sees the latest commit."""

from typing import TypeVar

from sqlalchemy import inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from errors import Conflict, NotFound
from models import Family
from models.base import Base

M = TypeVar("M", bound=Base)


async def bump_version(session: AsyncSession, family_id: int, expected: int | None) -> None:
    """Compare (when `expected` is given) and increment the family's version in one statement,
    which also takes the family's write lock until commit. CONFLICT if `expected` is stale."""
    statement = update(Family).where(Family.id == family_id)
    if expected is not None:
        statement = statement.where(Family.version == expected)
    result = await session.execute(
        statement.values(version=Family.version + 1).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"The family was changed since version {expected}; reload it", field="expectedVersion")


async def locked(session: AsyncSession, model: type[M], key: int) -> M:
    """The row `key` of `model` read again under its write lock, held until commit."""
    key_column = inspect(model).primary_key[0]
    if (await session.connection()).dialect.name == "sqlite":
        # A write that changes nothing: it takes SQLite's write lock.
        await session.execute(
            update(model)
            .where(key_column == key)
            .values({key_column: key_column})
            .execution_options(synchronize_session=False)
        )
    statement = select(model).where(key_column == key).with_for_update()
    row = await session.scalar(statement.execution_options(populate_existing=True))
    if row is None:  # rows that are locked are never deleted; fail closed all the same
        raise NotFound()
    return row
