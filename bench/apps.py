"""The three implementations, and one seeded database prepared for them.

  floor      hand-written SQL + orjson, the same JSON (bench/floor.py)
  authz-off  create_app(config, schema=build_schema(guards=False)): the same app, no field guards
  standard   the service with its queries executed by graphql-core, without compiled plans
  service    create_app(config): the service as deployed

`InProcess` sends one request through the app's own view minus HTTP: a fresh session (as
DatabaseSession does), get_context, schema.execute, process_result and encode_json (orjson).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL

from bench import seed as seeding
from bench.counting import counters
from bench.floor import Floor
from config import AppConfig, Limits
from models.db import make_engine
from schema import build_schema
from schema.compiled import EXECUTORS
from server import create_app


def bench_config(url: str) -> AppConfig:
    """The deployed configuration, except that one bench client may send hundreds of requests a
    second with one token: the flood limits (RATE_LIMITED) and the cost budget are lifted."""
    return AppConfig(
        database_url=url,
        rate_limit_per_token=10**9,
        rate_limit_per_address=10**9,
        limits=Limits(max_cost_per_minute=10**12),
    )


def graphql_app(impl: str, url: str) -> Starlette:
    """The service, its twin with no field guards (impl "authz-off"), or the service executing
    every query on graphql-core with no compiled plan (impl "standard", schema/compiled.py)."""
    config = bench_config(url)
    if impl == "service":
        return create_app(config)
    if impl == "standard":
        standard = EXECUTORS["standard"]
        return create_app(config, schema=build_schema(config.limits, execution_context_class=standard))
    if impl == "authz-off":
        return create_app(config, schema=build_schema(config.limits, guards=False))
    raise ValueError(f"not a GraphQL implementation: {impl!r}")


def graphql_view(app: Starlette) -> GraphQL[Any, Any]:
    """The GraphQLApp inside create_app's /graphql route (through its middleware wrappers)."""
    for route in app.routes:
        if getattr(route, "path", None) != "/graphql":
            continue
        node: Any = getattr(route, "endpoint", None)
        for _ in range(10):
            if isinstance(node, GraphQL):
                return node
            node = getattr(node, "app", None)
    raise RuntimeError("no strawberry GraphQL view found in the app")


class InProcess:
    """One request through the app's own view minus HTTP."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.view = graphql_view(app)
        self.sessionmaker = app.state.sessionmaker

    async def request(self, query: str, variables: dict[str, Any], token: str) -> bytes:
        async with self.sessionmaker() as session:
            scope = {
                "type": "http",
                "method": "POST",
                "path": "/graphql",
                "query_string": b"",
                "client": ("127.0.0.1", 50000),
                "server": ("127.0.0.1", 8000),
                "headers": [(b"authorization", f"Bearer {token}".encode()), (b"content-type", b"application/json")],
                "state": {"db": session},
                "app": self.app,
            }
            request = Request(scope)
            context = await self.view.get_context(request, Response())
            result = await self.view.schema.execute(query, variable_values=variables, context_value=context)
            body = await self.view.process_result(request, result)
            encoded = self.view.encode_json(body)
            return encoded if isinstance(encoded, bytes) else encoded.encode()


@dataclass
class Setup:
    """One seeded database (kind, N) with the three implementations on it and the callers' tokens."""

    kind: str
    n: int
    url: str
    data_dir: Path  # SQLite files, server logs and mismatch dumps
    seed_counts: dict[str, int]
    seed_seconds: float | None  # None: an already seeded database was reused
    apps: dict[str, Starlette]
    floor: Floor
    impls: dict[str, InProcess]
    tokens: dict[str, str]

    async def close(self) -> None:
        for app in self.apps.values():
            await app.state.engine.dispose()
        await self.floor.engine.dispose()


async def login(app: Starlette, username: str) -> str:
    """A bearer token from the app's own `login` mutation."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        response = await client.post(
            "/graphql",
            json={
                "query": "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
                "variables": {"u": username, "p": seeding.PASSWORD},
            },
        )
        assert response.status_code == 200, f"login answered HTTP {response.status_code}: {response.text[:200]}"
        body = response.json()
        assert not body.get("errors"), body
        return str(body["data"]["login"]["token"])


async def prepare(kind: str, n: int, reuse: bool, data_dir: Path) -> Setup:
    """Seed (or reuse) the database, build the three implementations and log the callers in."""
    url = seeding.database_url(kind, n, data_dir)
    seed_seconds: float | None = None
    if reuse and await seeding.is_seeded(url, n):
        counts = await row_counts(url)
        print(f"[{kind} N={n}] reusing {url}")
    else:
        url, counts, seed_seconds = await seeding.seed(kind, n, data_dir)
        print(f"[{kind} N={n}] seeded in {seed_seconds:.1f} s: {counts}")
    apps = {impl: graphql_app(impl, url) for impl in ("service", "standard", "authz-off")}
    floor = Floor(make_engine(url))
    c = counters()
    for app in apps.values():
        c.watch(app.state.engine)
    c.watch(floor.engine)
    tokens = {
        "manager": await login(apps["service"], seeding.MANAGER),
        "half": await login(apps["service"], seeding.HALF),
        "reporting": await login(apps["service"], seeding.REPORTING),
        "feed": await login(apps["service"], seeding.FEED),
    }
    impls = {name: InProcess(app) for name, app in apps.items()}
    return Setup(kind, n, url, data_dir, counts, seed_seconds, apps, floor, impls, tokens)


async def row_counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                name: int((await connection.execute(text(f"SELECT COUNT(*) FROM {name}"))).scalar() or 0)
                for name, _ in seeding.TABLES
            }
    finally:
        await engine.dispose()
