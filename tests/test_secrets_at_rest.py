"""No secret the service hands out rests in the database in plaintext (issue 15): a one-time
password issued by an approval, or a session token issued by a login, is in the answer that
issued it and nowhere else — not in the response stored with an Idempotency-Key, not in the
audit trail. A retry with the key learns the outcome, with the secret withheld and said so."""

import uuid
from typing import Any

from sqlalchemy import select

from models import AuditEvent, IdempotencyKey
from resolvers import transaction
from tests.conftest import PASSWORD, World
from tests.test_faults import post
from tests.test_user_requests import APPROVE, REQUEST_USER, RESET, new_user_input

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token user { username } } }"


async def stored_text(app: Any) -> str:
    """Everything the idempotency table and the audit trail hold, as one text."""
    async with app.state.sessionmaker() as session:
        keys = (await session.execute(select(IdempotencyKey.key, IdempotencyKey.response))).all()
        events = (await session.execute(select(AuditEvent.action, AuditEvent.changes))).all()
    return repr(keys) + repr(events)


async def approve_with_key(app: Any, admin: str, request_id: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The approval sent twice with one Idempotency-Key: (first answer, replayed answer, replay)."""
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    first = await post(app, APPROVE, {"id": request_id}, admin, **headers)
    again = await post(app, APPROVE, {"id": request_id}, admin, **headers)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    return first.json(), again.json(), again


async def test_one_time_passwords_are_never_stored_with_an_idempotency_key(app: Any, world: World) -> None:
    manager, admin = world.tokens["MANAGER"], world.admin_token
    asked = await post(app, REQUEST_USER, {"input": new_user_input(world)}, manager)
    first, again, replay = await approve_with_key(app, admin, asked.json()["data"]["requestUser"]["id"])
    issued = first["data"]["approveUserRequest"]
    password = issued["oneTimePassword"]
    assert password and not first.get("extensions", {}).get("withheld")
    # The replay tells the outcome (approved, the user created) with the password withheld.
    assert replay.headers.get("idempotency-replayed") == "true"
    assert again["data"]["approveUserRequest"] == {**issued, "oneTimePassword": None}
    assert again["extensions"]["withheld"] == ["approveUserRequest.oneTimePassword"]
    # The password works (it was issued) and is nowhere in the database but as its hash.
    user = issued["user"]
    await post(app, LOGIN, {"u": user["username"], "p": password}, admin)

    reset = await post(app, RESET, {"u": user["id"]}, manager)
    first_reset, again_reset, _ = await approve_with_key(app, admin, reset.json()["data"]["requestPasswordReset"]["id"])
    fresh = first_reset["data"]["approveUserRequest"]["oneTimePassword"]
    assert fresh and fresh != password
    assert again_reset["data"]["approveUserRequest"]["oneTimePassword"] is None
    assert again_reset["extensions"]["withheld"] == ["approveUserRequest.oneTimePassword"]

    text = await stored_text(app)
    assert "approveUserRequest" in text  # the stored responses are there, without the secrets
    assert password not in text and fresh not in text


async def test_a_login_is_never_remembered_with_an_idempotency_key(app: Any, world: World) -> None:
    """A login sent by a logged-in caller with a key (a client that always sends one): a retry
    is a new login with a token of its own, and no token rests in the database."""
    headers = {"Idempotency-Key": uuid.uuid4().hex}
    variables = {"u": "manager-a", "p": PASSWORD}
    first = await post(app, LOGIN, variables, world.tokens["MANAGER"], **headers)
    token = first.json()["data"]["login"]["token"]
    assert token
    again = (await post(app, LOGIN, variables, world.tokens["MANAGER"], **headers)).json()
    assert again["data"]["login"]["token"] not in (None, token) and "extensions" not in again
    stored = await stored_text(app)
    assert token not in stored and again["data"]["login"]["token"] not in stored


async def test_a_request_sent_with_a_key_is_remembered_by_a_keyed_fingerprint(app: Any, world: World) -> None:
    """The variables of a request sent with a key may hold a password (createUser, setPassword):
    its stored fingerprint is an HMAC under the deployment's key, not a hash anyone can compute
    from a guessed password."""
    manager, admin = world.tokens["MANAGER"], world.admin_token
    asked = await post(app, REQUEST_USER, {"input": new_user_input(world)}, manager)
    variables = {"id": asked.json()["data"]["requestUser"]["id"]}
    await approve_with_key(app, admin, variables["id"])
    async with app.state.sessionmaker() as session:
        stored = set((await session.scalars(select(IdempotencyKey.request_hash))).all())
    assert stored  # the approval was remembered
    assert transaction.request_hash(APPROVE, variables, None) not in stored
