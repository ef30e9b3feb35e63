"""In-process workloads ((a)-(d) and the groups bench/run.py lists): check the answers, count, then time.

1. The first (cold) call of each implementation: its answer must equal the floor's before
   anything is timed (data, denials, and the service's read-audit events; a workload with a
   `check` of its own, such as the reports, passes it too), and its enforce calls are the cold
   count.
2. A second (warm) call under tracemalloc: statements and enforce calls per request and peak
   memory (tracemalloc slows it down, so this call is never timed).
3. Warm-up rounds, then timed rounds interleaved (floor, authz-off, service, the order rotated
   each round) after server.settle_heap() (the heap frozen, the collector's thresholds as the
   served app sets them): wall time, and the process's CPU time (every thread: with SQLite the
   database's work too), which a machine busy with other work inflates far less.
   The collector runs before each timed request, so a request pays for the collections its own
   allocations trigger and none of another's: with one heap shared by the implementations, a
   collection left pending by one would otherwise land in whichever request came next (seen:
   (a) service / authz-off 1.78 interleaved with the collector on, 1.02 with it off).
"""

import gc
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Table, bindparam, select

from bench.apps import Setup
from bench.counting import counters
from bench.records import IMPLS, Measured
from bench.workloads import Workload, workloads
from models import AuditEvent
from server import settle_heap

AUDIT: Table = AuditEvent.__table__  # type: ignore[assignment]
# Audit events of reads (confidential notes, child-protection plans) written after an id
READ_EVENTS = (
    select(
        AUDIT.c.id, AUDIT.c.user_id, AUDIT.c.setting_id, AUDIT.c.action, AUDIT.c.category,
        AUDIT.c.record_type, AUDIT.c.record_id, AUDIT.c.family_id,
    )
    .where(AUDIT.c.id > bindparam("after"), AUDIT.c.action.like("%.read"))
    .order_by(AUDIT.c.id)
)  # fmt: skip
Events = list[tuple[Any, ...]]


def data_of(body: bytes) -> Any:
    return orjson.loads(body)["data"]


def errors_of(body: bytes) -> list[Any]:
    return list(orjson.loads(body).get("errors") or [])


def denials(body: bytes) -> list[tuple[tuple[Any, ...], Any, Any]]:
    """The errors of an answer as (path, code, category), sorted."""
    found = []
    for error in errors_of(body):
        extensions = error.get("extensions") or {}
        found.append((tuple(error.get("path") or ()), extensions.get("code"), extensions.get("category")))
    return sorted(found, key=repr)


def _mismatch(s: Setup, workload: Workload, bodies: dict[str, bytes], what: str) -> AssertionError:
    s.data_dir.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():
        (s.data_dir / f"mismatch-{workload.key}-{name.replace(':', '-')}.json").write_bytes(
            orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2)
        )
    return AssertionError(f"{workload.title}: {what} (both written to {s.data_dir}/mismatch-{workload.key}-*.json)")


async def read_events(s: Setup, after: int) -> tuple[Events, int]:
    """The read-audit events written since event `after` (sorted, without ids), and the last id."""
    async with s.floor.engine.connect() as connection:
        rows = (await connection.execute(READ_EVENTS, {"after": after})).all()
    return sorted((tuple(row[1:]) for row in rows), key=repr), max((row[0] for row in rows), default=after)


def check(
    s: Setup,
    workload: Workload,
    first_bodies: dict[str, bytes],
    reference: dict[str, bytes],
    events: dict[str, Events],
) -> str:
    """The bench must not time a wrong answer: each implementation's data equals the floor's,
    the service denies exactly the fields the floor denies, and the floor writes the read-audit
    events the service writes. Returns the workload's note for the report."""
    for impl, against in workload.compare.items():
        other = reference[against] if ":" in against else first_bodies[against]
        if data_of(first_bodies[impl]) != data_of(other):
            raise _mismatch(
                s, workload, {impl: first_bodies[impl], against: other}, f"{impl}'s data differs from {against}'s"
            )
    if first_bodies["standard"] != first_bodies["service"]:  # compiled execution answers as graphql-core does
        raise _mismatch(
            s,
            workload,
            {"service": first_bodies["service"], "standard": first_bodies["standard"]},
            "the service's answer differs from graphql-core's (standard) byte for byte",
        )
    floor_denials, service_denials = denials(first_bodies["floor"]), denials(first_bodies["service"])
    if floor_denials != service_denials:
        raise _mismatch(
            s,
            workload,
            {"service": first_bodies["service"], "floor": first_bodies["floor"]},
            f"the service's {len(service_denials)} errors differ from the floor's {len(floor_denials)}",
        )
    if events["floor"] != events["service"]:
        raise AssertionError(
            f"{workload.title}: the service wrote {len(events['service'])} read-audit events, the floor "
            f"{len(events['floor'])}, or not the same: {set(events['service']) ^ set(events['floor'])}"
        )
    if workload.check is not None:
        return workload.check(first_bodies)
    if workload.key != "b":
        return ""
    nodes = data_of(first_bodies["floor"])["families"]["nodes"]
    denied_rows = sum(1 for node in nodes if node["confidentialNotes"] is None)
    return (
        f"confidential notes denied on {denied_rows} of {len(nodes)} rows; "
        f"{len(service_denials)} FORBIDDEN errors, one per denied field, the same paths as the floor's"
    )


async def first_calls(s: Setup, loads: list[Workload], results: dict[str, Measured]) -> None:
    """1. Cold calls: correctness, cold enforce calls, response sizes."""
    c = counters()
    reference: dict[str, bytes] = {}
    for w in loads:
        m = results[w.key] = Measured(title=w.title, rows=w.rows)
        for name, call in w.references.items():
            reference[name] = await call()
        firsts: dict[str, bytes] = {}
        events: dict[str, Events] = {}
        _, last_event = await read_events(s, 0)
        for impl in IMPLS:
            with c.measure() as counted:
                body = await w.calls[impl]()
            firsts[impl] = body
            events[impl], last_event = await read_events(s, last_event)
            m.enforce_cold[impl] = counted.enforce
            m.size_kb[impl] = len(body) / 1024
            m.errors[impl] = len(errors_of(body))
        m.note = check(s, w, firsts, reference, events)


async def warm_counts(s: Setup, loads: list[Workload], results: dict[str, Measured]) -> None:
    """2. One warm call each: statements, enforce calls and peak memory per request."""
    c = counters()
    for w in loads:
        m = results[w.key]
        for impl in IMPLS:
            gc.collect()
            tracemalloc.start()
            try:
                with c.measure() as counted:
                    await w.calls[impl]()
                m.peak_mb[impl] = tracemalloc.get_traced_memory()[1] / 2**20
            finally:
                tracemalloc.stop()
            m.statements[impl], uneven = divmod(counted.statements, w.requests)
            if uneven:  # not the same statements on every page: say so rather than average
                m.note += f" {impl}: {counted.statements} statements in {w.requests} requests."
            m.statement_text[impl] = counted.recorded
            m.enforce_warm[impl] = counted.enforce
    # the statements that only authenticate: a document that reads nothing
    for impl in ("authz-off", "service"):
        await s.impls[impl].request("{ __typename }", {}, s.tokens["manager"])  # any last-seen write now
        with c.measure() as counted:
            await s.impls[impl].request("{ __typename }", {}, s.tokens["manager"])
        for m in results.values():
            m.auth_statements[impl] = counted.statements
    for m in results.values():
        m.auth_statements["floor"] = 1  # bench/floor.py authenticates in one statement


async def timed_rounds(
    s: Setup, loads: list[Workload], results: dict[str, Measured], iterations: int, warmup: int
) -> None:
    """3. Warm-up, then interleaved timed rounds with the order rotated, with the heap and the
    collector as the served app has them (server.settle_heap)."""
    thresholds = gc.get_threshold()
    settle_heap()
    try:
        for w in loads:
            m = results[w.key]
            order = list(IMPLS)
            skip = warmup if w.rounds is None else 0
            for round_index in range(skip + min(iterations, w.rounds or iterations)):
                for impl in order:
                    gc.collect()
                    started, cpu = time.perf_counter(), time.process_time()
                    await w.calls[impl]()
                    elapsed = (time.perf_counter() - started) * 1000
                    if round_index >= skip:
                        m.times[impl].append(elapsed)
                        m.cpu_times[impl].append((time.process_time() - cpu) * 1000)
                order = order[1:] + order[:1]
            print(
                f"[{s.kind} N={s.n}] {w.title:<44} "
                + "  ".join(f"{impl} {m.median(impl):8.2f} ms" for impl in IMPLS)
                + f"  std/svc {m.median('standard') / m.median('service'):5.2f}"
                + f"  svc/off {m.median('service') / m.median('authz-off'):5.2f}"
                + f" (cpu {m.cpu_median('service') / m.cpu_median('authz-off'):5.2f})"
                + f"  svc/floor {m.median('service') / m.median('floor'):5.2f}"
                + f"  stmts {m.statements['floor']}/{m.statements['authz-off']}/{m.statements['service']}"
                + f"  enforce warm {m.enforce_warm['service']}"
            )
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


Group = Callable[[Setup], Awaitable[list[Workload]]]


async def families(s: Setup) -> list[Workload]:
    """(a)-(d) and the page sweep of (a)."""
    return workloads(s)


async def measure(s: Setup, iterations: int, warmup: int, groups: Sequence[Group] = (families,)) -> dict[str, Measured]:
    results: dict[str, Measured] = {}
    loads = [w for group in groups for w in await group(s)]
    await first_calls(s, loads, results)
    await warm_counts(s, loads, results)
    await timed_rounds(s, loads, results, iterations, warmup)
    return results
