"""Configuration, read once from the environment into a frozen object passed to create_app."""

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///estart.db"


class ConfigError(ValueError):
    """A setting the service cannot use; the message names the variable and the expected form."""


# The spellings of a switch (ESTART_GRAPHIQL): anything else is refused, never read as false.
FLAGS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
FLAG_FORM = "true or false (or 1/0, yes/no, on/off)"


@dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one GraphQL request, checked before any resolver runs."""

    max_depth: int = 15  # GraphiQL's introspection query needs 13
    max_aliases: int = 30
    max_tokens: int = 5000
    max_directives_per_field: int = 3
    max_cost: int = 1_000_000  # 1,000 families with their people, notes and relationships
    max_string_length: int = 20_000
    default_list_size: int = 5  # assumed length of a list without a `first` argument (carers, notes...)
    max_body_bytes: int = 1_000_000
    # The estimated cost one user's requests may add up to in a minute, in each process: twenty
    # requests at the cost limit, then RATE_LIMITED until the minute turns.
    max_cost_per_minute: int = 20_000_000

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Limits":
        defaults = cls()
        return cls(
            **{
                name: int(env.get(f"ESTART_{name.upper()}", getattr(defaults, name)))
                for name in cls.__dataclass_fields__
            }
        )


@dataclass(frozen=True, slots=True)
class AppConfig:
    database_url: str = DEFAULT_DATABASE_URL
    session_hours: float = 8.0
    graphiql: bool = False
    # `json`: one JSON object a line for every log record; `text`: plain lines for development.
    log_format: str = "text"
    # The bearer token that GET /metrics asks for; unset, /metrics does not exist (web/observe.py).
    metrics_token: str | None = None
    # OpenTelemetry's span exporters (web/tracing.py), from its own variables; none: tracing is off.
    trace_exporters: tuple[str, ...] = ()
    max_page_size: int = 1000
    limits: Limits = Limits()
    # Host headers the server answers (Starlette CVE-2026-48710: an unchecked Host poisons paths).
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
    # Browser origins allowed to call the API; none by default, never "*" (credentials travel).
    cors_origins: tuple[str, ...] = ()
    # Local closure days of the authority, which do not count as working days (standards 5).
    closure_days: tuple[date, ...] = ()
    # Standards 4: an enhanced CRB check is renewed every this many years (the authority sets
    # it; ESTART_CRB_RENEWAL_YEARS); data-protection training every year (resolvers/compliance.py).
    crb_renewal_years: int = 3
    # Parameters from the OWASP Password Storage Cheat Sheet for argon2id (m=19 MiB, t=2, p=1).
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1
    # Login throttling (auth/throttle.py), kept in the database so every process shares it, per
    # account from one address (source), per account and per address. After `*_throttle_after`
    # failures in the window each attempt first waits `login_delay_seconds`, doubling up to
    # `login_delay_max_seconds`; the `*_lock_after`th failure locks for `login_lock_minutes`,
    # doubling with each consecutive lock up to `login_lock_max_minutes`. A locked account still
    # admits, after the longest wait, an address with no failure against it in the window.
    # An address is shared by a whole office behind one NAT, so its thresholds are higher.
    login_throttle_after: int = 5
    login_lock_after: int = 10
    login_address_throttle_after: int = 10
    login_address_lock_after: int = 30
    login_window_minutes: float = 15.0
    login_lock_minutes: float = 15.0
    login_lock_max_minutes: float = 60.0
    login_delay_seconds: float = 0.25
    login_delay_max_seconds: float = 4.0
    # At most this many login.failed events a minute per process about names no user has and
    # addresses (each at most once a minute); the rest wait in their rows for the once-a-minute
    # sweep, which writes them aggregated. Failures of real accounts and lockouts are never capped.
    login_audit_events_per_minute: int = 120
    # The key of the usernames' MACs in login throttles and audit fingerprints (ESTART_LOGIN_KEY);
    # empty: a random key generated and stored in the database on first use (auth/login_key.py).
    login_key: str = field(default="", repr=False)
    # A session unused for this long ends, whatever its absolute expiry.
    session_idle_minutes: float = 30.0
    # Peers (addresses or networks) whose X-Forwarded-For is believed; none by default.
    trusted_proxies: tuple[str, ...] = ()
    # PostgreSQL cancels a statement running longer (TIMEOUT), so slow work cannot hold the pool.
    # Requests are not cancelled from Python: a task cancelled inside a database call can leave
    # its pooled connection unusable (seen with aiosqlite), which is worse than a slow answer.
    statement_timeout_ms: int = 15_000
    # GraphQL requests a minute per bearer token and per client address, counted in each
    # process (RATE_LIMITED, HTTP 429 with Retry-After). An office behind one NAT shares an address.
    rate_limit_per_token: int = 600
    rate_limit_per_address: int = 1200
    # The database connection (models/db.py). A pooled connection is tested before each use
    # (pool_pre_ping), so the first request after a database restart does not fail on a stale
    # connection. Connecting, a client-side wait for one command (beyond the server's
    # statement_timeout: a black-holed database) and a wait for a free pooled connection are
    # bounded; each ends in UNAVAILABLE (503 with Retry-After), never a hung request.
    db_pool_pre_ping: bool = True
    # Connections kept per process. Fewer than the requests a process holds in flight would make
    # SQLAlchemy open and close an overflow connection per request (connect, authenticate,
    # prepare every statement anew): 10 clients on a pool of 5 connected every fourth request.
    db_pool_size: int = 10
    db_connect_timeout_seconds: float = 5.0
    db_command_timeout_seconds: float = 30.0
    db_pool_timeout_seconds: float = 10.0
    # SQLite: writers are serialised in the process (one lock); a writer waiting longer than this
    # gets UNAVAILABLE. SQLite's own busy_timeout covers writers of other processes.
    db_sqlite_write_wait_seconds: float = 5.0
    # Uvicorn (estart serve): a connection must deliver a whole request (head and body) within
    # `http_request_timeout_seconds` of opening or of its previous response, and an idle
    # keep-alive connection is closed after `http_keep_alive_seconds`.
    http_request_timeout_seconds: float = 30.0
    http_keep_alive_seconds: int = 5
    # Retry-After of an UNAVAILABLE answer.
    retry_after_seconds: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "AppConfig":
        env = os.environ if env is None else env
        _check(env)
        return cls(
            database_url=env.get("ESTART_DATABASE_URL", DEFAULT_DATABASE_URL),
            session_hours=float(env.get("ESTART_SESSION_HOURS", "8")),
            graphiql=flag(env, "ESTART_GRAPHIQL", False),
            log_format=env.get("ESTART_LOG_FORMAT", "text").strip().lower(),
            metrics_token=env.get("ESTART_METRICS_TOKEN") or None,
            trace_exporters=trace_exporters(env),
            limits=Limits.from_env(env),
            allowed_hosts=_list(env.get("ESTART_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]"), "ESTART_ALLOWED_HOSTS"),
            cors_origins=_list(env.get("ESTART_CORS_ORIGINS", ""), "ESTART_CORS_ORIGINS"),
            crb_renewal_years=int(env.get("ESTART_CRB_RENEWAL_YEARS", "3")),
            closure_days=tuple(
                date.fromisoformat(day.strip()) for day in env.get("ESTART_CLOSURE_DAYS", "").split(",") if day.strip()
            ),
            **_protections(env),
        )


TRACE_EXPORTERS = ("otlp", "console")
OTLP_PROTOCOL = "http/protobuf"


def trace_exporters(env: Mapping[str, str]) -> tuple[str, ...]:
    """The span exporters OpenTelemetry's standard variables ask for: OTEL_TRACES_EXPORTER
    (otlp, console, both, or none), else otlp when an OTLP endpoint is set; none (tracing off)
    without them or with OTEL_SDK_DISABLED=true. Refuses what the [otel] extra cannot do."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ()
    named = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    exporters = tuple(item.strip() for item in named.split(",") if item.strip()) or (("otlp",) if endpoint else ())
    if exporters == ("none",):
        return ()
    for exporter in exporters:
        if exporter not in TRACE_EXPORTERS:
            raise ConfigError(f"OTEL_TRACES_EXPORTER={named!r}: expected otlp, console, otlp,console or none")
    for variable in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        protocol = env.get(variable, OTLP_PROTOCOL).strip().lower()
        if "otlp" in exporters and protocol != OTLP_PROTOCOL:
            raise ConfigError(f"{variable}={protocol!r}: expected {OTLP_PROTOCOL} (the OTLP exporter of [otel])")
    return exporters


def _list(value: str, name: str = "ESTART_TRUSTED_PROXIES") -> tuple[str, ...]:
    items = tuple(item.strip() for item in value.split(",") if item.strip())
    if "*" in items:
        raise ConfigError(f"{name}: list the allowed hosts and origins one by one; '*' is refused")
    return items


def flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name)
    if value is None:
        return default
    try:
        return FLAGS[value.strip().lower()]
    except KeyError:
        raise ConfigError(f"{name}={value!r}: expected {FLAG_FORM}") from None


# Whole numbers that cannot be 0: argon2 cannot hash with no pass or no lane (every login would
# fail), and SQLAlchemy reads a pool_size of 0 as "no limit" on the connections it opens.
AT_LEAST_ONE = ("argon2_time_cost", "argon2_parallelism", "db_pool_size")


def _checked(name: str, value: str, default: Any, least: int = 0) -> None:
    """Refuses a value that does not have the form of the setting's default, or is below `least`."""
    if isinstance(default, bool):
        flag({name: value}, name, default)
        return
    if not isinstance(default, int | float):  # text (a key, a name): any value has its form
        return
    kind = "a whole number" if isinstance(default, int) else "a number"
    try:
        number = int(value) if isinstance(default, int) else float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r}: expected {kind}, e.g. {default}") from None
    if not least <= number < float("inf"):
        raise ConfigError(f"{name}={value!r}: expected {kind} of {least} or more, e.g. {default}")


def _check(env: Mapping[str, str]) -> None:
    """Every ESTART_ setting present has its expected form, or ConfigError names it."""
    numbers: dict[str, Any] = {"session_hours": AppConfig().session_hours}
    numbers |= {name: getattr(Limits(), name) for name in Limits.__dataclass_fields__}
    numbers |= {
        name: getattr(AppConfig(), name) for name in AppConfig.__dataclass_fields__ if name.startswith(PROTECTIONS)
    }
    for name, default in numbers.items():
        variable = f"ESTART_{name.upper()}"
        if variable in env:
            _checked(variable, env[variable], default, 1 if name in AT_LEAST_ONE else 0)
    if float(env.get("ESTART_SESSION_HOURS", "8")) <= 0:
        raise ConfigError(f"ESTART_SESSION_HOURS={env['ESTART_SESSION_HOURS']!r}: expected a number of hours above 0")
    _check_argon2(env)
    log_format = env.get("ESTART_LOG_FORMAT", "text")
    if log_format.strip().lower() not in ("text", "json"):
        raise ConfigError(f"ESTART_LOG_FORMAT={log_format!r}: expected text or json")
    metrics_token = env.get("ESTART_METRICS_TOKEN")
    if metrics_token is not None and metrics_token and len(metrics_token) < 32:
        raise ConfigError("ESTART_METRICS_TOKEN: expected a secret of 32 characters or more")
    for day in env.get("ESTART_CLOSURE_DAYS", "").split(","):
        try:
            date.fromisoformat(day.strip()) if day.strip() else None
        except ValueError:
            raise ConfigError(
                f"ESTART_CLOSURE_DAYS: {day.strip()!r} is not a date; expected ISO dates separated by commas, "
                "e.g. 2026-12-29,2026-12-30"
            ) from None
    for proxy in _list(env.get("ESTART_TRUSTED_PROXIES", "")):
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(
                f"ESTART_TRUSTED_PROXIES: {proxy!r} is not an address or network; expected e.g. 10.0.0.5,10.1.0.0/16"
            ) from None


def _check_argon2(env: Mapping[str, str]) -> None:
    """Memory argon2 can hash with (each password would otherwise fail at its login): 8 KiB a lane."""
    defaults = AppConfig()
    lanes = int(env.get("ESTART_ARGON2_PARALLELISM", defaults.argon2_parallelism))
    memory = int(env.get("ESTART_ARGON2_MEMORY_KIB", defaults.argon2_memory_kib))
    if memory < 8 * lanes:
        raise ConfigError(
            f"ESTART_ARGON2_MEMORY_KIB={env.get('ESTART_ARGON2_MEMORY_KIB', str(memory))!r}: expected at least "
            f"8 KiB a lane ({8 * lanes} with ESTART_ARGON2_PARALLELISM={lanes}), e.g. {defaults.argon2_memory_kib}"
        )


PROTECTIONS = (
    "argon2_",
    "login_",
    "session_idle_",
    "statement_timeout_",
    "rate_limit_",
    "db_",
    "http_",
    "retry_after_",
)


def _protections(env: Mapping[str, str]) -> dict[str, Any]:
    """Password hashing, login throttling, session idle expiry, timeouts, rate limits, the
    database connection, HTTP timeouts and trusted proxies, each ESTART_<FIELD NAME> (e.g.
    ESTART_LOGIN_LOCK_AFTER, ESTART_RATE_LIMIT_PER_TOKEN, ESTART_DB_CONNECT_TIMEOUT_SECONDS)."""
    names = [name for name in AppConfig.__dataclass_fields__ if name.startswith(PROTECTIONS)]
    values: dict[str, Any] = {
        name: _typed(getattr(AppConfig(), name), env[f"ESTART_{name.upper()}"])
        for name in names
        if f"ESTART_{name.upper()}" in env
    }
    if "ESTART_TRUSTED_PROXIES" in env:
        values["trusted_proxies"] = _list(env["ESTART_TRUSTED_PROXIES"])
    return values


def _typed(default: Any, value: str) -> Any:
    if isinstance(default, bool):
        return value.strip().lower() in {"1", "true", "yes"}
    return type(default)(value)
