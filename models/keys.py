"""`column IN (keys)` for statements built once and run with many lists of keys.

SQLAlchemy renders an expanding IN anew at every execution (a parameter per key) and each
length of list is another statement for PostgreSQL to prepare. On PostgreSQL `in_keys` is
`column = ANY($1)` with the keys as one array parameter: one statement text, rendered once,
prepared once per connection. Elsewhere (SQLite) it is the expanding IN."""

from typing import Any

from sqlalchemy import ARRAY, BindParameter, ColumnElement, any_, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import Boolean


class InKeys(ColumnElement[bool]):
    __visit_name__ = "in_keys"
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's own declaration: a plain list)
        ("column", InternalTraversal.dp_clauseelement),
        ("keys", InternalTraversal.dp_clauseelement),
    ]
    type = Boolean()

    def __init__(self, column: ColumnElement[Any], keys: BindParameter[Any]) -> None:
        self.column = column
        self.keys = keys


def in_keys(column: Any, name: str) -> InKeys:
    """`column` is one of the keys the statement is given as `name` (a list)."""
    return InKeys(column, bindparam(name, type_=ARRAY(column.type)))


@compiles(InKeys)
def _expanding(element: InKeys, compiler: SQLCompiler, **kw: Any) -> str:
    keys = bindparam(element.keys.key, expanding=True, type_=element.column.type)
    return compiler.process(element.column.in_(keys), **kw)


@compiles(InKeys, "postgresql")
def _any(element: InKeys, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column == any_(element.keys), **kw)
