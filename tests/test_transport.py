"""The HTTP edge: JSON POST only, no batches, bounded bodies, trusted hosts, CORS by
allow-list, security headers, no queries by GET."""

from importlib.metadata import version
from typing import Any

import httpx
import pytest

from config import AppConfig
from server import create_app
from tests.assertions import codes
from tests.conftest import Api, World


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": {"query": "{ me { id } }"}}, 415),  # a cross-site form can send this: refused
        ({"files": {"query": ("q", b"{ me { id } }")}}, 415),
        ({"content": b"{ me { id } }", "headers": {"content-type": "text/plain"}}, 415),
        ({"json": [{"query": "{ me { id } }"}, {"query": "{ me { id } }"}]}, 400),  # a batch
    ],
    ids=["form-encoded", "multipart", "text-plain", "batched"],
)
async def test_only_single_json_operations_are_accepted(api: Api, kwargs: dict[str, Any], status: int) -> None:
    response = await api.client.post("/graphql", **kwargs)
    assert response.status_code == status
    assert response.json()["data"] is None and codes(response) == ["BAD_USER_INPUT"]


async def test_a_body_over_the_limit_is_refused_before_it_is_read_whole(api: Api) -> None:
    body = b'{"query": "' + b"a" * 1_000_001 + b'"}'
    response = await api.client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413 and codes(response) == ["QUERY_TOO_COMPLEX"]


@pytest.mark.parametrize("query", ["{ me { id } }", "mutation { logout }"])
async def test_get_never_runs_an_operation(api: Api, world: World, query: str) -> None:
    response = await api.client.get(
        "/graphql", params={"query": query}, headers={"Authorization": f"Bearer {world.tokens['MANAGER']}"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "data": None,
        "errors": [{"message": "Send GraphQL operations by POST", "extensions": {"code": "BAD_USER_INPUT"}}],
    }


async def test_graphiql_is_served_only_when_enabled(config: AppConfig) -> None:
    for enabled, expected in ((True, 200), (False, 404)):
        app = create_app(AppConfig(database_url=config.database_url, graphiql=enabled, allowed_hosts=("testserver",)))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            response = await client.get("/graphql", headers={"accept": "text/html"})
        await app.state.engine.dispose()
        assert response.status_code == expected


async def test_responses_carry_the_security_headers(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": "{ me { id } }"})
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


async def test_an_unknown_host_header_is_refused(api: Api) -> None:
    response = await api.client.post("/graphql", json={"query": "{ me { id } }"}, headers={"host": "evil.example"})
    assert response.status_code == 400


async def test_cors_answers_only_listed_origins(config: AppConfig) -> None:
    app = create_app(
        AppConfig(
            database_url=config.database_url, allowed_hosts=("testserver",), cors_origins=("https://dash.example",)
        )
    )
    preflight = {"access-control-request-method": "POST", "access-control-request-headers": "authorization"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        listed = await client.options("/graphql", headers={"origin": "https://dash.example", **preflight})
        other = await client.options("/graphql", headers={"origin": "https://evil.example", **preflight})
    await app.state.engine.dispose()
    assert listed.headers["access-control-allow-origin"] == "https://dash.example"
    assert "access-control-allow-origin" not in other.headers


def test_a_wildcard_origin_or_host_is_refused_by_configuration() -> None:
    with pytest.raises(ValueError, match="refused"):
        AppConfig.from_env({"ESTART_CORS_ORIGINS": "*"})


def _as_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


@pytest.mark.parametrize(
    ("package", "floor"),
    [
        ("strawberry-graphql", "0.323.2"),  # depth/alias limiter fragment bypasses, MaskErrors leaks
        ("starlette", "1.0.1"),  # CVE-2026-48710: Host header poisoning
        ("h11", "0.16.0"),  # CVE-2025-43859: request smuggling
    ],
)
def test_installed_versions_are_above_the_advisory_floors(package: str, floor: str) -> None:
    assert _as_tuple(version(package)) >= _as_tuple(floor)
