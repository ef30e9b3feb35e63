"""The differential oracle of compiled execution (issue 17): under ESTART_EXECUTION=oracle, the
test suite's default (tests/conftest.py), every query a plan covers runs twice in its request,
first by its plan (schema/compiled.py: the answer the client gets) and then by graphql-core
and Strawberry as they run without plans, and the two must agree exactly: the data with its
key order, the errors (message, path, locations, extensions, the exception behind each), the
denials in their order (the FORBIDDEN errors made after execution) and the read-audit events.

The second run is the shadow of the first: it gets fresh data loaders, so both start cold
and interleave their awaits alike; a denial list and read-audit list of its own, put back
afterwards, so the request writes and answers only the first run's; and its statements are
not counted by the tests' statement counter (`in_shadow`). A mismatch fails the test that
made the request (tests/conftest.py); the run ends with the counts (`summary`)."""

import logging
from collections import Counter
from collections.abc import Awaitable
from contextvars import ContextVar
from copy import copy
from datetime import datetime, timedelta
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError
from graphql.execution.executor import CollectedErrors
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from authz.guard import Denials
from resolvers.loaders import Loaders
from schema.compiled import EXECUTORS, CompiledExecutor, Plan, executions, planned

ORACLE = "oracle"
MISMATCH = "compiled execution differs from graphql-core:"
logger = logging.getLogger("estart.oracle")
_shadow: ContextVar[bool] = ContextVar("estart_oracle_shadow", default=False)
compared = 0  # operations run both ways (schema.compiled.executions counts the rest)
# Off during a test marked concurrent_writes: its requests race other connections' writes, so
# a second run may read rows the first did not; its queries run compiled alone, counted here.
comparing = True
uncompared = 0
mismatches: list[str] = []


def in_shadow() -> bool:
    """Whether the code running is the oracle's second, standard run of a request."""
    return _shadow.get()


def _error(error: GraphQLError) -> tuple[Any, ...]:
    original = error.original_error
    return (
        error.message,
        error.path,
        [tuple(location) for location in error.locations or ()],
        error.extensions,
        type(original).__name__,
        str(original) if original is not None else None,
    )


def _json(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError:
        return repr(value).encode()


CLOCK_SKEW = timedelta(seconds=5)


def _same(compiled: Any, standard: Any) -> bool:
    """Equal, key order included, but for the time a resolver reads as "now" (a report's
    generatedAt): the second run reads the clock later, so two timestamps within CLOCK_SKEW of
    each other at the same place count as the same."""
    if isinstance(compiled, dict) and isinstance(standard, dict):
        return list(compiled) == list(standard) and all(_same(compiled[k], standard[k]) for k in compiled)
    if isinstance(compiled, list) and isinstance(standard, list):
        return len(compiled) == len(standard) and all(map(_same, compiled, standard))
    if compiled == standard and type(compiled) is type(standard):
        return True
    if isinstance(compiled, str) and isinstance(standard, str):
        try:
            return abs(datetime.fromisoformat(compiled) - datetime.fromisoformat(standard)) <= CLOCK_SKEW
        except (TypeError, ValueError):
            return False
    return False


def _reads(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The read audit's events, without their times, in an order of their own: root fields
    resolve concurrently, so their events are written in whatever order they finish."""
    return sorted(({name: value for name, value in event.items() if name != "at"} for event in events), key=repr)


async def _awaited(value: Any) -> Any:
    return await value if isinstance(value, Awaitable) else value


class OracleExecutor(CompiledExecutor):
    def execute_operation(self, serially: bool | None = None) -> Any:
        global uncompared
        plan = planned(self) if serially is None else None
        if plan is None:
            return StrawberryGraphQLCoreExecutionContext.execute_operation(self, serially)
        if not comparing:
            uncompared += 1
            return self.run_plan(plan)
        return self._both(plan)

    async def _both(self, plan: Plan) -> Any:
        context = self.context_value
        audit = context.audit
        denials, loaders = context.denials, context.loaders
        reads_before, seen_before, denied_before = (
            list(audit.pending_reads),
            set(audit.reads_seen),
            list(denials.entries),
        )
        compiled: ExecutionResult = await _awaited(self.run_plan(plan))
        compiled_denials, compiled_reads = list(denials.entries), list(audit.pending_reads)
        pending_reads, reads_seen = audit.pending_reads, audit.reads_seen
        twin = copy(self)
        twin.collected_errors = CollectedErrors()
        twin._relevant_sub_fields = {}
        context.denials, context.loaders = Denials(denied_before), Loaders(context.reader)
        audit.pending_reads, audit.reads_seen = reads_before, seen_before
        token = _shadow.set(True)
        try:
            standard: ExecutionResult = await _awaited(StrawberryGraphQLCoreExecutionContext.execute_operation(twin))
        except Exception as error:
            standard = ExecutionResult(None, [GraphQLError(f"standard run raised {error!r}")])
        finally:
            _shadow.reset(token)
            standard_denials, standard_reads = list(context.denials.entries), list(audit.pending_reads)
            context.denials, context.loaders = denials, loaders
            audit.pending_reads, audit.reads_seen = pending_reads, reads_seen
        global compared
        compared += 1
        self._compare(compiled, standard, compiled_denials, standard_denials, compiled_reads, standard_reads)
        return compiled

    def _compare(
        self,
        compiled: ExecutionResult,
        standard: ExecutionResult,
        compiled_denials: list[Any],
        standard_denials: list[Any],
        compiled_reads: list[dict[str, Any]],
        standard_reads: list[dict[str, Any]],
    ) -> None:
        name = self.operation.name.value if self.operation.name else "(anonymous)"
        differences = []
        if not _same(compiled.data, standard.data):
            differences.append(
                f"data:\n  compiled {_json(compiled.data)[:2000]!r}\n  standard {_json(standard.data)[:2000]!r}"
            )
        compiled_errors = [_error(e) for e in compiled.errors or ()]
        standard_errors = [_error(e) for e in standard.errors or ()]
        if compiled_errors != standard_errors:
            differences.append(f"errors:\n  compiled {compiled_errors}\n  standard {standard_errors}")
        if compiled_denials != standard_denials:
            differences.append(f"denials:\n  compiled {compiled_denials}\n  standard {standard_denials}")
        if _reads(compiled_reads) != _reads(standard_reads):
            differences.append(f"read audit:\n  compiled {compiled_reads}\n  standard {standard_reads}")
        if differences:
            mismatches.append(f"operation {name}: " + "\n".join(differences))
            logger.error("%s %s", MISMATCH, mismatches[-1])


EXECUTORS[ORACLE] = OracleExecutor


def tally() -> dict[str, Any]:
    """This process's counts (under pytest-xdist each worker sends its own to the controller)."""
    counts = {"compared": compared, "uncompared": uncompared, "mismatches": len(mismatches)}
    return {**counts, "executions": dict(executions)}


def summary(tallies: list[dict[str, Any]]) -> str:
    """The counts of the processes that ran the tests, added up."""
    runs: Counter[str] = Counter()
    for counts in tallies:
        runs.update(counts["executions"])
    fallbacks = {reason: count for reason, count in sorted(runs.items()) if reason != "compiled"}
    total = {name: sum(counts[name] for counts in tallies) for name in ("compared", "uncompared", "mismatches")}
    lines = [f"compiled-execution oracle: {total['compared']} operations run by plan and by graphql-core, compared"]
    lines.append(f"  run compiled alone, racing concurrent writes (concurrent_writes): {total['uncompared']}")
    lines.append(f"  ran by graphql-core alone: {sum(fallbacks.values())}")
    lines.extend(f"    {reason}: {count}" for reason, count in fallbacks.items())
    lines.append(f"  mismatches: {total['mismatches']}")
    return "\n".join(lines)
