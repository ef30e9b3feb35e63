"""Fewer round trips to PostgreSQL per request (issue 17).

SQLAlchemy's asyncpg adapter sends BEGIN before a connection's first statement, and its pre-ping
is three more (BEGIN, `;`, ROLLBACK) on every checkout: a read request paid five round trips
beyond its statements. Here, on PostgreSQL:

- Reads run outside a transaction until the first statement that needs one. Under READ
  COMMITTED (the service's level) each statement of a transaction sees its own snapshot, so a
  plain SELECT sees the same rows inside one or not. Anything else (a write, `SELECT … FOR
  UPDATE`, an advisory transaction lock, any statement not known to be a plain read) first
  opens the transaction, which lasts until the commit or rollback, as before. SQLite's driver
  behaves the same way already: it sends BEGIN before the first write.
- A statement executed with `SINGLE_STATEMENT` while no transaction is open commits alone
  (PostgreSQL runs it atomically, asyncpg's executemany included): the read-audit insert of a
  query is one round trip, not BEGIN, INSERT, COMMIT.
- The pre-ping: a connection whose socket the server closed (a restart, a terminated backend)
  is dropped at checkout with no round trip; one idle in the pool longer than
  PING_AFTER_IDLE_SECONDS is asked `;` first, without the transaction around it. A connection
  in use every few seconds, as under load, is not pinged.
"""

import re
import time
from typing import Any

import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

# execution_options(**SINGLE_STATEMENT): this statement may commit on its own
SINGLE_STATEMENT = {"estart_single_statement": True}
PING_AFTER_IDLE_SECONDS = 5.0
_CHECKED_IN_AT = "estart_checked_in_at"

_PLAIN_READ = re.compile(r"^\s*SELECT\b", re.IGNORECASE)
_TAKES_LOCKS = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b|advisory|set_config", re.IGNORECASE)
_needs_transaction: dict[str, bool] = {}  # by statement text: the service has a few hundred


def needs_transaction(statement: str) -> bool:
    """False only for a statement known to be a plain read."""
    known = _needs_transaction.get(statement)
    if known is None:
        known = not _PLAIN_READ.match(statement) or bool(_TAKES_LOCKS.search(statement))
        if len(_needs_transaction) < 10_000:
            _needs_transaction[statement] = known
    return known


def install(engine: AsyncEngine, pre_ping: bool) -> None:
    """On an asyncpg engine made with pool_pre_ping off: the behaviour above."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine.pool, "checkout")
    def _outside_transaction(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_at = record.info.pop(_CHECKED_IN_AT, None)
        if pre_ping:
            _ping(dbapi_connection, checked_in_at)
        dbapi_connection.autocommit = True  # the adapter sends no BEGIN until _begin_if_needed

    @event.listens_for(sync_engine.pool, "checkin")
    def _remember_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _begin_if_needed(conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        adapter = conn.connection.dbapi_connection
        if not adapter.autocommit or adapter._transaction is not None:
            return
        if context is not None and context.execution_options.get("estart_single_statement"):
            return
        if needs_transaction(statement):
            adapter.autocommit = False  # its next statement sends BEGIN first

    @event.listens_for(sync_engine, "commit")
    @event.listens_for(sync_engine, "rollback")
    def _reads_outside_again(conn: Any) -> None:
        # the adapter ends its transaction after this event; the next one begins when needed
        conn.connection.dbapi_connection.autocommit = True


def _ping(dbapi_connection: Any, checked_in_at: float | None) -> None:
    driver = dbapi_connection.driver_connection
    if driver.is_closed():
        raise sqlalchemy.exc.DisconnectionError("the server closed the connection")
    if checked_in_at is not None and time.monotonic() - checked_in_at > PING_AFTER_IDLE_SECONDS:
        try:
            await_only(driver.fetchrow(";"))
        except Exception as exc:
            raise sqlalchemy.exc.DisconnectionError(str(exc)) from exc
