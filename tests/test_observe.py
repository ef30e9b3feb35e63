"""What an operator sees: a request id on every response, one JSON log record per request
(ESTART_LOG_FORMAT=json) with no personal data, and Prometheus metrics on GET /metrics behind
their bearer token (web/observe.py)."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from config import AppConfig
from demo.seed import DEMO_PASSWORD, seed_demo
from models.migrate import upgrade
from server import create_app
from tests.conftest import Api, World
from tests.test_e2e_http import ESTART, free_port, wait_until_healthy

METRICS_TOKEN = "metrics-token-for-the-tests-0123456789"
DASHBOARD = "query Dashboard { me { username } families { totalCount } }"


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the Prometheus text, 0 when absent."""
    wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else "")
    for line in metrics.splitlines():
        if line.startswith(wanted + " "):
            return float(line.split()[-1])
    return 0.0


async def test_every_response_carries_a_request_id(api: Api) -> None:
    first = await api.client.post("/graphql", json={"query": "{ me { id } }"})
    second = await api.client.get("/healthz")
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids) and ids[0] != ids[1]


async def test_metrics_do_not_exist_without_their_token_setting(api: Api) -> None:
    assert (await api.client.get("/metrics")).status_code == 404


@pytest.fixture
async def metrics_client(config: AppConfig) -> Any:
    app = create_app(
        AppConfig(database_url=config.database_url, allowed_hosts=("testserver",), metrics_token=METRICS_TOKEN)
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client
    await app.state.engine.dispose()


async def read_metrics(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_metrics_count_requests_denials_logins_and_statements(metrics_client: Any, world: World) -> None:
    client = metrics_client
    for presented in (None, "Bearer wrong", f"Basic {METRICS_TOKEN}"):
        headers = {} if presented is None else {"authorization": presented}
        refused = await client.get("/metrics", headers=headers)
        assert refused.status_code == 401 and refused.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    before = await read_metrics(client)
    headers = {"authorization": f"Bearer {world.tokens['SYSTEM_ADMINISTRATOR']}"}
    body = (
        await client.post("/graphql", json={"query": DASHBOARD, "operationName": "Dashboard"}, headers=headers)
    ).json()
    assert body["data"]["families"] is None  # refused: FORBIDDEN
    bad_login = 'mutation { login(username: "nobody-here", password: "not the password") { token } }'
    assert (await client.post("/graphql", json={"query": bad_login})).json()["errors"][0]["extensions"]["code"] == (
        "UNAUTHENTICATED"
    )
    after = await read_metrics(client)

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("estart_requests_total", operation="Dashboard", outcome="FORBIDDEN") == 1
    assert grew("estart_denials_total", category="PRIMARY") + grew("estart_denials_total", category="NONE") >= 1
    assert grew("estart_login_failures_total", reason="bad_credentials") == 1
    assert grew("estart_request_duration_seconds_count", operation_type="query") == 1
    assert grew("estart_db_statements_per_request_count") >= 2
    assert grew("estart_db_statements_per_request_sum") >= 1
    assert "estart_db_pool_connections_in_use" in after


def test_json_logs_show_a_request_end_to_end_without_personal_data(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'estart.db'}"
    upgrade(url)
    import asyncio

    asyncio.run(seed_demo(AppConfig(database_url=url)))
    env = {**os.environ, "ESTART_DATABASE_URL": url, "ESTART_LOG_FORMAT": "json", "ESTART_METRICS_TOKEN": METRICS_TOKEN}
    env.pop("ESTART_TEST_DATABASE_URL", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(ESTART), "serve", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=output, env=env
        )
    try:
        wait_until_healthy(base, server, log)
        login = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                "variables": {"u": "manager", "p": DEMO_PASSWORD},
            },
        )
        token = login.json()["data"]["login"]["token"]
        answer = httpx.post(
            f"{base}/graphql",
            json={"query": DASHBOARD, "operationName": "Dashboard"},
            headers={"authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200 and answer.json()["data"]["families"]["totalCount"] == 5
        request_id = answer.headers["x-request-id"]
        metrics = httpx.get(f"{base}/metrics", headers={"authorization": f"Bearer {METRICS_TOKEN}"}).text
        assert sample(metrics, "estart_requests_total", operation="Dashboard", outcome="OK") == 1
    finally:
        server.terminate()
        server.wait(timeout=30)

    text = log.read_text()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]  # every line is JSON
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    (record,) = [r for r in records if r.get("request_id") == request_id]
    assert record["logger"] == "estart.request" and record["level"] == "INFO"
    assert record["status"] == 200 and record["operation"] == "Dashboard" and record["operation_type"] == "query"
    assert record["outcome"] == "OK" and record["denials"] == 0 and record["statements"] >= 1
    assert isinstance(record["user_id"], int) and record["duration_ms"] > 0
    assert any(r.get("operation") == "Login" and r.get("user_id") is None for r in records)
    for secret in (token, DEMO_PASSWORD, "manager", "Northgate"):
        assert secret not in text
    assert not any(r["logger"] == "uvicorn.access" for r in records)
