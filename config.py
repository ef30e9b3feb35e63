"""Configuration, read once from the environment into a frozen object passed to create_app."""

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///estart.db"


@dataclass(frozen=True, slots=True)
class AppConfig:
    database_url: str = DEFAULT_DATABASE_URL
    session_hours: float = 8.0
    graphiql: bool = False
    max_page_size: int = 1000
    # Local closure days of the authority, which do not count as working days (standards 5).
    closure_days: tuple[date, ...] = ()
    # Parameters from the OWASP Password Storage Cheat Sheet for argon2id (m=19 MiB, t=2, p=1).
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19456
    argon2_parallelism: int = 1

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "AppConfig":
        env = os.environ if env is None else env
        return cls(
            database_url=env.get("ESTART_DATABASE_URL", DEFAULT_DATABASE_URL),
            session_hours=float(env.get("ESTART_SESSION_HOURS", "8")),
            graphiql=env.get("ESTART_GRAPHIQL", "false").lower() in {"1", "true", "yes"},
            closure_days=tuple(
                date.fromisoformat(day.strip()) for day in env.get("ESTART_CLOSURE_DAYS", "").split(",") if day.strip()
            ),
        )
