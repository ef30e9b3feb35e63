"""What an operator sees of requests: one log record per request and Prometheus metrics.

`RequestLog` (the outermost middleware) gives each request its id (`scope["state"]["request_id"]`,
returned as `X-Request-Id`), collects the facts of its GraphQL operation (schema/extensions.py
`OperationFacts` fills them in, and a statement counter on the engine), then logs one record
(`estart.request`) and counts it in the metrics. The record holds ids, names, codes, counts and
times only: no username, token, variable or value of a record (no personal data).

With `ESTART_LOG_FORMAT=json` every log record, uvicorn's included, is one JSON object per line
on stderr; `text` (the default) leaves logging as it was for development.

`GET /metrics` serves the metrics in Prometheus' text format to a caller presenting
`ESTART_METRICS_TOKEN` as its bearer token; without that setting the path does not exist.
"""

import hmac
import json
import logging
import re
import sys
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.faults import request_id_of

logger = logging.getLogger("estart.request")

# The facts of the current request, filled in as it runs (a dict: shared by reference with the
# resolvers' task and the database driver's greenlets).
_facts: ContextVar[dict[str, Any] | None] = ContextVar("estart_request_facts", default=None)

# Fields of a log record beyond the message, in this order.
FIELDS = (
    "request_id", "method", "path", "status", "duration_ms", "user_id", "operation", "operation_type",
    "outcome", "denials", "statements", "trace_id",
)  # fmt: skip
OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
MAX_OPERATION_LABELS = 200  # client-chosen names: beyond this many, "other" (bounded cardinality)


def request_facts() -> dict[str, Any] | None:
    return _facts.get()


# --- metrics -------------------------------------------------------------------------------------

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "estart_requests", "GraphQL requests by operation and outcome (OK or the first error code)",
    ["operation", "outcome"], registry=REGISTRY,
)  # fmt: skip
LATENCY = Histogram(
    "estart_request_duration_seconds", "Time to answer an HTTP request, by operation type",
    ["operation_type"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)  # fmt: skip
DENIALS = Counter("estart_denials", "FORBIDDEN answers by data category", ["category"], registry=REGISTRY)
LOGIN_FAILURES = Counter(
    "estart_login_failures", "Refused logins: bad credentials, or an account or address locked",
    ["reason"], registry=REGISTRY,
)  # fmt: skip
STATEMENTS = Histogram(
    "estart_db_statements_per_request", "Database statements one HTTP request ran", registry=REGISTRY,
    buckets=(0, 1, 2, 3, 5, 8, 13, 21, 34, 55, 100),
)  # fmt: skip
POOL_IN_USE = Gauge("estart_db_pool_connections_in_use", "Pooled database connections checked out", registry=REGISTRY)
POOL_SIZE = Gauge("estart_db_pool_size", "Connections the pool keeps", registry=REGISTRY)
_operations_seen: set[str] = set()


def _operation_label(name: str | None) -> str:
    if not name or not OPERATION_NAME.fullmatch(name):
        return "anonymous"
    if name not in _operations_seen and len(_operations_seen) >= MAX_OPERATION_LABELS:
        return "other"
    _operations_seen.add(name)
    return name


def _count(facts: dict[str, Any], duration: float) -> None:
    if facts.get("operation_type") is not None:
        REQUESTS.labels(_operation_label(facts.get("operation")), facts.get("outcome") or "OK").inc()
        for category, count in (facts.get("denied_categories") or {}).items():
            DENIALS.labels(category).inc(count)
        if facts.get("login_refused"):
            LOGIN_FAILURES.labels(facts["login_refused"]).inc()
    LATENCY.labels(facts.get("operation_type") or "other").observe(duration)
    STATEMENTS.observe(facts.get("statements", 0))


def _count_statement(*_: Any) -> None:
    facts = _facts.get()
    if facts is not None:
        facts["statements"] = facts.get("statements", 0) + 1


def instrument(engine: AsyncEngine) -> None:
    """Counts each request's statements and reports the engine's pool (once per engine)."""
    if not event.contains(engine.sync_engine, "before_cursor_execute", _count_statement):
        event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    pool: Any = engine.pool
    if hasattr(pool, "checkedout") and hasattr(pool, "size"):
        POOL_IN_USE.set_function(lambda: float(pool.checkedout()))
        POOL_SIZE.set_function(lambda: float(pool.size()))


# --- logs ----------------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the request's fields, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(log_format: str) -> None:
    """`json`: every record (uvicorn's too) as a JSON line on stderr, the request log replacing
    uvicorn's access lines; `text`: logging as it was."""
    if log_format != "json":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("casbin").setLevel(logging.ERROR)


def json_logging_for_uvicorn() -> None:
    """`estart serve` under ESTART_LOG_FORMAT=json: uvicorn's own start-up lines are JSON too.
    uvicorn.run applies its default logging configuration (the dict in uvicorn.config) before
    the app starts; this makes that configuration ours, in place."""
    from uvicorn.config import LOGGING_CONFIG

    LOGGING_CONFIG.clear()
    LOGGING_CONFIG.update(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"json": {"()": JsonFormatter}},
            "handlers": {
                "default": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
            },
            "root": {"handlers": ["default"], "level": "INFO"},
            "loggers": {
                "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
                "uvicorn.error": {"handlers": [], "level": "INFO", "propagate": True},
                # the request log (estart.request) says more, with request ids
                "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
                # Casbin logs every decision it makes at WARNING: not an operator's concern
                "casbin": {"level": "ERROR"},
            },
        }
    )


# --- the middleware ------------------------------------------------------------------------------


class RequestLog:
    def __init__(self, app: ASGIApp, log_format: str = "text", metrics_token: str | None = None) -> None:
        self.app = app
        self.log_format = log_format
        self.metrics_token = metrics_token or None
        self.instrumented = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            configure_logging(self.log_format)  # after uvicorn configured its own
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.instrumented and "app" in scope:
            engine = getattr(scope["app"].state, "engine", None)
            if engine is not None:
                instrument(engine)
            self.instrumented = True
        if scope["path"] == "/metrics" and self.metrics_token is not None:
            await self.metrics(scope, send)
            return
        state = scope.setdefault("state", {})
        request_id = request_id_of(scope)
        facts: dict[str, Any] = {"statements": 0}
        token = _facts.set(facts)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers", [])
                if not any(name.lower() == b"x-request-id" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _facts.reset(token)
            duration = time.perf_counter() - started
            _count(facts, duration)
            logger.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(duration * 1000, 3),
                    "user_id": facts.get("user_id"),
                    "operation": facts.get("operation"),
                    "operation_type": facts.get("operation_type"),
                    "outcome": facts.get("outcome"),
                    "denials": facts.get("denials"),
                    "statements": facts.get("statements"),
                    "trace_id": state.get("trace_id"),  # with tracing on (web/tracing.py)
                },
            )

    async def metrics(self, scope: Scope, send: Send) -> None:
        presented = b""
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                presented = value
        expected = f"Bearer {self.metrics_token}".encode()
        if scope["method"] != "GET" or not hmac.compare_digest(presented, expected):
            body = json.dumps(
                {
                    "data": None,
                    "errors": [
                        {"message": "Metrics need their bearer token", "extensions": {"code": "UNAUTHENTICATED"}}
                    ],
                }
            ).encode()
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"application/json"), (b"www-authenticate", b"Bearer"),
            ]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        body = generate_latest(REGISTRY)
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", CONTENT_TYPE_LATEST.encode()),
        ]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})
