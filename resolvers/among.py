"""`column IN :ids` for the keys of a batch, as each database reads it cheapest.

A loader's statement is built once with its keys as a bound parameter (resolvers/loaders.py).
As an expanding IN, SQLAlchemy renders one parameter per key into the statement on every
execution (~3 ms for 1,000 keys); PostgreSQL takes the whole list as one array parameter,
`column = ANY(:ids)`, with nothing rendered per key. SQLite has no arrays: it keeps the IN."""

from typing import Any

from sqlalchemy import Integer, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import coercions, roles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean

IDS = "ids"  # the parameter's name: execute with {"ids": [key, …]}


class AmongIds(ColumnElement[bool]):
    """`column IN :ids` (integer keys)."""

    inherit_cache = True
    type = Boolean()
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]  # noqa: RUF012 (SQLAlchemy reads it so)

    def __init__(self, column: Any) -> None:
        self.column: ColumnElement[Any] = coercions.expect(roles.ExpressionElementRole, column)


@compiles(AmongIds)
def _expanding_in(element: AmongIds, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(bindparam(IDS, expanding=True)), **kw)


@compiles(AmongIds, "postgresql")
def _any_of_array(element: AmongIds, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column == any_(bindparam(IDS, type_=ARRAY(Integer))), **kw)


def among_ids(column: Any) -> AmongIds:
    return AmongIds(column)
