"""Writes that replace a value take the record's write lock before they read what they replace,
so concurrent writers queue instead of overwriting each other (a lost update), and the history
records the value each write really replaced.

PostgreSQL locks the row (`UPDATE`, `SELECT … FOR UPDATE`). SQLite locks the whole database
for writing, and its driver opens a transaction only at the first write: so a write statement
comes first, and every read after it in the transaction sees the latest commit."""

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from errors import Conflict
from models import Family


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


async def locked(session: AsyncSession, model: Any, key: int) -> Any:
    """The row `key` of `model` read again under its write lock, held until commit (None if gone)."""
    if (await session.connection()).dialect.name == "sqlite":
        # A write that changes nothing: it takes SQLite's write lock.
        await session.execute(
            update(model).where(model.id == key).values(id=model.id).execution_options(synchronize_session=False)
        )
    statement = select(model).where(model.id == key).with_for_update()
    return await session.scalar(statement.execution_options(populate_existing=True))
