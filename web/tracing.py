"""OpenTelemetry tracing, an optional extra (`pip install -e '.[otel]'`), switched on by
OpenTelemetry's own variables (config.trace_exporters: OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER). Off, nothing of OpenTelemetry is
imported: this module imports it only inside its functions, which run only when it is on.

A request gives three kinds of span:
- the HTTP request (opentelemetry-instrumentation-asgi), continuing a caller's `traceparent`,
  with the attribute `estart.request_id` (the log record's and the error's requestId; the JSON
  log record carries the span's `trace_id` in turn);
- the GraphQL operation (`OperationSpan`), named by its type and name, with the attributes
  `graphql.operation.type`, `graphql.operation.name` and `estart.outcome` (OK or the first
  error code): never the document, variables or any value (they can hold personal data);
- each SQL statement (`_trace_statements`), with its text, whose values are bound parameters
  that are never recorded, and on failure the exception's type, never its message (a database's
  message can quote a value). opentelemetry-instrumentation-sqlalchemy would record that message;
  it also declares SQLAlchemy < 2.1 and patches create_engine process-wide.
The client's address and user agent are kept out of the HTTP span (they identify a person);
/healthz, /readyz and /metrics make no spans.
"""

import importlib.util
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from web.faults import request_id_of
from web.observe import OPERATION_NAME, request_facts

# The modules of the extra, as `pip install -e '.[otel]'` installs them.
MODULES = {
    "opentelemetry.sdk": "opentelemetry-sdk",
    "opentelemetry.instrumentation.asgi": "opentelemetry-instrumentation-asgi",
    "opentelemetry.exporter.otlp.proto.http": "opentelemetry-exporter-otlp-proto-http",
}
UNTRACED_PATHS = ("/healthz", "/readyz", "/metrics")
# Outcomes that are the service's failure rather than the caller's (the span's status: ERROR).
FAILURES = {"INTERNAL", "UNAVAILABLE", "TIMEOUT"}
# The only request headers the HTTP span's middleware sees: never a credential (authorization,
# cookie), the client's address (x-forwarded-for) or user agent, even when an operator switches
# on OpenTelemetry's header capture (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_SERVER_REQUEST).
TRACED_HEADERS = frozenset({b"host", b"traceparent", b"tracestate", b"content-type", b"content-length"})


def missing_packages() -> list[str]:
    """The extra's packages that are not installed."""
    missing = []
    for module, package in MODULES.items():
        try:
            found = importlib.util.find_spec(module) is not None
        except ModuleNotFoundError:  # a parent package is missing
            found = False
        if not found:
            missing.append(package)
    return missing


def missing_message() -> str | None:
    """What to do when tracing is switched on without the extra's packages; None when they are there."""
    missing = missing_packages()
    if not missing:
        return None
    return (
        f"tracing is switched on (OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT is set) but "
        f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed: "
        "pip install -e '.[otel]', or unset those variables"
    )


def install(app: Starlette, engine: AsyncEngine, exporters: tuple[str, ...]) -> None:
    """Spans for `app`'s HTTP requests (outermost) and `engine`'s statements, sent to `exporters`."""
    message = missing_message()
    if message is not None:
        raise RuntimeError(message)
    start(exporters)
    _trace_statements(engine)
    app.add_middleware(_http_spans)


def start(exporters: tuple[str, ...]) -> None:
    """The process's tracer provider, unless one is installed already (by `opentelemetry-
    instrument`, or a test): the service named by OTEL_SERVICE_NAME (default estart), its spans
    sampled by OTEL_TRACES_SAMPLER and sent in batches (OTEL_BSP_*) to each exporter:
    `otlp` (OTLP over HTTP: OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, ...) or `console`."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return
    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "estart"}))
    provider = TracerProvider(resource=resource)
    for name in exporters:
        exporter: SpanExporter = OTLPSpanExporter() if name == "otlp" else ConsoleSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def _trace_statements(engine: AsyncEngine) -> None:
    """A span for each statement of `engine`, a child of the span current where it runs (the
    operation's; contextvars reach SQLAlchemy's greenlets, as web/observe.py's counter relies on)."""
    from opentelemetry import trace
    from opentelemetry.instrumentation.utils import is_instrumentation_enabled

    tracer = trace.get_tracer("estart.sql")
    system = engine.dialect.name
    key = "estart.span"

    def before(connection: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if is_instrumentation_enabled():
            operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
            connection.info[key] = tracer.start_span(
                f"{operation} {system}",
                kind=trace.SpanKind.CLIENT,
                attributes={"db.system": system, "db.operation": operation, "db.statement": statement},
            )

    def after(connection: Connection, *_: Any) -> None:
        span = connection.info.pop(key, None)
        if span is not None:
            span.end()

    def failed(context: ExceptionContext) -> None:
        span = None if context.connection is None else context.connection.info.pop(key, None)
        if span is not None:
            span.set_status(trace.StatusCode.ERROR, type(context.original_exception).__name__)
            span.end()

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    event.listen(engine.sync_engine, "handle_error", failed)


def _http_spans(app: ASGIApp) -> ASGIApp:
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    spans = OpenTelemetryMiddleware(_Correlated(app), exclude_spans=["receive", "send"])
    return _Anonymous(spans)


class _Anonymous:
    """Hides the client's address, user agent, credentials and query string (a refused GET's
    document and variables) from the HTTP span; the app still sees them (the rate limits count
    by address). Probes and metrics are not traced, nor their statements."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from opentelemetry.instrumentation.utils import suppress_instrumentation

        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in UNTRACED_PATHS:
            with suppress_instrumentation():
                await self.app(scope, receive, send)
            return
        headers = [(name, value) for name, value in scope.get("headers", []) if name.lower() in TRACED_HEADERS]
        traced = {**scope, "client": None, "headers": headers, "query_string": b"", "estart.scope": scope}
        await self.app(traced, receive, send)


class _Correlated:
    """Inside the HTTP span: gives the span the request id, and the request log the trace id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from opentelemetry import trace

        if scope["type"] != "http" or "estart.scope" not in scope:
            await self.app(scope, receive, send)
            return
        scope = scope["estart.scope"]
        span = trace.get_current_span()
        span.set_attribute("estart.request_id", request_id_of(scope))
        context = span.get_span_context()
        if context.is_valid:
            scope["state"]["trace_id"] = trace.format_trace_id(context.trace_id)
        await self.app(scope, receive, send)


class OperationSpan(SchemaExtension):
    """The GraphQL operation's span, current while it runs so that its statements are its
    children. Its name and attributes come from what OperationFacts told the request log
    (listed before it, this extension ends after it)."""

    def on_operation(self) -> Iterator[None]:
        from opentelemetry import trace

        tracer = trace.get_tracer("estart.graphql")
        with tracer.start_as_current_span("GraphQL", kind=trace.SpanKind.INTERNAL) as span:
            yield
            facts: dict[str, Any] = request_facts() or {}
            kind, name = facts.get("operation_type"), facts.get("operation")
            name = name if isinstance(name, str) and OPERATION_NAME.fullmatch(name) else None
            if kind is not None:
                span.set_attribute("graphql.operation.type", kind)
                span.update_name(f"{kind} {name}" if name else str(kind))
            if name:
                span.set_attribute("graphql.operation.name", name)
            outcome = facts.get("outcome")
            if outcome:
                span.set_attribute("estart.outcome", outcome)
                if outcome in FAILURES:
                    span.set_status(trace.StatusCode.ERROR, outcome)
