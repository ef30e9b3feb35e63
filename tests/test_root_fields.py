"""Root fields of a query resolve concurrently on one database session; a denied non-null
root field beside others must neither hang the request nor break the session."""

import asyncio

import pytest

from tests.conftest import ALL_ROLES, Api, World

QUERY = "{ me { username } settings { code } families { nodes { id } } }"


async def test_a_denied_root_field_beside_others_answers_promptly(api: Api, world: World) -> None:
    body = await asyncio.wait_for(api.post(QUERY, token=world.tokens["SYSTEM_ADMINISTRATOR"]), timeout=30)
    assert body["data"]["families"] is None  # nullable: its denial nulls only itself (API.md)
    assert body["data"]["me"]["username"] == "system-administrator-all"
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["families"], "FORBIDDEN")]
    # the next request on the same app is served normally
    body = await asyncio.wait_for(api.post(QUERY, token=world.tokens["MANAGER"]), timeout=30)
    assert body["data"]["me"]["username"] == "manager-a"
    assert {"CCA", "CCB", "CCC"} <= {s["code"] for s in body["data"]["settings"]}


async def test_root_fields_that_read_concurrently_all_answer(api: Api, world: World) -> None:
    query = "{ a: me { username } b: me { username } settings { code } c: settings { code } }"
    body = await asyncio.wait_for(api.post(query, token=world.tokens["MANAGER"]), timeout=30)
    assert "errors" not in body
    assert body["data"]["a"] == body["data"]["b"] == {"username": "manager-a"}


# Every root field API.md lists as one a role may be refused (those the schema has), in one
# dashboard query beside me and settings.
DASHBOARD = """query Dashboard($setting: ID!) {
  me { username }
  settings { code }
  families { totalCount }
  searchPeople(name: "Own") { personId }
  timeliness(settingId: $setting, from: "2026-01-01", to: "2026-01-31") { lateItems { kind } }
  childProtectionList(settingId: $setting) { id }
  loginLocks { kind }
  contactPointChanges(first: 1) { hasMore }
}"""
REFUSABLE = ["families", "searchPeople", "timeliness", "childProtectionList", "loginLocks", "contactPointChanges"]
# The fields each role is refused (setting A: where the staff roles hold their role).
REFUSED = {
    "SYSTEM_ADMINISTRATOR": {"families", "searchPeople", "timeliness", "childProtectionList", "contactPointChanges"},
    "CONTACTPOINT_FEED": {"families", "searchPeople", "timeliness", "childProtectionList", "loginLocks"},
    "LA_REPORTING": {
        "families",
        "searchPeople",
        "timeliness",
        "childProtectionList",
        "loginLocks",
        "contactPointChanges",
    },
}


def test_every_refusable_root_field_is_nullable() -> None:
    from graphql import GraphQLObjectType, is_non_null_type

    from schema import build_schema

    query = build_schema()._schema.query_type
    assert isinstance(query, GraphQLObjectType)
    assert [name for name in REFUSABLE if is_non_null_type(query.fields[name].type)] == []


@pytest.mark.parametrize("role", ALL_ROLES)
async def test_a_dashboard_query_keeps_me_and_settings_whatever_the_role_is_refused(
    api: Api, world: World, role: str
) -> None:
    body = await api.post(DASHBOARD, {"setting": world.settings["A"]}, token=world.tokens[role])
    data = body["data"]
    assert data is not None, body["errors"]
    assert data["me"]["username"]
    assert "CCA" in {s["code"] for s in data["settings"]}
    errors = body.get("errors", [])
    assert {e["extensions"]["code"] for e in errors} <= {"FORBIDDEN"}, errors
    refused = {e["path"][0] for e in errors}
    assert all(len(e["path"]) == 1 for e in errors), errors
    assert all(data[name] is None for name in refused)
    if role in REFUSED:
        assert refused == REFUSED[role]


# Every root field of Query in one document, as a dashboard might ask: they resolve
# concurrently on the request's one session, each answers or is refused on its own, and the
# read audit they write is the same whichever execution path ran them (tests/oracle.py).
EVERYTHING = """query Everything($setting: ID!, $family: ID!, $carer: ID!, $child: ID!) {
  me { username }
  settings { code }
  family(id: $family) { id }
  carer(id: $carer) { id }
  child(id: $child) { id }
  families { totalCount }
  activities { totalCount }
  searchPeople(name: "Own") { personId }
  lookups(list: ETHNICITY) { code }
  timeliness(settingId: $setting, from: "2026-01-01", to: "2026-01-31") { lateItems { kind } }
  childProtectionList(settingId: $setting) { id }
  loginLocks { kind }
  contactPointChanges(first: 1) { hasMore }
  userRequests { id }
  users { totalCount }
  auditEvents(first: 1) { nodes { action } }
  report(input: {measure: REGISTERED_FAMILIES, by: [SETTING], period: QUARTER, periodStart: "2026-04-01"}) {
    total { display }
  }
  quarterlyPack(quarter: "2026-Q1") { measure }
}"""


@pytest.mark.parametrize("role", ["SENIOR_MANAGEMENT", "MANAGER", "SYSTEM_ADMINISTRATOR", "LA_REPORTING"])
async def test_every_root_field_in_one_query_answers_or_is_refused(api: Api, world: World, role: str) -> None:
    own = await api.post("{ families { nodes { id carers { id } children { id } } } }", token=world.tokens["MANAGER"])
    family = next(f for f in own["data"]["families"]["nodes"] if f["carers"] and f["children"])
    variables = {
        "setting": world.settings["A"],
        "family": family["id"],
        "carer": family["carers"][0]["id"],
        "child": family["children"][0]["id"],
    }
    for _ in range(3):  # the race, when there is one, is not on every request
        body = await asyncio.wait_for(api.post(EVERYTHING, variables, token=world.tokens[role]), timeout=60)
        assert body["data"] is not None, body
        assert body["data"]["me"]["username"]
        assert {e["extensions"]["code"] for e in body.get("errors", [])} <= {"FORBIDDEN"}, body["errors"]
