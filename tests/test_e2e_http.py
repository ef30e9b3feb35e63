"""End to end over real TCP: `estart serve` in a subprocess on a seeded SQLite database of this
module's own (whatever ESTART_TEST_DATABASE_URL says), spoken to with httpx."""

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from config import AppConfig
from demo.seed import DEMO_PASSWORD, seed_demo
from models.migrate import upgrade
from schema.compiled import EXECUTION, execution_mode
from tests import oracle
from tests.assertions import codes

pytestmark = pytest.mark.own_sqlite
ESTART = Path(sys.executable).parent / "estart"
ROOT = Path(__file__).resolve().parents[1]
FAMILIES = "{ families { totalCount nodes { registeredSetting { code } carers { lastName } } } }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(base_url: str, server: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"estart serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"estart serve was not healthy within {seconds} s:\n{log.read_text()}")


@contextlib.contextmanager
def serving_demo(folder: Path) -> Iterator[tuple[str, Path]]:
    """`estart serve` on a seeded SQLite database in `folder` (whatever ESTART_TEST_DATABASE_URL
    says), GraphiQL on; yields its base URL and its log, and stops it afterwards."""
    assert ESTART.exists(), f"{ESTART} is missing: install the project with `python3 dev.py test`"
    env = {
        **os.environ,
        "ESTART_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'estart.db'}",
        "ESTART_GRAPHIQL": "true",
    }
    env.pop("ESTART_TEST_DATABASE_URL", None)
    # Seeded in-process (the CLI itself is tested in test_cli.py): one interpreter start less.
    upgrade(env["ESTART_DATABASE_URL"])
    asyncio.run(seed_demo(AppConfig(database_url=env["ESTART_DATABASE_URL"])))
    port = free_port()
    log = folder / "serve.log"
    command = [str(ESTART), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if execution_mode() == oracle.ORACLE:  # the server runs the oracle too (tests/oracle.py)
        env[EXECUTION] = oracle.ORACLE
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        command = [sys.executable, "-c", "import sys, tests.oracle, server; server.main(sys.argv[1:])", *command[1:]]
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=folder)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server, log)
        yield url, log
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if oracle.MISMATCH in log.read_text(errors="replace"):
        pytest.fail(f"the server's compiled execution differs from graphql-core:\n{log.read_text()}")


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving_demo(tmp_path_factory.mktemp("e2e")) as (url, _):
        yield url


def graphql(
    base_url: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{base_url}/graphql", json={"query": query, "variables": variables or {}}, headers=headers, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_graphiql_is_served_to_a_browser(base_url: str) -> None:
    response = httpx.get(f"{base_url}/graphql", headers={"Accept": "text/html"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "graphiql" in response.text.lower()


def test_demo_manager_logs_in_and_reads_families_in_scope(base_url: str) -> None:
    login = graphql(
        base_url,
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt user { id } } }",
        {"u": "manager", "p": DEMO_PASSWORD},
    )
    assert not login.get("errors"), login
    token = login["data"]["login"]["token"]

    body = graphql(base_url, FAMILIES, token=token)
    assert not body.get("errors"), body
    families = body["data"]["families"]
    assert families["totalCount"] == len(families["nodes"]) > 0
    surnames = {family["carers"][0]["lastName"] for family in families["nodes"]}
    # Standards 6: NORTH's own families plus the one affiliated to NORTH; not the revoked one.
    assert "Adeyemi" in surnames and "Nowak" not in surnames
    assert {family["registeredSetting"]["code"] for family in families["nodes"]} == {"NORTH", "SOUTH"}


def test_anonymous_query_is_unauthenticated(base_url: str) -> None:
    body = graphql(base_url, FAMILIES)
    assert body["data"] is None
    assert codes(body) == ["UNAUTHENTICATED"]
