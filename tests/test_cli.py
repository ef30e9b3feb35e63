"""The `estart` command line of API.md, run as the installed console script in subprocesses,
on an SQLite database of this module's own (whatever ESTART_TEST_DATABASE_URL says)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from demo.seed import DEMO_PASSWORD, USERS

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


def estart(database: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    assert ESTART.exists(), f"{ESTART} is missing: install the project with `python3 dev.py test`"
    env = {**os.environ, "ESTART_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    env.pop("ESTART_TEST_DATABASE_URL", None)
    return subprocess.run(
        [str(ESTART), *args], input=stdin, capture_output=True, text=True, env=env, cwd=database.parent, timeout=60
    )


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
    assert "accounts other than the demo's" in refused.stdout
    assert rows(database, "SELECT count(*) FROM users WHERE username = 'manager'") == [(0,)]


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
