"""How the `estart` command speaks to a person: its --help (options and environment), which
database it uses (password masked), and one plain line instead of a traceback for what a person
can put right (a wrong database URL, an unreachable database, a bad setting, no terminal for a
password prompt, a database behind the code's migrations). server.main is the command itself."""

import argparse
import asyncio
import contextlib
import getpass
import json
import os
import socket
import sqlite3
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import NoReturn, TextIO

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from config import DEFAULT_DATABASE_URL, ConfigError

DATABASE_FORMS = "sqlite+aiosqlite:///estart.db or postgresql+asyncpg://USER:PASSWORD@HOST:5432/NAME"

ENVIRONMENT = f"""environment:
  ESTART_DATABASE_URL  the database (default {DEFAULT_DATABASE_URL}, a file in the working folder);
                       {DATABASE_FORMS}
  every command reads its settings from ESTART_ variables once, at start-up; a value of the wrong
  form stops it with the variable's name (README.md, "Configuration")"""

SERVE_ENVIRONMENT = """environment (besides ESTART_DATABASE_URL; README.md "Configuration" has them all):
  ESTART_GRAPHIQL        true serves GraphiQL on GET /graphql (default false)
  ESTART_ALLOWED_HOSTS   Host headers answered (default localhost,127.0.0.1,[::1]): list the public
                         name when serving on --host 0.0.0.0
  ESTART_CORS_ORIGINS    browser origins allowed to call the API (default none)
  ESTART_TRUSTED_PROXIES reverse proxies whose X-Forwarded-For is believed (default none)
  ESTART_LOG_FORMAT      json: one JSON log record a line, one per request (default text)
  ESTART_METRICS_TOKEN   bearer token of GET /metrics, 32 characters or more (unset: no /metrics)
  OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_EXPORTER
                         OpenTelemetry tracing, off unless set (pip install -e '.[otel]')
  ESTART_SESSION_HOURS, ESTART_SESSION_IDLE_MINUTES, ESTART_STATEMENT_TIMEOUT_MS,
  ESTART_RATE_LIMIT_PER_TOKEN, ESTART_RATE_LIMIT_PER_ADDRESS, ESTART_MAX_*, ESTART_LOGIN_*,
  ESTART_ARGON2_*, ESTART_DB_*, ESTART_HTTP_*, ESTART_CRB_RENEWAL_YEARS, ESTART_CLOSURE_DAYS"""


class Refused(Exception):
    """What the person must put right, in one line; the command exits with status 1."""


def fail(message: str, status: int = 1) -> NoReturn:
    print(f"estart: {message}", file=sys.stderr, flush=True)
    # A database driver's worker thread may still trip over the closed event loop on the way
    # out (aiosqlite after a failed connect): the failure has been said, once.
    threading.excepthook = lambda _: None
    raise SystemExit(status)


# --- the database URL ------------------------------------------------------------------------


def check_database_url(url: str) -> URL:
    """The parsed URL, or Refused saying what is wrong with its form."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise Refused(f"ESTART_DATABASE_URL is not a database URL; expected {DATABASE_FORMS}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.drivername != "sqlite+aiosqlite":
            raise Refused(
                f"ESTART_DATABASE_URL names the driver {parsed.drivername}; the service needs the async one: "
                f"sqlite+aiosqlite:///{parsed.database or 'estart.db'}"
            )
        if not parsed.database or parsed.database == ":memory:":
            raise Refused("ESTART_DATABASE_URL names no SQLite file; expected e.g. sqlite+aiosqlite:///estart.db")
        folder = Path(parsed.database).resolve().parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise Refused(
                f"cannot open the SQLite file {Path(parsed.database).resolve()}: its folder must exist and be writable"
            )
    elif backend == "postgresql":
        if parsed.drivername != "postgresql+asyncpg":
            shown = parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=True)
            raise Refused(
                f"ESTART_DATABASE_URL names the driver {parsed.drivername}; the service needs asyncpg: {shown}"
            )
        if not parsed.database:
            raise Refused("ESTART_DATABASE_URL names no database; expected postgresql+asyncpg://USER@HOST:5432/NAME")
    else:
        raise Refused(f"ESTART_DATABASE_URL names {backend}; eStart runs on SQLite or PostgreSQL: {DATABASE_FORMS}")
    return parsed


def shown_database(url: str) -> str:
    """The database as a person recognises it, without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {Path(parsed.database or '').resolve()}"
    return f"PostgreSQL {parsed.render_as_string(hide_password=True)}"


# --- failures a person can put right -----------------------------------------------------------


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]


def database_failure(error: BaseException, url: str) -> str | None:
    """One line for a failure to reach or use the database, or None for anything else."""
    parsed = make_url(url)
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    causes = list(_causes(error))
    for cause in causes:
        name = type(cause).__name__
        if name == "InvalidCatalogNameError":
            return (
                f"the database {parsed.database!r} does not exist on {where}: create it "
                f"(createdb {parsed.database}) or correct ESTART_DATABASE_URL"
            )
        if name in ("InvalidPasswordError", "InvalidAuthorizationSpecificationError"):
            return f"the database at {where} refused the login: {str(cause).splitlines()[0]}"
        if isinstance(cause, socket.gaierror):
            return f"cannot find the database host {parsed.host!r}: correct ESTART_DATABASE_URL"
        if isinstance(cause, ConnectionRefusedError) or (isinstance(cause, OSError) and "Connect call" in str(cause)):
            return f"cannot connect to the database at {where}: connection refused (is PostgreSQL running there?)"
        if isinstance(cause, TimeoutError):
            return f"no answer from the database at {where}"
        if isinstance(cause, sqlite3.OperationalError) and "unable to open" in str(cause):
            return (
                f"cannot open the SQLite file {Path(parsed.database or '').resolve()}: "
                "its folder must exist and be writable"
            )
    for cause in causes:
        if isinstance(cause, DBAPIError | sqlite3.Error):
            detail = str(getattr(cause, "orig", None) or cause).splitlines()[0]
            return f"the database failed: {detail}"
    return None


@contextlib.contextmanager
def plainly(url: str) -> Iterator[None]:
    """Turns what a person can put right into one line on stderr and a non-zero exit."""
    try:
        yield
    except Refused as refusal:
        fail(str(refusal))
    except ConfigError as error:
        fail(str(error), status=2)
    except KeyboardInterrupt:
        fail("interrupted", status=130)
    except Exception as error:
        message = database_failure(error, url) if url else None
        if message is None:
            raise
        fail(message)


def positive_int(value: str) -> int:
    """An argument that counts something: 1 or more."""
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of 1 or more")
    return int(value)


# --- create-admin ------------------------------------------------------------------------------


def iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; expected YYYY-MM-DD") from None


def prompted_password() -> str:
    """The password typed twice at a terminal; Refused without one."""
    if not sys.stdin.isatty():
        raise Refused("no terminal to prompt for the password: pipe it in with --password-stdin")
    try:
        password = getpass.getpass("Password (12 to 256 characters): ")
        again = getpass.getpass("The same password again: ")
    except EOFError:
        raise Refused("no password was typed") from None
    if password != again:
        raise Refused("the two passwords differ; nothing was created")
    return password


def stdin_password() -> str:
    line = sys.stdin.readline()
    if not line:
        raise Refused("--password-stdin: standard input is empty; pipe the password in")
    return line.rstrip("\r\n")


# --- migrations --------------------------------------------------------------------------------


def require_current_schema(url: str) -> None:
    """Refused unless the database is at the code's migration head."""
    from models.migrate import current_revisions, head_revision, known_revision

    head = head_revision()
    current = asyncio.run(current_revisions(url))
    if current == (head,):
        return
    at = ", ".join(current) or "no migration"
    if any(not known_revision(revision) for revision in current):
        raise Refused(
            f"the database is at migration {at}, which this code does not know (a newer version migrated it): "
            "run that version, or restore the database's backup"
        )
    raise Refused(
        f"the database is at migration {at} and this code needs {head}: back it up, then run "
        "`estart migrate` (or start with `estart serve --migrate`)"
    )


def check_admin(username: str, password: str | None, crb_checked_on: date, trained_on: date) -> str:
    """The username create-admin will create, under createUser's rules; Refused otherwise (the
    password is checked when given)."""
    from auth.passwords import PASSWORD_LENGTH
    from errors import BadUserInput
    from resolvers import validation

    name = username.strip().lower()
    if not validation.USERNAME.fullmatch(name):
        raise Refused(f"username {username!r}: 3 to 100 lower-case letters, digits, '.', '_' or '-'")
    if password is not None and not PASSWORD_LENGTH[0] <= len(password) <= PASSWORD_LENGTH[1]:
        raise Refused(f"the password must be {PASSWORD_LENGTH[0]} to {PASSWORD_LENGTH[1]} characters")
    today = validation.today()
    for option, value in (("--crb-checked-on", crb_checked_on), ("--data-protection-trained-on", trained_on)):
        try:
            validation.past_date(value, option, today)
        except BadUserInput as error:
            raise Refused(str(error)) from None
    return name


# --- serve --------------------------------------------------------------------------------------

EVERY_ADDRESS = {"0.0.0.0", "::", ""}


def address_check(host: str, port: int, allowed_hosts: tuple[str, ...]) -> tuple[str, str | None]:
    """The address `serve` shows for GraphiQL, and a warning when the Host header of that address
    (or, listening on every address, of any other machine) would be refused with 400."""
    shown = "localhost" if host in EVERY_ADDRESS else (f"[{host}]" if ":" in host else host)
    url = f"http://{shown}:{port}/graphql"
    if host in EVERY_ADDRESS and not set(allowed_hosts) - {"localhost", "127.0.0.1", "[::1]"}:
        return url, (
            f"listening on every address, but only the Host headers {', '.join(allowed_hosts)} are answered: "
            "list the names or addresses clients use in ESTART_ALLOWED_HOSTS"
        )
    if host not in EVERY_ADDRESS and shown not in allowed_hosts:
        return url, f"{shown} is not in ESTART_ALLOWED_HOSTS: requests to {url} are refused (400) until it is"
    return url, None


def announce(log_format: str, message: str, stream: TextIO | None = None) -> None:
    """A line for the operator: plain, or a JSON log record under ESTART_LOG_FORMAT=json."""
    if log_format == "json":
        when = datetime.now(UTC).isoformat(timespec="milliseconds")
        message = json.dumps({"time": when, "level": "INFO", "logger": "estart.cli", "message": message})
    print(message, file=stream or sys.stderr, flush=True)
