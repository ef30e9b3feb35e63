"""The `estart` command line of API.md, run as the installed console script in subprocesses,
on an SQLite database of this module's own (whatever ESTART_TEST_DATABASE_URL says)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from demo.seed import DEMO_PASSWORD, USERS

pytestmark = pytest.mark.own_sqlite
ESTART = Path(sys.executable).parent / "estart"


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    """The path of a database file of the test's own, not yet created."""
    return tmp_path / "estart.db"


@pytest.fixture
def database(empty: Path) -> Path:
    """A migrated database of the test's own: no test depends on what another left behind."""
    result = estart(empty, "migrate")
    assert result.returncode == 0, result.stderr
    return empty


def estart(
    database: Path, *args: str, stdin: str | None = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`estart ARGS` on the SQLite file `database` (or ESTART_DATABASE_URL in `env`), with no
    terminal: standard input is a pipe."""
    assert ESTART.exists(), f"{ESTART} is missing: install the project with `python3 dev.py test`"
    environment = {**os.environ, "ESTART_DATABASE_URL": f"sqlite+aiosqlite:///{database}", **(env or {})}
    environment.pop("ESTART_TEST_DATABASE_URL", None)
    return subprocess.run(
        [str(ESTART), *args], input=stdin, capture_output=True, text=True, env=environment, cwd=database.parent,
        timeout=60,
    )  # fmt: skip


def rows(database: Path, sql: str, *parameters: object) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(database)
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


def test_migrate_creates_the_schema_and_is_idempotent(empty: Path) -> None:
    for _ in range(2):
        result = estart(empty, "migrate")
        assert result.returncode == 0, result.stderr
    assert rows(empty, "SELECT count(*) FROM alembic_version") == [(1,)]


def test_create_admin_reads_the_password_from_stdin_and_refuses_a_duplicate(database: Path) -> None:
    created = estart(database, "create-admin", "Root-Admin", "--password-stdin", stdin="a long enough password\n")
    assert created.returncode == 0, created.stderr
    assert "root-admin" in created.stdout
    roles = "SELECT r.role, r.setting_id FROM users u JOIN role_assignments r ON r.user_id = u.id WHERE u.username = ?"
    assert rows(database, roles, "root-admin") == [("system_administrator", None)]

    duplicate = estart(database, "create-admin", "root-admin", "--password-stdin", stdin="another long password\n")
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr
    assert rows(database, "SELECT count(*) FROM users WHERE username = 'root-admin'") == [(1,)]


def test_seed_demo_is_refused_beside_real_accounts(tmp_path: Path) -> None:
    database = tmp_path / "deployed.db"
    assert estart(database, "migrate").returncode == 0
    assert (
        estart(database, "create-admin", "root", "--password-stdin", stdin="a-long-admin-passphrase\n").returncode == 0
    )
    refused = estart(database, "seed-demo")
    assert refused.returncode == 1
    assert "accounts other than the demo's (--force seeds anyway)" in refused.stdout
    assert "published password demo-password-2026" in refused.stderr
    assert rows(database, "SELECT count(*) FROM users WHERE username = 'manager'") == [(0,)]

    forced = estart(database, "seed-demo", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "demo data created" in forced.stdout and "published password" in forced.stderr
    assert rows(database, "SELECT count(*) FROM users WHERE username = 'manager'") == [(1,)]


def test_seed_demo_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    first = estart(database, "seed-demo")
    assert first.returncode == 0, first.stderr
    assert "manager" in first.stdout and DEMO_PASSWORD in first.stdout
    counts = "SELECT (SELECT count(*) FROM settings), (SELECT count(*) FROM users), (SELECT count(*) FROM families)"
    seeded = rows(database, counts)
    assert seeded[0][0] == 3 and seeded[0][2] == 12
    assert {name for name, *_ in USERS} <= {name for (name,) in rows(database, "SELECT username FROM users")}

    second = estart(database, "seed-demo")
    assert second.returncode == 0, second.stderr
    assert "already present" in second.stdout
    assert rows(database, counts) == seeded


def test_demo_logins_need_no_password_change(tmp_path: Path) -> None:
    """Only a password an administrator sets through the API must be changed; the demo seed's
    published logins keep working as the README shows them."""
    database = tmp_path / "demo.db"
    assert estart(database, "seed-demo").returncode == 0
    assert rows(database, "SELECT count(*) FROM users WHERE must_change_password") == [(0,)]
    assert rows(database, "SELECT count(*) FROM users") == [(len(USERS),)]


@pytest.mark.parametrize("weak", ["aaaaaaaaaaaa", "password1234", "first-admin-password"])
def test_create_admin_refuses_a_weak_password_without_quoting_it(tmp_path: Path, weak: str) -> None:
    database = tmp_path / "weak.db"
    result = estart(database, "create-admin", "first-admin", "--password-stdin", stdin=f"{weak}\n")
    assert result.returncode != 0 and "password" in result.stderr
    assert weak not in result.stderr + result.stdout
    assert rows(database, "SELECT count(*) FROM users") == [(0,)]


# --- the command line speaks plainly -----------------------------------------------------------


def one_plain_line(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal: a non-zero exit and one `estart:` line on stderr (beside the database line)."""
    assert result.returncode != 0, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if not line.startswith("database: ")]
    assert len(lines) == 1 and lines[0].startswith("estart: "), result.stderr
    return lines[0]


BAD_URLS = {
    "sync-sqlite": ("sqlite:///estart.db", "sqlite+aiosqlite:///estart.db"),
    "no-asyncpg": ("postgresql://estart@127.0.0.1/estart", "postgresql+asyncpg://estart@127.0.0.1/estart"),
    "psycopg2": ("postgresql+psycopg2://estart@127.0.0.1/estart", "the service needs asyncpg"),
    "not-a-url": ("estart.db", "is not a database URL"),
    "mysql": ("mysql+aiomysql://estart@127.0.0.1/estart", "eStart runs on SQLite or PostgreSQL"),
    "no-folder": ("sqlite+aiosqlite:////nonexistent-folder/estart.db", "its folder must exist"),
    "refused": ("postgresql+asyncpg://estart:s3cret@127.0.0.1:1/estart", "127.0.0.1:1: connection refused"),
}


@pytest.mark.parametrize("kind", BAD_URLS)
def test_a_wrong_database_url_is_one_plain_line(tmp_path: Path, kind: str) -> None:
    url, expected = BAD_URLS[kind]
    result = estart(tmp_path / "unused.db", "migrate", env={"ESTART_DATABASE_URL": url})
    assert expected in one_plain_line(result)
    assert "s3cret" not in result.stderr + result.stdout


def test_every_command_says_which_database_it_uses_with_the_password_masked(tmp_path: Path) -> None:
    database = tmp_path / "shown.db"
    assert f"database: SQLite file {database}" in estart(database, "migrate").stderr
    result = estart(database, "migrate", env={"ESTART_DATABASE_URL": BAD_URLS["refused"][0]})
    assert "database: PostgreSQL postgresql+asyncpg://estart:***@127.0.0.1:1/estart" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ESTART_SESSION_HOURS", "eight", "ESTART_SESSION_HOURS='eight': expected a number"),
        ("ESTART_GRAPHIQL", "maybe", "ESTART_GRAPHIQL='maybe': expected true or false"),
        ("ESTART_MAX_DEPTH", "deep", "ESTART_MAX_DEPTH='deep': expected a whole number"),
        ("ESTART_LOGIN_LOCK_AFTER", "-3", "ESTART_LOGIN_LOCK_AFTER='-3': expected a whole number of 0 or more"),
        ("ESTART_CLOSURE_DAYS", "2026-12-32", "ESTART_CLOSURE_DAYS: '2026-12-32' is not a date"),
        ("ESTART_TRUSTED_PROXIES", "proxy.example", "ESTART_TRUSTED_PROXIES: 'proxy.example' is not an address"),
        ("ESTART_ALLOWED_HOSTS", "*", "ESTART_ALLOWED_HOSTS: list the allowed hosts"),
        # argon2 could not hash with these: every login would fail
        ("ESTART_ARGON2_MEMORY_KIB", "1", "ESTART_ARGON2_MEMORY_KIB='1': expected at least 8 KiB a lane"),
        ("ESTART_ARGON2_PARALLELISM", "0", "ESTART_ARGON2_PARALLELISM='0': expected a whole number of 1 or more"),
        ("ESTART_ARGON2_TIME_COST", "0", "ESTART_ARGON2_TIME_COST='0': expected a whole number of 1 or more"),
        # SQLAlchemy would read 0 as a pool without a limit
        ("ESTART_DB_POOL_SIZE", "0", "ESTART_DB_POOL_SIZE='0': expected a whole number of 1 or more, e.g. 10"),
        ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER='zipkin': expected otlp, console"),
    ],
)
def test_a_bad_setting_names_the_variable_and_the_expected_form(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = estart(tmp_path / "unused.db", "migrate", env={variable: value})
    assert result.returncode == 2
    assert expected in one_plain_line(result)


@pytest.mark.parametrize(("value", "expected"), [("on", True), ("off", False), ("TRUE", True), ("0", False)])
def test_graphiql_switch_spellings_are_read_never_silently_false(value: str, expected: bool) -> None:
    from config import AppConfig

    assert AppConfig.from_env({"ESTART_GRAPHIQL": value}).graphiql is expected


def test_create_admin_without_a_terminal_says_to_pipe_the_password(tmp_path: Path) -> None:
    database = tmp_path / "admin.db"
    assert "--password-stdin" in one_plain_line(estart(database, "create-admin", "root", stdin=""))


@pytest.mark.parametrize(
    ("args", "password", "expected"),
    [
        (["Not A Name"], "a long enough password", "username 'Not A Name': 3 to 100 lower-case letters"),
        (["ab"], "a long enough password", "username 'ab'"),
        (["root", "--crb-checked-on", "2999-01-01"], "a long enough password", "--crb-checked-on is in the future"),
        (["root", "--data-protection-trained-on", "2999-01-01"], "a long enough password", "is in the future"),
        (["root"], "too short", "the password must be 12 to 256 characters"),
        (["root"], "", "the password must be 12 to 256 characters"),
    ],
    ids=["spaces", "too-short-name", "crb-future", "training-future", "short-password", "empty-password"],
)
def test_create_admin_applies_create_users_rules(tmp_path: Path, args: list[str], password: str, expected: str) -> None:
    database = tmp_path / "admin.db"
    result = estart(database, "create-admin", *args, "--password-stdin", stdin=password + "\n")
    assert expected in one_plain_line(result)
    assert not database.exists() or rows(database, "SELECT count(*) FROM users") == [(0,)]


def test_create_admin_refuses_a_date_that_is_not_a_date(tmp_path: Path) -> None:
    result = estart(tmp_path / "admin.db", "create-admin", "root", "--crb-checked-on", "yesterday")
    assert result.returncode == 2 and "'yesterday' is not a date; expected YYYY-MM-DD" in result.stderr


def at_a_terminal(database: Path, args: list[str], answers: list[str]) -> tuple[int, str]:
    """`estart ARGS` with a terminal (a pseudo-terminal), typing each answer at its prompt."""
    import pty
    import select

    controller, terminal = pty.openpty()
    env = {**os.environ, "ESTART_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    env.pop("ESTART_TEST_DATABASE_URL", None)
    process = subprocess.Popen(
        [str(ESTART), *args], stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=database.parent,
        start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    seen, since, pending = b"", b"", list(answers)
    try:
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            seen, since = seen + chunk, since + chunk
            if pending and since.rstrip().endswith(b":"):  # a new prompt, not the last one's echo
                os.write(controller, pending.pop(0).encode() + b"\n")
                since = b""
    finally:
        os.close(controller)
    return process.wait(timeout=60), seen.decode(errors="replace")


def test_create_admin_confirms_a_prompted_password(tmp_path: Path) -> None:
    database = tmp_path / "prompted.db"
    status, output = at_a_terminal(database, ["create-admin", "root"], ["a long enough password", "a different one!"])
    assert status == 1 and "the two passwords differ; nothing was created" in output
    status, output = at_a_terminal(
        database, ["create-admin", "root"], ["a long enough password", "a long enough password"]
    )
    assert status == 0 and "created system administrator root" in output, output
    assert rows(database, "SELECT count(*) FROM users WHERE username = 'root'") == [(1,)]


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("migrate", []),
        ("create-admin", ["--password-stdin", "--crb-checked-on", "--data-protection-trained-on"]),
        ("seed-demo", ["--force"]),
        ("compact-feed", []),
        (
            "serve",
            [
                "--host",
                "--port",
                "--migrate",
                "--workers",
                "ESTART_GRAPHIQL",
                "ESTART_ALLOWED_HOSTS",
                "ESTART_LOG_FORMAT",
                "ESTART_METRICS_TOKEN",
                "OTEL_EXPORTER_OTLP_ENDPOINT",
            ],
        ),
        ("import-postcodes", ["file"]),
    ],
)
def test_help_documents_each_commands_options_and_environment(tmp_path: Path, command: str, options: list[str]) -> None:
    result = estart(tmp_path / "unused.db", command, "--help")
    assert result.returncode == 0
    assert "environment:" in result.stdout and "ESTART_DATABASE_URL" in result.stdout
    assert all(option in result.stdout for option in options), result.stdout


# --- upgrades cannot fail silently -------------------------------------------------------------


def test_serve_refuses_a_database_behind_the_code_unless_told_to_migrate(tmp_path: Path) -> None:
    from alembic import command

    from models.migrate import alembic_config, head_revision
    from tests.test_e2e_http import free_port, wait_until_healthy

    database = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{database}"
    command.upgrade(alembic_config(url), "0003_login_security")
    port = str(free_port())
    line = one_plain_line(estart(database, "serve", "--port", port))
    assert f"at migration 0003_login_security and this code needs {head_revision()}" in line
    assert "`estart migrate`" in line and "--migrate" in line
    assert rows(database, "SELECT version_num FROM alembic_version") == [("0003_login_security",)]

    env = {**os.environ, "ESTART_DATABASE_URL": url}
    env.pop("ESTART_TEST_DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(ESTART), "serve", "--port", port, "--migrate"], stdout=output, stderr=subprocess.STDOUT, env=env
        )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server, log)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert rows(database, "SELECT version_num FROM alembic_version") == [(head_revision(),)]


def test_export_schema_prints_the_committed_sdl(tmp_path: Path) -> None:
    result = estart(tmp_path / "unused.db", "export-schema", env={"ESTART_DATABASE_URL": "not used"})
    assert result.returncode == 0, result.stderr
    assert result.stdout == (Path(__file__).resolve().parent.parent / "schema.graphql").read_text(encoding="utf-8")
    assert result.stderr == "" and not (tmp_path / "unused.db").exists()


def test_serve_shows_an_address_that_is_answered_and_warns_when_hosts_would_be_refused() -> None:
    from cli import address_check

    local = ("localhost", "127.0.0.1", "[::1]")
    assert address_check("127.0.0.1", 8000, local) == ("http://127.0.0.1:8000/graphql", None)
    # on every address, the address shown is one this machine answers; other machines' Host
    # headers would be refused until ESTART_ALLOWED_HOSTS lists them
    url, warning = address_check("0.0.0.0", 8000, local)
    assert url == "http://localhost:8000/graphql" and warning is not None and "ESTART_ALLOWED_HOSTS" in warning
    assert address_check("0.0.0.0", 8000, (*local, "estart.council.example")) == (url, None)
    url, warning = address_check("10.0.0.5", 8000, local)
    assert url == "http://10.0.0.5:8000/graphql" and warning is not None and "10.0.0.5 is not in" in warning
    assert address_check("::1", 8000, local) == ("http://[::1]:8000/graphql", None)


# --- several workers -----------------------------------------------------------------------------


def test_serve_passes_workers_to_uvicorn_as_processes_that_build_the_app_from_the_environment() -> None:
    import uvicorn

    from config import AppConfig
    from server import parser, serve_options

    config = AppConfig(database_url="sqlite+aiosqlite:///unused.db")
    options = serve_options(parser().parse_args(["serve", "--workers", "3", "--port", "8123"]), config)
    assert options["workers"] == 3 and options["factory"] is True and options["app"] == "server:app_from_env"
    assert options["port"] == 8123 and options["access_log"] is False and options["proxy_headers"] is False
    # each worker imports the protocol by name, with its request deadline
    protocol = uvicorn.importer.import_from_string(options["http"])
    assert hasattr(protocol, "_arm")
    single = serve_options(parser().parse_args(["serve"]), config)
    assert "workers" not in single
    assert single["http"].seconds == config.http_request_timeout_seconds
    for wrong in ("0", "-2", "two"):
        with pytest.raises(SystemExit):
            parser().parse_args(["serve", "--workers", wrong])


def test_serve_with_two_workers_answers_from_two_processes(tmp_path: Path) -> None:
    from tests.test_e2e_http import free_port, wait_until_healthy

    database = tmp_path / "workers.db"
    port = str(free_port())
    env = {**os.environ, "ESTART_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    env.pop("ESTART_TEST_DATABASE_URL", None)
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(ESTART), "serve", "--port", port, "--workers", "2"], stdout=output, stderr=subprocess.STDOUT, env=env
        )
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server, log, seconds=120)  # each worker builds the schema
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
        workers = [pid for pid in children.read_text().split() if "--multiprocessing-fork" in _command(pid)]
        assert len(workers) == 2, children.read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)


def _command(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
