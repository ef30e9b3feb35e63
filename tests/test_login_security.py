"""Login hardening: throttling and locks shared through the database, same answers for known and
unknown accounts, administrator unlock / deactivate / password reset, self-service password
change, idle session expiry, rehash on login, and flood-proof audit of failures.

No timing assertions: the throttle's waits are recorded (the authenticator's `sleep` is replaced)
and the tests check counters, lock state, audit events and error codes. Each test logs in from
client addresses of its own (httpx's ASGI transport sets the peer), so address throttling in one
test never touches another."""

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from auth.authenticator import BAD_LOGIN, LOCKED
from auth.login_audit import sweep
from config import AppConfig
from models import DeploymentSecret, LoginSession, LoginThrottle, User
from models.base import utcnow
from server import create_app
from tests.assertions import codes
from tests.conftest import CRB_CHECKED_ON, PASSWORD, TRAINED_ON, Api, World, create_user
from tests.factories import audit_events_since, key_of, last_audit_id, user_key

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token expiresAt user { id } } }"
UNLOCK = "mutation($u: String!) { unlockUser(username: $u) }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(id: $id) { id username } }"
SET_PASSWORD = "mutation($id: ID!, $p: String!) { setPassword(userId: $id, password: $p) }"
CHANGE_PASSWORD = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
NEW_PASSWORD = "a brand new passphrase 42"

# Small thresholds so a test reaches them in a few attempts; the waits are recorded, not slept.
ACCOUNT_THROTTLE, ACCOUNT_LOCK = 3, 6
ADDRESS_THROTTLE, ADDRESS_LOCK = 8, 12


def fresh_address() -> str:
    """A client address no other test uses (IPv6 documentation prefix), in canonical form."""
    return str(ipaddress.ip_address(f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"))


def fresh_username() -> str:
    return f"login-{uuid.uuid4().hex[:10]}"


@contextlib.asynccontextmanager
async def client(app: Any, address: str | None = None) -> AsyncIterator[Api]:
    transport = httpx.ASGITransport(app=app, client=(address or fresh_address(), 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield Api(http)


async def attempt(app: Any, username: str, password: str, address: str | None = None) -> dict[str, Any]:
    async with client(app, address) as api:
        return await api.post(LOGIN, {"u": username, "p": password})


def error_of(body: dict[str, Any]) -> tuple[str, str]:
    assert body["data"] is None, body
    [error] = body["errors"]
    return error["extensions"]["code"], error["message"]


async def account_key(app: Any, username: str) -> str:
    """The throttle key of a username under the deployment's login key."""
    async with app.state.sessionmaker() as session:
        return str(await app.state.authenticator.account_key(session, username))


async def throttle(app: Any, kind: str, key: str) -> LoginThrottle | None:
    async with app.state.sessionmaker() as session:
        row: LoginThrottle | None = await session.scalar(
            select(LoginThrottle).where(LoginThrottle.kind == kind, LoginThrottle.key == key)
        )
        return row


@contextlib.asynccontextmanager
async def app_with(config: AppConfig, **overrides: Any) -> AsyncIterator[Any]:
    application = create_app(replace(config, **overrides))
    try:
        yield application
    finally:
        await application.state.engine.dispose()


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
async def secure(config: AppConfig) -> AsyncIterator[Any]:
    """The service with small thresholds, over the same database as the shared app."""
    async with app_with(
        config,
        login_throttle_after=ACCOUNT_THROTTLE,
        login_lock_after=ACCOUNT_LOCK,
        login_address_throttle_after=ADDRESS_THROTTLE,
        login_address_lock_after=ADDRESS_LOCK,
        login_delay_seconds=0.25,
        login_delay_max_seconds=4.0,
        login_lock_minutes=15.0,
        login_audit_events_per_minute=100_000,  # the cap has a test of its own
    ) as application:
        yield application


@pytest.fixture
def sleeps(secure: Any) -> Sleeps:
    recorder = Sleeps()
    secure.state.authenticator.sleep = recorder
    return recorder


async def new_user(api: Api, world: World, role: str = "ADMIN_OFFICER") -> tuple[str, str]:
    """A fresh user; returns (username, token)."""
    username = fresh_username()
    roles = [{"role": role, "settingId": None if role == "SYSTEM_ADMINISTRATOR" else world.settings["A"]}]
    return username, await create_user(api, world.admin_token, username, roles)


# --- throttling and locks ------------------------------------------------------------------------


async def test_failures_past_n_wait_longer_each_time_and_the_mth_locks_the_account(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    # A new address for every attempt: rotating addresses does not escape the account's count.
    addresses = [fresh_address() for _ in range(ACCOUNT_LOCK)]
    answers = [error_of(await attempt(secure, username, "wrong password!", address)) for address in addresses]
    assert answers == [("UNAUTHENTICATED", BAD_LOGIN)] * ACCOUNT_LOCK
    assert sleeps == [0.25, 0.5, 1.0]  # attempts 4, 5 and 6: after N=3 failures, doubling
    row = await throttle(secure, "account", await account_key(secure, username))
    assert row is not None and row.locked_until is not None and row.locked_until > utcnow()
    assert row.lockouts == 1 and row.failures == 0
    assert row.locked_until - utcnow() <= timedelta(minutes=15)
    # Locked for every address that failed against it: even the right password is refused.
    assert error_of(await attempt(secure, username, PASSWORD, addresses[0])) == ("UNAUTHENTICATED", LOCKED)


async def test_the_delay_is_capped(api: Api, world: World, config: AppConfig) -> None:
    username, _ = await new_user(api, world)
    overrides = {"login_throttle_after": 1, "login_lock_after": 9, "login_delay_seconds": 0.25}
    async with app_with(config, **overrides, login_delay_max_seconds=1.0) as capped:
        recorded = Sleeps()
        capped.state.authenticator.sleep = recorded
        for _ in range(8):
            await attempt(capped, username, "wrong password!")
    assert recorded == [0.25, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0]


async def test_a_locked_unknown_account_answers_exactly_like_a_locked_known_one(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    known, _ = await new_user(api, world)
    unknown = fresh_username()
    here, there = fresh_address(), fresh_address()
    known_answers = [await attempt(secure, known, "wrong password!", here) for _ in range(ACCOUNT_LOCK + 2)]
    unknown_answers = [await attempt(secure, unknown, "wrong password!", there) for _ in range(ACCOUNT_LOCK + 2)]
    assert known_answers == unknown_answers
    assert [error_of(body)[1] for body in known_answers] == [BAD_LOGIN] * ACCOUNT_LOCK + [LOCKED] * 2
    assert await attempt(secure, known, PASSWORD, here) == await attempt(secure, unknown, PASSWORD, there)
    unknown_row = await throttle(secure, "account", await account_key(secure, unknown))
    assert unknown_row is not None and unknown_row.locked_until is not None


async def test_unknown_user_and_wrong_password_get_the_same_message_and_code(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    known, _ = await new_user(api, world)
    wrong_password = await attempt(secure, known, PASSWORD + "!")
    unknown_user = await attempt(secure, fresh_username(), PASSWORD)
    assert wrong_password == unknown_user
    assert error_of(wrong_password) == ("UNAUTHENTICATED", BAD_LOGIN)


async def test_a_successful_login_clears_the_account_count(api: Api, world: World, secure: Any, sleeps: Sleeps) -> None:
    username, _ = await new_user(api, world)
    for _ in range(ACCOUNT_LOCK - 1):
        await attempt(secure, username, "wrong password!")
    row = await throttle(secure, "account", await account_key(secure, username))
    assert row is not None and row.failures == ACCOUNT_LOCK - 1
    assert "errors" not in await attempt(secure, username, PASSWORD)
    assert await throttle(secure, "account", await account_key(secure, username)) is None
    sleeps.clear()
    await attempt(secure, username, "wrong password!")
    assert sleeps == []  # counting starts again from one
    row = await throttle(secure, "account", await account_key(secure, username))
    assert row is not None and row.failures == 1


async def test_failures_older_than_the_window_are_forgotten(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    for _ in range(ACCOUNT_LOCK - 1):
        await attempt(secure, username, "wrong password!")
    async with secure.state.sessionmaker() as session:
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.kind == "account", LoginThrottle.key == await account_key(secure, username))
            .values(window_start=utcnow() - timedelta(minutes=16))
        )
        await session.commit()
    sleeps.clear()
    for _ in range(2):
        assert error_of(await attempt(secure, username, "wrong password!"))[1] == BAD_LOGIN
    row = await throttle(secure, "account", await account_key(secure, username))
    assert row is not None and row.failures == 2 and row.locked_until is None
    assert sleeps == []


async def test_a_lock_ends_by_itself_and_the_next_lock_lasts_twice_as_long(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    for _ in range(ACCOUNT_LOCK):
        await attempt(secure, username, "wrong password!")
    async with secure.state.sessionmaker() as session:  # as if the 15 minutes had passed
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.kind == "account", LoginThrottle.key == await account_key(secure, username))
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    for _ in range(ACCOUNT_LOCK):
        assert error_of(await attempt(secure, username, "wrong password!"))[1] == BAD_LOGIN
    row = await throttle(secure, "account", await account_key(secure, username))
    assert row is not None and row.lockouts == 2 and row.locked_until is not None
    assert timedelta(minutes=29) < row.locked_until - utcnow() <= timedelta(minutes=30)


async def test_an_address_is_throttled_and_locked_whatever_the_usernames(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    address = fresh_address()
    for _ in range(ADDRESS_LOCK):  # a spray: one made-up username per attempt
        assert error_of(await attempt(secure, fresh_username(), "guess", address)) == ("UNAUTHENTICATED", BAD_LOGIN)
    assert sleeps == [0.25, 0.5, 1.0, 2.0]  # attempts 9 to 12: after 8 failures
    row = await throttle(secure, "address", address)
    assert row is not None and row.locked_until is not None and row.locked_until > utcnow()
    # Locked for everyone from that address, even with the right password; not from elsewhere.
    assert error_of(await attempt(secure, username, PASSWORD, address)) == ("UNAUTHENTICATED", LOCKED)
    assert "errors" not in await attempt(secure, username, PASSWORD)


async def test_a_successful_login_forgives_the_address_only_its_own_attempt(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    address = fresh_address()
    for _ in range(3):
        await attempt(secure, fresh_username(), "guess", address)
    assert "errors" not in await attempt(secure, username, PASSWORD, address)
    row = await throttle(secure, "address", address)
    assert row is not None and row.failures == 3


async def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    api: Api, world: World, config: AppConfig
) -> None:
    peer, claimed = fresh_address(), fresh_address()
    for trusted, expected in (((), peer), ((peer,), claimed)):
        async with app_with(config, trusted_proxies=trusted) as application:
            transport = httpx.ASGITransport(app=application, client=(peer, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
                response = await http.post(
                    "/graphql",
                    json={"query": LOGIN, "variables": {"u": fresh_username(), "p": "guess"}},
                    headers={"X-Forwarded-For": f"{claimed}, {peer}"},
                )
            assert codes(response.json()) == ["UNAUTHENTICATED"]
            row = await throttle(application, "address", expected)
            assert row is not None and row.failures >= 1, trusted


def test_client_address_reads_forwarded_for_right_to_left_past_trusted_proxies(config: AppConfig) -> None:
    from auth.authenticator import Authenticator
    from authz.enforcer import Decisions
    from authz.grants import GrantBook

    authenticator = Authenticator(
        replace(config, trusted_proxies=("10.0.0.0/8", "192.0.2.1"), argon2_memory_kib=8, argon2_time_cost=1),
        GrantBook(Decisions()),
    )
    assert authenticator.client_address("203.0.113.9", "1.2.3.4") == "203.0.113.9"  # untrusted peer
    assert authenticator.client_address("192.0.2.1", "1.2.3.4, 198.51.100.3, 10.1.2.3") == "198.51.100.3"
    assert authenticator.client_address("10.0.0.5", None) == "10.0.0.5"
    assert authenticator.client_address(None, "1.2.3.4") == "unknown"


async def test_parallel_attempts_cannot_race_past_the_lock(api: Api, world: World, secure: Any, sleeps: Sleeps) -> None:
    username, _ = await new_user(api, world)
    address = fresh_address()
    bodies = await asyncio.gather(
        *(attempt(secure, username, "wrong password!", address) for _ in range(ACCOUNT_LOCK + 4))
    )
    messages = sorted(error_of(body)[1] for body in bodies)
    assert messages.count(BAD_LOGIN) == ACCOUNT_LOCK  # the password was checked at most M times
    assert messages.count(LOCKED) == 4


async def test_a_password_too_long_to_be_anyones_is_refused_like_a_wrong_one(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    body = await attempt(secure, username, PASSWORD + "x" * 300)
    assert error_of(body) == ("UNAUTHENTICATED", BAD_LOGIN)
    row = await throttle(secure, "account", await account_key(secure, username))
    assert row is not None and row.failures == 1


async def test_a_username_no_user_can_have_is_refused_like_an_unknown_one(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    unknown = await attempt(secure, fresh_username(), PASSWORD)
    assert await attempt(secure, "x" * 101, PASSWORD) == unknown  # the column holds 100
    # NUL, which PostgreSQL refuses in text, is refused in any string input before any resolver
    assert error_of(await attempt(secure, "nul\u0000name", PASSWORD))[0] == "BAD_USER_INPUT"


# --- unlockUser ----------------------------------------------------------------------------------


async def test_an_administrator_lifts_a_lock(api: Api, world: World, secure: Any, app: Any, sleeps: Sleeps) -> None:
    username, _ = await new_user(api, world)
    address = fresh_address()
    for _ in range(ACCOUNT_LOCK):
        await attempt(secure, username, "wrong password!", address)
    assert error_of(await attempt(secure, username, PASSWORD, address))[1] == LOCKED
    mark = await last_audit_id(app)
    assert (await api.ok(UNLOCK, {"u": username.upper()}, world.admin_token))["unlockUser"] is True
    assert await throttle(secure, "account", await account_key(secure, username)) is None
    assert "errors" not in await attempt(secure, username, PASSWORD, address)  # its sources are lifted too
    assert (await api.ok(UNLOCK, {"u": username}, world.admin_token))["unlockUser"] is False
    [first, second] = [event for event in await audit_events_since(app, mark) if event.action == "user.unlock"]
    assert first.record_type == "User" and first.changes is not None and first.changes["wasLocked"] is True
    assert second.changes is not None and second.changes["wasLocked"] is False
    assert first.user_id == await user_key(api, world.admin_token)


async def test_unlocking_an_unknown_account_works_the_same(api: Api, world: World, secure: Any, sleeps: Sleeps) -> None:
    unknown = fresh_username()
    for _ in range(ACCOUNT_LOCK):
        await attempt(secure, unknown, "wrong password!")
    assert (await api.ok(UNLOCK, {"u": unknown}, world.admin_token))["unlockUser"] is True


@pytest.mark.parametrize(
    "document",
    [UNLOCK, DEACTIVATE, SET_PASSWORD],
    ids=["unlockUser", "deactivateUser", "setPassword"],
)
async def test_account_administration_is_for_the_administrator_only(api: Api, world: World, document: str) -> None:
    target, _ = await new_user(api, world)
    target_id = (await api.ok("{ me { id } }", token=await api.login(target, PASSWORD)))["me"]["id"]
    variables = {"u": target, "id": target_id, "p": NEW_PASSWORD}
    used = {name: value for name, value in variables.items() if f"${name}" in document}
    for role in ("MANAGER", "HEAD_OF_CENTRE", "CONTACTPOINT_FEED"):
        body = await api.post(document, used, world.tokens[role])
        assert body["data"] is None and codes(body) == ["FORBIDDEN"], role
    await api.ok("{ me { id } }", token=await api.login(target, PASSWORD))  # nothing changed


# --- deactivation and password changes revoke sessions -----------------------------------------


async def test_deactivating_a_user_ends_their_sessions_at_once(api: Api, world: World, app: Any) -> None:
    username, token = await new_user(api, world)
    other_token = await api.login(username, PASSWORD)
    user_id = (await api.ok("{ me { id } }", token=token))["me"]["id"]
    mark = await last_audit_id(app)
    data = await api.ok(DEACTIVATE, {"id": user_id}, world.admin_token)
    assert data["deactivateUser"] == {"id": user_id, "username": username}
    for session_token in (token, other_token):
        body = await api.post("{ me { id } }", token=session_token)
        assert body["data"] is None and codes(body) == ["UNAUTHENTICATED"]
    async with app.state.sessionmaker() as session:
        live = await session.scalars(
            select(LoginSession.id).where(
                LoginSession.user_id == key_of(user_id, "User"), LoginSession.revoked_at.is_(None)
            )
        )
        assert list(live) == []
    [event] = [event for event in await audit_events_since(app, mark) if event.action == "user.deactivate"]
    assert event.record_id == key_of(user_id, "User") and event.changes is not None
    assert event.changes["sessionsRevoked"] == 2
    assert error_of(await attempt(app, username, PASSWORD))[1] == BAD_LOGIN


async def test_deactivate_refuses_the_caller_and_ids_that_name_no_user(api: Api, world: World) -> None:
    admin_id = (await api.ok("{ me { id } }", token=world.admin_token))["me"]["id"]
    body = await api.post(DEACTIVATE, {"id": admin_id}, world.admin_token)
    assert codes(body) == ["BAD_USER_INPUT"]
    for bad in ("nonsense", world.settings["A"]):
        assert codes(await api.post(DEACTIVATE, {"id": bad}, world.admin_token)) == ["NOT_FOUND"]
    await api.ok("{ me { id } }", token=world.admin_token)


async def test_an_administrator_password_reset_ends_every_session(api: Api, world: World, app: Any) -> None:
    username, token = await new_user(api, world)
    user_id = (await api.ok("{ me { id } }", token=token))["me"]["id"]
    mark = await last_audit_id(app)
    assert (await api.ok(SET_PASSWORD, {"id": user_id, "p": NEW_PASSWORD}, world.admin_token))["setPassword"] is True
    assert codes(await api.post("{ me { id } }", token=token)) == ["UNAUTHENTICATED"]
    assert error_of(await attempt(app, username, PASSWORD))[1] == BAD_LOGIN
    assert "errors" not in await attempt(app, username, NEW_PASSWORD)
    [event] = [event for event in await audit_events_since(app, mark) if event.action == "user.password_reset"]
    assert event.changes == {"sessionsRevoked": 1}
    assert NEW_PASSWORD not in json.dumps(event.changes)


@pytest.mark.parametrize("password", ["short", "x" * 257], ids=["too-short", "too-long"])
async def test_password_length_bounds_hold_for_resets_and_changes(api: Api, world: World, password: str) -> None:
    _, token = await new_user(api, world)
    user_id = (await api.ok("{ me { id } }", token=token))["me"]["id"]
    body = await api.post(SET_PASSWORD, {"id": user_id, "p": password}, world.admin_token)
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "password"
    body = await api.post(CHANGE_PASSWORD, {"c": PASSWORD, "n": password}, token)
    assert set(codes(body)) == {"BAD_USER_INPUT"} and body["errors"][0]["extensions"]["field"] == "newPassword"
    await api.ok("{ me { id } }", token=token)


async def test_changing_your_password_ends_your_other_sessions_and_keeps_this_one(
    api: Api, world: World, app: Any
) -> None:
    username, token = await new_user(api, world)
    other_token = await api.login(username, PASSWORD)
    mark = await last_audit_id(app)
    assert (await api.ok(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD}, token))["changePassword"] is True
    await api.ok("{ me { id } }", token=token)
    assert codes(await api.post("{ me { id } }", token=other_token)) == ["UNAUTHENTICATED"]
    assert error_of(await attempt(app, username, PASSWORD))[1] == BAD_LOGIN
    assert "errors" not in await attempt(app, username, NEW_PASSWORD)
    [event] = [event for event in await audit_events_since(app, mark) if event.action == "user.password_change"]
    assert event.changes == {"sessionsRevoked": 1}


async def test_a_wrong_current_password_is_refused_and_counted(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    address = fresh_address()
    async with client(secure, address) as own:
        token = await own.login(username, PASSWORD)
        body = await own.post(CHANGE_PASSWORD, {"c": "not my password", "n": NEW_PASSWORD}, token)
        assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "currentPassword"
        row = await throttle(secure, "account", await account_key(secure, username))
        assert row is not None and row.failures == 1
        for _ in range(ACCOUNT_LOCK - 1):
            await own.post(CHANGE_PASSWORD, {"c": "not my password", "n": NEW_PASSWORD}, token)
        body = await own.post(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD}, token)
        assert error_of(body) == ("UNAUTHENTICATED", LOCKED)
    assert error_of(await attempt(secure, username, NEW_PASSWORD, address))[1] == LOCKED  # unchanged and locked


# --- idle expiry -------------------------------------------------------------------------------


async def test_a_session_idle_too_long_ends(api: Api, world: World, app: Any, config: AppConfig) -> None:
    _, token = await new_user(api, world)
    user_id = await user_key(api, token)
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user_id)
            .values(last_seen_at=utcnow() - timedelta(minutes=config.session_idle_minutes, seconds=5))
        )
        await session.commit()
    assert codes(await api.post("{ me { id } }", token=token)) == ["UNAUTHENTICATED"]


async def test_last_seen_is_written_at_most_once_a_minute(api: Api, world: World, app: Any) -> None:
    _, token = await new_user(api, world)
    user_id = await user_key(api, token)

    async def last_seen() -> Any:
        async with app.state.sessionmaker() as session:
            return await session.scalar(select(LoginSession.last_seen_at).where(LoginSession.user_id == user_id))

    first = await last_seen()
    await api.ok("{ me { id } }", token=token)
    assert await last_seen() == first  # used again within the minute: no write
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(LoginSession)
            .where(LoginSession.user_id == user_id)
            .values(last_seen_at=utcnow() - timedelta(minutes=20))
        )
        await session.commit()
    before = utcnow()
    await api.ok("{ me { id } }", token=token)
    assert await last_seen() >= before  # refreshed, so the session lives on


# --- argon2 parameters -------------------------------------------------------------------------


async def test_a_login_rehashes_the_password_when_the_argon2_parameters_change(
    api: Api, world: World, app: Any, config: AppConfig
) -> None:
    username, _ = await new_user(api, world)

    async def stored() -> str:
        async with app.state.sessionmaker() as session:
            return str(await session.scalar(select(User.password_hash).where(User.username == username)))

    original = await stored()
    assert f"m={config.argon2_memory_kib},t={config.argon2_time_cost},p={config.argon2_parallelism}" in original
    # m=12288 KiB, t=3, p=1 is another row of OWASP's table.
    async with app_with(config, argon2_memory_kib=12288, argon2_time_cost=3) as stronger:
        assert "errors" not in await attempt(stronger, username, PASSWORD)
        upgraded = await stored()
        assert upgraded.startswith("$argon2id$") and "m=12288,t=3,p=1" in upgraded
        assert "errors" not in await attempt(stronger, username, PASSWORD)
        assert await stored() == upgraded  # parameters unchanged: no needless rehash
    assert "errors" not in await attempt(app, username, PASSWORD)


class RecordingHasher:
    """A password hasher that notes each hash and verification, and the thread it ran on."""

    def __init__(self, hasher: Any) -> None:
        self.hasher = hasher
        self.calls: list[str] = []
        self.threads: set[int] = set()

    def hash(self, password: str) -> str:
        self._note("hash")
        return str(self.hasher.hash(password))

    def verify(self, stored: str, password: str) -> bool:
        self._note("verify")
        return bool(self.hasher.verify(stored, password))

    def check_needs_rehash(self, stored: str) -> bool:
        return bool(self.hasher.check_needs_rehash(stored))

    def _note(self, call: str) -> None:
        self.calls.append(call)
        self.threads.add(threading.get_ident())

    def take(self) -> list[str]:
        calls, self.calls = self.calls, []
        return calls


async def test_argon2_runs_off_the_event_loop_and_an_unknown_user_costs_a_verification_too(
    api: Api, world: World, config: AppConfig
) -> None:
    username, token = await new_user(api, world)
    user_id = (await api.ok("{ me { id } }", token=token))["me"]["id"]
    async with app_with(config) as application:
        passwords = application.state.authenticator.passwords
        recorder = passwords.hasher = RecordingHasher(passwords.hasher)
        async with client(application) as own:
            await own.login(username, PASSWORD)
            assert recorder.take() == ["verify"]
            assert error_of(await own.post(LOGIN, {"u": fresh_username(), "p": PASSWORD}))[1] == BAD_LOGIN
            assert recorder.take() == ["verify"]  # against a dummy hash: as slow as a known user's
            await own.ok(CHANGE_PASSWORD, {"c": PASSWORD, "n": NEW_PASSWORD}, token)
            assert recorder.take() == ["verify", "hash"]
            await own.ok(SET_PASSWORD, {"id": user_id, "p": PASSWORD}, world.admin_token)
            assert recorder.take() == ["hash"]
            roles = [{"role": "ADMIN_OFFICER", "settingId": world.settings["A"]}]
            await create_user(own, world.admin_token, fresh_username(), roles)  # logs in, changes the password
            assert recorder.take() == ["hash", "verify", "verify", "hash"]
    assert recorder.threads and threading.get_ident() not in recorder.threads


# --- audit ---------------------------------------------------------------------------------------


async def test_failures_are_audited_at_most_once_a_minute_per_account_and_address(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    user_id = await user_key(api, await api.login(username, PASSWORD))
    address = fresh_address()
    mark = await last_audit_id(secure)
    for _ in range(4):
        await attempt(secure, username, "wrong password!", address)

    # Only this account's and this address's events: a failure may also report older tallies of
    # other tests' accounts that are due (the sweep), which are not this test's concern.
    def ours(event: Any) -> bool:
        return event.record_id == user_id or (event.changes or {}).get("address") == address

    events = [e for e in await audit_events_since(secure, mark) if e.action == "login.failed" and ours(e)]
    assert [(event.record_type, event.record_id, (event.changes or {})["count"]) for event in events] == [
        ("User", user_id, 1),
        ("LoginThrottle", None, 1),
    ]
    assert events[1].changes is not None and events[1].changes["address"] == address
    # A minute later the next failure reports all those not yet reported.
    async with secure.state.sessionmaker() as session:
        await session.execute(
            update(LoginThrottle)
            .values(reported_at=utcnow() - timedelta(minutes=2))
            .where(LoginThrottle.key.in_([await account_key(secure, username), address]))
        )
        await session.commit()
    mark = await last_audit_id(secure)
    await attempt(secure, username, "wrong password!", address)
    counts = sorted((event.changes or {})["count"] for event in await audit_events_since(secure, mark) if ours(event))
    assert counts == [4, 4]


async def test_a_lockout_is_one_audit_event_and_no_secret_reaches_the_trail(
    api: Api, world: World, secure: Any, sleeps: Sleeps
) -> None:
    unknown = fresh_username()
    secret = "Secret-" + uuid.uuid4().hex
    mark = await last_audit_id(secure)
    for _ in range(ACCOUNT_LOCK + 5):
        await attempt(secure, unknown, secret)
    events = await audit_events_since(secure, mark)
    lockouts = [event for event in events if event.action == "login.lockout"]
    assert len(lockouts) == 1 and lockouts[0].changes is not None
    assert (
        lockouts[0].changes["account"] == (await account_key(secure, unknown))[:16]
        and lockouts[0].changes["lockouts"] == 1
    )
    # Rotating addresses: one event per address, but the account itself at most once a minute.
    account_events = [e for e in events if e.action == "login.failed" and (e.changes or {}).get("kind") == "account"]
    assert len(account_events) == 1
    trail = json.dumps([event.changes for event in events])
    assert secret not in trail and unknown not in trail  # an unknown username may be a password


class Trail(list[dict[str, Any]]):
    """An audit sink that keeps the events' changes."""

    def write(self, action: str, record_type: str, record_id: int | None, **kwargs: Any) -> None:
        self.append({"action": action, "record_type": record_type, "record_id": record_id, **kwargs["changes"]})


async def sweep_keys(app: Any, keys: list[str]) -> Trail:
    """Write the pending failures of these keys, as the once-a-minute sweep does."""
    trail = Trail()
    async with app.state.sessionmaker() as session:
        await sweep(session, trail, utcnow(), LoginThrottle.key.in_(keys))
        await session.commit()
    return trail


async def test_a_flood_is_capped_per_process_and_the_rest_aggregated_not_dropped(
    api: Api, world: World, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = utcnow()  # every attempt in one minute, wherever the clock is in it
    monkeypatch.setattr("auth.login_attempt.utcnow", lambda: frozen)
    username, _ = await new_user(api, world)
    user_id = await user_key(api, await api.login(username, PASSWORD))
    async with app_with(config, login_audit_events_per_minute=3) as flooded:
        flooded.state.authenticator.throttle.audit.swept_at = frozen  # this test sweeps by itself
        mark = await last_audit_id(flooded)
        names, addresses = [fresh_username() for _ in range(5)], [fresh_address() for _ in range(5)]
        for name, address in zip(names, addresses, strict=True):  # 10 keys no user has
            await attempt(flooded, name, "guess", address)
        individual = await audit_events_since(flooded, mark)
        assert len(individual) == 3
        # The cap never holds back a failure against a real account.
        await attempt(flooded, username, "wrong password!")
        [real] = [event for event in await audit_events_since(flooded, mark) if event.record_type == "User"]
        assert (real.action, real.record_id, (real.changes or {})["count"]) == ("login.failed", user_id, 1)
        # The rest waits, counted in its rows, for the sweep, which writes it aggregated.
        keys = [await account_key(flooded, name) for name in names] + addresses
        aggregated = await sweep_keys(flooded, keys)
        assert {(event["kind"], event["aggregated"]) for event in aggregated} <= {("account", True), ("address", True)}
        total = sum((event.changes or {})["count"] for event in individual) + sum(e["count"] for e in aggregated)
        assert total == 10
        assert await sweep_keys(flooded, keys) == []  # each failure is written once


async def test_every_lockout_is_audited_whatever_the_cap(
    api: Api, world: World, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    frozen = utcnow()
    monkeypatch.setattr("auth.login_attempt.utcnow", lambda: frozen)
    overrides = {"login_throttle_after": 2, "login_lock_after": 2, "login_address_throttle_after": 3}
    async with app_with(config, **overrides, login_address_lock_after=3, login_audit_events_per_minute=1) as capped:
        capped.state.authenticator.sleep = Sleeps()
        capped.state.authenticator.throttle.audit.swept_at = frozen
        mark = await last_audit_id(capped)
        await attempt(capped, fresh_username(), "guess")  # the minute's one event about unknown names
        unknown, other, address = fresh_username(), fresh_username(), fresh_address()
        for name in (unknown, unknown, other):  # locks the account and its source, then the address
            await attempt(capped, name, "guess", address)
        lockouts = [event for event in await audit_events_since(capped, mark) if event.action == "login.lockout"]
        assert sorted((event.changes or {})["kind"] for event in lockouts) == ["account", "address", "source"]
        await sweep_keys(capped, [await account_key(capped, name) for name in (unknown, other)] + [address])


async def test_failures_waiting_for_their_minute_are_written_by_the_next_sweep(
    api: Api, world: World, secure: Any, app: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    user_id = await user_key(api, await api.login(username, PASSWORD))
    mark = await last_audit_id(secure)
    for _ in range(3):  # the first is written at once, the other two wait for the minute
        await attempt(secure, username, "wrong password!")
    async with secure.state.sessionmaker() as session:
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == await account_key(secure, username))
            .values(reported_at=utcnow() - timedelta(minutes=2))
        )
        await session.commit()
    secure.state.authenticator.throttle.audit.swept_at = None  # as if this process had not swept for a minute
    await attempt(secure, fresh_username(), "guess")  # anyone's attempt sweeps
    counts = [
        (event.changes or {})["count"]
        for event in await audit_events_since(secure, mark)
        if event.action == "login.failed" and event.record_id == user_id
    ]
    assert counts == [1, 2]


async def test_unlocking_writes_the_failures_not_yet_audited_before_forgetting_them(
    api: Api, world: World, secure: Any, app: Any, sleeps: Sleeps
) -> None:
    username, _ = await new_user(api, world)
    user_id = await user_key(api, await api.login(username, PASSWORD))
    address = fresh_address()
    mark = await last_audit_id(app)
    for _ in range(ACCOUNT_LOCK):
        await attempt(secure, username, "wrong password!", address)
    await api.ok(UNLOCK, {"u": username}, world.admin_token)
    events = [event for event in await audit_events_since(app, mark) if event.record_id == user_id]
    failed = [(event.changes or {})["count"] for event in events if event.action == "login.failed"]
    assert sum(failed) == ACCOUNT_LOCK
    assert [event.action for event in events][-1] == "user.unlock"  # written before it was forgotten


async def test_a_login_audits_the_client_address_but_never_the_token(api: Api, world: World, app: Any) -> None:
    username, _ = await new_user(api, world)
    address = fresh_address()
    mark = await last_audit_id(app)
    async with client(app, address) as own:
        token = await own.login(username, PASSWORD)
    [event] = await audit_events_since(app, mark)
    assert event.action == "session.login" and event.changes == {"address": address}
    assert token not in json.dumps(event.changes)


def test_login_security_settings_come_from_the_environment() -> None:
    config = AppConfig.from_env(
        {
            "ESTART_LOGIN_THROTTLE_AFTER": "4",
            "ESTART_LOGIN_LOCK_AFTER": "8",
            "ESTART_LOGIN_LOCK_MINUTES": "30",
            "ESTART_SESSION_IDLE_MINUTES": "20",
            "ESTART_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16",
            "ESTART_ARGON2_TIME_COST": "3",
        }
    )
    assert (config.login_throttle_after, config.login_lock_after, config.login_lock_minutes) == (4, 8, 30.0)
    assert config.session_idle_minutes == 20.0 and config.argon2_time_cost == 3
    assert config.trusted_proxies == ("10.0.0.1", "10.1.0.0/16")
    defaults = AppConfig.from_env({})
    assert (defaults.login_throttle_after, defaults.login_lock_after, defaults.login_lock_minutes) == (5, 10, 15.0)
    assert (defaults.login_delay_seconds, defaults.login_delay_max_seconds) == (0.25, 4.0)
    assert defaults.session_idle_minutes == 30.0 and defaults.trusted_proxies == ()


# --- a lockout is not the attacker's weapon (issue 10, finding 3) ---------------------------------


async def test_an_attacker_cannot_lock_the_real_user_out(api: Api, world: World, secure: Any, sleeps: Sleeps) -> None:
    username, _ = await new_user(api, world)
    attacker, real_user = fresh_address(), fresh_address()
    for _ in range(ACCOUNT_LOCK + 3):
        await attempt(secure, username, "wrong password!", attacker)
    account = await throttle(secure, "account", await account_key(secure, username))
    assert account is not None and account.locked_until is not None
    # The attacker's address is locked out of this account, even with the right password...
    assert error_of(await attempt(secure, username, PASSWORD, attacker)) == ("UNAUTHENTICATED", LOCKED)
    # ...and every other address an attacker uses gets one guess while the account is locked.
    for address in (fresh_address(), fresh_address()):
        assert error_of(await attempt(secure, username, "guess one", address))[1] == BAD_LOGIN
        assert error_of(await attempt(secure, username, "guess two", address))[1] == LOCKED
    # The real user, at an address with no failures, is slowed down, not shut out.
    sleeps.clear()
    assert "errors" not in await attempt(secure, username, PASSWORD, real_user)
    assert sleeps == [4.0]  # the longest wait


async def test_a_lock_is_capped(api: Api, world: World, secure: Any, sleeps: Sleeps) -> None:
    assert AppConfig().login_lock_max_minutes == 60  # not the 24 hours a doubling lock reached before
    username, _ = await new_user(api, world)
    address = fresh_address()
    await attempt(secure, username, "wrong password!", address)
    async with secure.state.sessionmaker() as session:  # as if locked twenty times before
        await session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key.startswith((await account_key(secure, username))[:32]))
            .values(lockouts=20)
        )
        await session.commit()
    for _ in range(ACCOUNT_LOCK - 1):
        await attempt(secure, username, "wrong password!", address)
    row = await throttle(secure, "account", await account_key(secure, username))
    assert row is not None and row.locked_until is not None and row.lockouts == 21
    assert timedelta(minutes=59) < row.locked_until - utcnow() <= timedelta(minutes=60)


# --- keyed fingerprints (issue 10, finding 9) -----------------------------------------------------


async def test_account_keys_are_keyed_macs_not_plain_hashes(api: Api, world: World, config: AppConfig) -> None:
    typed = "Secret-" + fresh_username()  # what is typed into the username box may be a password
    name = typed.lower().encode()
    async with app_with(config) as one, app_with(config) as other:
        key = await account_key(one, typed)
        assert key != hashlib.sha256(name).hexdigest()
        async with one.state.sessionmaker() as session:
            stored = await session.scalar(select(DeploymentSecret.value).where(DeploymentSecret.name == "login_key"))
        assert stored is not None and len(stored) == 64  # generated on first use, stored once
        assert key == hmac.new(stored.encode(), b"account\x00" + name, hashlib.sha256).hexdigest()
        assert await account_key(other, typed) == key  # every process uses the same key
    # A configured key (ESTART_LOGIN_KEY) is used instead, and never shown with the configuration.
    configured = AppConfig.from_env({"ESTART_LOGIN_KEY": "k" * 40})
    assert configured.login_key == "k" * 40 and "k" * 40 not in repr(configured)
    async with app_with(config, login_key="k" * 40) as keyed:
        assert await account_key(keyed, typed) == hmac.new(b"k" * 40, b"account\x00" + name, hashlib.sha256).hexdigest()


# --- passwords an administrator sets, weak passwords, echoes (issue 10, finding 11) ---------------

LOGIN_FLAG = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token mustChangePassword } }"
CREATE_USER = "mutation($input: UserInput!) { createUser(input: $input) { id } }"
FAMILIES = "{ families { totalCount } }"


def user_input(world: World, username: str, password: str) -> dict[str, Any]:
    return {
        "input": {
            "username": username,
            "displayName": "Pat Example",
            "password": password,
            "crbCheckedOn": CRB_CHECKED_ON.isoformat(),
            "dataProtectionTrainedOn": TRAINED_ON.isoformat(),
            "roles": [{"role": "ADMIN_OFFICER", "settingId": world.settings["A"]}],
        }
    }


async def logged_in(app: Any, username: str, password: str) -> tuple[str, bool]:
    body = await attempt_document(app, LOGIN_FLAG, {"u": username, "p": password})
    return body["data"]["login"]["token"], body["data"]["login"]["mustChangePassword"]


async def attempt_document(app: Any, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    async with client(app) as own:
        return await own.post(document, variables)


def password_change_required(body: dict[str, Any]) -> bool:
    [error] = body["errors"]
    return body["data"] is None and error["extensions"] == {"code": "FORBIDDEN", "reason": "PASSWORD_CHANGE_REQUIRED"}


async def test_an_administrator_set_password_must_be_changed_at_the_next_login(
    api: Api, world: World, app: Any
) -> None:
    username, issued = fresh_username(), "issued by the administrator 7"
    user_id = (await api.ok(CREATE_USER, user_input(world, username, issued), world.admin_token))["createUser"]["id"]
    token, must_change = await logged_in(app, username, issued)
    assert must_change is True
    # The session may change the password, read `me` and log out, and nothing else.
    for document in (
        FAMILIES,
        "{ me { id } families { totalCount } }",
        "{ ...F } fragment F on Query { settings { code } }",
    ):
        assert password_change_required(await api.post(document, token=token)), document
    await api.ok("{ me { username } }", token=token)
    body = await api.post(CHANGE_PASSWORD, {"c": issued, "n": issued}, token)
    assert set(codes(body)) == {"BAD_USER_INPUT"} and body["errors"][0]["extensions"]["field"] == "newPassword"
    await api.ok(CHANGE_PASSWORD, {"c": issued, "n": NEW_PASSWORD}, token)
    await api.ok(FAMILIES, token=token)  # the same session, at once
    assert (await logged_in(app, username, NEW_PASSWORD))[1] is False
    # An administrator's reset sets it again.
    await api.ok(SET_PASSWORD, {"id": user_id, "p": issued}, world.admin_token)
    token, must_change = await logged_in(app, username, issued)
    assert must_change is True and password_change_required(await api.post(FAMILIES, token=token))
    assert (await api.ok("mutation { logout }", token=token))["logout"] is True


async def test_the_administrator_who_creates_users_from_the_command_line_is_not_forced(api: Api, app: Any) -> None:
    from tests.conftest import ADMIN

    assert (await logged_in(app, ADMIN, PASSWORD))[1] is False


@pytest.mark.parametrize(
    "weak",
    ["aaaaaaaaaaaa", "password1234", "qwertyuiop123", "abcabcabcabc", "iloveyou2026", "{username}-2026!x"],
    ids=["repeated", "common", "keyboard", "pattern", "common-and-year", "username"],
)
async def test_trivially_weak_passwords_are_refused_and_never_quoted(api: Api, world: World, weak: str) -> None:
    username, token = await new_user(api, world)
    user_id = (await api.ok("{ me { id } }", token=token))["me"]["id"]
    newcomer = fresh_username()
    attempts = [
        (SET_PASSWORD, {"id": user_id, "p": weak.format(username=username)}, world.admin_token, "password"),
        (CHANGE_PASSWORD, {"c": PASSWORD, "n": weak.format(username=username)}, token, "newPassword"),
        (CREATE_USER, user_input(world, newcomer, weak.format(username=newcomer)), world.admin_token, "password"),
    ]
    for document, variables, caller, field in attempts:
        body = await api.post(document, variables, caller)
        assert set(codes(body)) == {"BAD_USER_INPUT"} and body["errors"][0]["extensions"]["field"] == field, body
        assert weak.format(username=username) not in json.dumps(body) and weak.format(
            username=newcomer
        ) not in json.dumps(body)
    await api.ok("{ me { id } }", token=await api.login(username, PASSWORD))  # unchanged


@pytest.mark.parametrize(
    "value", [["SECRET-in-a-list-1"], {"x": "SECRET-in-an-object-2"}, 98765432109876], ids=["list", "object", "number"]
)
async def test_validation_errors_never_echo_a_submitted_password(api: Api, world: World, value: Any) -> None:
    _, token = await new_user(api, world)
    user_id = (await api.ok("{ me { id } }", token=token))["me"]["id"]
    secret = str(value["x"] if isinstance(value, dict) else value[0] if isinstance(value, list) else value)
    bodies = [
        await api.post(LOGIN, {"u": fresh_username(), "p": value}),
        await api.post(CHANGE_PASSWORD, {"c": PASSWORD, "n": value}, token),
        await api.post(SET_PASSWORD, {"id": user_id, "p": value}, world.admin_token),
        await api.post(
            f'mutation {{ setPassword(userId: "{user_id}", password: {json.dumps(value)}) }}', {}, world.admin_token
        )
        if not isinstance(value, dict)
        else await api.post(CREATE_USER, {"input": value}, world.admin_token),
    ]
    for body in bodies:
        assert body["data"] is None and set(codes(body)) == {"BAD_USER_INPUT"}, body
        assert secret not in json.dumps(body), body


async def test_casbin_decisions_are_not_logged(
    api: Api, world: World, config: AppConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with app_with(config) as fresh:  # its decisions are made anew, none memoized yet
        async with client(fresh) as own:
            query = "{ families { nodes { notes { text } confidentialNotes { text } access { read write } } } }"
            await own.ok(query, token=world.tokens["MANAGER"])
        assert fresh.state.decisions.enforce_calls > 0
    assert [record.getMessage() for record in caplog.records if record.name.startswith("casbin")] == []
