"""The administrator on call sees the login locks and throttles of both kinds and lifts them:
`loginLocks` lists accounts (by username; a name no user has only as a fingerprint) and addresses,
`unlockAddress` lifts an address's lock as `unlockUser` lifts an account's. Both are the eStart
Administrator's alone and both are audited.

Attempts go to a service with small thresholds over the shared database; the administration goes
through the shared app, as in tests/test_login_security.py."""

import ipaddress
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from auth.authenticator import LOCKED
from config import AppConfig
from tests.assertions import codes
from tests.conftest import PASSWORD, Api, World
from tests.factories import audit_events_since, last_audit_id, user_key
from tests.test_login_security import (
    account_key,
    app_with,
    attempt,
    error_of,
    fresh_address,
    fresh_username,
    new_user,
    throttle,
)

ACCOUNT_LOCK, ADDRESS_LOCK = 3, 4
LOCKS = """query($lockedOnly: Boolean! = false) {
  loginLocks(lockedOnly: $lockedOnly, first: 1000) { kind key username failures lockouts lockedUntil lastFailureAt }
}"""
UNLOCK_ADDRESS = "mutation($a: String!) { unlockAddress(address: $a) }"
NON_ADMINISTRATORS = ["MANAGER", "HEAD_OF_CENTRE", "SENIOR_MANAGEMENT", "CONTACTPOINT_FEED", "LA_REPORTING"]


@pytest.fixture(scope="module")
async def locking(config: AppConfig) -> AsyncIterator[Any]:
    """The service locking an account at its 3rd failure and an address at its 4th."""
    async with app_with(
        config,
        login_throttle_after=ACCOUNT_LOCK,
        login_lock_after=ACCOUNT_LOCK,
        login_address_throttle_after=ADDRESS_LOCK,
        login_address_lock_after=ADDRESS_LOCK,
    ) as application:
        yield application


async def lock_address(app: Any) -> str:
    """A fresh address, locked by a spray of made-up usernames."""
    address = fresh_address()
    for _ in range(ADDRESS_LOCK):
        await attempt(app, fresh_username(), "guess", address)
    return address


async def lock_account(app: Any, username: str) -> None:
    for _ in range(ACCOUNT_LOCK):
        await attempt(app, username, "wrong password!")  # a fresh address each time


def entry(locks: list[dict[str, Any]], kind: str, key: str) -> dict[str, Any]:
    [found] = [lock for lock in locks if lock["kind"] == kind and lock["key"] == key]
    return found


# --- loginLocks -----------------------------------------------------------------------------------


async def test_the_administrator_sees_locks_of_accounts_and_addresses(
    api: Api, world: World, app: Any, locking: Any
) -> None:
    username, _ = await new_user(api, world)
    await lock_account(locking, username)
    address = await lock_address(locking)
    mark = await last_audit_id(app)
    locks = (await api.ok(LOCKS, {"lockedOnly": True}, world.admin_token))["loginLocks"]
    account = entry(locks, "ACCOUNT", username)
    assert account["username"] == username and account["lockedUntil"] and account["lockouts"] == 1
    locked_address = entry(locks, "ADDRESS", address)
    assert locked_address["username"] is None and locked_address["lockedUntil"]
    assert all(lock["lockedUntil"] for lock in locks)
    [event] = [event for event in await audit_events_since(app, mark) if event.action == "login.locks_listed"]
    assert event.user_id == await user_key(api, world.admin_token)
    assert event.changes == {"lockedOnly": True, "count": len(locks)}


async def test_an_account_that_names_no_user_shows_only_its_fingerprint(api: Api, world: World, locking: Any) -> None:
    typed = "Secret-" + fresh_username()  # what is typed into the username box may be a password
    await lock_account(locking, typed)
    body = await api.ok(LOCKS, token=world.admin_token)
    account = entry(body["loginLocks"], "ACCOUNT", (await account_key(locking, typed))[:16])
    assert account["username"] is None and account["lockedUntil"]
    assert typed not in json.dumps(body) and typed.lower() not in json.dumps(body)


async def test_throttled_keys_are_listed_with_their_failures_until_they_lock(
    api: Api, world: World, locking: Any
) -> None:
    username, _ = await new_user(api, world)
    address = fresh_address()
    for _ in range(2):
        await attempt(locking, username, "wrong password!", address)
    locks = (await api.ok(LOCKS, token=world.admin_token))["loginLocks"]
    throttled = [entry(locks, "ACCOUNT", username), entry(locks, "ADDRESS", address)]
    assert [(lock["failures"], lock["lockedUntil"]) for lock in throttled] == [(2, None), (2, None)]
    locked_only = (await api.ok(LOCKS, {"lockedOnly": True}, world.admin_token))["loginLocks"]
    assert [lock for lock in locked_only if lock["key"] in (username, address)] == []


async def test_login_locks_read_beside_other_root_fields(api: Api, world: World, locking: Any) -> None:
    address = await lock_address(locking)
    query = "{ me { username } loginLocks(lockedOnly: true, first: 1000) { kind key lockedUntil } settings { code } }"
    data = await api.ok(query, token=world.admin_token)
    assert data["me"]["username"] and data["settings"]
    assert datetime.fromisoformat(entry(data["loginLocks"], "ADDRESS", address)["lockedUntil"]) > datetime.now(UTC)


@pytest.mark.parametrize("first", [0, 1001])
async def test_the_page_size_is_bounded(api: Api, world: World, first: int) -> None:
    body = await api.post("query($f: Int!) { loginLocks(first: $f) { key } }", {"f": first}, world.admin_token)
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "first"


# --- unlockAddress --------------------------------------------------------------------------------


async def test_the_administrator_lifts_an_address_lock_and_logins_from_it_proceed(
    api: Api, world: World, app: Any, locking: Any
) -> None:
    username, _ = await new_user(api, world)
    address = await lock_address(locking)
    assert error_of(await attempt(locking, username, PASSWORD, address)) == ("UNAUTHENTICATED", LOCKED)
    mark = await last_audit_id(app)
    # Typed as the administrator sees fit: the address is read the way logins record it.
    typed = f"  {ipaddress.ip_address(address).exploded.upper()}  "
    assert (await api.ok(UNLOCK_ADDRESS, {"a": typed}, world.admin_token))["unlockAddress"] is True
    assert await throttle(locking, "address", address) is None
    assert "errors" not in await attempt(locking, username, PASSWORD, address)
    assert (await api.ok(UNLOCK_ADDRESS, {"a": address}, world.admin_token))["unlockAddress"] is False
    events = [event for event in await audit_events_since(app, mark) if event.action == "address.unlock"]
    assert [(event.record_type, event.changes) for event in events] == [
        ("LoginThrottle", {"address": address, "wasLocked": True}),
        ("LoginThrottle", {"address": address, "wasLocked": False}),
    ]
    assert events[0].user_id == await user_key(api, world.admin_token)


async def test_lifting_an_address_lock_leaves_the_accounts_locked(api: Api, world: World, locking: Any) -> None:
    username, _ = await new_user(api, world)
    address = fresh_address()
    for _ in range(ACCOUNT_LOCK):  # the account locks from this address...
        await attempt(locking, username, "wrong password!", address)
    await attempt(locking, fresh_username(), "guess", address)  # ...and then the address itself
    assert (await throttle(locking, "address", address)).locked_until is not None  # type: ignore[union-attr]
    await api.ok(UNLOCK_ADDRESS, {"a": address}, world.admin_token)
    assert error_of(await attempt(locking, username, PASSWORD, address)) == ("UNAUTHENTICATED", LOCKED)


@pytest.mark.parametrize("address", ["  ", "10.0.0.1\u0000", "10.0.0.1\u202e"], ids=["empty", "nul", "bidi"])
async def test_an_address_no_login_records_is_refused(api: Api, world: World, address: str) -> None:
    body = await api.post(UNLOCK_ADDRESS, {"a": address}, world.admin_token)
    # NUL is refused before any resolver runs, so without a field
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"].get("field", "address") == "address"


async def test_unlocking_a_name_no_user_can_have_answers_false(api: Api, world: World) -> None:
    unlock = "mutation($u: String!) { unlockUser(username: $u) }"
    assert (await api.ok(unlock, {"u": "x" * 101}, world.admin_token))["unlockUser"] is False
    body = await api.post(unlock, {"u": "nobody\u0000here"}, world.admin_token)  # refused before any resolver
    assert body["data"] is None and codes(body) == ["BAD_USER_INPUT"]


# --- for the administrator only -----------------------------------------------------------------


@pytest.mark.parametrize("role", NON_ADMINISTRATORS)
async def test_only_the_administrator_lists_and_lifts_locks(
    api: Api, world: World, app: Any, locking: Any, role: str
) -> None:
    username, _ = await new_user(api, world)
    address = await lock_address(locking)
    mark = await last_audit_id(app)
    for document, variables in ((LOCKS, {}), (UNLOCK_ADDRESS, {"a": address})):
        body = await api.post(document, variables, world.tokens[role])
        # loginLocks is nullable (a refused root field, API.md): null itself, not the whole answer
        assert not any((body["data"] or {}).values()) and codes(body) == ["FORBIDDEN"], (role, document)
    # Nothing changed: the address is still locked, and neither action was recorded as done.
    row = await throttle(locking, "address", address)
    assert row is not None and row.locked_until is not None
    assert error_of(await attempt(locking, username, PASSWORD, address)) == ("UNAUTHENTICATED", LOCKED)
    actions = {event.action for event in await audit_events_since(app, mark)}
    assert not actions & {"address.unlock", "login.locks_listed"}
