"""How the service fails (issue 18, issue 10 finding 8): whatever fails, a JSON envelope with a
code; UNAVAILABLE (503, Retry-After) when the database does not answer; a mutation commits only
once its response is built; Idempotency-Key makes a retried mutation safe; /readyz says whether
the database answers. The whole-service fault run (restarts, crashes, mixed load) is
bench/faults.py, run by CI."""

import asyncio
import os
import sqlite3
import uuid
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text

from config import AppConfig
from models import Note
from models.db import DatabaseUnavailable, loggable, make_engine, unavailable
from server import create_app
from tests.conftest import Api, World
from web.health import _problem

ADD_NOTE = "mutation($input: NoteInput!) { addNote(input: $input) { id text authorName } }"
SECURITY = ("x-content-type-options", "x-frame-options", "content-security-policy", "cache-control")


def note_input(world: World, text: str) -> dict[str, Any]:
    return {"input": {"subjectId": world.families["own"].id, "kind": "HISTORY", "text": text}}


async def notes_with(app: Any, marker: str) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Note).where(Note.text == marker)) or 0)


async def post(app: Any, query: str, variables: dict[str, Any], token: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}", **headers},
        )


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["retry-after"]) > 0
    assert all(name in response.headers for name in SECURITY)
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"]["code"] == "UNAVAILABLE"
    assert error["extensions"]["requestId"] == response.headers["x-request-id"]


async def test_a_database_that_does_not_answer_gives_unavailable_not_a_bare_500(
    config: AppConfig, world: World
) -> None:
    """Authentication (building the context) needs the database: it failing is a coded 503."""
    dead = create_app(replace(config, database_url="postgresql+asyncpg://estart@127.0.0.1:1/none"))
    try:
        response = await post(dead, "{ families { totalCount } }", {}, world.tokens["MANAGER"])
        assert_unavailable(response)
        transport = httpx.ASGITransport(app=dead)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
            assert (await client.get("/healthz")).status_code == 200  # liveness only
    finally:
        await dead.state.engine.dispose()


async def test_readyz_is_green_when_the_database_answers_at_the_expected_head(app: Any, api: Api) -> None:
    response = await api.client.get("/readyz")
    assert response.status_code == 200, response.text
    assert await _problem(app.state.engine, {"some_other_head"}) is not None


@pytest.mark.parametrize(
    ("fault", "status", "code"), [(RuntimeError, 200, "INTERNAL"), (ConnectionResetError, 503, "UNAVAILABLE")]
)
async def test_a_mutation_whose_response_fails_writes_nothing(
    app: Any, world: World, fault: type[Exception], status: int, code: str
) -> None:
    """addNote wrote its note, then reading the author for the response fails: before, the note
    was committed and the client told INTERNAL (a retry duplicated it)."""
    marker = f"fault {uuid.uuid4().hex}"
    wrote_note = False

    def inject(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal wrote_note
        if statement.lstrip().upper().startswith("INSERT INTO NOTES"):
            wrote_note = True
        elif wrote_note and "display_name" in statement:
            raise fault("injected")

    event.listen(app.state.engine.sync_engine, "before_cursor_execute", inject)
    try:
        response = await post(app, ADD_NOTE, note_input(world, marker), world.tokens["MANAGER"])
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", inject)
    assert wrote_note
    assert response.status_code == status, response.text
    assert response.json()["data"] is None
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == [code]
    assert await notes_with(app, marker) == 0
    ok = await post(app, ADD_NOTE, note_input(world, marker), world.tokens["MANAGER"])
    assert ok.json()["data"]["addNote"]["text"] == marker
    assert await notes_with(app, marker) == 1


async def test_an_idempotency_key_applies_a_mutation_once(app: Any, world: World) -> None:
    marker = f"idempotent {uuid.uuid4().hex}"
    key = uuid.uuid4().hex
    token = world.tokens["MANAGER"]
    first = await post(app, ADD_NOTE, note_input(world, marker), token, **{"Idempotency-Key": key})
    again = await post(app, ADD_NOTE, note_input(world, marker), token, **{"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and first.json()["data"]["addNote"]["text"] == marker
    assert again.headers.get("idempotency-replayed") == "true"
    assert await notes_with(app, marker) == 1
    # the same key for another request, or a key too long, is refused; another user's key is theirs
    other = await post(app, ADD_NOTE, note_input(world, marker + "!"), token, **{"Idempotency-Key": key})
    assert other.status_code == 400 and other.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    long = await post(app, ADD_NOTE, note_input(world, marker), token, **{"Idempotency-Key": "k" * 101})
    assert long.status_code == 400
    psw = await post(
        app, ADD_NOTE, note_input(world, marker), world.tokens["PARENT_SUPPORT_WORKER"], **{"Idempotency-Key": key}
    )
    assert psw.json()["data"]["addNote"]["id"] != first.json()["data"]["addNote"]["id"]
    assert await notes_with(app, marker) == 2


async def test_concurrent_duplicates_are_applied_once_and_answered_alike(app: Any, world: World) -> None:
    """The second waits for the first's claim of the key, then gets the first's response."""
    marker = f"concurrent {uuid.uuid4().hex}"
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    token = world.tokens["MANAGER"]
    responses = await asyncio.gather(
        *(post(app, ADD_NOTE, note_input(world, marker), token, **headers) for _ in range(4))
    )
    bodies = [response.json() for response in responses]
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["data"]["addNote"]["text"] == marker
    assert await notes_with(app, marker) == 1


async def test_sql_parameters_never_reach_an_error_message(app: Any) -> None:
    secret = f"secret-{uuid.uuid4().hex}"
    async with app.state.engine.connect() as connection:
        with pytest.raises(Exception) as raised:
            await connection.execute(text("SELECT * FROM no_such_table WHERE x = :x"), {"x": secret})
    assert secret not in str(raised.value)


async def test_the_failure_classes_are_unavailable(database_url: str) -> None:
    assert unavailable(ConnectionRefusedError()) and unavailable(DatabaseUnavailable("gone"))
    assert not unavailable(RuntimeError("a bug")) and not unavailable(ValueError())
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "sqlite":
                await connection.exec_driver_sql("PRAGMA query_only=ON")  # writes refused, as on a read-only file
                setup, write = "SELECT 1", "CREATE TABLE refused (x int)"
            else:
                setup, write = "SET TRANSACTION READ ONLY", "CREATE TEMP TABLE refused (x int)"
            await connection.exec_driver_sql(setup)
            with pytest.raises(Exception) as raised:
                await connection.exec_driver_sql(write)
            assert unavailable(raised.value), raised.value
            await connection.rollback()
            if engine.dialect.name == "sqlite":
                await connection.exec_driver_sql("PRAGMA query_only=OFF")
    finally:
        await engine.dispose()


@pytest.fixture
def sqlite_copy(database_url: str, tmp_path: Path) -> str:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite only")
    source = database_url.removeprefix("sqlite+aiosqlite:///")
    target = tmp_path / "copy.db"
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)  # with what is still in the write-ahead log
    return f"sqlite+aiosqlite:///{target}"


async def test_a_deleted_sqlite_file_fails_closed_and_recovers(
    config: AppConfig, world: World, sqlite_copy: str
) -> None:
    app = create_app(replace(config, database_url=sqlite_copy))
    path = sqlite_copy.removeprefix("sqlite+aiosqlite:///")
    token = world.tokens["MANAGER"]
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            before = await post(app, ADD_NOTE, note_input(world, "before"), token)
            assert before.json()["data"]["addNote"]["text"] == "before", before.text
            os.rename(path, path + ".moved")
            gone = await post(app, ADD_NOTE, note_input(world, "lost?"), token)
            assert_unavailable(gone)
            assert (await client.get("/readyz")).status_code == 503
            assert not os.path.exists(path)  # not silently recreated empty
            os.rename(path + ".moved", path)
            assert (await client.get("/readyz")).status_code == 200
            back = await post(app, ADD_NOTE, note_input(world, "after"), token)
            assert back.status_code == 200, back.text
            assert (back.json()["data"] or {}).get("addNote", {}).get("text") == "after", back.text
        assert await notes_with(app, "lost?") == 0
    finally:
        await app.state.engine.dispose()


async def test_a_sqlite_write_lock_wait_that_runs_out_is_unavailable(
    config: AppConfig, world: World, sqlite_copy: str
) -> None:
    app = create_app(replace(config, database_url=sqlite_copy, db_sqlite_write_wait_seconds=0.2))
    holder = sqlite3.connect(sqlite_copy.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        response = await post(app, ADD_NOTE, note_input(world, "locked out"), world.tokens["MANAGER"])
        assert_unavailable(response)
        holder.execute("ROLLBACK")
        assert (await post(app, ADD_NOTE, note_input(world, "let in"), world.tokens["MANAGER"])).status_code == 200
    finally:
        holder.close()
        await app.state.engine.dispose()


async def test_stored_values_in_database_errors_stay_out_of_the_log(app: Any, caplog: pytest.LogCaptureFixture) -> None:
    """PostgreSQL quotes the row in its DETAIL ("Key (x)=(...) already exists"), in the driver's
    exception chained under SQLAlchemy's: the log gets SQLAlchemy's alone."""
    from web.faults import logger

    secret = f"secret-{uuid.uuid4().hex}"
    async with app.state.engine.connect() as connection:
        await connection.exec_driver_sql("CREATE TEMPORARY TABLE leak (x varchar(100) UNIQUE)")
        await connection.execute(text("INSERT INTO leak VALUES (:x)"), {"x": secret})
        with pytest.raises(Exception) as raised:
            await connection.execute(text("INSERT INTO leak VALUES (:x)"), {"x": secret})
        await connection.rollback()
    logger.error("failed", exc_info=loggable(raised.value))
    assert caplog.records and secret not in caplog.text


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "code"),
    [
        ("GET", "/no-such-path", {}, 404, "NOT_FOUND"),
        ("DELETE", "/healthz", {}, 405, "BAD_USER_INPUT"),
        ("GET", "/healthz", {"host": "evil.example"}, 400, "BAD_USER_INPUT"),
    ],
)
async def test_framework_refusals_are_the_json_envelope(
    api: Api, method: str, path: str, headers: dict[str, str], status: int, code: str
) -> None:
    response = await api.client.request(method, path, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert all(name in response.headers for name in SECURITY)
    assert response.json()["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize("parser", ["h11", "httptools"])
async def test_a_client_sending_its_request_slowly_is_cut_off(parser: str) -> None:
    """Headers trickled in (slowloris) held a connection forever: now a request must be whole
    within the deadline, counted from the connection's start or its previous response; with
    either HTTP parser `estart serve` may use."""
    import uvicorn
    from starlette.responses import PlainTextResponse

    from web.server_protocol import request_deadline_protocol

    config = uvicorn.Config(
        PlainTextResponse("ok"),
        host="127.0.0.1",
        port=0,
        http=request_deadline_protocol(0.3, parser),
        log_level="error",
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")  # a whole request is answered
            assert b"200 OK" in await asyncio.wait_for(reader.readuntil(b"ok"), 5)
            writer.write(b"GET / HTTP/1.1\r\nHost: loc")  # the next one never completes
            assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
        finally:
            writer.close()
    finally:
        server.should_exit = True
        await serving


async def test_a_commit_the_database_does_not_confirm_is_said_to_be_uncertain(app: Any, world: World) -> None:
    """The connection breaking during COMMIT leaves the outcome unknown: the client is told so,
    and a retry with the same Idempotency-Key settles it (here the commit had not happened)."""
    marker = f"uncertain {uuid.uuid4().hex}"
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    wrote_note = False

    def watch(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal wrote_note
        wrote_note = wrote_note or statement.lstrip().upper().startswith("INSERT INTO NOTES")

    def break_commit(_conn: Any) -> None:
        if wrote_note:
            raise ConnectionResetError("injected: the connection broke during COMMIT")

    engine = app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", watch)
    event.listen(engine, "commit", break_commit)
    try:
        response = await post(app, ADD_NOTE, note_input(world, marker), world.tokens["MANAGER"], **headers)
    finally:
        event.remove(engine, "commit", break_commit)
        event.remove(engine, "before_cursor_execute", watch)
    assert_unavailable(response)
    assert response.json()["errors"][0]["extensions"]["outcome"] == "UNKNOWN"
    retried = await post(app, ADD_NOTE, note_input(world, marker), world.tokens["MANAGER"], **headers)
    assert retried.json()["data"]["addNote"]["text"] == marker
    assert await notes_with(app, marker) == 1


async def test_a_new_sqlite_file_may_be_created_but_a_used_one_must_not_vanish(tmp_path: Path) -> None:
    """`estart serve` in an empty folder creates its database; once opened, a file that goes is
    not silently recreated empty."""
    path = tmp_path / "new.db"
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        assert path.exists()
        await engine.dispose()  # no pooled connection left: the next one is opened afresh
        os.rename(path, tmp_path / "moved.db")
        with pytest.raises(DatabaseUnavailable):
            async with engine.connect():
                pass
        assert not path.exists()
    finally:
        await engine.dispose()
