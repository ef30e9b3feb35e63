"""Floods and slow work (security catalogue DOS-11, DOS-12): each bearer token and each client
address may send so many requests a minute; PostgreSQL cancels a statement that runs too long,
and the client is told TIMEOUT."""

import time
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from config import AppConfig
from schema.extensions import shape_errors
from server import create_app
from tests.assertions import codes
from tests.conftest import World

ME = {"query": "{ me { username } }"}


def client_of(app: Any, address: str = "192.0.2.10") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture(autouse=True)
def one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request of a test in one calendar minute, wherever the clock is in it: the limits
    count per calendar minute (web/per_minute.py), and a minute turning mid-test resets them."""
    frozen = time.time()
    monkeypatch.setattr("web.per_minute.time", SimpleNamespace(time=lambda: frozen))


@pytest.fixture
async def limited(config: AppConfig) -> Any:
    app = create_app(replace(config, rate_limit_per_token=3, rate_limit_per_address=5))
    yield app
    await app.state.engine.dispose()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_over_its_rate_is_refused_with_retry_after_and_others_go_on(limited: Any, world: World) -> None:
    async with client_of(limited) as client:
        answers = [await client.post("/graphql", json=ME, headers=bearer(world.tokens["MANAGER"])) for _ in range(4)]
        other = await client.post("/graphql", json=ME, headers=bearer(world.tokens["ADMIN_OFFICER"]))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.json() == {
        "data": None,
        "errors": [{"message": "Too many requests; try again later", "extensions": {"code": "RATE_LIMITED"}}],
    }
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["cache-control"] == "no-store"  # the edge's headers still apply
    assert other.status_code == 200 and other.json()["data"]["me"]["username"]


async def test_an_address_over_its_rate_is_refused_whatever_the_tokens(limited: Any, world: World) -> None:
    tokens = [world.tokens[role] for role in ("MANAGER", "ADMIN_OFFICER", "HEAD_OF_CENTRE")]
    async with client_of(limited, "192.0.2.20") as client:
        statuses = [
            (await client.post("/graphql", json=ME, headers=bearer(tokens[i % 3]))).status_code for i in range(6)
        ]
    async with client_of(limited, "192.0.2.21") as elsewhere:
        other_address = await elsewhere.post("/graphql", json=ME, headers=bearer(world.tokens["SENIOR_MANAGEMENT"]))
    assert statuses == [200] * 5 + [429]
    assert other_address.status_code == 200


async def test_anonymous_floods_are_limited_by_address(limited: Any) -> None:
    async with client_of(limited, "192.0.2.30") as client:
        answers = [await client.post("/graphql", json=ME) for _ in range(6)]
    assert [a.json()["errors"][0]["extensions"]["code"] for a in answers] == ["UNAUTHENTICATED"] * 5 + ["RATE_LIMITED"]


async def test_postgresql_cancels_a_statement_over_its_time_and_the_client_gets_timeout(
    config: AppConfig, caplog: pytest.LogCaptureFixture
) -> None:
    if not config.database_url.startswith("postgresql"):
        pytest.skip("a statement timeout is PostgreSQL's")
    app = create_app(replace(config, statement_timeout_ms=20))
    try:
        async with app.state.engine.connect() as connection:
            assert (await connection.execute(text("SHOW statement_timeout"))).scalar() == "20ms"
            with pytest.raises(DBAPIError) as cancelled:
                await connection.execute(text("SELECT pg_sleep(1)"))
    finally:
        await app.state.engine.dispose()
    error = GraphQLError("canceling statement", path=["families"], original_error=cancelled.value)
    shape_errors([error], "req-1")
    assert error.extensions == {"code": "TIMEOUT", "requestId": "req-1"}
    assert error.message == "The request took too long and was cancelled"
    assert not [record for record in caplog.records if record.exc_info]  # an expected outcome, not a crash


def test_the_limits_come_from_the_environment() -> None:
    config = AppConfig.from_env(
        {
            "ESTART_RATE_LIMIT_PER_TOKEN": "7",
            "ESTART_RATE_LIMIT_PER_ADDRESS": "9",
            "ESTART_STATEMENT_TIMEOUT_MS": "900",
        }
    )
    assert (config.rate_limit_per_token, config.rate_limit_per_address) == (7, 9)
    assert config.statement_timeout_ms == 900


async def test_a_user_over_the_cost_of_a_minute_is_refused_and_others_go_on(config: AppConfig, world: World) -> None:
    """A page of 100 families with their carers' names costs 1,301 by the estimate (families 1,
    nodes, id and carers 100 each, the carers' two fields 500 each): 3,000 a minute takes two."""
    page = {"query": "{ families(first: 100) { nodes { id carers { id firstName } } } }"}
    app = create_app(replace(config, limits=replace(config.limits, max_cost_per_minute=3000)))
    try:
        async with client_of(app) as client:
            answers = [
                (await client.post("/graphql", json=page, headers=bearer(world.tokens["MANAGER"]))).json()
                for _ in range(3)
            ]
            other = (await client.post("/graphql", json=page, headers=bearer(world.tokens["ADMIN_OFFICER"]))).json()
    finally:
        await app.state.engine.dispose()
    assert [("errors" in answer) for answer in answers] == [False, False, True]
    assert answers[2] == {
        "data": None,
        "errors": [
            {
                "message": "Your requests of the last minute cost too much; try again in a minute",
                "extensions": {"code": "RATE_LIMITED"},
            }
        ],
    }
    assert "errors" not in other or set(codes(other)) <= {"FORBIDDEN"}
