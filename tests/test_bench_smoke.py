"""The benchmark harness cannot rot: `python -m bench.run --quick` runs end to end in a
subprocess (seed, the three implementations' answers checked equal, counts, one timed round,
HTTP through bench.serve) and prints the ratios, writing nothing into the repository.

It always runs on SQLite in a temporary directory, whatever ESTART_TEST_DATABASE_URL says."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RATIO = r"(\d+\.\d\d)"
pytestmark = pytest.mark.own_sqlite


def files_under(folder: Path) -> dict[Path, int]:
    files = (path for path in folder.rglob("*") if path.is_file() and "__pycache__" not in path.parts)
    return {path: path.stat().st_mtime_ns for path in files}


def test_quick_bench_runs_and_prints_the_ratios(tmp_path: Path) -> None:
    before = files_under(BENCH)
    # the timeout only ends a hang; on a busy machine the run may take minutes instead of seconds
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("ESTART_TEST_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--quick"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    output = f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, output
    for target in (
        rf"\(a\) service / authz-off ≤ [\d.]+ — sqlite, N=\d+: {RATIO}",
        rf"\(b\) service / authz-off ≤ [\d.]+ — sqlite, N=\d+: {RATIO}",
        rf"\(a\) service / floor ≤ [\d.]+ — sqlite, N=\d+: {RATIO}",
        rf"\(c\) over HTTP, service within [\d.]+× of authz-off — sqlite, N=\d+, C=1: throughput off/service {RATIO}",
        rf"\(r\) service / authz-off ≤ [\d.]+ — sqlite, N=\d+: {RATIO}",
        rf"\(p\) service / authz-off ≤ [\d.]+ — sqlite, N=\d+: {RATIO}",
        rf"\(f\) feed replay against the floor — sqlite, N=\d+: service [\d,]+ changes/s, floor [\d,]+; "
        rf"service / floor {RATIO}",
        rf"\(q1\) children by age band, a quarter, against its GROUP BY — sqlite, N=\d+: service / floor {RATIO}",
        rf"\(q2\) children by setting × age band, a quarter, against its GROUP BY — sqlite, N=\d+: "
        rf"service / floor {RATIO}",
        # counts, not times: these hold on every run
        r"PASS  SQL statements per request independent of N",
        r"PASS  \(r\), \(p\), \(f\) no more statements for more rows",
        r"PASS  \(r\), \(p\), \(f\) per page, \(q\) statements besides authentication within their bounds",
        r"PASS  zero Casbin enforce calls per request once warm",
    ):
        assert re.search(target, done.stdout), f"no line matching {target!r}\n{output}"
    assert "HTTP failed" not in done.stdout, output
    assert "wrote no files" in done.stdout, output
    # nothing written into the repository, and the temporary directory is removed
    assert files_under(BENCH) == before
    assert list(tmp_path.iterdir()) == []
