"""Alembic environment: async engines (aiosqlite, asyncpg), batch mode on SQLite.

`models.migrate.upgrade()` is the usual entry point; it runs in a thread with no event loop
(CLI, server start-up, sync pytest fixtures), so the migrations run under `asyncio.run`.
A caller may instead pass a sync `Connection` in `config.attributes["connection"]`.
"""

import asyncio
import sys
import threading
from pathlib import Path
from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import async_engine_from_config

# `alembic -c ...` run from anywhere must still find the `models` package.
PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
if PROJECT_ROOT not in sys.path:
    sys.path.insert(0, PROJECT_ROOT)

import models  # noqa: E402

config = context.config
target_metadata = models.Base.metadata


def _configure_kwargs(dialect_name: str) -> dict[str, Any]:
    return {
        "target_metadata": target_metadata,
        "render_as_batch": dialect_name == "sqlite",
        # Types are compared by their compiled DDL, so UtcDateTime matches the
        # DateTime(timezone=True) the migrations create; no custom hook is needed.
        "compare_type": True,
    }


def run_migrations_offline() -> None:
    """Emit SQL to stdout (`alembic upgrade head --sql`); no DBAPI is needed."""
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set in the Alembic config")
    context.configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **_configure_kwargs(make_url(url).get_backend_name()),
    )
    with context.begin_transaction():
        context.run_migrations()


def do_run_migrations(connection: Connection) -> None:
    context.configure(connection=connection, **_configure_kwargs(connection.dialect.name))
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    section = config.get_section(config.config_ini_section, {})
    if not section.get("sqlalchemy.url"):
        raise RuntimeError("sqlalchemy.url is not set in the Alembic config")
    engine = async_engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
    finally:
        await engine.dispose()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_async_migrations())  # the supported case: no loop in this thread
        return
    # Called from inside a running loop (e.g. an async test): asyncio.run would refuse, and
    # blocking this loop on itself would deadlock, so run on a private loop in a worker thread.
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            asyncio.run(run_async_migrations())
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=worker, name="alembic-migrations")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
