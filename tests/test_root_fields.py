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
