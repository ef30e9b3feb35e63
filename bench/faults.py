"""The fault run (issue 18): the real service under mixed load while its database restarts and
crashes. CI runs it (`.ci/run`); it takes about a minute and a half.

    python -m bench.faults                 # PostgreSQL faults, then the same load on SQLite
    python -m bench.faults --db sqlite     # or --db postgresql; --clients, --seconds

PostgreSQL: a private instance, `initdb` into a temporary folder, on a free port of its own,
stopped and deleted at the end (the machine's own PostgreSQL is never touched; as root the
PostgreSQL commands run as the `postgres` user). `estart serve` (real uvicorn) serves the demo
data against it while clients, each logged in, send 60% reads and 40% writes: `addNote` with a
unique marker text and an `Idempotency-Key`, three in four retried with the same key (as API.md
allows) until acknowledged, the rest taking a coded failure as final. Mid-load the database is
restarted (`pg_ctl restart -m fast`), then crashed (`pg_ctl stop -m immediate`), left down, and
started again. Then it asserts:

- 0 acknowledged writes lost, 0 written twice (the notes with each marker are counted);
- 0 writes landed that the client was told failed (every attempt answered with an error code
  that does not leave the outcome unknown);
- 0 responses without a JSON `extensions.code` on an error, 0 requests without a response;
- 0 requests longer than the bound;
- recovery without restarting the service: the same server process acknowledges writes after
  the last fault;
- `/readyz` red while the database is down, green after.
On SQLite (no faults injected: the fault is 20 writers on one file) it asserts 0 INTERNAL and
the same write accounting.
"""

import argparse
import asyncio
import glob
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from config import AppConfig
from demo.seed import DEMO_PASSWORD, seed_demo
from models.db import make_engine
from models.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
REQUEST_BOUND_SECONDS = 15.0
READ = "{ families(first: 3) { totalCount nodes { id carers { lastName } } } }"
ADD_NOTE = "mutation($input: NoteInput!) { addNote(input: $input) { id text } }"
UNCERTAIN = "uncertain"  # no response, or UNAVAILABLE with outcome UNKNOWN (the commit was not confirmed)
RETRYABLE = {"UNAVAILABLE", "RATE_LIMITED", "TIMEOUT", "CONFLICT", "INTERNAL"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- a private PostgreSQL ---------------------------------------------------------------


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) not found")


class PrivatePostgres:
    def __init__(self, folder: Path) -> None:
        self.bin = pg_bin()
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*self.as_user, str(self.bin / args[0]), *args[1:]]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def init(self) -> None:
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self.run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.start()

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "postgres.log"), "-o", options, "-w", *args)

    def start(self) -> None:
        self.ctl("start")

    def restart_fast(self) -> None:
        self.ctl("restart", "-m", "fast")

    def crash(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "stop", "-m", "immediate")

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "stop", "-m", "fast", check=False)

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"


async def create_database(pg: PrivatePostgres, name: str) -> None:
    engine = make_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


# --- the service ----------------------------------------------------------------------


@contextmanager
def serve(database_url: str, folder: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    log = folder / "server.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "ESTART_DATABASE_URL": database_url,
        "ESTART_RATE_LIMIT_PER_TOKEN": "1000000",
        "ESTART_RATE_LIMIT_PER_ADDRESS": "1000000",
        "ESTART_MAX_COST_PER_MINUTE": "1000000000000",
    }
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"estart serve did not start:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def server_log(folder: Path) -> str:
    """The server's log without its access lines."""
    lines = (folder / "server.log").read_text().splitlines()
    quiet = ('"GET /', '"POST /', "database unavailable", "readyz: the database does not answer")
    return "\n".join(line for line in lines if not any(text in line for text in quiet))[-6000:]


# --- the load -------------------------------------------------------------------------


@dataclass
class Write:
    marker: str
    attempts: list[str] = field(default_factory=list)  # each attempt's outcome: ok, codes, UNCERTAIN
    acknowledged_at: float | None = None


@dataclass
class Tally:
    responses: Counter[str] = field(default_factory=Counter)  # error codes of every response
    no_code: list[str] = field(default_factory=list)
    no_response: int = 0
    transport_errors: Counter[str] = field(default_factory=Counter)
    longest: float = 0.0
    writes: list[Write] = field(default_factory=list)
    readyz: list[tuple[float, int]] = field(default_factory=list)

    def record(self, response: httpx.Response, seconds: float) -> tuple[dict[str, Any] | None, set[str]]:
        self.longest = max(self.longest, seconds)
        try:
            body = response.json()
        except ValueError:
            self.no_code.append(f"{response.status_code} {response.headers.get('content-type')}: {response.text[:80]}")
            return None, set()
        errors = body.get("errors") or [] if isinstance(body, dict) else []
        codes = set()
        for error in errors:
            code = (error.get("extensions") or {}).get("code") if isinstance(error, dict) else None
            if not code:
                self.no_code.append(str(error)[:120])
            codes.add(str(code))
        if response.status_code != 200 and not errors:
            self.no_code.append(f"{response.status_code} without errors")
        self.responses.update(codes or {"ok"})
        return body, codes


async def client(base: str, token: str, family_ids: list[str], tally: Tally, stop_at: float, seed: int) -> None:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=REQUEST_BOUND_SECONDS * 2) as http:
        while time.monotonic() < stop_at:
            if rng.random() < 0.6:
                await send(http, tally, {"query": READ})
                continue
            write = Write(f"fault-run {uuid.uuid4().hex}")
            tally.writes.append(write)
            key = uuid.uuid4().hex
            variables = {"input": {"subjectId": rng.choice(family_ids), "kind": "HISTORY", "text": write.marker}}
            give_up_at = max(stop_at, time.monotonic()) + 30
            retries = rng.random() < 0.75  # the others take a coded failure as final
            while time.monotonic() < give_up_at:
                body, codes = await send(http, tally, {"query": ADD_NOTE, "variables": variables}, key)
                if body is None:
                    write.attempts.append(UNCERTAIN)
                elif not codes and (body.get("data") or {}).get("addNote", {}).get("text") == write.marker:
                    write.attempts.append("ok")
                    write.acknowledged_at = time.monotonic()
                    break
                else:
                    outcomes = {(e.get("extensions") or {}).get("outcome") for e in body.get("errors") or []}
                    write.attempts.append(UNCERTAIN if "UNKNOWN" in outcomes else ",".join(sorted(codes)))
                    if not codes & RETRYABLE or (not retries and write.attempts[-1] != UNCERTAIN):
                        break
                await asyncio.sleep(0.3)


async def send(
    http: httpx.AsyncClient, tally: Tally, payload: dict[str, Any], key: str | None = None
) -> tuple[dict[str, Any] | None, set[str]]:
    started = time.monotonic()
    try:
        response = await http.post("/graphql", json=payload, headers={"Idempotency-Key": key} if key else {})
    except httpx.TransportError as exc:
        tally.no_response += 1
        tally.transport_errors[f"{type(exc).__name__}: {exc}"[:100]] += 1
        tally.longest = max(tally.longest, time.monotonic() - started)
        return None, set()
    return tally.record(response, time.monotonic() - started)


async def watch_readyz(base: str, tally: Tally, stop_at: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_BOUND_SECONDS) as http:
        while time.monotonic() < stop_at:
            try:
                status = (await http.get("/readyz")).status_code
            except httpx.TransportError:
                status = 0
            tally.readyz.append((time.monotonic(), status))
            await asyncio.sleep(0.1)


async def login(base: str) -> tuple[str, list[str]]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        mutation = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
        response = await http.post(
            "/graphql", json={"query": mutation, "variables": {"u": "manager", "p": DEMO_PASSWORD}}
        )
        token = response.json()["data"]["login"]["token"]
        families = await http.post(
            "/graphql",
            json={"query": "{ families(first: 5) { nodes { id } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        return token, [node["id"] for node in families.json()["data"]["families"]["nodes"]]


async def notes_by_marker(database_url: str) -> Counter[str]:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT text FROM notes WHERE text LIKE 'fault-run %'"))
            return Counter(row.text for row in rows)
    finally:
        await engine.dispose()


# --- the checks -----------------------------------------------------------------------


def check(tally: Tally, stored: Counter[str], *, no_internal: bool) -> list[str]:
    problems = []
    acknowledged = [w for w in tally.writes if w.acknowledged_at is not None]
    lost = [w.marker for w in acknowledged if stored[w.marker] == 0]
    duplicated = [m for m, n in stored.items() if n > 1]
    told_failed = [w for w in tally.writes if w.acknowledged_at is None and UNCERTAIN not in w.attempts]
    landed_anyway = [w.marker for w in told_failed if stored[w.marker] > 0]
    unknown = [w.marker for w in tally.writes if w.marker not in stored and w.acknowledged_at is None]
    print(
        f"  {len(tally.writes)} writes: {len(acknowledged)} acknowledged, {len(told_failed)} told failed,"
        f" {len(unknown)} not written; responses {dict(tally.responses)}; longest {tally.longest:.2f} s;"
        f" {tally.no_response} without a response"
    )
    if lost:
        problems.append(f"{len(lost)} acknowledged writes lost: {lost[:3]}")
    if duplicated:
        problems.append(f"{len(duplicated)} writes applied more than once: {duplicated[:3]}")
    if landed_anyway:
        problems.append(f"{len(landed_anyway)} writes landed although the client was told they failed")
    if tally.no_code:
        problems.append(f"{len(tally.no_code)} responses without a JSON code: {tally.no_code[:3]}")
    if tally.no_response:
        problems.append(f"{tally.no_response} requests got no response: {dict(tally.transport_errors)}")
    if tally.longest > REQUEST_BOUND_SECONDS:
        problems.append(f"a request took {tally.longest:.1f} s (bound {REQUEST_BOUND_SECONDS} s)")
    if no_internal and tally.responses["INTERNAL"]:
        problems.append(f"{tally.responses['INTERNAL']} INTERNAL responses")
    if not acknowledged:
        problems.append("no write was acknowledged")
    return problems


async def load(base: str, clients: int, seconds: float, tally: Tally) -> tuple[float, list[asyncio.Task[None]]]:
    token, family_ids = await login(base)
    stop_at = time.monotonic() + seconds
    tasks = [asyncio.create_task(client(base, token, family_ids, tally, stop_at, seed)) for seed in range(clients)]
    tasks.append(asyncio.create_task(watch_readyz(base, tally, stop_at + 5)))
    return stop_at, tasks


async def run_postgresql(clients: int, seconds: float) -> list[str]:
    print("PostgreSQL: a private instance, restarted and crashed under load")
    with tempfile.TemporaryDirectory(prefix="estart-faults-") as temporary:
        folder = Path(temporary)
        os.chmod(folder, 0o755)
        pg = PrivatePostgres(folder)
        pg.init()
        try:
            await create_database(pg, "estart")
            url = pg.url("estart")
            await asyncio.to_thread(upgrade, url)
            await seed_demo(AppConfig(database_url=url))
            with serve(url, folder) as (base, server):
                tally = Tally()
                _, tasks = await load(base, clients, seconds, tally)
                await asyncio.sleep(seconds * 0.2)
                await asyncio.to_thread(pg.restart_fast)
                await asyncio.sleep(seconds * 0.25)
                await asyncio.to_thread(pg.crash)
                crashed = time.monotonic()
                await asyncio.sleep(2.0)
                back = time.monotonic()
                await asyncio.to_thread(pg.start)
                recovered = time.monotonic()
                await asyncio.gather(*tasks)
                problems = check(tally, await notes_by_marker(url), no_internal=False)
                if server.poll() is not None:
                    problems.append("the service exited")
                if not any(w.acknowledged_at and w.acknowledged_at > recovered for w in tally.writes):
                    problems.append("no write acknowledged after the database came back")
                if not any(status == 503 for at, status in tally.readyz if crashed + 0.3 < at < back):
                    problems.append("/readyz was not red while the database was down")
                if not tally.readyz or tally.readyz[-1][1] != 200:
                    problems.append(f"/readyz is not green after recovery: {tally.readyz[-3:]}")
                if problems:
                    print(server_log(folder))
                return problems
        finally:
            pg.stop()


async def run_sqlite(clients: int, seconds: float) -> list[str]:
    print(f"SQLite: {clients} clients on one file")
    with tempfile.TemporaryDirectory(prefix="estart-faults-") as temporary:
        folder = Path(temporary)
        url = f"sqlite+aiosqlite:///{folder / 'estart.db'}"
        await asyncio.to_thread(upgrade, url)
        await seed_demo(AppConfig(database_url=url))
        with serve(url, folder) as (base, _server):
            tally = Tally()
            _, tasks = await load(base, clients, seconds, tally)
            await asyncio.gather(*tasks)
        problems = check(tally, await notes_by_marker(url), no_internal=True)
        if problems:
            print(server_log(folder))
        return problems


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    problems: list[str] = []
    if args.db in {"postgresql", "both"}:
        problems += [f"PostgreSQL: {p}" for p in asyncio.run(run_postgresql(args.clients, args.seconds))]
    if args.db in {"sqlite", "both"}:
        problems += [f"SQLite: {p}" for p in asyncio.run(run_sqlite(args.clients, args.seconds))]
    for problem in problems:
        print(f"FAIL {problem}")
    if problems:
        raise SystemExit(1)
    print("fault run: every check passed")


if __name__ == "__main__":
    main()
