"""User accounts as the standards run them (issue 15): a setting manager asks, the eStart
Administrator approves within the deadline, nobody approves their own request, a role in all
settings needs two administrators, and no administrator alone gives anyone confidential notes."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from authz.enforcer import Decisions
from models import User
from resolvers import validation as v
from resolvers.compliance import ComplianceWarning, compliance, years_after
from resolvers.form import calendar_for
from resolvers.user_requests import WORKING_DAYS, Kind, local_day
from tests.conftest import ALL_ROLES, CRB_CHECKED_ON, PASSWORD, TRAINED_ON, Api, World, create_user
from tests.factories import unique_name

NEW_PASSWORD = "violet harbour mosaic tundra 83"

REQUEST_FIELDS = """id kind status deadline late outstanding approvalsNeeded requestedAt oneTimePassword
  requestedBy { username } decidedBy { username } user { id username status roles { role setting { id } } }"""
REQUEST_USER = f"""mutation($input: UserRequestInput!) {{ requestUser(input: $input) {{ {REQUEST_FIELDS} }} }}"""
ROLE_CHANGE = f"""mutation($u: ID!, $roles: [RoleInput!]!) {{
  requestRoleChange(userId: $u, roles: $roles) {{ {REQUEST_FIELDS} }} }}"""
RESET = f"mutation($u: ID!) {{ requestPasswordReset(userId: $u) {{ {REQUEST_FIELDS} }} }}"
TERMINATE = f"mutation($u: ID!, $r: String!) {{ requestTermination(userId: $u, reason: $r) {{ {REQUEST_FIELDS} }} }}"
APPROVE = f"mutation($id: ID!) {{ approveUserRequest(id: $id) {{ {REQUEST_FIELDS} }} }}"
REJECT = "mutation($id: ID!, $r: String!) { rejectUserRequest(id: $id, reason: $r) { status decidedBy { username } } }"
LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
CHANGE_PASSWORD = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
AUDIT = """query($f: AuditFilter) { auditEvents(filter: $f, first: 100) {
  nodes { action userName subjectId policyVersion changes { field before after } } } }"""
CREATE_USER = "mutation($input: UserInput!) { createUser(input: $input) { id } }"


def new_user_input(world: World, role: str = "PARENT_SUPPORT_WORKER", setting: str | None = "A") -> dict[str, Any]:
    return {
        "username": f"starter-{unique_name().lower()}",
        "displayName": "New Starter",
        "crbCheckedOn": CRB_CHECKED_ON.isoformat(),
        "dataProtectionTrainedOn": TRAINED_ON.isoformat(),
        "roles": [{"role": role, "settingId": None if setting is None else world.settings[setting]}],
    }


def only_error(body: dict[str, Any]) -> dict[str, Any]:
    [error] = body["errors"]
    return error["extensions"]  # type: ignore[no-any-return]


def filed_on(request: dict[str, Any]) -> date:
    """The UK day the request was filed, which its deadline counts from: today's date when the
    test looks may be the next day's (midnight passes)."""
    return local_day(datetime.fromisoformat(request["requestedAt"]))


async def second_admin(api: Api) -> str:
    return await create_user(
        api, "", f"second-admin-{unique_name().lower()}", [{"role": "SYSTEM_ADMINISTRATOR", "settingId": None}]
    )


async def test_a_new_starter_from_request_to_termination(api: Api, world: World) -> None:
    manager, admin = world.tokens["MANAGER"], world.admin_token
    data = new_user_input(world)
    asked = (await api.ok(REQUEST_USER, {"input": data}, manager))["requestUser"]
    assert asked["kind"] == "NEW_USER" and asked["status"] == "PENDING" and asked["outstanding"]
    assert asked["approvalsNeeded"] == 1 and asked["user"] is None and asked["oneTimePassword"] is None
    assert asked["requestedBy"]["username"] == "manager-a"
    assert date.fromisoformat(asked["deadline"]) == calendar_for(()).add_working_days(filed_on(asked), 5)
    assert not asked["late"]

    # The requester cannot decide it; the administrator lists and approves it.
    assert only_error(await api.post(APPROVE, {"id": asked["id"]}, manager))["code"] == "FORBIDDEN"
    listed = await api.ok("{ userRequests(status: PENDING, first: 1000) { id } }", token=admin)
    assert asked["id"] in [r["id"] for r in listed["userRequests"]]
    report = (await api.ok("{ userRequestReport { outstanding requests { id } } }", token=admin))["userRequestReport"]
    assert asked["id"] in [r["id"] for r in report["requests"]] and report["outstanding"] >= 1
    approved = (await api.ok(APPROVE, {"id": asked["id"]}, admin))["approveUserRequest"]
    assert approved["status"] == "APPROVED" and not approved["outstanding"] and not approved["late"]
    assert approved["decidedBy"]["username"] == "root-admin"
    one_time = approved["oneTimePassword"]
    assert one_time and len(one_time) >= 12
    starter = approved["user"]
    assert starter["username"] == data["username"] and starter["status"] == "ACTIVE"
    assert [(r["role"], r["setting"]["id"]) for r in starter["roles"]] == [
        ("PARENT_SUPPORT_WORKER", world.settings["A"])
    ]
    # The one-time password is shown once: listing the request again does not show it.
    again = await api.ok("{ userRequests(first: 1000) { id oneTimePassword } }", token=admin)
    assert {r["oneTimePassword"] for r in again["userRequests"] if r["id"] == asked["id"]} == {None}

    token = await api.login(data["username"], one_time)
    await api.ok(CHANGE_PASSWORD, {"c": one_time, "n": NEW_PASSWORD}, token)
    token = await api.login(data["username"], NEW_PASSWORD)
    assert (await api.ok("{ me { username lastLoginAt } }", token=token))["me"]["lastLoginAt"]

    # A change of roles, 3 working days.
    changed = (
        await api.ok(
            ROLE_CHANGE,
            {"u": starter["id"], "roles": [{"role": "ADMIN_OFFICER", "settingId": world.settings["A"]}]},
            manager,
        )
    )["requestRoleChange"]
    assert date.fromisoformat(changed["deadline"]) == calendar_for(()).add_working_days(filed_on(changed), 3)
    done = (await api.ok(APPROVE, {"id": changed["id"]}, admin))["approveUserRequest"]
    assert [r["role"] for r in done["user"]["roles"]] == ["ADMIN_OFFICER"]
    me = await api.ok("{ me { roles { role } } }", token=token)
    assert me["me"]["roles"] == [{"role": "ADMIN_OFFICER"}]  # at once, on the same session

    # A password reset at the manager's request: every session ends, a new one-time password.
    reset = (await api.ok(RESET, {"u": starter["id"]}, manager))["requestPasswordReset"]
    fresh = (await api.ok(APPROVE, {"id": reset["id"]}, admin))["approveUserRequest"]["oneTimePassword"]
    assert fresh and fresh != one_time
    assert only_error(await api.post("{ me { id } }", token=token))["code"] == "UNAUTHENTICATED"
    assert (await api.post(LOGIN, {"u": data["username"], "p": NEW_PASSWORD}))["errors"]
    token = await api.login(data["username"], fresh)

    # Termination: at once (deadline today), every session ends, login refused, the name stays.
    ended = (await api.ok(TERMINATE, {"u": starter["id"], "r": "left the service"}, manager))["requestTermination"]
    assert ended["deadline"] == filed_on(ended).isoformat()
    terminated = (await api.ok(APPROVE, {"id": ended["id"]}, admin))["approveUserRequest"]
    assert terminated["user"]["status"] == "TERMINATED"
    assert only_error(await api.post("{ me { id } }", token=token))["code"] == "UNAUTHENTICATED"
    assert (await api.post(LOGIN, {"u": data["username"], "p": fresh}))["errors"]
    assert only_error(await api.post(RESET, {"u": starter["id"]}, manager))["code"] == "BAD_USER_INPUT"

    # Each step is in the audit log, with the policy version in force.
    trail = (await api.ok(AUDIT, {"f": {"subjectId": starter["id"]}}, admin))["auditEvents"]["nodes"]
    actions = [event["action"] for event in trail]
    for action in ("user.create", "session.login", "user.password_change", "user.roles_change",
                   "user.password_reset", "user.terminate"):  # fmt: skip
        assert action in actions
    assert actions.index("user.terminate") < actions.index("user.create")  # newest first
    assert {event["policyVersion"] for event in trail} == {Decisions().version}
    assert all(one_time not in str(event) and fresh not in str(event) for event in trail)
    roles_change = next(e for e in trail if e["action"] == "user.roles_change")
    assert ["roles", "request"] == [c["field"] for c in roles_change["changes"]]


async def test_nobody_approves_their_own_request(api: Api, world: World) -> None:
    # Someone both signing requests and administering: their own request waits for another.
    both = await create_user(
        api,
        world.admin_token,
        f"both-{unique_name().lower()}",
        [{"role": "MANAGER", "settingId": world.settings["A"]}, {"role": "SYSTEM_ADMINISTRATOR", "settingId": None}],
    )
    asked = (await api.ok(REQUEST_USER, {"input": new_user_input(world)}, both))["requestUser"]
    error = only_error(await api.post(APPROVE, {"id": asked["id"]}, both))
    assert error == {"code": "FORBIDDEN", "reason": "SEPARATION_OF_DUTIES"}
    assert (await api.ok(APPROVE, {"id": asked["id"]}, world.admin_token))["approveUserRequest"]["status"] == (
        "APPROVED"
    )
    # Nor a request about themselves (senior management asks a reset of this administrator).
    me = (await api.ok("{ me { id } }", token=both))["me"]["id"]
    reset = (await api.ok(RESET, {"u": me}, world.tokens["SENIOR_MANAGEMENT"]))["requestPasswordReset"]
    assert reset["approvalsNeeded"] == 2  # an administrator's password: two administrators
    error = only_error(await api.post(APPROVE, {"id": reset["id"]}, both))
    assert error["reason"] == "SEPARATION_OF_DUTIES"


async def test_a_role_in_all_settings_needs_a_second_administrator(api: Api, world: World) -> None:
    other = await second_admin(api)
    data = new_user_input(world, "MANAGER", None)
    # A manager of A cannot ask for a role in all settings; senior management can.
    assert only_error(await api.post(REQUEST_USER, {"input": data}, world.tokens["MANAGER"]))["code"] == "FORBIDDEN"
    asked = (await api.ok(REQUEST_USER, {"input": data}, world.tokens["SENIOR_MANAGEMENT"]))["requestUser"]
    assert asked["approvalsNeeded"] == 2
    first = (await api.ok(APPROVE, {"id": asked["id"]}, world.admin_token))["approveUserRequest"]
    assert first["status"] == "AWAITING_SECOND_APPROVAL" and first["user"] is None
    assert first["oneTimePassword"] is None and first["outstanding"]
    error = only_error(await api.post(APPROVE, {"id": asked["id"]}, world.admin_token))
    assert error["reason"] == "SEPARATION_OF_DUTIES"
    second = (await api.ok(APPROVE, {"id": asked["id"]}, other))["approveUserRequest"]
    assert second["status"] == "APPROVED" and second["oneTimePassword"]
    assert second["user"]["roles"][0]["setting"] is None


async def test_a_role_whose_rights_reach_every_setting_is_wide_wherever_it_is_held(api: Api, world: World) -> None:
    """Senior management, LA reporting and the ContactPoint feed read every setting (policy reach
    "all") even when the role is held in one setting: found by probing, one administrator gave
    them with createUser and a setting manager asked for them, so a user "of setting A" read the
    secondary data of every family, or the whole feed."""
    admin, setting = world.admin_token, world.settings["A"]
    for role in ("SENIOR_MANAGEMENT", "LA_REPORTING", "CONTACTPOINT_FEED"):
        data = {**new_user_input(world, role), "password": PASSWORD}
        assert only_error(await api.post(CREATE_USER, {"input": data}, admin)) == {
            "code": "FORBIDDEN",
            "reason": "SEPARATION_OF_DUTIES",
        }, role
        # A manager of A asks only for rights in A.
        error = only_error(
            await api.post(REQUEST_USER, {"input": new_user_input(world, role)}, world.tokens["MANAGER"])
        )
        assert error["code"] == "FORBIDDEN", role
        asked = await api.ok(REQUEST_USER, {"input": new_user_input(world, role)}, world.tokens["SENIOR_MANAGEMENT"])
        assert asked["requestUser"]["approvalsNeeded"] == 2, role
    # A role reading in its own settings only stays a setting manager's request, one approval.
    asked = await api.ok(REQUEST_USER, {"input": new_user_input(world, "HEAD_OF_CENTRE")}, world.tokens["MANAGER"])
    assert asked["requestUser"]["approvalsNeeded"] == 1 and setting


async def test_no_administrator_alone_gives_confidential_access(api: Api, world: World) -> None:
    admin = world.admin_token
    for role, setting in (("MANAGER", world.settings["A"]), ("PARENT_SUPPORT_WORKER", world.settings["A"]),
                          ("SENIOR_ADMINISTRATOR", world.settings["A"]), ("SYSTEM_ADMINISTRATOR", None),
                          ("SENIOR_MANAGEMENT", None)):  # fmt: skip
        data = {**new_user_input(world), "password": PASSWORD, "roles": [{"role": role, "settingId": setting}]}
        error = only_error(await api.post(CREATE_USER, {"input": data}, admin))
        assert error == {"code": "FORBIDDEN", "reason": "SEPARATION_OF_DUTIES"}, role
    # Roles reading no confidential notes may still be given directly.
    data = {**new_user_input(world, "ADMIN_OFFICER"), "password": PASSWORD}
    await api.ok(CREATE_USER, {"input": data}, admin)
    # Nor set the password of a user reading them, and so log in as that user.
    manager = (await api.ok("{ me { id } }", token=world.tokens["MANAGER"]))["me"]["id"]
    body = await api.post(
        "mutation($id: ID!, $p: String!) { setPassword(userId: $id, password: $p) }",
        {"id": manager, "p": NEW_PASSWORD},
        admin,
    )
    assert only_error(body) == {"code": "FORBIDDEN", "reason": "SEPARATION_OF_DUTIES"}
    await api.login("manager-a", PASSWORD)
    # An administrator cannot ask for anything, so cannot raise their own (or a puppet's) roles.
    me = (await api.ok("{ me { id } }", token=admin))["me"]["id"]
    roles = [{"role": "MANAGER", "settingId": world.settings["A"]}]
    for query, variables in (
        (ROLE_CHANGE, {"u": me, "roles": roles}),
        (REQUEST_USER, {"input": new_user_input(world)}),
    ):
        error = only_error(await api.post(query, variables, admin))
        assert error["code"] == "FORBIDDEN" and error["category"] == "USER_REQUEST"


async def test_a_manager_asks_only_for_their_settings(api: Api, world: World) -> None:
    manager = world.tokens["MANAGER"]
    data = new_user_input(world, setting="B")
    error = only_error(await api.post(REQUEST_USER, {"input": data}, manager))
    assert error["code"] == "FORBIDDEN" and error["category"] == "USER_REQUEST"
    manager_b = (await api.ok("{ me { id } }", token=world.manager_b))["me"]["id"]
    for query, variables in ((RESET, {"u": manager_b}), (TERMINATE, {"u": manager_b, "r": "x"})):
        assert only_error(await api.post(query, variables, manager))["code"] == "NOT_FOUND"
    # The manager sees the requests they filed, not others'.
    mine = (await api.ok(REQUEST_USER, {"input": new_user_input(world)}, manager))["requestUser"]["id"]
    theirs = await api.ok(REQUEST_USER, {"input": new_user_input(world, setting="B")}, world.manager_b)
    listed = [r["id"] for r in (await api.ok("{ userRequests(first: 1000) { id } }", token=manager))["userRequests"]]
    assert mine in listed and theirs["requestUser"]["id"] not in listed


async def test_reject_with_a_reason_and_decide_once(api: Api, world: World) -> None:
    asked = (await api.ok(REQUEST_USER, {"input": new_user_input(world)}, world.tokens["MANAGER"]))["requestUser"]
    rejected = await api.ok(REJECT, {"id": asked["id"], "r": "no CRB certificate seen"}, world.admin_token)
    assert rejected["rejectUserRequest"]["status"] == "REJECTED"
    assert only_error(await api.post(APPROVE, {"id": asked["id"]}, world.admin_token))["code"] == "CONFLICT"
    trail = (await api.ok(AUDIT, {"f": {"subjectId": asked["id"]}}, world.admin_token))["auditEvents"]["nodes"]
    assert [e["action"] for e in trail] == ["user_request.reject", "user_request.file"]


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_role_matrix_of_user_accounts(api: Api, world: World, role: str) -> None:
    """Who may ask (USER_REQUEST), decide and list (USER_ADMIN) and read the audit log (AUDIT)."""
    token = world.tokens[role]
    asks = (await api.post(REQUEST_USER, {"input": new_user_input(world, "ADMIN_OFFICER")}, token)).get("errors")
    assert (not asks) == (role in {"MANAGER", "SENIOR_MANAGEMENT"})
    administers = role == "SYSTEM_ADMINISTRATOR"
    for query in ("{ users(first: 1) { totalCount } }", "{ auditEvents(first: 1) { nodes { id } } }",
                  "{ userRequestReport { outstanding } }"):  # fmt: skip
        body = await api.post(query, token=token)
        assert (not body.get("errors")) == administers, (role, query)
    if not administers:
        asked = await api.ok(REQUEST_USER, {"input": new_user_input(world)}, world.tokens["MANAGER"])
        assert only_error(await api.post(APPROVE, {"id": asked["requestUser"]["id"]}, token))["code"] == "FORBIDDEN"
        error = only_error(await api.post(REJECT, {"id": asked["requestUser"]["id"], "r": "no"}, token))
        assert error["code"] == "FORBIDDEN"


def test_deadlines_in_working_days() -> None:
    assert WORKING_DAYS == {Kind.NEW_USER: 5, Kind.ROLE_CHANGE: 3, Kind.PASSWORD_RESET: 3, Kind.TERMINATION: 0}
    friday = date(2026, 12, 18)  # 21-24, then Christmas Day, Boxing Day (Saturday: substitute Monday 28th)
    assert calendar_for(()).add_working_days(friday, 5) == date(2026, 12, 29)
    assert calendar_for(()).add_working_days(friday, 0) == friday


def test_compliance_dates() -> None:
    today = date(2026, 11, 30)
    fine = compliance(date(2025, 1, 1), date(2026, 6, 1), 3, today)
    assert fine.warnings == () and fine.crb_expires_on == date(2028, 1, 1)
    due = compliance(date(2023, 12, 30), date(2025, 12, 30), 3, today)  # both in 30 days
    assert compliance(date(2023, 12, 31), date(2025, 12, 31), 3, today).warnings == ()  # in 31
    assert due.warnings == (ComplianceWarning.CRB_CHECK_DUE, ComplianceWarning.DATA_PROTECTION_TRAINING_DUE)
    lapsed = compliance(date(2023, 11, 30), date(2025, 11, 30), 3, today)
    assert lapsed.lapsed == ["CRB_CHECK", "DATA_PROTECTION_TRAINING"]  # from the anniversary itself
    assert compliance(date(2023, 12, 1), date(2025, 12, 1), 3, today).lapsed == []
    assert years_after(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert compliance(date(2023, 12, 1), date(2025, 12, 1), 4, today).crb_expires_on == date(2027, 12, 1)


async def test_login_refused_past_compliance_expiry_until_renewed(app: Any, api: Api, world: World) -> None:
    username = f"lapsed-{unique_name().lower()}"
    await create_user(api, world.admin_token, username, [{"role": "ADMIN_OFFICER", "settingId": world.settings["A"]}])
    today = v.today()
    async with app.state.sessionmaker() as session:
        user = await session.scalar(__import__("sqlalchemy").select(User).where(User.username == username))
        user.crb_checked_on = years_after(today, -3)  # lapses today
        user.data_protection_trained_on = today - timedelta(days=340)  # due within 30 days
        await session.commit()
        user_id = __import__("resolvers.ids", fromlist=["encode_id"]).encode_id("User", user.id)
    body = await api.post(LOGIN, {"u": username, "p": PASSWORD})
    assert only_error(body) == {"code": "FORBIDDEN", "reason": "COMPLIANCE_EXPIRED"}
    assert "CRB_CHECK" in body["errors"][0]["message"]
    users = await api.ok(
        "query($s: String) { users(search: $s) { nodes { complianceWarnings crbExpiresOn } } }",
        {"s": username},
        world.admin_token,
    )
    assert users["users"]["nodes"][0]["complianceWarnings"] == [
        "CRB_CHECK_EXPIRED",
        "DATA_PROTECTION_TRAINING_DUE",
    ]
    await api.ok(
        "mutation($u: ID!, $d: Date) { recordCompliance(userId: $u, crbCheckedOn: $d) { id } }",
        {"u": user_id, "d": today.isoformat()},
        world.admin_token,
    )
    token = await api.login(username, PASSWORD)
    me = (await api.ok("{ me { complianceWarnings } }", token=token))["me"]
    assert me["complianceWarnings"] == ["DATA_PROTECTION_TRAINING_DUE"]
    trail = (await api.ok(AUDIT, {"f": {"subjectId": user_id}}, world.admin_token))["auditEvents"]["nodes"]
    assert [e["action"] for e in trail][:3] == ["session.login", "user.compliance", "login.refused"]


def test_the_demo_has_a_pending_request_of_each_kind(tmp_path: Any) -> None:
    import asyncio

    from sqlalchemy import select

    from config import AppConfig
    from demo.seed import seed_demo
    from models import UserRequest
    from models.db import make_engine, make_sessionmaker
    from models.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path}/demo.db"
    upgrade(url)
    asyncio.run(seed_demo(AppConfig(database_url=url)))

    async def kinds() -> list[tuple[str, str]]:
        engine = make_engine(url)
        async with make_sessionmaker(engine)() as session:
            rows = list(await session.scalars(select(UserRequest).order_by(UserRequest.id)))
        await engine.dispose()
        return [(row.kind, row.status) for row in rows]

    assert asyncio.run(kinds()) == [(kind.value, "PENDING") for kind in Kind]
