"""Engine and session factory; SQLite gets foreign keys switched on, as PostgreSQL has them.

How the service meets a database that fails (issue 18):
- SQL parameters never reach a log (`hide_parameters`): they carry note text and password hashes;
  nor do the values PostgreSQL quotes in its error details (`loggable`).
- A pooled connection is tested before use (`pool_pre_ping`; on PostgreSQL models/round_trips.py,
  which also keeps reads out of transactions), so a database restart costs no request;
  connecting, one command and the wait for a pooled connection are bounded.
- SQLite writers are serialised in the process by one lock, taken at a transaction's first
  write and released at its end; a writer that waits too long gets `DatabaseUnavailable`.
- A SQLite file that was deleted or replaced under the server fails closed: its connections are
  dropped before use, and a commit on one is refused, so no write is acknowledged and lost.
- A request's session runs one operation at a time (`SerialSession`): a query's root fields and
  its data loaders resolve concurrently on it, and an AsyncSession allows one operation at once.
- `unavailable(exc)` says whether a failure means "the database did not answer or a lock wait
  ran out" (UNAVAILABLE, retryable, nothing written) rather than a fault of the service.
"""

import asyncio
import functools
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only

from config import AppConfig
from models import round_trips


class DatabaseUnavailable(Exception):
    """The database cannot be used now (its file is gone, a write lock wait ran out)."""


class CommitUncertain(DatabaseUnavailable):
    """The connection failed during COMMIT: the database may or may not have applied it."""


# PostgreSQL SQLSTATE classes and codes that mean the database is not (fully) there, or a wait
# ran out, and the transaction did not commit: 08 connection, 53 resources, 57P0x shutdown or
# start-up, 58 system (I/O), 25006 read-only transaction, 55P03 lock not available, 40001/40P01
# serialisation failure and deadlock.
UNAVAILABLE_SQLSTATE = re.compile(r"^(08|53|57P0|58|25006|55P03|40001|40P01)")
# SQLite's messages for the same situations.
UNAVAILABLE_SQLITE = (
    "database is locked",
    "database table is locked",
    "readonly database",
    "disk i/o error",
    "unable to open database file",
    "database or disk is full",
)
WRITE = re.compile(r"^\s*(insert|update|delete|replace|begin\s+(immediate|exclusive))\b", re.IGNORECASE)
HOLDS_WRITE_LOCK = "estart_holds_write_lock"
FILE_IDENTITY = "estart_file_identity"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen or len(seen) > 10:
            continue
        seen.add(id(current))
        yield current
        todo.extend([getattr(current, "orig", None), current.__cause__, current.__context__])


def unavailable(exc: BaseException) -> bool:
    """True when `exc` means the database did not answer, refused writes, or a lock wait ran
    out: the transaction did not commit and the request may be retried."""
    for cause in _causes(exc):
        if isinstance(cause, DatabaseUnavailable | sqlalchemy.exc.DisconnectionError):
            return True
        if isinstance(cause, sqlalchemy.exc.TimeoutError):  # no pooled connection came free
            return True
        if isinstance(cause, sqlalchemy.exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, OSError | TimeoutError):  # refused, reset, timed out (connect, command)
            return True
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if isinstance(sqlstate, str) and UNAVAILABLE_SQLSTATE.match(sqlstate):
            return True
        if type(cause).__module__.startswith(("sqlite3", "aiosqlite")):
            if any(text in str(cause).lower() for text in UNAVAILABLE_SQLITE):
                return True
        if type(cause).__module__.startswith("asyncpg") and "connection" in type(cause).__name__.lower():
            return True  # asyncpg's ConnectionDoesNotExistError and kin carry no SQLSTATE
    return False


def loggable(exc: BaseException) -> BaseException:
    """`exc` made fit for `exc_info`: without the exceptions chained under it. The driver's own
    exception, which SQLAlchemy's wraps, quotes stored values (PostgreSQL's DETAIL: "Key
    (username)=(...) already exists", "Failing row contains (...)"); SQLAlchemy's message names
    the statement only, its parameters hidden."""
    exc.__cause__ = None
    exc.__suppress_context__ = True
    return exc


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def make_engine(
    url: str, statement_timeout_ms: int | None = None, config: AppConfig | None = None, **kwargs: Any
) -> AsyncEngine:
    """`statement_timeout_ms`: PostgreSQL cancels any statement of this engine running longer.
    `config`: the service's connection settings (timeouts, pool); without it, the defaults."""
    settings = config or AppConfig()
    kwargs.setdefault("hide_parameters", True)
    pre_ping = kwargs.pop("pool_pre_ping", settings.db_pool_pre_ping)
    asyncpg = url.startswith("postgresql+asyncpg")
    if asyncpg:
        connect_args = {
            "timeout": settings.db_connect_timeout_seconds,
            "command_timeout": settings.db_command_timeout_seconds,
            **kwargs.get("connect_args", {}),
        }
        if statement_timeout_ms is not None:
            connect_args["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
        kwargs["connect_args"] = connect_args
        if kwargs.get("poolclass") is None:
            kwargs.setdefault("pool_size", settings.db_pool_size)
            kwargs.setdefault("pool_timeout", settings.db_pool_timeout_seconds)
    # asyncpg: round_trips pings without the adapter's transaction around it, and less often
    engine = create_async_engine(url, pool_pre_ping=pre_ping and not asyncpg, **kwargs)
    if asyncpg:
        round_trips.install(engine, pre_ping)

    @event.listens_for(engine.sync_engine.pool, "reset")
    def _end_abandoned_transaction(dbapi_connection: Any, _record: Any, state: Any) -> None:
        # SQLAlchemy skips the rollback on return to the pool once a commit was attempted; a
        # commit that failed before reaching the database (a refused event, a lost file) left the
        # transaction open, and the next request on this connection would commit it.
        if state.transaction_was_reset and state.asyncio_safe and _transaction_open(dbapi_connection):
            dbapi_connection.rollback()

    if engine.dialect.name == "sqlite":
        _sqlite(engine, settings)
    return engine


def _transaction_open(dbapi_connection: Any) -> bool:
    if getattr(dbapi_connection, "_transaction", None) is not None:  # SQLAlchemy's asyncpg adapter
        return True
    return bool(getattr(getattr(dbapi_connection, "_connection", None), "in_transaction", False))  # aiosqlite


def _sqlite(engine: AsyncEngine, settings: AppConfig) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.db_sqlite_write_wait_seconds * 1000)}")
        cursor.close()
        # SQLite's lower() folds ASCII only; case-insensitive search must treat "É" as
        # PostgreSQL does, so lower() is Python's str.lower on this connection.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        if path is not None:
            record.info[FILE_IDENTITY] = _identity(path)
            used.append(path)

    path = _database_file(engine)
    used: list[str] = []  # this engine has opened its file: from now on it must not vanish
    lock = WriteLock(settings.db_sqlite_write_wait_seconds)

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _serialise_writers(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not conn.info.get(HOLDS_WRITE_LOCK) and WRITE.match(statement):
            lock.acquire()
            conn.info[HOLDS_WRITE_LOCK] = True

    def _release(info: dict[str, Any]) -> None:
        if info.pop(HOLDS_WRITE_LOCK, False):
            lock.release()

    @event.listens_for(engine.sync_engine, "commit")
    def _commit(conn: Any) -> None:
        try:
            if path is not None and conn.info.get(HOLDS_WRITE_LOCK):
                _check_file(path, conn.info)  # a write to a deleted file would be lost: refuse it
        finally:
            _release(conn.info)

    @event.listens_for(engine.sync_engine, "rollback")
    def _rollback(conn: Any) -> None:
        _release(conn.info)

    @event.listens_for(engine.sync_engine.pool, "checkin")
    def _checkin(_dbapi: Any, record: Any) -> None:
        if record is not None:
            _release(record.info)

    @event.listens_for(engine.sync_engine.pool, "reset")
    def _reset(_dbapi: Any, record: Any, _state: Any) -> None:
        _release(record.info)

    @event.listens_for(engine.sync_engine.pool, "invalidate")
    def _invalidate(_dbapi: Any, record: Any, _exc: Any) -> None:
        _release(record.info)

    if path is not None:

        @event.listens_for(engine.sync_engine, "do_connect")
        def _refuse_missing(*_: Any) -> None:
            if used and not os.path.exists(path):  # SQLite would create an empty database in its place
                raise DatabaseUnavailable("the database file is missing")

        @event.listens_for(engine.sync_engine.pool, "checkout")
        def _same_file(_dbapi: Any, record: Any, _proxy: Any) -> None:
            try:
                _check_file(path, record.info)
            except DatabaseUnavailable as exc:
                raise sqlalchemy.exc.DisconnectionError(str(exc)) from exc  # the pool reconnects


def _database_file(engine: AsyncEngine) -> str | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _check_file(path: str, info: dict[str, Any]) -> None:
    identity = _identity(path)
    if identity is None or identity != info.get(FILE_IDENTITY):
        raise DatabaseUnavailable("the database file was deleted or replaced")


class WriteLock:
    """One writer at a time in this process. Called from SQLAlchemy's synchronous events, which
    run in the request's event loop: the wait is awaited through SQLAlchemy's greenlet bridge."""

    def __init__(self, wait_seconds: float) -> None:
        self.wait_seconds = wait_seconds
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    def acquire(self) -> None:
        try:
            await_only(asyncio.wait_for(self._current().acquire(), self.wait_seconds))
        except TimeoutError as exc:
            raise DatabaseUnavailable("waited too long for the database's write lock") from exc

    def release(self) -> None:
        if self._lock is not None and self._lock.locked():
            self._lock.release()


class SerialSession(AsyncSession):
    """An AsyncSession that takes its operations in turn. graphql-core resolves a query's root
    fields concurrently, and data loaders dispatch in tasks of their own; all of them read through
    the request's one session, which allows one operation at a time ("This session is provisioning
    a new connection; concurrent operations are not permitted"). The turn is the task's until its
    operation ends, and the task holding it may go on using the session (`scalars` calls
    `execute`), so whoever reads here, directly or through resolvers/reader.py, waits its turn."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._turn = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        task = asyncio.current_task()
        if self._holder is task:
            yield
            return
        async with self._turn:
            self._holder = task
            try:
                yield
            finally:
                self._holder = None


def _in_turn(method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @functools.wraps(method)
    async def in_turn(self: SerialSession, *args: Any, **kwargs: Any) -> Any:
        async with self.turn():
            return await method(self, *args, **kwargs)

    return in_turn


# Every operation that reaches the database or changes what the session holds there. (`stream`
# is left out: its result is read after the call returns; nothing here streams.)
for _name in (
    "execute", "scalar", "scalars", "get", "get_one", "refresh", "merge", "delete", "flush",
    "connection", "run_sync", "commit", "rollback", "close",
):  # fmt: skip
    setattr(SerialSession, _name, _in_turn(getattr(AsyncSession, _name)))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[SerialSession]:
    return async_sessionmaker(engine, class_=SerialSession, expire_on_commit=False)
