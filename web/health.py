"""GET /readyz: whether this process can serve now. The database answers, accepts writes, and
is at the migration head this code expects; otherwise 503 with Retry-After, and ready again by
itself once the database is back (nothing is cached). /healthz stays a liveness check."""

import logging
import os
from collections.abc import Awaitable, Callable

from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from errors import Code
from models.migrate import alembic_config

logger = logging.getLogger("estart.health")


def expected_heads(database_url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


async def _problem(engine: AsyncEngine, expected: set[str]) -> str | None:
    try:
        async with engine.connect() as connection:
            current = set((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
            if current != expected:
                return f"the database is at migration {sorted(current)}, this code expects {sorted(expected)}"
            if engine.dialect.name == "postgresql":
                if await connection.scalar(text("SHOW transaction_read_only")) == "on":
                    return "the database is read-only"
            elif engine.url.database and not engine.url.database.startswith((":memory:", "file:")):
                path = os.path.abspath(engine.url.database)
                if not (os.access(path, os.W_OK) and os.access(os.path.dirname(path), os.W_OK)):
                    return "the database file is read-only"
    except Exception as exc:  # whatever it is, this process cannot serve now
        logger.warning("readyz: the database does not answer (%s)", type(exc).__name__)
        return "the database does not answer"
    return None


def readiness(engine: AsyncEngine, retry_after_seconds: int) -> Callable[[Request], Awaitable[Response]]:
    expected = expected_heads(engine.url.render_as_string(hide_password=False))

    async def readyz(_: Request) -> Response:
        problem = await _problem(engine, expected)
        if problem is None:
            return JSONResponse({"status": "ready"})
        error = {"message": problem, "extensions": {"code": Code.UNAVAILABLE.value}}
        return JSONResponse(
            {"status": "unavailable", "errors": [error]},
            status_code=503,
            headers={"retry-after": str(retry_after_seconds)},
        )

    return readyz
