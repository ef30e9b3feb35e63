"""Counting, not timing: SQL statements per request and Casbin enforce calls per request.

Statements: SQLAlchemy's `before_cursor_execute` on every engine the bench watches, but for the
login session's once-a-minute last-seen write.
Enforce calls: every `CoreEnforcer.enforce`/`enforce_ex`/`batch_enforce` in this process
(outermost call only), so no enforcer the app builds escapes the count.
"""

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import casbin.core_enforcer
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

_MARK = "_bench_counted"
# The login session's last-seen time is written at most once a minute per token
# (auth/sessions.py LAST_SEEN_RESOLUTION): bookkeeping of the clock, not work of the request,
# so it is left out of the counts (a replay of several pages would otherwise count it or not by
# how long it took).
LAST_SEEN = "UPDATE sessions SET last_seen_at"


@dataclass
class Count:
    """What one `Counters.measure()` block did."""

    statements: int = 0
    enforce: int = 0
    recorded: list[str] = field(default_factory=list)  # the statements, shortened


class Counters:
    def __init__(self) -> None:
        self.statements = 0
        self.enforce = 0
        self._recorded: list[str] | None = None
        self._depth = 0
        self._install_casbin()

    def _install_casbin(self) -> None:
        core = casbin.core_enforcer.CoreEnforcer
        if getattr(core, _MARK, False):
            return

        def counted(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if self._depth == 0:
                    self.enforce += 1
                self._depth += 1
                try:
                    return original(*args, **kwargs)
                finally:
                    self._depth -= 1

            return wrapper

        for name in ("enforce", "enforce_ex", "batch_enforce"):
            if hasattr(core, name):
                setattr(core, name, counted(getattr(core, name)))
        setattr(core, _MARK, True)

    def watch(self, engine: AsyncEngine) -> None:
        def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.startswith(LAST_SEEN):
                return
            self.statements += 1
            if self._recorded is not None:
                self._recorded.append(" ".join(statement.split())[:90])

        event.listen(engine.sync_engine, "before_cursor_execute", count)

    @contextlib.contextmanager
    def measure(self) -> Iterator[Count]:
        """Counts of the block, filled in when it ends."""
        out = Count()
        statements, enforce = self.statements, self.enforce
        self._recorded = out.recorded
        try:
            yield out
        finally:
            self._recorded = None
            out.statements = self.statements - statements
            out.enforce = self.enforce - enforce


_COUNTERS: list[Counters] = []


def counters() -> Counters:
    """The process's one set of counters (Casbin is patched once)."""
    if not _COUNTERS:
        _COUNTERS.append(Counters())
    return _COUNTERS[0]
