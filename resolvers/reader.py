"""Reads on one request's session, in its turn (models/db.py `SerialSession`)."""

import weakref
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import CompoundSelect, Executable, Row, Select

from models.db import SerialSession

T = TypeVar("T")

# Statements of columns only, by statement: executed on the session's connection, as Core, which
# skips the ORM's statement and result set-up (~70 µs a statement). A statement selecting whole
# entities needs the ORM to build them.
_columns_only: "weakref.WeakKeyDictionary[Executable, bool]" = weakref.WeakKeyDictionary()


def columns_only(statement: Executable) -> bool:
    known = _columns_only.get(statement)
    if known is None:
        if isinstance(statement, CompoundSelect):
            known = all(isinstance(select, Executable) and columns_only(select) for select in statement.selects)
        else:
            known = isinstance(statement, Select) and not any(
                column.get("entity") is not None and column["expr"] is column["entity"]
                for column in statement.column_descriptions
            )
        _columns_only[statement] = known
    return known


class Reader:
    """A query's reads: rows of a statement, the columns-only ones as Core on the session's
    connection, each in the session's turn (graphql-core resolves a query's root fields, and data
    loaders dispatch, concurrently)."""

    def __init__(self, session: SerialSession) -> None:
        self.session = session

    async def rows(self, statement: Executable, params: Mapping[str, Any] | None = None) -> Sequence[Row[Any]]:
        async with self.session.turn():
            session = self.session
            if not columns_only(statement):
                return (await session.execute(statement, params)).all()
            if session.new or session.dirty or session.deleted:
                await session.flush()  # as session.execute would: a resolver's writes are read back
            connection = await session.connection()
            return (await connection.execute(statement, params)).all()

    async def get(self, model: type[T], key: int) -> T | None:
        return await self.session.get(model, key)
