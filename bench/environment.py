"""The machine, the packages and how busy the machine was: the report's Environment table."""

import contextlib
import importlib.metadata
import importlib.util
import os
import platform
import sqlite3
from pathlib import Path

from sqlalchemy import text

from bench import seed as seeding
from models.db import make_engine

PACKAGES = [
    "strawberry-graphql", "graphql-core", "casbin", "SQLAlchemy", "aiosqlite", "asyncpg", "aiodataloader",
    "orjson", "starlette", "uvicorn", "httpx", "uvloop", "httptools",
]  # fmt: skip


def environment() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    versions = []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{name} (not installed)")
    return {
        "CPU": f"{cpu} × {os.cpu_count()} logical CPUs",
        "OS": f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "packages": ", ".join(versions),
        "SQLite": sqlite3.sqlite_version,
        "uvicorn": "loop auto ({}), http auto ({}), 1 worker, access log off".format(
            "uvloop" if _has("uvloop") else "asyncio", "httptools" if _has("httptools") else "h11"
        ),
    }


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


async def pg_version() -> str:
    engine = make_engine(seeding.PG_SERVER)
    try:
        async with engine.connect() as connection:
            return str((await connection.execute(text("SHOW server_version"))).scalar())
    except Exception as error:  # the report still gets written
        return f"unknown ({error.__class__.__name__})"
    finally:
        await engine.dispose()


def load_average() -> str:
    """Other processes on the machine skew absolute numbers; the report says how busy it was."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return ", ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"
