"""Workload (e): the detail document (c) over HTTP, through one uvicorn worker per
implementation (`python -m bench.serve`, each its own process pinned to CPU 0) and an asyncio
httpx client pool on CPU 1 holding 1, 10 and 50 requests in flight. Each point's seconds are
split into interleaved rounds with the order of the three rotating, so a burst of other work
on the machine lands on all three alike."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from bench import seed as seeding
from bench.apps import Setup
from bench.measure import data_of
from bench.records import IMPLS, HttpPoint
from bench.workloads import DETAIL_QUERY
from resolvers.ids import encode_id

ROOT = Path(__file__).resolve().parent.parent
CONCURRENCY = (1, 10, 50)
STARTUP_SECONDS = 180  # a bound against a hang, not a measurement
Servers = dict[str, tuple[subprocess.Popen[bytes], int]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def drive(url: str, body: bytes, headers: dict[str, str], concurrency: int, seconds: float) -> HttpPoint:
    """`concurrency` clients sending `body` back to back for `seconds`."""
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


def summary(p: HttpPoint) -> str:
    failed = f" FAILED {p.failures}" if p.failures else ""
    return f"{p.impl} {p.rps:7.0f} req/s p50 {p.pct(0.5):6.2f} p99 {p.pct(0.99):7.2f} ms{failed}"


def start_servers(s: Setup, cpu: int | None) -> Servers:
    servers: Servers = {}
    for impl in IMPLS:
        port = free_port()
        log = (s.data_dir / f"serve-{impl}.log").open("wb")
        command = [sys.executable, "-m", "bench.serve", "--impl", impl, "--url", s.url, "--port", str(port)]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        servers[impl] = (subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT), port)
        log.close()  # the child holds its own copy
    return servers


def stop_servers(servers: Servers) -> None:
    for process, _ in servers.values():
        process.terminate()
    for process, _ in servers.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def wait_healthy(s: Setup, servers: Servers, paths: dict[str, str] | None = None) -> None:
    """Every server answers 200 on its health path (default /healthz). A server may take long
    to start on a busy machine: only its exit, or STARTUP_SECONDS, ends the wait."""
    deadline = time.monotonic() + STARTUP_SECONDS
    async with httpx.AsyncClient(timeout=60) as client:
        for impl, (process, port) in servers.items():
            path = (paths or {}).get(impl, "/healthz")
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server {impl} exited; see its log in {s.data_dir}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"http://127.0.0.1:{port}{path}")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server {impl} did not start; see its log in {s.data_dir}")
                await asyncio.sleep(0.1)


async def wait_ready(s: Setup, servers: Servers, body: bytes, headers: dict[str, str]) -> None:
    """Every server is up, and all three give the same answer to (c)."""
    await wait_healthy(s, servers)
    async with httpx.AsyncClient(timeout=60) as client:
        answers = {}
        for impl, (_, port) in servers.items():
            response = await client.post(f"http://127.0.0.1:{port}/graphql", content=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"{impl} answered HTTP {response.status_code} (see {s.data_dir}/serve-{impl}.log)")
            answers[impl] = data_of(response.content)
        if not answers["service"] == answers["floor"] == answers["authz-off"] == answers["standard"]:
            raise AssertionError("the servers' answers to (c) differ; nothing was timed")


async def http_workload(
    s: Setup, seconds: float, rounds: int, warmup: float, concurrency: tuple[int, ...] = CONCURRENCY
) -> list[HttpPoint]:
    detail = encode_id("Family", seeding.detail_family_id(s.n))
    body = orjson.dumps({"query": DETAIL_QUERY, "variables": {"id": detail}})
    headers = {"authorization": f"Bearer {s.tokens['manager']}", "content-type": "application/json"}
    s.data_dir.mkdir(parents=True, exist_ok=True)
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else set()
    pin = len(cpus) >= 2  # servers on the first CPU, this client on the others
    servers = start_servers(s, min(cpus) if pin else None)
    try:
        await wait_ready(s, servers, body, headers)
        if pin:
            os.sched_setaffinity(0, cpus - {min(cpus)})
        points: dict[tuple[str, int], HttpPoint] = {}
        order = list(IMPLS)
        for clients in concurrency:
            for impl in order if warmup > 0 else ():  # warm-up at this concurrency
                await drive(f"http://127.0.0.1:{servers[impl][1]}/graphql", body, headers, clients, warmup)
            for _ in range(rounds):
                for impl in order:
                    url = f"http://127.0.0.1:{servers[impl][1]}/graphql"
                    point = await drive(url, body, headers, clients, seconds / rounds)
                    point.impl = impl
                    if (impl, clients) in points:
                        points[(impl, clients)].add(point)
                    else:
                        points[(impl, clients)] = point
                order = order[1:] + order[:1]
            print(
                f"[{s.kind} N={s.n}] (e) HTTP C={clients:<3} "
                + "  ".join(summary(points[(impl, clients)]) for impl in IMPLS)
            )
        return list(points.values())
    finally:
        if pin:
            os.sched_setaffinity(0, cpus)
        stop_servers(servers)
