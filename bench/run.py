"""The benchmark: seed, check, count, time, and write bench/results.md and bench/latency.png.

    python -m bench.run [--sizes 1000,10000] [--db sqlite,postgresql] [--quick] [--reuse]

For each database kind and each N it seeds a fresh database (bench/seed.py), then runs every
workload against three implementations side by side, in one process:

  floor      hand-written SQL + orjson, same JSON (bench/floor.py)
  authz-off  create_app(config, schema=_assemble()): the same app, no field guards
  service    create_app(config): the service as deployed

In-process path (workloads a-d): the app's own GraphQLApp.get_context with a fresh session
per request (as DatabaseSession does), schema.execute, process_result and encode_json
(orjson); only the HTTP layer is skipped. Timed rounds are interleaved with the order
rotated each round. Workload (e) drives one uvicorn worker per implementation (separate
processes, pinned to CPU 0, this client on CPU 1) with 1, 10 and 50 concurrent clients.
"""

import argparse
import asyncio
import contextlib
import gc
import importlib.metadata
import math
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import casbin.core_enforcer
import httpx
import orjson
from sqlalchemy import event, text
from starlette.requests import Request
from strawberry.asgi import GraphQL

from bench import seed as seeding
from bench.floor import Floor
from bench.workloads import DETAIL_QUERY, LIST_QUERY, SEARCH_QUERY
from config import AppConfig, Limits
from models.db import make_engine
from resolvers.ids import encode_id
from schema import _assemble
from server import create_app

IMPLS = ("floor", "authz-off", "service")
ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
PAGE = 1000  # families per page in (a) and (b): the service's maximum page size
SWEEP = (10, 100)  # extra page sizes of (a), for the latency-vs-rows chart
CONCURRENCY = (1, 10, 50)


# --- counters -------------------------------------------------------------------------------
class Counters:
    """SQL statements (before_cursor_execute on every engine) and Casbin enforce calls
    (CoreEnforcer.enforce/enforce_ex of every enforcer in this process, outermost call only)."""

    def __init__(self) -> None:
        self.statements = 0
        self.enforce = 0
        self.recorded: list[str] = []
        self.recording = False
        self._depth = 0
        self._install_casbin()

    def _install_casbin(self) -> None:
        core = casbin.core_enforcer.CoreEnforcer
        if getattr(core, "_bench_counted", False):
            return
        counters = self

        def counted(original: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                if counters._depth == 0:
                    counters.enforce += 1
                counters._depth += 1
                try:
                    return original(*args, **kwargs)
                finally:
                    counters._depth -= 1

            return wrapper

        for name in ("enforce", "enforce_ex", "batch_enforce"):
            if hasattr(core, name):
                setattr(core, name, counted(getattr(core, name)))
        core._bench_counted = True  # type: ignore[attr-defined]

    def watch(self, engine: Any) -> None:
        def count(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
            self.statements += 1
            if self.recording:
                self.recorded.append(" ".join(statement.split())[:90])

        event.listen(engine.sync_engine, "before_cursor_execute", count)

    @contextlib.contextmanager
    def measure(self) -> Iterator[dict[str, int]]:
        out: dict[str, int] = {}
        statements, enforce = self.statements, self.enforce
        self.recorded = []
        self.recording = True
        try:
            yield out
        finally:
            self.recording = False
        out["recorded"] = list(self.recorded)  # type: ignore[assignment]
        out["statements"] = self.statements - statements
        out["enforce"] = self.enforce - enforce


COUNTERS: Counters | None = None


def counters() -> Counters:
    global COUNTERS
    if COUNTERS is None:
        COUNTERS = Counters()
    return COUNTERS


# --- implementations ------------------------------------------------------------------------
def graphql_view(app: Any) -> GraphQL[Any, Any]:
    """The GraphQLApp inside create_app's /graphql route (through its middleware wrappers)."""
    for route in app.routes:
        if getattr(route, "path", None) != "/graphql":
            continue
        node = route.endpoint
        for _ in range(10):
            if isinstance(node, GraphQL):
                return node
            node = getattr(node, "app", None)
    raise RuntimeError("no strawberry GraphQL view found in the app")


class InProcess:
    """One request through the app's own view minus HTTP: a fresh session, get_context,
    schema.execute, process_result, encode_json."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.view = graphql_view(app)
        self.sessionmaker = app.state.sessionmaker

    async def request(self, query: str, variables: dict[str, Any], token: str) -> bytes:
        async with self.sessionmaker() as session:
            scope = {
                "type": "http",
                "method": "POST",
                "path": "/graphql",
                "query_string": b"",
                "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8000),
                "headers": [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json")],
                "state": {"db": session},
                "app": self.app,
            }
            request = Request(scope)
            context = await self.view.get_context(request, None)
            result = await self.view.schema.execute(query, variable_values=variables, context_value=context)
            body = await self.view.process_result(request, result)
            encoded = self.view.encode_json(body)
            return encoded if isinstance(encoded, bytes) else encoded.encode()


@dataclass
class Workload:
    key: str
    title: str
    rows: int  # families (or people, for search) in the answer, for the chart
    calls: dict[str, Callable[[], Awaitable[bytes]]]
    compare: dict[str, str] = field(default_factory=dict)  # impl -> impl whose data it must equal


@dataclass
class Measured:
    times: dict[str, list[float]] = field(default_factory=lambda: {i: [] for i in IMPLS})
    statements: dict[str, int] = field(default_factory=dict)
    statement_text: dict[str, list[str]] = field(default_factory=dict)
    enforce_warm: dict[str, int] = field(default_factory=dict)
    enforce_cold: dict[str, int] = field(default_factory=dict)
    peak_mb: dict[str, float] = field(default_factory=dict)
    auth_statements: dict[str, int] = field(default_factory=dict)  # of those, to resolve the token
    size_kb: dict[str, float] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def median(self, impl: str) -> float:
        return statistics.median(self.times[impl])

    def p95(self, impl: str) -> float:
        values = sorted(self.times[impl])
        return values[max(0, math.ceil(0.95 * len(values)) - 1)]


def data_of(body: bytes) -> Any:
    return orjson.loads(body)["data"]


def errors_of(body: bytes) -> list[Any]:
    return orjson.loads(body).get("errors") or []


# --- one database, one size -----------------------------------------------------------------
@dataclass
class Setup:
    kind: str
    n: int
    url: str
    seed_counts: dict[str, int]
    seed_seconds: float | None
    apps: dict[str, Any]
    floor: Floor
    impls: dict[str, InProcess]
    tokens: dict[str, str]

    async def close(self) -> None:
        for app in self.apps.values():
            await app.state.engine.dispose()
        await self.floor.engine.dispose()


async def login(app: Any, username: str) -> str:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        response = await client.post(
            "/graphql",
            json={
                "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                "variables": {"u": username, "p": seeding.PASSWORD},
            },
        )
        assert response.status_code == 200, f"login answered HTTP {response.status_code}: {response.text[:200]}"
        body = response.json()
        assert not body.get("errors"), body
        return body["data"]["login"]["token"]  # type: ignore[no-any-return]


async def setup(kind: str, n: int, reuse: bool) -> Setup:
    url = seeding.database_url(kind, n)
    seed_seconds: float | None = None
    if reuse and await seeding.is_seeded(url, n):
        counts = await row_counts(url)
        print(f"[{kind} N={n}] reusing {url}")
    else:
        url, counts, seed_seconds = await seeding.seed(kind, n)
        print(f"[{kind} N={n}] seeded in {seed_seconds:.1f} s: {counts}")
    config = AppConfig(database_url=url, limits=Limits(max_cost_per_minute=10**12))  # one client, many requests
    apps = {"service": create_app(config), "authz-off": create_app(config, schema=_assemble())}
    floor = Floor(make_engine(url))
    c = counters()
    for app in apps.values():
        c.watch(app.state.engine)
    c.watch(floor.engine)
    tokens = {
        "manager": await login(apps["service"], seeding.MANAGER),
        "half": await login(apps["service"], seeding.HALF),
    }
    impls = {name: InProcess(app) for name, app in apps.items()}
    return Setup(kind, n, url, counts, seed_seconds, apps, floor, impls, tokens)


async def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                name: int((await connection.execute(text(f"SELECT COUNT(*) FROM {name}"))).scalar() or 0)
                for name, _ in seeding.TABLES
            }
    finally:
        await engine.dispose()


def workloads(s: Setup) -> list[Workload]:
    manager, half = s.tokens["manager"], s.tokens["half"]
    detail = encode_id("Family", seeding.detail_family_id(s.n))

    def gql(impl: str, query: str, variables: dict[str, Any], token: str) -> Callable[[], Awaitable[bytes]]:
        return lambda: s.impls[impl].request(query, variables, token)

    def trio(
        query: str, variables: dict[str, Any], token: str, floor: Callable[[], Awaitable[bytes]]
    ) -> dict[str, Any]:
        return {
            "floor": floor,
            "authz-off": gql("authz-off", query, variables, token),
            "service": gql("service", query, variables, token),
        }

    found: list[Workload] = [
        Workload(
            "a", f"(a) {PAGE:,} families, manager", PAGE,
            trio(LIST_QUERY, {"first": PAGE}, manager, lambda: s.floor.families(manager, PAGE)),
            {"authz-off": "floor", "service": "floor"},
        ),
        Workload(
            "b", f"(b) {PAGE:,} families, half secondary denied", PAGE,
            trio(LIST_QUERY, {"first": PAGE}, half, lambda: s.floor.families(half, PAGE)),
            # authz-off has no guard: it answers everything, as the floor does for the manager
            {"service": "floor", "authz-off": "a:floor"},
        ),
        Workload(
            "c", "(c) one family, all relations", 1,
            trio(DETAIL_QUERY, {"id": detail}, manager, lambda: s.floor.family(manager, detail)),
            {"authz-off": "floor", "service": "floor"},
        ),
        Workload(
            "d", f'(d) searchPeople("{seeding.SEARCH_NAME}")', 0,
            trio(SEARCH_QUERY, {"name": seeding.SEARCH_NAME}, manager,
                 lambda: s.floor.search(manager, seeding.SEARCH_NAME)),
            {"authz-off": "floor", "service": "floor"},
        ),
    ]  # fmt: skip
    for size in SWEEP:
        found.append(
            Workload(
                f"a{size}", f"(a) {size} families, manager", size,
                trio(LIST_QUERY, {"first": size}, manager, lambda size=size: s.floor.families(manager, size)),  # type: ignore[misc]
                {"authz-off": "floor", "service": "floor"},
            )
        )  # fmt: skip
    return found


async def check(workload: Workload, first_bodies: dict[str, bytes], reference: dict[str, bytes]) -> str:
    """The bench must not time a wrong answer: each implementation's data equals the floor's."""
    notes = []
    for impl, against in workload.compare.items():
        other = reference[against] if ":" in against else first_bodies[against]
        mine, theirs = data_of(first_bodies[impl]), data_of(other)
        if mine != theirs:
            Path(HERE / ".data").mkdir(exist_ok=True)
            for name, body in ((impl, first_bodies[impl]), (against.replace(":", "-"), other)):
                (HERE / ".data" / f"mismatch-{workload.key}-{name}.json").write_bytes(
                    orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2)
                )
            raise AssertionError(
                f"{workload.title}: {impl}'s data differs from {against}'s "
                f"(both written to bench/.data/mismatch-{workload.key}-*.json)"
            )
    if workload.key == "b":
        floor_paths = sorted(tuple(e["path"]) for e in errors_of(first_bodies["floor"]))
        service_paths = sorted(tuple(e.get("path") or ()) for e in errors_of(first_bodies["service"]))
        nodes = data_of(first_bodies["floor"])["families"]["nodes"]
        denied_rows = sum(1 for node in nodes if node["affiliations"] is None)
        notes.append(f"secondary denied on {denied_rows} of {len(nodes)} rows")
        if floor_paths != service_paths:
            notes.append(
                f"service reports {len(service_paths)} FORBIDDEN errors where the floor reports {len(floor_paths)}"
            )
        else:
            notes.append(f"{len(service_paths)} FORBIDDEN errors, one per denied field")
    return "; ".join(notes)


async def measure(s: Setup, iterations: int, warmup: int) -> dict[str, Measured]:
    c = counters()
    results: dict[str, Measured] = {}
    loads = workloads(s)
    reference: dict[str, bytes] = {}
    # 1. first call (cold): correctness and the enforce calls a cold cache makes
    firsts: dict[str, dict[str, bytes]] = {}
    for w in loads:
        m = results[w.key] = Measured()
        firsts[w.key] = {}
        for impl in IMPLS:
            with c.measure() as counted:
                body = await w.calls[impl]()
            firsts[w.key][impl] = body
            m.enforce_cold[impl] = counted["enforce"]
            m.size_kb[impl] = len(body) / 1024
            m.errors[impl] = len(errors_of(body))
        if w.key == "a":
            reference["a:floor"] = firsts[w.key]["floor"]
        m.note = await check(w, firsts[w.key], reference)
    # 2. a second, warm request: statements and enforce calls per request, and its peak
    #    memory under tracemalloc (which slows it down: this request is never timed)
    for w in loads:
        for impl in IMPLS:
            gc.collect()
            tracemalloc.start()
            try:
                with c.measure() as counted:
                    await w.calls[impl]()
                results[w.key].peak_mb[impl] = tracemalloc.get_traced_memory()[1] / 2**20
            finally:
                tracemalloc.stop()
            results[w.key].statements[impl] = counted["statements"]
            results[w.key].statement_text[impl] = counted["recorded"]  # type: ignore[assignment]
            results[w.key].enforce_warm[impl] = counted["enforce"]
    # the statements that only authenticate: a document that reads nothing
    for impl in ("authz-off", "service"):
        await s.impls[impl].request("{ __typename }", {}, s.tokens["manager"])  # any last-seen write now
        with c.measure() as counted:
            await s.impls[impl].request("{ __typename }", {}, s.tokens["manager"])
        for m in results.values():
            m.auth_statements[impl] = counted["statements"]
    for m in results.values():
        m.auth_statements["floor"] = 1
    # 3. timing: warm-up, then interleaved rounds with the order rotated
    gc.collect()
    gc.freeze()
    for w in loads:
        order = list(IMPLS)
        for round_index in range(warmup + iterations):
            gc.collect()
            for impl in order:
                started = time.perf_counter()
                await w.calls[impl]()
                elapsed = (time.perf_counter() - started) * 1000
                if round_index >= warmup:
                    results[w.key].times[impl].append(elapsed)
            order = order[1:] + order[:1]
        m = results[w.key]
        print(
            f"[{s.kind} N={s.n}] {w.title:<44} "
            + "  ".join(f"{impl} {m.median(impl):8.2f} ms" for impl in IMPLS)
            + f"  svc/off {m.median('service') / m.median('authz-off'):5.2f}"
            + f"  svc/floor {m.median('service') / m.median('floor'):5.2f}"
            + f"  stmts {m.statements['floor']}/{m.statements['authz-off']}/{m.statements['service']}"
            + f"  enforce warm {m.enforce_warm['service']}"
        )
    gc.unfreeze()
    return results


# --- workload (e): HTTP through uvicorn ------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class HttpPoint:
    impl: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    failures: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        values = sorted(self.latencies)
        return values[max(0, math.ceil(q * len(values)) - 1)] if values else float("nan")


async def drive(url: str, body: bytes, headers: dict[str, str], concurrency: int, seconds: float) -> HttpPoint:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    failures = 0
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def one() -> None:
            nonlocal failures
            started = time.perf_counter()
            response = await client.post(url, content=body, headers=headers)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or b'"errors"' in response.content:
                failures += 1

        # open the connections first, so connection set-up is not in the numbers
        await asyncio.gather(*(one() for _ in range(concurrency)))
        latencies.clear()
        failures = 0
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await one()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return HttpPoint("", concurrency, len(latencies), elapsed, latencies, failures)


async def http_workload(s: Setup, seconds: float, rounds: int, warmup: float) -> list[HttpPoint]:
    token = s.tokens["manager"]
    detail = encode_id("Family", seeding.detail_family_id(s.n))
    body = orjson.dumps({"query": DETAIL_QUERY, "variables": {"id": detail}})
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    logs = HERE / ".data"
    logs.mkdir(exist_ok=True)
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    pin = len(cpus) >= 2
    servers: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    try:
        for impl in IMPLS:
            port = free_port()
            log = (logs / f"serve-{impl}.log").open("wb")
            command = [sys.executable, "-m", "bench.serve", "--impl", impl, "--url", s.url, "--port", str(port)]
            if pin:
                command += ["--cpu", str(min(cpus))]
            servers[impl] = (subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), port)
        async with httpx.AsyncClient(timeout=5) as client:
            for impl, (process, port) in servers.items():
                for _ in range(300):
                    if process.poll() is not None:
                        raise RuntimeError(f"bench.serve {impl} exited; see bench/.data/serve-{impl}.log")
                    with contextlib.suppress(httpx.HTTPError):
                        if (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
            # the same answer from all three, over HTTP too
            answers = {}
            for impl, (_, port) in servers.items():
                response = await client.post(f"http://127.0.0.1:{port}/graphql", content=body, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(
                        f"{impl} answered HTTP {response.status_code} (see bench/.data/serve-{impl}.log)"
                    )
                answers[impl] = data_of(response.content)
            if not answers["service"] == answers["floor"] == answers["authz-off"]:
                raise AssertionError("the three servers' answers to (c) differ; nothing was timed")
        if pin:
            os.sched_setaffinity(0, cpus - {min(cpus)})
        points: dict[tuple[str, int], HttpPoint] = {}
        order = list(IMPLS)
        for concurrency in CONCURRENCY:
            for impl in order if warmup > 0 else ():  # warm-up at this concurrency
                await drive(f"http://127.0.0.1:{servers[impl][1]}/graphql", body, headers, concurrency, warmup)
            for _ in range(rounds):
                for impl in order:
                    point = await drive(
                        f"http://127.0.0.1:{servers[impl][1]}/graphql", body, headers, concurrency, seconds / rounds
                    )
                    key = (impl, concurrency)
                    if key in points:
                        old = points[key]
                        old.requests += point.requests
                        old.seconds += point.seconds
                        old.latencies += point.latencies
                        old.failures += point.failures
                    else:
                        point.impl = impl
                        points[key] = point
                order = order[1:] + order[:1]
            line = "  ".join(
                f"{impl} {points[(impl, concurrency)].rps:7.0f} req/s p50 {points[(impl, concurrency)].pct(0.5):6.2f} "
                f"p99 {points[(impl, concurrency)].pct(0.99):7.2f} ms"
                + (f" FAILED {points[(impl, concurrency)].failures}" if points[(impl, concurrency)].failures else "")
                for impl in IMPLS
            )
            print(f"[{s.kind} N={s.n}] (e) HTTP C={concurrency:<3} {line}")
        return list(points.values())
    finally:
        if pin:
            os.sched_setaffinity(0, cpus)
        for process, _ in servers.values():
            process.terminate()
        for process, _ in servers.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


# --- profiles ---------------------------------------------------------------------------------
async def profile(s: Setup, out_dir: Path, repeats: int) -> list[Path]:
    from pyinstrument import Profiler

    written = []
    loads = {w.key: w for w in workloads(s)}
    for key in ("a", "b"):
        call = loads[key].calls["service"]
        await call()
        profiler = Profiler(interval=0.001, async_mode="disabled")
        profiler.start()
        for _ in range(repeats):
            await call()
        profiler.stop()
        path = out_dir / f"profile-{key}.txt"
        header = (
            f"# pyinstrument: the service on workload ({key}), {loads[key].title}; {s.kind}, N={s.n}, "
            f"{repeats} requests in-process.\n# Regenerate: python -m bench.run (full mode) or --profile.\n\n"
        )
        own, inclusive = _flat(profiler)
        tree = profiler.output_text(unicode=True, color=False, show_all=False)
        path.write_text(
            header
            + "## 1. Self time per function, % of the profiled requests (top 50)\n\n"
            + own
            + "\n\n## 2. Inclusive time per function, % of the profiled requests (top 60)\n\n"
            + inclusive
            + "\n\n## 3. Call tree (library frames folded)\n"
            + tree
        )
        written.append(path)
    return written


def _flat(profiler: Any) -> tuple[str, str]:
    """Self and inclusive time per function from pyinstrument's raw frame tree, as % of the
    profiled window, in which only the profiled requests run (epoll.poll: the event loop
    idle, waiting for the database driver)."""
    from collections import Counter

    session = profiler.last_session
    root = session.root_frame(trim_stem=False)
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()

    def walk(frame: Any, stack: frozenset[str]) -> None:
        name = f"{frame.class_name + '.' if frame.class_name else ''}{frame.function}"
        key = f"{name}  {frame.file_path_short}:{frame.line_no}"
        real = [child for child in frame.children if not child.is_synthetic]
        own[key] += frame.time - sum(child.time for child in real)
        if key not in stack:
            inclusive[key] += frame.time
        for child in real:
            walk(child, stack | {key})

    walk(root, frozenset())
    total = root.time

    def table(counter: Counter[str], lines: int) -> str:
        return "\n".join(
            f"{100 * t / total:6.1f}%  {t:7.3f} s  {key}" for key, t in counter.most_common(lines) if t > 0
        )

    return table(own, 50), table(inclusive, 60)


# --- environment --------------------------------------------------------------------------------
def environment() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    packages = [
        "strawberry-graphql", "graphql-core", "casbin", "SQLAlchemy", "aiosqlite", "asyncpg", "aiodataloader",
        "orjson", "starlette", "uvicorn", "httpx", "uvloop", "httptools",
    ]  # fmt: skip
    versions = []
    for name in packages:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    env = {
        "CPU": f"{cpu} × {os.cpu_count()} logical CPUs",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(versions),
        "SQLite": sqlite3.sqlite_version,
        "uvicorn": "loop auto ({}), http auto ({}), 1 worker, access log off".format(
            "uvloop" if _has("uvloop") else "asyncio", "httptools" if _has("httptools") else "h11"
        ),
    }
    return env


def _has(module: str) -> bool:
    try:
        __import__(module)
        return True
    except ImportError:
        return False


async def pg_version() -> str:
    engine = make_engine(seeding.PG_SERVER)
    try:
        async with engine.connect() as connection:
            return str((await connection.execute(text("SHOW server_version"))).scalar())
    except Exception as error:  # the report still gets written
        return f"unknown ({error.__class__.__name__})"
    finally:
        await engine.dispose()


# --- main ------------------------------------------------------------------------------------------
@dataclass
class Run:
    kinds: list[str]
    sizes: list[int]
    iterations: int
    warmup: int
    http_seconds: float
    http_rounds: int
    http_warmup: float
    quick: bool
    results: dict[tuple[str, int], dict[str, Measured]] = field(default_factory=dict)
    http: dict[tuple[str, int], list[HttpPoint]] = field(default_factory=dict)
    http_errors: dict[tuple[str, int], str] = field(default_factory=dict)
    seeds: dict[tuple[str, int], tuple[dict[str, int], float | None]] = field(default_factory=dict)
    profiles: list[Path] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


async def run(args: argparse.Namespace) -> Run:
    started = time.perf_counter()
    r = Run(
        kinds=args.db,
        sizes=args.sizes,
        iterations=args.iterations,
        warmup=args.warmup,
        http_seconds=args.http_seconds,
        http_rounds=args.http_rounds,
        http_warmup=0.0 if args.quick else 0.5,
        quick=args.quick,
    )
    r.env = environment()
    if "postgresql" in r.kinds:
        r.env["PostgreSQL"] = await pg_version()
    r.env["load average (1, 5, 15 min) at start"] = _load()
    profile_target = (r.kinds[0], max(r.sizes)) if args.profile else None
    for kind in r.kinds:
        for n in r.sizes:
            s = await setup(kind, n, args.reuse)
            try:
                r.seeds[(kind, n)] = (s.seed_counts, s.seed_seconds)
                r.results[(kind, n)] = await measure(s, r.iterations, r.warmup)
                if not args.no_http:
                    try:
                        r.http[(kind, n)] = await http_workload(s, r.http_seconds, r.http_rounds, r.http_warmup)
                    except Exception as error:  # report it and go on with the other databases and sizes
                        r.http_errors[(kind, n)] = f"{error.__class__.__name__}: {error}"
                        print(f"[{kind} N={n}] (e) HTTP failed: {r.http_errors[(kind, n)]}")
                if profile_target == (kind, n):
                    r.profiles = await profile(s, args.out, args.profile_repeats)
            finally:
                await s.close()
    r.seconds = time.perf_counter() - started
    r.env["load average (1, 5, 15 min) at end"] = _load()
    return r


def _load() -> str:
    """Other processes on the machine skew absolute numbers; the report says how busy it was."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--sizes", default=None, help="comma-separated N (default 1000,10000; quick 1000)")
    parser.add_argument("--db", default=None, help="comma-separated: sqlite,postgresql (quick: sqlite)")
    parser.add_argument("--quick", action="store_true", help="smoke check: N=1000, SQLite, few iterations (~1 min)")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database of the same N")
    parser.add_argument("--iterations", type=int, default=None, help="timed rounds per workload (default 15; quick 3)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed rounds first (default 3; quick 1)")
    parser.add_argument(
        "--http-seconds", type=float, default=None, help="per implementation and concurrency (8; quick 1)"
    )
    parser.add_argument(
        "--http-rounds", type=int, default=None, help="interleaved rounds the seconds split into (8; quick 1)"
    )
    parser.add_argument("--no-http", action="store_true", help="skip workload (e)")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                        help="pyinstrument profiles of the service on (a) and (b) (default on; quick off)")  # fmt: skip
    parser.add_argument("--profile-repeats", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=None,
        help="where results.md, latency.png, results.json go (default bench/; quick bench/.data/)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = [int(x) for x in (args.sizes or ("1000" if quick else "1000,10000")).split(",")]
    args.db = [x.strip() for x in (args.db or ("sqlite" if quick else "sqlite,postgresql")).split(",")]
    for kind in args.db:
        if kind not in ("sqlite", "postgresql"):
            parser.error(f"unknown --db {kind}")
    args.iterations = args.iterations or (3 if quick else 15)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 3)
    args.http_seconds = args.http_seconds or (1.0 if quick else 8.0)
    args.http_rounds = args.http_rounds or (1 if quick else 8)
    args.profile = (not quick) if args.profile is None else args.profile
    args.out = args.out or (HERE / ".data" if quick else HERE)
    args.out.mkdir(parents=True, exist_ok=True)
    return args


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")  # for the uvicorn subprocesses of workload (e)
    args = parse(argv)
    result = asyncio.run(run(args))
    from bench.report import write

    paths = write(result, args.out, " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]))
    print(
        f"done in {result.seconds:.0f} s; wrote " + ", ".join(str(p.relative_to(ROOT)) for p in paths + result.profiles)
    )


if __name__ == "__main__":
    main()
