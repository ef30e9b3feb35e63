"""OpenTelemetry tracing (web/tracing.py), through the real ASGI app with the SDK's in-memory
exporter: the HTTP request, the GraphQL operation and its SQL statements make one trace,
correlated with the request id of the response and the log; no span holds a variable, a value
of the document, the client's address or user agent. Switched off, nothing is imported."""

import json
import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from config import AppConfig, ConfigError, trace_exporters
from server import create_app
from tests.conftest import World
from tests.test_cli import estart, one_plain_line

# Values a client sends that no span may hold: a surname searched for, in the document and in
# the variables, and a login's username and password.
SURNAME = "Quillfeather"
USERNAME = "tracing-probe-user"
PASSWORD = "tracing probe password 7f3a"
SEARCH = "query Search($name: String!) { searchPeople(name: $name) { personId } other: searchPeople(name: "
SEARCH += f'"{SURNAME}x") {{ personId }} }}'


@pytest.fixture(scope="module")
def exporter() -> InMemorySpanExporter:
    """The process's tracer provider (set once a process), exporting to memory."""
    if not hasattr(exporter, "memory"):
        memory = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        trace.set_tracer_provider(provider)
        exporter.memory = memory  # type: ignore[attr-defined]
    return exporter.memory  # type: ignore[attr-defined,no-any-return]


@pytest.fixture
async def traced_app(config: AppConfig, exporter: InMemorySpanExporter) -> AsyncIterator[Any]:
    app = create_app(AppConfig(database_url=config.database_url, allowed_hosts=("testserver",), log_format="json",
                               trace_exporters=("otlp",)))  # fmt: skip
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def traced_client(traced_app: Any, exporter: InMemorySpanExporter) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=traced_app, client=("203.0.113.9", 51234))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        exporter.clear()
        yield client


def trace_of(spans: tuple[ReadableSpan, ...], request_id: str) -> list[ReadableSpan]:
    """The spans of the trace whose HTTP span carries `request_id`."""
    (http,) = [s for s in spans if (s.attributes or {}).get("estart.request_id") == request_id]
    assert http.context is not None
    return [s for s in spans if s.context is not None and s.context.trace_id == http.context.trace_id]


def everything_said(spans: list[ReadableSpan]) -> str:
    return "\n".join(
        f"{span.name} {(span.attributes or {})} {[event.attributes for event in span.events]}" for span in spans
    )


async def test_a_request_makes_one_trace_of_http_operation_and_statements(
    traced_client: httpx.AsyncClient, exporter: InMemorySpanExporter, world: World, caplog: Any
) -> None:
    headers = {"authorization": f"Bearer {world.tokens['MANAGER']}", "user-agent": "Probe-Browser/1.0"}
    with caplog.at_level(logging.INFO, logger="estart.request"):
        response = await traced_client.post(
            "/graphql", json={"query": SEARCH, "variables": {"name": SURNAME}, "operationName": "Search"},
            headers=headers,
        )  # fmt: skip
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    request_id = response.headers["x-request-id"]
    spans = trace_of(exporter.get_finished_spans(), request_id)

    (http,) = [s for s in spans if s.kind is trace.SpanKind.SERVER]
    (operation,) = [s for s in spans if s.name.startswith("query")]
    statements = [s for s in spans if "db.statement" in (s.attributes or {}) or "db.query.text" in (s.attributes or {})]
    assert operation.name == "query Search"
    assert operation.attributes == {
        "graphql.operation.type": "query", "graphql.operation.name": "Search", "estart.outcome": "OK",
    }  # fmt: skip
    assert operation.parent is not None and http.context is not None
    assert operation.parent.span_id == http.context.span_id
    assert statements, [s.name for s in spans]
    assert operation.context is not None
    parents = {s.context.span_id: s.parent.span_id for s in spans if s.context and s.parent}

    def within(span: ReadableSpan, ancestor: ReadableSpan) -> bool:
        assert span.context is not None and ancestor.context is not None
        node: int | None = span.context.span_id
        while node is not None and node != ancestor.context.span_id:
            node = parents.get(node)
        return node is not None

    # The token is checked before the operation starts; the search's statements run within it.
    assert all(within(statement, http) for statement in statements)
    assert any(within(statement, operation) for statement in statements)
    assert any("LIKE" in str((s.attributes or {}).get("db.statement")) for s in statements if within(s, operation))

    said = everything_said(spans)
    for secret in (SURNAME, "203.0.113.9", "Probe-Browser", world.tokens["MANAGER"]):
        assert secret not in said

    (record,) = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert record.trace_id == trace.format_trace_id(http.context.trace_id)


async def test_a_login_span_holds_neither_username_nor_password(
    traced_client: httpx.AsyncClient, exporter: InMemorySpanExporter
) -> None:
    for query, variables in (
        ("mutation SignIn($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
         {"u": USERNAME, "p": PASSWORD}),
        (f'mutation {{ login(username: "{USERNAME}", password: "{PASSWORD}") {{ token }} }}', None),
    ):  # fmt: skip
        response = await traced_client.post("/graphql", json={"query": query, "variables": variables})
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        spans = trace_of(exporter.get_finished_spans(), response.headers["x-request-id"])
        (operation,) = [s for s in spans if s.name.startswith("mutation")]
        assert (operation.attributes or {}).get("estart.outcome") == "UNAUTHENTICATED"
        said = everything_said(spans)
        assert USERNAME not in said and PASSWORD not in said


async def test_no_span_holds_the_query_string_or_a_credential_even_with_headers_captured(
    config: AppConfig, exporter: InMemorySpanExporter, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by probing: the HTTP span's http.url kept the query string (a client's refused GET
    carries the document and its variables there), and OpenTelemetry's header capture, an
    operator's setting, recorded the bearer token, cookies and the forwarded client address.
    The caller's traceparent is still continued."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST", ".*")
    app = create_app(AppConfig(database_url=config.database_url, allowed_hosts=("testserver",), log_format="json",
                               trace_exporters=("otlp",)))  # fmt: skip
    token, trace_id = world.tokens["MANAGER"], "0af7651916cd43dd8448eb211c80319c"
    headers = {
        "authorization": f"Bearer {token}",
        "cookie": "session=cookie-secret-41",
        "x-forwarded-for": "198.51.100.23",
        "traceparent": f"00-{trace_id}-b7ad6b7169203331-01",
    }
    try:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 51234))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            exporter.clear()
            posted = await client.post(
                f"/graphql?name={SURNAME}", json={"query": "{ me { username } }"}, headers=headers
            )
            assert posted.status_code == 200
            variables = json.dumps({"name": SURNAME})
            await client.get("/graphql", params={"query": SEARCH, "variables": variables}, headers=headers)
    finally:
        await app.state.engine.dispose()
    spans = list(exporter.get_finished_spans())
    (http, *_) = [s for s in spans if s.kind is trace.SpanKind.SERVER]
    assert http.context is not None and trace.format_trace_id(http.context.trace_id) == trace_id
    said = everything_said(spans)
    for secret in (SURNAME, token, "cookie-secret-41", "198.51.100.23", "203.0.113.9"):
        assert secret not in said, secret


async def test_probes_make_no_spans(traced_client: httpx.AsyncClient, exporter: InMemorySpanExporter) -> None:
    for path in ("/healthz", "/readyz"):
        assert (await traced_client.get(path)).status_code == 200
    assert exporter.get_finished_spans() == ()


async def test_a_failed_statement_says_its_exception_type_never_the_message(
    traced_app: Any, exporter: InMemorySpanExporter
) -> None:
    """The database's message can quote a value (PostgreSQL: `invalid input for query argument
    $1: 'Quillfeather'`): the span carries the exception's type only."""
    engine = traced_app.state.engine
    statement = "SELECT CAST(:value AS INTEGER) FROM estart_no_such_table"
    with pytest.raises(DBAPIError) as failure:
        async with engine.connect() as connection:
            await connection.execute(text(statement), {"value": SURNAME})
    (span,) = [s for s in exporter.get_finished_spans() if "estart_no_such_table" in str(s.attributes)]
    assert span.status.status_code is trace.StatusCode.ERROR
    assert span.status.description == type(failure.value.orig).__name__
    assert SURNAME not in everything_said([span]) and SURNAME not in str(span.status.description)


def test_otel_variables_switch_tracing_on_and_refuse_what_the_extra_cannot_do() -> None:
    assert trace_exporters({}) == ()
    assert trace_exporters({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}) == ("otlp",)
    assert trace_exporters({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}) == ("otlp",)
    assert trace_exporters({"OTEL_TRACES_EXPORTER": "console"}) == ("console",)
    assert trace_exporters({"OTEL_TRACES_EXPORTER": "otlp, console"}) == ("otlp", "console")
    assert trace_exporters({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) == ()
    assert trace_exporters({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}) == ()
    with pytest.raises(ConfigError, match="OTEL_TRACES_EXPORTER='zipkin': expected otlp"):
        trace_exporters({"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL='grpc': expected http/protobuf"):
        trace_exporters({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


OFF = """
import asyncio, sys
import httpx
from config import AppConfig
from server import create_app

async def main():
    app = create_app(AppConfig.from_env())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
        answer = await client.post("/graphql", json={"query": "{ me { id } }"})
        assert answer.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", answer.text
    await app.state.engine.dispose()

asyncio.run(main())
loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
assert not loaded, loaded
print("nothing of OpenTelemetry loaded")
"""


def otel_free_environment(tmp_path: Path) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    environment["ESTART_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'estart.db'}"
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return environment


def test_switched_off_nothing_of_opentelemetry_is_imported(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", OFF], env=otel_free_environment(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "nothing of OpenTelemetry loaded" in result.stdout


@pytest.fixture
def without_the_extra(tmp_path: Path) -> Iterator[dict[str, str]]:
    """An environment where `opentelemetry` is a package without the extra's modules."""
    shadow = tmp_path / "shadow" / "opentelemetry"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("")
    environment = otel_free_environment(tmp_path)
    environment["PYTHONPATH"] = f"{shadow.parent}{os.pathsep}{environment['PYTHONPATH']}"
    yield environment


def test_switched_on_without_the_extra_the_command_says_what_to_install(
    tmp_path: Path, without_the_extra: dict[str, str]
) -> None:
    result = estart(
        tmp_path / "estart.db", "migrate", env={**without_the_extra, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}
    )
    line = one_plain_line(result)
    assert "opentelemetry-sdk" in line and "pip install -e '.[otel]'" in line
