"""The `estart` command line against a PostgreSQL server (ESTART_TEST_DATABASE_URL); the rest of
its tests (tests/test_cli.py) run on SQLite files of their own."""

import os
from pathlib import Path

import pytest

from tests.test_cli import estart, one_plain_line


def test_a_database_that_does_not_exist_on_the_server_is_named(tmp_path: Path) -> None:
    server = os.environ.get("ESTART_TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        pytest.skip("needs ESTART_TEST_DATABASE_URL naming a PostgreSQL server")
    from sqlalchemy.engine import make_url

    url = make_url(server).set(database="estart_no_such_database").render_as_string(hide_password=False)
    line = one_plain_line(estart(tmp_path / "unused.db", "migrate", env={"ESTART_DATABASE_URL": url}))
    assert "'estart_no_such_database' does not exist" in line and "createdb estart_no_such_database" in line
