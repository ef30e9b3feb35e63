"""The benchmark: seed, check, count, time, and write bench/results.md, latency.png, results.json.

    python -m bench.run [--sizes 1000,10000] [--db sqlite,postgresql] [--reuse] [--no-http]
    python -m bench.run --quick      # smoke run: seconds, SQLite in a temporary directory

For each database kind and each N it seeds a fresh database (bench/seed.py), then runs every
workload against three implementations side by side, in one process (bench/apps.py):

  floor      hand-written SQL + orjson, same JSON (bench/floor.py)
  authz-off  create_app(config, schema=build_schema(guards=False)): the same app, no field guards
  service    create_app(config): the service as deployed

Workloads (a)-(d) run in-process (bench/measure.py: the app's own view minus HTTP, answers
checked against the floor's, statements and enforce calls counted, timed rounds interleaved);
(e) drives one uvicorn worker per implementation over HTTP (bench/http_rounds.py). The report
is bench/report.py; the targets it marks PASS or FAIL are bench/targets.py.

--quick is the smoke run the test suite runs (tests/test_bench_smoke.py): N=40, SQLite in a
temporary directory (removed afterwards unless the run fails), one timed round, a short HTTP
point at 1 and 10 clients, no profile. It prints the targets table and writes nothing into the
repository (unless --out says where); its numbers are not for comparison.
"""

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench import activities, feed, reporting
from bench.apps import Setup, prepare
from bench.environment import environment, load_average, pg_version
from bench.http_rounds import CONCURRENCY, http_workload
from bench.measure import Group, families, measure
from bench.peer import peer_workload
from bench.profiling import profile
from bench.records import Run
from bench.scaling import scaling
from bench.targets import targets

HERE = Path(__file__).resolve().parent
QUICK_N = 40  # families in the smoke run: every workload has rows, seeding takes a moment
WORKLOADS: list[Group] = [
    families,  # (a)-(d): bench/workloads.py
    activities.workloads,  # (r), (p): issue 12
    feed.workloads,  # (f): issue 13
    reporting.workloads,  # (q): issue 14
]


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
    r.env["load average (1, 5, 15 min) at start"] = load_average()
    concurrency = (1, 10) if args.quick else CONCURRENCY
    profile_target = (r.kinds[0], max(r.sizes)) if args.profile else None
    for kind in r.kinds:
        for n in r.sizes:
            s = await prepare(kind, n, args.reuse, args.data_dir)
            try:
                r.seeds[(kind, n)] = (s.seed_counts, s.seed_seconds)
                r.results[(kind, n)] = await measure(s, r.iterations, r.warmup, WORKLOADS)
                if not args.no_http:
                    try:
                        r.http[(kind, n)] = await http_workload(
                            s, r.http_seconds, r.http_rounds, r.http_warmup, concurrency
                        )
                    except Exception as error:  # report it and go on with the other databases and sizes
                        r.http_errors[(kind, n)] = f"{error.__class__.__name__}: {error}"
                        print(f"[{kind} N={n}] (e) HTTP failed: {r.http_errors[(kind, n)]}")
                if args.peer and kind == "postgresql":
                    await against_postgraphile(r, s, args.peer_rounds)
                if profile_target == (kind, n):
                    r.profiles = await profile(s, args.out or HERE, args.profile_repeats)
            finally:
                await s.close()
    r.seconds = time.perf_counter() - started
    r.env["load average (1, 5, 15 min) at end"] = load_average()
    return r


async def against_postgraphile(r: Run, s: Setup, rounds: int) -> None:
    """Issue 17's comparison (bench/peer.py) and the workers point (bench/scaling.py); a failure
    is reported and the run goes on with the other databases and sizes."""
    key = (s.kind, s.n)
    try:
        r.peer[key] = await peer_workload(s, rounds, 1, r.http_seconds, r.http_rounds)
        r.scaling[key] = scaled = await scaling(s, r.http_seconds, r.http_rounds)
        print(f"[{s.kind} N={s.n}] workers " + "  ".join(
            f"{w}: {p.rps:6.0f} req/s, {scaled.cpu_ms(w):.2f} ms CPU/request" for w, p in scaled.points.items()
        ))  # fmt: skip
    except Exception as error:
        r.peer_errors[key] = f"{error.__class__.__name__}: {error}"
        print(f"[{s.kind} N={s.n}] peer failed: {r.peer_errors[key]}")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--sizes", default=None, help=f"comma-separated N (default 1000,10000; quick {QUICK_N})")
    parser.add_argument("--db", default=None, help="comma-separated: sqlite,postgresql (quick: sqlite)")
    parser.add_argument("--quick", action="store_true", help="smoke run in seconds; writes nothing into the repository")
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database of the same N")
    parser.add_argument("--iterations", type=int, default=None, help="timed rounds per workload (default 15; quick 1)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed rounds first (default 3; quick 0)")
    parser.add_argument(
        "--http-seconds", type=float, default=None, help="per implementation and concurrency (8; quick 0.2)"
    )
    parser.add_argument(
        "--http-rounds", type=int, default=None, help="interleaved rounds the seconds split into (8; quick 1)"
    )
    parser.add_argument("--no-http", action="store_true", help="skip workload (e)")
    parser.add_argument("--peer", action=argparse.BooleanOptionalAction, default=None,
                        help="PostGraphile on the same PostgreSQL data, over HTTP (bench/peer.py; needs Node"
                             " and npm; default on with --db postgresql, off for --quick)")  # fmt: skip
    parser.add_argument("--peer-rounds", type=int, default=8, help="interleaved rounds per peer workload")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                        help="pyinstrument profiles of the service on (a) and (b) (default on; quick off)")  # fmt: skip
    parser.add_argument("--profile-repeats", type=int, default=5)
    parser.add_argument(
        "--out", type=Path, default=None,
        help="where results.md, latency.png, results.json go (default bench/; quick: nowhere)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    quick = args.quick
    args.sizes = [int(x) for x in (args.sizes or (str(QUICK_N) if quick else "1000,10000")).split(",")]
    args.db = [x.strip() for x in (args.db or ("sqlite" if quick else "sqlite,postgresql")).split(",")]
    for kind in args.db:
        if kind not in ("sqlite", "postgresql"):
            parser.error(f"unknown --db {kind}")
    args.iterations = args.iterations or (1 if quick else 15)
    args.warmup = args.warmup if args.warmup is not None else (0 if quick else 3)
    args.http_seconds = args.http_seconds or (0.2 if quick else 8.0)
    args.http_rounds = args.http_rounds or (1 if quick else 8)
    args.profile = (not quick) if args.profile is None else args.profile
    args.peer = (not quick) if args.peer is None else args.peer
    if not quick and args.out is None:
        args.out = HERE
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    # SQLite files, server logs and mismatch dumps: bench/.data/ (git ignores it), or for a
    # quick run a temporary directory
    args.data_dir = Path(tempfile.mkdtemp(prefix="estart-bench-")) if quick else HERE / ".data"
    return args


def print_targets(r: Run) -> None:
    print("\ntargets" + (" (QUICK smoke run: not for comparison)" if r.quick else "") + ":")
    for target, measured, verdict in targets(r):
        print(f"  {verdict.strip('*'):<4}  {target}: {measured}")


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("PYTHONHASHSEED", "0")  # for the uvicorn subprocesses of workload (e)
    args = parse(argv)
    command = " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])])
    result = asyncio.run(run(args))  # on failure a quick run's directory stays, for the logs
    print_targets(result)
    written = []
    if args.out is not None:
        from bench.report import write

        written = write(result, args.out, command, with_chart=not args.quick) + result.profiles
    if args.quick:
        shutil.rmtree(args.data_dir, ignore_errors=True)
    print(f"done in {result.seconds:.0f} s; wrote " + (", ".join(map(str, written)) or "no files"))


if __name__ == "__main__":
    main()
