"""The role matrix of reports and of user accounts (issues 14, 15; API.md "Reports", "User
accounts"; standards 4, 13, 15, 16), expanded from tests/matrix.py:
  REPORTING read decides who runs `report` and `quarterlyPack`, and over which settings — the
    settings where the role is held, or all for an authority-wide right — and no other category
    is needed;
  USER_REQUEST write decides who signs `requestUser` (a role in a setting where the signer holds
    the right; a role in all settings only with the right everywhere), `requestRoleChange`,
    `requestPasswordReset` and `requestTermination` (about a user of those settings), and a
    signer lists the requests they filed;
  USER_ADMIN decides `approveUserRequest`, `rejectUserRequest`, `userRequests` (all of them),
    `userRequestReport`, `users` and `recordCompliance`; AUDIT read `auditEvents`.
Every refused write leaves what it aimed at as it was."""

import csv
import io
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from resolvers.validation import today
from tests.assertions import assert_refused, assert_writes_refused
from tests.conftest import CRB_CHECKED_ON, TRAINED_ON, Api, World, create_user
from tests.factories import fresh_user, unique_name
from tests.grid import Grid
from tests.matrix import (
    AUDIT,
    EVERYWHERE,
    HELD,
    NONE,
    REPORTING,
    ROLES,
    USER_ADMIN,
    USER_REQUEST,
    reach,
    verb,
)

# ---------------------------------------------------------------------------------------------
# Reports: REPORTING read, over the settings where it is held (all for an authority-wide right)
# ---------------------------------------------------------------------------------------------

REPORT = """query($s: ID) { report(input: {measure: REGISTERED_FAMILIES, by: [SETTING], period: YEAR,
  periodStart: "2026-04-01", settingId: $s}) { cells { keys } } }"""
PACK = '{ quarterlyPack(quarter: "2026-Q4") { measure by cells { keys } } }'
TARGETS = (None, "A", "B")


def reports_on(role: str, target: str | None) -> bool:
    where = reach(role, REPORTING, "read")
    return where == EVERYWHERE or (where == HELD and target in (None, "A"))


REPORT_CASES = [
    pytest.param(role, target, id=f"{role}-{verb(reports_on(role, target))}-report-on-{target or 'all-settings'}")
    for role in ROLES
    for target in TARGETS
]


def reported_settings(grid: Grid, role: str, target: str | None) -> set[str]:
    """The grid's setting codes a report by SETTING shows for `role` (other settings of the
    database are not the grid's)."""
    if target is not None:
        return {grid.setting_codes[target]}
    held = "ABC" if reach(role, REPORTING, "read") == EVERYWHERE else "A"
    return {grid.setting_codes[name] for name in held}


@pytest.mark.parametrize(("role", "target"), REPORT_CASES)
async def test_run_a_report(api: Api, grid: Grid, role: str, target: str | None) -> None:
    body = await api.post(REPORT, {"s": None if target is None else grid.settings[target]}, grid.tokens[role])
    if not reports_on(role, target):
        assert_refused(body, "report", {REPORTING})
        return
    assert not body.get("errors"), body["errors"]
    shown = {cell["keys"][0] for cell in body["data"]["report"]["cells"]}
    assert shown & set(grid.setting_codes.values()) == reported_settings(grid, role, target)
    if reach(role, REPORTING, "read") == HELD:
        assert shown == {grid.setting_codes["A"]}  # nothing of a setting the role is not held in


@pytest.mark.parametrize(("role", "target"), REPORT_CASES)
async def test_download_a_report(api: Api, grid: Grid, role: str, target: str | None) -> None:
    """POST /reports/export answers the same rights as report (403 when refused)."""
    setting = None if target is None else grid.settings[target]
    spec: dict[str, Any] = {"measure": "REGISTERED_FAMILIES", "by": ["SETTING"], "period": "YEAR"}
    spec |= {"periodStart": "2026-04-01", "settingId": setting}
    response = await api.client.post(
        "/reports/export",
        json={"input": spec, "format": "csv"},
        headers={"Authorization": f"Bearer {grid.tokens[role]}"},
    )
    if not reports_on(role, target):
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        return
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.text)))
    grid_codes = set(grid.setting_codes.values())
    assert {row[0] for row in rows if row and row[0] in grid_codes} == reported_settings(grid, role, target)


PACK_CASES = [pytest.param(role, id=f"{role}-{verb(reports_on(role, None))}-run-the-quarterly-pack") for role in ROLES]


@pytest.mark.parametrize("role", PACK_CASES)
async def test_run_the_quarterly_pack(api: Api, grid: Grid, role: str) -> None:
    body = await api.post(PACK, token=grid.tokens[role])
    if not reports_on(role, None):
        assert_refused(body, "quarterlyPack", {REPORTING})
        return
    assert not body.get("errors"), body["errors"]
    by_setting = [t for t in body["data"]["quarterlyPack"] if t["by"] == ["SETTING"]]
    assert by_setting
    for table in by_setting:
        shown = {cell["keys"][0] for cell in table["cells"]}
        assert shown & set(grid.setting_codes.values()) == reported_settings(grid, role, None)


# ---------------------------------------------------------------------------------------------
# User requests: USER_REQUEST write where the signer holds it
# ---------------------------------------------------------------------------------------------

OUTSTANDING = "{ userRequestReport { requests { id kind username user { id } } } }"
REQUEST_USER = "mutation($input: UserRequestInput!) { requestUser(input: $input) { id kind status } }"
ROLE_CHANGE = """mutation($u: ID!, $roles: [RoleInput!]!) { requestRoleChange(userId: $u, roles: $roles) {
  id kind status } }"""
RESET = "mutation($u: ID!) { requestPasswordReset(userId: $u) { id kind status } }"
TERMINATE = "mutation($u: ID!, $r: String!) { requestTermination(userId: $u, reason: $r) { id kind status } }"
APPROVE = "mutation($id: ID!) { approveUserRequest(id: $id) { status oneTimePassword } }"
REJECT = "mutation($id: ID!, $r: String!) { rejectUserRequest(id: $id, reason: $r) { status } }"
STATUS = "query($s: UserRequestStatus) { userRequests(status: $s, first: 1000) { id status requestedBy { id } } }"
ME = "{ me { id } }"


def asks(role: str, target: str | None) -> bool:
    """Whether `role`, held in A, signs a request touching `target` ("A", "B"; None: a role in
    all settings)."""
    where = reach(role, USER_REQUEST, "write")
    return where == EVERYWHERE or (where == HELD and target == "A")


def new_user(grid: Grid, target: str | None) -> dict[str, Any]:
    role, setting = ("ADMIN_OFFICER", grid.settings[target]) if target else ("SENIOR_MANAGEMENT", None)
    return {
        "username": f"starter-{unique_name().lower()}",
        "displayName": "New Starter",
        "crbCheckedOn": CRB_CHECKED_ON.isoformat(),
        "dataProtectionTrainedOn": TRAINED_ON.isoformat(),
        "roles": [{"role": role, "settingId": setting}],
    }


async def outstanding(api: Api, world: World) -> list[dict[str, Any]]:
    return (await api.ok(OUTSTANDING, token=world.admin_token))["userRequestReport"]["requests"]  # type: ignore[no-any-return]


REQUEST_USER_CASES = [
    pytest.param(role, target, id=f"{role}-{verb(asks(role, target))}-request-a-user-for-{target or 'all-settings'}")
    for role in ROLES
    for target in TARGETS
]


@pytest.mark.parametrize(("role", "target"), REQUEST_USER_CASES)
async def test_request_a_user(api: Api, world: World, grid: Grid, role: str, target: str | None) -> None:
    data = new_user(grid, target)
    body = await api.post(REQUEST_USER, {"input": data}, grid.tokens[role])
    filed = [r for r in await outstanding(api, world) if r["username"] == data["username"]]
    if not asks(role, target):
        assert_refused(body, "requestUser", {USER_REQUEST})
        assert filed == []
        return
    assert not body.get("errors"), body["errors"]
    made = body["data"]["requestUser"]
    assert (made["kind"], made["status"]) == ("NEW_USER", "PENDING")
    assert [r["id"] for r in filed] == [made["id"]]


@pytest.fixture(scope="module")
async def subjects(api: Api, world: World, grid: Grid) -> dict[str, str]:
    """A user of setting A and one of B, whom the requests below are about ("A", "B" -> id)."""
    found = {}
    for setting in "AB":
        token = await fresh_user(api, world, "ADMIN_OFFICER", grid.settings[setting])
        found[setting] = (await api.ok(ME, token=token))["me"]["id"]
    return found


ABOUT_CASES = [
    pytest.param(role, target, id=f"{role}-{verb(asks(role, target))}-request-changes-to-a-user-of-{target}")
    for role in ROLES
    for target in "AB"
]


@pytest.mark.parametrize(("role", "target"), ABOUT_CASES)
async def test_request_changes_to_a_user(
    api: Api, world: World, grid: Grid, subjects: dict[str, str], role: str, target: str
) -> None:
    """A role change, a password reset and a termination about an existing user. A signer with
    the right elsewhere only finds no such user (NOT_FOUND), like an id naming nobody."""
    user_id = subjects[target]
    token = grid.tokens[role]

    async def requests_about_the_user() -> list[dict[str, Any]]:
        return [r for r in await outstanding(api, world) if (r["user"] or {}).get("id") == user_id]

    roles = [{"role": "SENIOR_ADMINISTRATOR", "settingId": grid.settings[target]}]
    writes = {
        "requestRoleChange": partial(api.post, ROLE_CHANGE, {"u": user_id, "roles": roles}, token),
        "requestPasswordReset": partial(api.post, RESET, {"u": user_id}, token),
        "requestTermination": partial(api.post, TERMINATE, {"u": user_id, "r": "Left the service"}, token),
    }
    if not asks(role, target):
        if reach(role, USER_REQUEST, "write") == NONE:
            await assert_writes_refused(requests_about_the_user, writes, {USER_REQUEST})
        else:
            await assert_writes_refused(requests_about_the_user, writes, code="NOT_FOUND")
        return
    before = await requests_about_the_user()
    bodies = {field: await write() for field, write in writes.items()}
    after = await requests_about_the_user()
    for body in bodies.values():
        assert not body.get("errors"), body["errors"]
    kinds = [body["data"][field]["kind"] for field, body in bodies.items()]
    assert kinds == ["ROLE_CHANGE", "PASSWORD_RESET", "TERMINATION"]
    assert sorted(r["id"] for r in after) == sorted(
        [r["id"] for r in before] + [b["data"][f]["id"] for f, b in bodies.items()]
    )


def lists_all_requests(role: str) -> bool:
    return reach(role, USER_ADMIN, "read") == EVERYWHERE


def lists_requests(role: str) -> bool:
    return lists_all_requests(role) or reach(role, USER_REQUEST, "write") != NONE


LIST_CASES = [
    pytest.param(
        role,
        id=f"{role}-lists-{'all' if lists_all_requests(role) else 'own' if lists_requests(role) else 'no'}-requests",
    )
    for role in ROLES
]


@pytest.mark.parametrize("role", LIST_CASES)
async def test_list_user_requests(api: Api, grid: Grid, role: str) -> None:
    """The administrator lists every request; a signer the requests they filed."""
    theirs = (await api.ok(REQUEST_USER, {"input": new_user(grid, "B")}, grid.manager_b))["requestUser"]["id"]
    body = await api.post(STATUS, {"s": "PENDING"}, grid.tokens[role])
    if not lists_requests(role):
        assert_refused(body, "userRequests", {USER_REQUEST, USER_ADMIN})
        return
    assert not body.get("errors"), body["errors"]
    listed = body["data"]["userRequests"]
    assert all(r["status"] == "PENDING" for r in listed)
    assert (theirs in [r["id"] for r in listed]) == lists_all_requests(role)
    if not lists_all_requests(role):
        me = (await api.ok(ME, token=grid.tokens[role]))["me"]["id"]
        assert {r["requestedBy"]["id"] for r in listed} <= {me}


def decides(role: str) -> bool:
    return reach(role, USER_ADMIN, "write") == EVERYWHERE


DECIDE_CASES = [pytest.param(role, id=f"{role}-{verb(decides(role))}-approve-and-reject-requests") for role in ROLES]


@pytest.mark.parametrize("role", DECIDE_CASES)
async def test_approve_and_reject(api: Api, world: World, grid: Grid, role: str) -> None:
    """Requests a manager of B filed (nobody here decides their own)."""
    token = grid.tokens[role]
    asked = [
        (await api.ok(REQUEST_USER, {"input": new_user(grid, "B")}, grid.manager_b))["requestUser"]["id"]
        for _ in range(2)
    ]
    approved = await api.post(APPROVE, {"id": asked[0]}, token)
    rejected = await api.post(REJECT, {"id": asked[1], "r": "No CRB certificate seen"}, token)
    pending = {r["id"] for r in await outstanding(api, world)}
    if not decides(role):
        assert_refused(approved, "approveUserRequest", {USER_ADMIN})
        assert_refused(rejected, "rejectUserRequest", {USER_ADMIN})
        assert set(asked) <= pending
        return
    assert not approved.get("errors") and not rejected.get("errors"), (approved, rejected)
    assert approved["data"]["approveUserRequest"]["status"] == "APPROVED"
    assert approved["data"]["approveUserRequest"]["oneTimePassword"]
    assert rejected["data"]["rejectUserRequest"] == {"status": "REJECTED"}
    assert not set(asked) & pending


# ---------------------------------------------------------------------------------------------
# The administrator's views and compliance dates
# ---------------------------------------------------------------------------------------------

VIEWS = {
    "users": ("{ users(first: 1) { totalCount nodes { id } } }", USER_ADMIN),
    "userRequestReport": ("{ userRequestReport { outstanding } }", USER_ADMIN),
    "auditEvents": ("{ auditEvents(first: 1) { nodes { id policyVersion } } }", AUDIT),
}


def reads_view(role: str, view: str) -> bool:
    return reach(role, VIEWS[view][1], "read") == EVERYWHERE


VIEW_CASES = [
    pytest.param(role, view, id=f"{role}-{verb(reads_view(role, view))}-read-{view}")
    for role in ROLES
    for view in VIEWS
]


@pytest.mark.parametrize(("role", "view"), VIEW_CASES)
async def test_administrators_views(api: Api, grid: Grid, role: str, view: str) -> None:
    query, category = VIEWS[view]
    body = await api.post(query, token=grid.tokens[role])
    if not reads_view(role, view):
        assert_refused(body, view, {category})
        return
    assert not body.get("errors"), body["errors"]
    assert body["data"][view] is not None


COMPLIANCE = """mutation($u: ID!, $d: Date) { recordCompliance(userId: $u, crbCheckedOn: $d) { id crbCheckedOn } }"""
USERS = "query($q: String) { users(search: $q, first: 5) { nodes { id crbCheckedOn } } }"
COMPLIANCE_CASES = [pytest.param(role, id=f"{role}-{verb(decides(role))}-record-compliance") for role in ROLES]


@pytest.fixture(scope="module")
async def renewing(api: Api, world: World, grid: Grid) -> tuple[str, str]:
    """A user of setting A whose compliance dates the cases below renew: (username, id)."""
    username = f"renewing-{unique_name().lower()}"
    roles = [{"role": "ADMIN_OFFICER", "settingId": grid.settings["A"]}]
    token = await create_user(api, world.admin_token, username, roles)
    return username, (await api.ok(ME, token=token))["me"]["id"]


@pytest.mark.parametrize("role", COMPLIANCE_CASES)
async def test_record_compliance(api: Api, world: World, grid: Grid, renewing: tuple[str, str], role: str) -> None:
    """A renewed CRB check, recorded by the administrator (USER_ADMIN write). Each case renews
    on a day of its own, so that a refused one that went through would show."""
    username, user_id = renewing
    renewed = (today() - timedelta(days=1 + ROLES.index(role))).isoformat()

    async def compliance() -> dict[str, Any]:
        [user] = (await api.ok(USERS, {"q": username}, world.admin_token))["users"]["nodes"]
        return user  # type: ignore[no-any-return]

    assert (await compliance())["crbCheckedOn"] != renewed
    record = partial(api.post, COMPLIANCE, {"u": user_id, "d": renewed}, grid.tokens[role])
    if not decides(role):
        await assert_writes_refused(compliance, {"recordCompliance": record}, {USER_ADMIN})
        return
    body = await record()
    after = await compliance()
    assert not body.get("errors"), body["errors"]
    assert body["data"]["recordCompliance"] == {"id": user_id, "crbCheckedOn": renewed}
    assert after == {"id": user_id, "crbCheckedOn": renewed}
