"""Authentication: without a valid token a caller gets nothing but `login`; tokens are opaque,
stored hashed, revocable at once; passwords are hashed with argon2id."""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from models import LoginSession, User
from models.base import utcnow
from tests.assertions import codes
from tests.conftest import PASSWORD, Api, World
from tests.factories import fresh_user, user_key

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt user { id } } }"

QUERIES = {
    "me": ("{ me { id username } }", {}),
    "families": ("{ families { totalCount nodes { id } } }", {}),
    "family": ("query($id: ID!) { family(id: $id) { id address { postcode } } }", "own"),
    "introspection": ("{ __schema { types { name } } }", {}),
}


async def _logged_in(api: Api, world: World, app: Any) -> str:
    return await fresh_user(api, world, "MANAGER", world.settings["A"])


async def _no_token(api: Api, world: World, app: Any) -> str | None:
    return None


async def _bad_token(api: Api, world: World, app: Any) -> str | None:
    return "not-a-token-anyone-was-given"


async def _expired_token(api: Api, world: World, app: Any) -> str | None:
    token = await _logged_in(api, world, app)
    user_id = await user_key(api, token)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
        await session.commit()
    return token


async def _logged_out_token(api: Api, world: World, app: Any) -> str | None:
    token = await _logged_in(api, world, app)
    assert (await api.ok("mutation { logout }", token=token))["logout"] is True
    return token


async def _deactivated_users_token(api: Api, world: World, app: Any) -> str | None:
    token = await _logged_in(api, world, app)
    await _deactivate(app, await user_key(api, token))
    return token


async def _deactivate(app: Any, user_id: int) -> None:
    async with app.state.sessionmaker() as session:
        await session.execute(update(User).where(User.id == user_id).values(is_active=False))
        await session.commit()


TOKENS: dict[str, Callable[[Api, World, Any], Awaitable[str | None]]] = {
    "no-token": _no_token,
    "bad-token": _bad_token,
    "expired-token": _expired_token,
    "logged-out-token": _logged_out_token,
    "deactivated-users-token": _deactivated_users_token,
}


def variables_for(world: World, variables: Any) -> dict[str, Any]:
    return {"id": world.families[variables].id} if isinstance(variables, str) else variables


def assert_unauthenticated(body: dict[str, Any]) -> None:
    assert body["data"] is None
    assert body["errors"], "an UNAUTHENTICATED error was expected"
    assert set(codes(body)) == {"UNAUTHENTICATED"}


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("kind", TOKENS)
async def test_caller_without_a_valid_token_gets_unauthenticated_and_no_data(
    api: Api, world: World, app: Any, kind: str, query: str
) -> None:
    token = await TOKENS[kind](api, world, app)
    document, variables = QUERIES[query]
    assert_unauthenticated(await api.post(document, variables_for(world, variables), token))


@pytest.mark.parametrize("query", QUERIES)
async def test_the_same_queries_answer_a_logged_in_caller(api: Api, world: World, app: Any, query: str) -> None:
    token = await _logged_in(api, world, app)
    document, variables = QUERIES[query]
    data = await api.ok(document, variables_for(world, variables), token)
    assert data and all(value is not None for value in data.values())


@pytest.mark.parametrize(
    "document",
    [
        "mutation { logout }",
        'mutation { createSetting(input: {code: "ANON1", name: "Anonymous"}) { id } }',
        'mutation { login(username: "manager-a", password: "x") { token } logout }',
        "{ __typename }",
        "{ settings { id } }",
    ],
    ids=["logout", "createSetting", "login-with-another-field", "typename-query", "settings"],
)
async def test_an_anonymous_caller_may_run_login_and_nothing_else(api: Api, document: str) -> None:
    assert_unauthenticated(await api.post(document))


async def test_login_works_anonymously_and_returns_a_usable_token(api: Api, world: World) -> None:
    data = await api.ok(LOGIN, {"u": "manager-a", "p": PASSWORD})
    session = data["login"]
    assert session["token"] and session["user"]["id"]
    me = await api.ok("{ me { id username } }", token=session["token"])
    assert me["me"] == {"id": session["user"]["id"], "username": "manager-a"}


async def test_login_username_is_not_case_sensitive(api: Api, world: World) -> None:
    data = await api.ok(LOGIN, {"u": "Manager-A", "p": PASSWORD})
    assert data["login"]["token"]


async def test_wrong_password_and_unknown_user_give_the_same_answer(api: Api, world: World) -> None:
    wrong_password = await api.post(LOGIN, {"u": "manager-a", "p": PASSWORD + "!"})
    unknown_user = await api.post(LOGIN, {"u": "nobody-by-this-name", "p": PASSWORD})
    assert_unauthenticated(wrong_password)
    assert_unauthenticated(unknown_user)
    assert wrong_password == unknown_user


async def test_logout_revokes_the_token_at_once(api: Api, world: World, app: Any) -> None:
    token = await _logged_in(api, world, app)
    await api.ok("{ me { id } }", token=token)
    assert (await api.ok("mutation { logout }", token=token))["logout"] is True
    assert_unauthenticated(await api.post("{ me { id } }", token=token))


async def test_logout_ends_only_that_session(api: Api, world: World) -> None:
    first = await api.ok(LOGIN, {"u": "manager-a", "p": PASSWORD})
    second = await api.ok(LOGIN, {"u": "manager-a", "p": PASSWORD})
    await api.ok("mutation { logout }", token=first["login"]["token"])
    assert_unauthenticated(await api.post("{ me { id } }", token=first["login"]["token"]))
    await api.ok("{ me { id } }", token=second["login"]["token"])


async def test_a_deactivated_user_can_neither_use_a_token_nor_log_in_again(api: Api, world: World, app: Any) -> None:
    token = await _logged_in(api, world, app)
    username = (await api.ok("{ me { username } }", token=token))["me"]["username"]
    await _deactivate(app, await user_key(api, token))
    assert_unauthenticated(await api.post("{ me { id } }", token=token))
    refused = await api.post(LOGIN, {"u": username, "p": PASSWORD})
    assert_unauthenticated(refused)
    assert refused == await api.post(LOGIN, {"u": "nobody-by-this-name", "p": PASSWORD})


async def test_session_tokens_are_stored_only_as_hashes(api: Api, world: World, app: Any) -> None:
    token = await _logged_in(api, world, app)
    user_id = await user_key(api, token)
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(LoginSession).where(LoginSession.user_id == user_id))).scalars().all()
    assert len(rows) == 1
    stored = [str(getattr(rows[0], column.key)) for column in LoginSession.__table__.columns]
    assert all(token not in value for value in stored)


async def test_passwords_are_stored_as_argon2id(api: Api, world: World, app: Any) -> None:
    token = await _logged_in(api, world, app)
    user_id = await user_key(api, token)
    async with app.state.sessionmaker() as session:
        hashes = (await session.execute(select(User.id, User.password_hash))).all()
    assert user_id in {row.id for row in hashes}
    assert [row.id for row in hashes if not row.password_hash.startswith("$argon2id$")] == []
    assert all(PASSWORD not in row.password_hash for row in hashes)


async def test_a_session_expires_after_the_configured_hours(api: Api, world: World, config: Any) -> None:
    before = utcnow()
    data = await api.ok(LOGIN, {"u": "manager-a", "p": PASSWORD})
    after = utcnow()
    expires = datetime.fromisoformat(data["login"]["expiresAt"])
    lifetime = timedelta(hours=config.session_hours)
    assert before + lifetime <= expires <= after + lifetime


# --- UNAUTHENTICATED says why a token stopped working (API.md round 2) -------------------------


async def _idle_token(api: Api, world: World, app: Any) -> str | None:
    token = await _logged_in(api, world, app)
    user_id = await user_key(api, token)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user_id)
            .values(last_seen_at=utcnow() - timedelta(days=1))
        )
        await session.commit()
    return token


REASONS = {
    "no-token": None,
    "bad-token": "INVALID",
    "expired-token": "EXPIRED",
    "idle-token": "EXPIRED",
    "logged-out-token": "REVOKED",
    "deactivated-users-token": "REVOKED",
}


@pytest.mark.parametrize("kind", REASONS)
async def test_unauthenticated_says_why_the_token_stopped_working(api: Api, world: World, app: Any, kind: str) -> None:
    token = await {**TOKENS, "idle-token": _idle_token}[kind](api, world, app)
    body = await api.post("{ me { id } }", token=token)
    assert_unauthenticated(body)
    assert [error["extensions"].get("reason") for error in body["errors"]] == [REASONS[kind]]


async def test_a_login_response_may_select_the_users_roles_and_their_settings(api: Api, world: World) -> None:
    document = (
        "mutation($u: String!, $p: String!) { login(username: $u, password: $p) "
        "{ token user { username roles { role setting { code } } } } }"
    )
    data = await api.ok(document, {"u": "manager-a", "p": PASSWORD})
    assert data["login"]["user"]["roles"] == [{"role": "MANAGER", "setting": {"code": "CCA"}}]
