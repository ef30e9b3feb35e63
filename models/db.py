"""Engine and session factory; SQLite gets foreign keys switched on, as PostgreSQL has them."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def make_engine(url: str, statement_timeout_ms: int | None = None, **kwargs: Any) -> AsyncEngine:
    """`statement_timeout_ms`: PostgreSQL cancels any statement of this engine running longer."""
    if statement_timeout_ms is not None and url.startswith("postgresql+asyncpg"):
        server_settings = {"statement_timeout": str(statement_timeout_ms)}
        kwargs["connect_args"] = {**kwargs.get("connect_args", {}), "server_settings": server_settings}
    engine = create_async_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()
            # SQLite's lower() folds ASCII only; case-insensitive search must treat "É" as
            # PostgreSQL does, so lower() is Python's str.lower on this connection.
            dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
