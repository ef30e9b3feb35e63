"""What a run measures: per workload in-process (Measured), per HTTP point (HttpPoint), and the
whole run (Run), which bench/report.py and bench/targets.py read."""

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

IMPLS = ("floor", "authz-off", "standard", "service")
GRAPHQL_IMPLS = IMPLS[1:]  # the implementations answering through the GraphQL app


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..1); NaN when nothing was measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


@dataclass
class Measured:
    """One in-process workload: times (ms) and counts per implementation."""

    title: str = ""
    rows: int = 0  # rows of the answer (families, people, changes)
    times: dict[str, list[float]] = field(default_factory=lambda: {i: [] for i in IMPLS})
    cpu_times: dict[str, list[float]] = field(default_factory=lambda: {i: [] for i in IMPLS})  # process CPU, ms
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

    def cpu_median(self, impl: str) -> float:
        return statistics.median(self.cpu_times[impl]) if self.cpu_times[impl] else float("nan")

    def p95(self, impl: str) -> float:
        return percentile(self.times[impl], 0.95)


@dataclass
class HttpPoint:
    """Workload (e) for one implementation at one concurrency."""

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
        return percentile(self.latencies, q)

    def add(self, other: "HttpPoint") -> None:
        """Fold another round at the same point into this one."""
        self.requests += other.requests
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.failures += other.failures


@dataclass
class PeerResult:
    """One workload of the comparison with PostGraphile (bench/peer.py): per implementation
    ("service", "postgraphile") sequential latencies in ms, or `points` at CONCURRENT clients."""

    key: str
    title: str
    latencies: dict[str, list[float]]
    size_kb: dict[str, float]
    peer_statements: float  # SQL statements PostGraphile sent per request
    points: dict[str, HttpPoint] | None = None

    def median(self, impl: str) -> float:
        return statistics.median(self.latencies[impl])

    def ratio(self) -> float:
        """ours / PostGraphile: of median latencies, or of requests per second at `points`."""
        if self.points is not None:
            return self.points["service"].rps / self.points["postgraphile"].rps
        return self.median("service") / self.median("postgraphile")


@dataclass
class Scaling:
    """The service with 1 and 2 workers (bench/scaling.py): a point and the server's CPU
    seconds per worker count."""

    cpus: int
    points: dict[int, HttpPoint] = field(default_factory=dict)
    cpu_seconds: dict[int, float] = field(default_factory=dict)

    def add(self, workers: int, point: HttpPoint, cpu_seconds: float) -> None:
        point.impl = f"{workers} workers"
        if workers in self.points:
            self.points[workers].add(point)
        else:
            self.points[workers] = point
        self.cpu_seconds[workers] = self.cpu_seconds.get(workers, 0.0) + cpu_seconds

    def cpu_ms(self, workers: int) -> float:
        """The server's CPU per request."""
        return 1000 * self.cpu_seconds[workers] / max(1, self.points[workers].requests)

    def ratio(self) -> float:
        """Requests per second with 2 workers over 1."""
        return self.points[2].rps / self.points[1].rps


Key = tuple[str, int]  # (database kind, N)


@dataclass
class Run:
    """Everything one `python -m bench.run` measured, keyed by (database kind, N)."""

    kinds: list[str]
    sizes: list[int]
    iterations: int
    warmup: int
    http_seconds: float
    http_rounds: int
    http_warmup: float
    quick: bool
    results: dict[Key, dict[str, Measured]] = field(default_factory=dict)
    http: dict[Key, list[HttpPoint]] = field(default_factory=dict)
    http_errors: dict[Key, str] = field(default_factory=dict)
    peer: dict[Key, list[PeerResult]] = field(default_factory=dict)
    peer_errors: dict[Key, str] = field(default_factory=dict)
    scaling: dict[Key, Scaling] = field(default_factory=dict)
    seeds: dict[Key, tuple[dict[str, int], float | None]] = field(default_factory=dict)
    profiles: list[Path] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
