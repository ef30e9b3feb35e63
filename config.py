"""Configuration, read once from the environment into a frozen object passed to create_app."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///estart.db"


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
    # Login throttling (resolvers/throttle.py), kept in the database so every process shares it.
    # After `*_throttle_after` failures in the window each attempt first waits `login_delay_seconds`,
    # doubling up to `login_delay_max_seconds`; the `*_lock_after`th failure locks for
    # `login_lock_minutes`, doubling with each consecutive lock up to `login_lock_max_minutes`.
    # An address is shared by a whole office behind one NAT, so its thresholds are higher.
    login_throttle_after: int = 5
    login_lock_after: int = 10
    login_address_throttle_after: int = 10
    login_address_lock_after: int = 30
    login_window_minutes: float = 15.0
    login_lock_minutes: float = 15.0
    login_lock_max_minutes: float = 24 * 60.0
    login_delay_seconds: float = 0.25
    login_delay_max_seconds: float = 4.0
    # At most this many login.failed audit events per process per minute (beyond the one per
    # account or address per minute); the rest are counted in one login.audit_suppressed event.
    login_audit_events_per_minute: int = 120
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "AppConfig":
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("ESTART_DATABASE_URL", DEFAULT_DATABASE_URL),
            session_hours=float(env.get("ESTART_SESSION_HOURS", "8")),
            graphiql=env.get("ESTART_GRAPHIQL", "false").lower() in {"1", "true", "yes"},
            limits=Limits.from_env(env),
            allowed_hosts=_list(env.get("ESTART_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")),
            cors_origins=_list(env.get("ESTART_CORS_ORIGINS", "")),
            crb_renewal_years=int(env.get("ESTART_CRB_RENEWAL_YEARS", "3")),
            closure_days=tuple(
                date.fromisoformat(day.strip()) for day in env.get("ESTART_CLOSURE_DAYS", "").split(",") if day.strip()
            ),
            **_protections(env),
        )


def _list(value: str) -> tuple[str, ...]:
    items = tuple(item.strip() for item in value.split(",") if item.strip())
    if "*" in items:
        raise ValueError("list the allowed hosts and origins one by one; '*' is refused")
    return items


PROTECTIONS = ("argon2_", "login_", "session_idle_", "statement_timeout_", "rate_limit_")


def _protections(env: Mapping[str, str]) -> dict[str, Any]:
    """Password hashing, login throttling, session idle expiry, timeouts, rate limits and
    trusted proxies, each ESTART_<FIELD NAME> (e.g. ESTART_LOGIN_LOCK_AFTER,
    ESTART_RATE_LIMIT_PER_TOKEN)."""
    names = [name for name in AppConfig.__dataclass_fields__ if name.startswith(PROTECTIONS)]
    values: dict[str, Any] = {
        name: type(getattr(AppConfig(), name))(env[f"ESTART_{name.upper()}"])
        for name in names
        if f"ESTART_{name.upper()}" in env
    }
    if "ESTART_TRUSTED_PROXIES" in env:
        values["trusted_proxies"] = _list(env["ESTART_TRUSTED_PROXIES"])
    return values
