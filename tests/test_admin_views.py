"""The administrator's views (issue 15): `users` (USER_ADMIN) and `auditEvents` (AUDIT), paged,
filtered, with the policy version in force recorded on every event."""

from pathlib import Path
from typing import Any

from authz.enforcer import MODEL, POLICY, Decisions, policy_in_force
from tests.conftest import Api, World
from tests.factories import fresh_setting, fresh_user, unique_name

USERS = """query($first: Int, $after: String, $search: String, $settingId: ID) {
  users(first: $first, after: $after, search: $search, settingId: $settingId) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id username displayName status lastLoginAt crbCheckedOn dataProtectionTrainedOn crbExpiresOn
            roles { role setting { id } } } } }"""
EVENTS = """query($f: AuditFilter, $first: Int, $after: String) {
  auditEvents(filter: $f, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id at userName action category subjectId setting { id } policyVersion changes { field before after } }
  } }"""


async def test_users_paged_searched_and_by_setting(api: Api, world: World) -> None:
    setting = await fresh_setting(api, world)
    tag = unique_name().lower()
    for _ in range(2):
        await fresh_user(api, world, "ADMIN_OFFICER", setting)
    names = [f"view-{tag}-{n}" for n in range(3)]
    for n, name in enumerate(names):
        await api.ok(
            "mutation($input: UserInput!) { createUser(input: $input) { id } }",
            {
                "input": {
                    "username": name,
                    "displayName": f"View {n}",
                    "password": "correct horse battery staple",
                    "crbCheckedOn": "2026-01-05",
                    "dataProtectionTrainedOn": "2026-01-06",
                    "roles": [{"role": "HEAD_OF_CENTRE", "settingId": setting}],
                }
            },
            world.admin_token,
        )
    page = (await api.ok(USERS, {"first": 2, "search": tag.upper()}, world.admin_token))["users"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    rest = await api.ok(USERS, {"first": 2, "search": tag, "after": page["pageInfo"]["endCursor"]}, world.admin_token)
    seen = [node["username"] for node in page["nodes"] + rest["users"]["nodes"]]
    assert seen == names and not rest["users"]["pageInfo"]["hasNextPage"]
    node = page["nodes"][0]
    assert node["status"] == "ACTIVE" and node["lastLoginAt"] is None and node["crbExpiresOn"] == "2029-01-05"
    assert node["roles"] == [{"role": "HEAD_OF_CENTRE", "setting": {"id": setting}}]
    # By setting: the three, and the two fresh admin officers.
    in_setting = (await api.ok(USERS, {"first": 100, "settingId": setting}, world.admin_token))["users"]
    assert in_setting["totalCount"] == 5
    # A wildcard typed in a search is a character, not a pattern.
    assert (await api.ok(USERS, {"search": "%"}, world.admin_token))["users"]["totalCount"] == 0


async def test_only_the_administrator_lists_users_and_reads_the_audit_log(api: Api, world: World) -> None:
    for role, token in world.tokens.items():
        for query in (USERS, EVENTS):
            body = await api.post(query, {"first": 1}, token)
            if role == "SYSTEM_ADMINISTRATOR":
                assert not body.get("errors")
            else:
                [error] = body["errors"]
                assert body["data"] == {"users": None} or body["data"] == {"auditEvents": None}
                assert error["extensions"]["code"] == "FORBIDDEN"


async def events(api: Api, world: World, **variables: Any) -> dict[str, Any]:
    return (await api.ok(EVENTS, variables, world.admin_token))["auditEvents"]  # type: ignore[no-any-return]


async def test_audit_events_newest_first_filtered_and_paged(api: Api, world: World) -> None:
    setting = await fresh_setting(api, world)  # an audited write: setting.create
    page = await events(api, world, f={"subjectId": setting}, first=10)
    [created] = page["nodes"]
    assert created["action"] == "setting.create" and created["subjectId"] == setting
    assert created["setting"] == {"id": setting} and created["userName"] == "root-admin"
    assert [(c["field"], c["before"]) for c in created["changes"]] == [("code", None), ("name", None)]
    assert created["policyVersion"] == policy_in_force() == Decisions().version
    assert len(created["policyVersion"]) == 64

    # Newest first, paged strictly backwards without overlap.
    first = await events(api, world, first=3)
    second = await events(api, world, first=3, after=first["pageInfo"]["endCursor"])
    ids = [n["id"] for n in first["nodes"] + second["nodes"]]
    assert len(set(ids)) == 6 and first["pageInfo"]["hasNextPage"]
    ats = [n["at"] for n in first["nodes"] + second["nodes"]]
    assert ats == sorted(ats, reverse=True)

    # By user, action, category and time.
    me = (await api.ok("{ me { id } }", token=world.admin_token))["me"]["id"]
    mine = await events(api, world, f={"userId": me, "action": "setting.create"}, first=1000)
    assert setting in [n["subjectId"] for n in mine["nodes"]]
    assert {n["action"] for n in mine["nodes"]} == {"setting.create"}
    listed = await events(api, world, f={"category": "AUDIT"}, first=5)
    assert {n["action"] for n in listed["nodes"]} == {"audit.listed"}  # reading the log is audited
    assert {n["policyVersion"] for n in listed["nodes"]} == {created["policyVersion"]}  # reads too
    at = created["at"]
    window = await events(api, world, f={"from": at, "to": at, "subjectId": setting}, first=10)
    assert [n["id"] for n in window["nodes"]] == [created["id"]]
    assert (await events(api, world, f={"to": "2000-01-01T00:00:00+00:00"}, first=5))["nodes"] == []


async def test_family_data_in_the_log_stays_with_who_may_read_it(api: Api, world: World) -> None:
    """The administrator reads no family data: the log says what was done, not the values."""
    family = world.families["own"]
    await api.ok(
        "mutation($id: ID!, $t: String) { setGeneralNote(subjectId: $id, text: $t) }",
        {"id": family.id, "t": f"secret-{unique_name()}"},
        world.tokens["MANAGER"],
    )
    page = await events(api, world, f={"subjectId": family.id, "category": "SECONDARY"}, first=5)
    assert page["nodes"], "the change is in the log"
    assert all(node["changes"] == [] for node in page["nodes"])
    assert "secret-" not in str(page)


def test_policy_version_follows_the_rules_not_the_comments(tmp_path: Path) -> None:
    policy = POLICY.read_text()
    commented = tmp_path / "commented.csv"
    commented.write_text("# another comment\n" + policy)
    changed = tmp_path / "changed.csv"
    changed.write_text(policy + "p, admin_officer, held, confidential, read\n")
    base = Decisions().version
    assert Decisions(MODEL, commented).version == base
    assert Decisions(MODEL, changed).version != base
    Decisions()  # the default policy in force again for the rest of the run
    assert policy_in_force() == base
