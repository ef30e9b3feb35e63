"""Workers (issue 17: near-linear scaling with workers on PostgreSQL): the service as
`estart serve --workers N` runs it, with 1 and with 2 worker processes, CONCURRENT clients on
the detail document (c), in interleaved rounds, nothing pinned.

Besides requests per second, the CPU time the server's processes (uvicorn's supervisor and its
workers, read from /proc) spent per request: a second worker that cost nothing per request
keeps it equal, and scaling is then bounded by the CPUs the machine has left for it. On a
machine whose cores the client and PostgreSQL share, the throughput ratio says more about
that machine than about the service; the CPU per request does not."""

import os
import subprocess
import sys
from pathlib import Path

import orjson

from bench import seed as seeding
from bench.apps import Setup
from bench.http_rounds import ROOT, drive, free_port, stop_servers, wait_healthy
from bench.peer import CONCURRENT
from bench.records import Scaling
from bench.workloads import DETAIL_QUERY
from resolvers.ids import encode_id

WORKERS = (1, 2)
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float:
    """User and system CPU of a process and its children now running (uvicorn's workers)."""
    proc = Path("/proc")
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = (proc / str(current) / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
            for task in (proc / str(current) / "task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


async def scaling(s: Setup, seconds: float, rounds: int) -> Scaling:
    detail = encode_id("Family", seeding.detail_family_id(s.n))
    body = orjson.dumps({"query": DETAIL_QUERY, "variables": {"id": detail}})
    headers = {"authorization": f"Bearer {s.tokens['manager']}", "content-type": "application/json"}
    servers = {}
    for workers in WORKERS:
        port = free_port()
        log = (s.data_dir / f"serve-workers-{workers}.log").open("wb")
        command = [sys.executable, "-m", "bench.serve", "--impl", "service", "--url", s.url, "--port", str(port)]
        command += ["--workers", str(workers)]
        servers[f"{workers}"] = (subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), port)
        log.close()
    result = Scaling(os.cpu_count() or 1)
    try:
        await wait_healthy(s, servers)
        urls = {int(name): f"http://127.0.0.1:{port}/graphql" for name, (_, port) in servers.items()}
        for url in urls.values():  # warm-up: every worker's first requests
            await drive(url, body, headers, CONCURRENT, 1.0)
        order = list(WORKERS)
        for _ in range(rounds):
            for workers in order:
                pid = servers[str(workers)][0].pid
                cpu = cpu_seconds(pid)
                point = await drive(urls[workers], body, headers, CONCURRENT, seconds / rounds)
                result.add(workers, point, cpu_seconds(pid) - cpu)
            order.reverse()
    finally:
        stop_servers(servers)
    return result
