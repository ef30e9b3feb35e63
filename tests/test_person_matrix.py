"""The role matrix of the whole record (issue 11; API.md "The whole record is editable"): every
role × row scope × category for the people of a family — `version` and `leftOn` are PRIMARY,
`leftReason` SECONDARY; `carer(id)` and `child(id)` answer a person who left to those who could
read them before; `updateCarer`/`updateChild` need the write right of each field given;
`addCarer`, `addChild` and `setRelationship` PRIMARY write in the family's scope;
`removeFromFamily` PRIMARY write for the departure and SECONDARY write for its reason.

Reads use the grid's second part (tests/grid.py `Records`); refused writes try its bare
families and leave them as they were; allowed writes act on fresh families."""

import copy
from functools import partial
from typing import Any

import pytest

from tests.assertions import assert_only_denials, assert_writes_refused
from tests.conftest import Api, Family
from tests.grid import LEFT_ON, LEFT_REASON, Grid, Records
from tests.matrix import (
    PRIMARY,
    ROLES,
    SCOPES,
    SECONDARY,
    allows,
    reads_family_data,
    refusal_categories,
    verb,
)

PERSON = "id firstName version leftOn leftReason"
PEOPLE = f"query($id: ID!) {{ family(id: $id) {{ id carers {{ {PERSON} }} children {{ {PERSON} }} }} }}"
BY_ID = f"query($d: ID!, $c: ID!) {{ carer(id: $d) {{ {PERSON} }} child(id: $c) {{ {PERSON} }} }}"

READ_CASES = [
    pytest.param(role, scope, id=f"{role}-{verb(allows(role, SECONDARY, 'read', scope))}-read-leftReason-{scope}")
    for role in ROLES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "scope"), READ_CASES)
async def test_people_of_a_family(api: Api, grid: Grid, records: Records, role: str, scope: str) -> None:
    family = records.families[scope]
    body = await api.post(PEOPLE, {"id": family.id}, grid.tokens[role])
    if not reads_family_data(role):
        assert body["data"] == {"family": None}
        assert_only_denials(body, {("family",): {PRIMARY}})
        return
    read = body["data"]["family"]
    secondary = allows(role, SECONDARY, "read", scope)
    # The carer who left is no longer listed; the current people have no departure.
    for group, person_id, name in (("carers", family.carer_id, "Alex"), ("children", family.child_id, "Sam")):
        [person] = read[group]
        assert (person["id"], person["firstName"], person["leftOn"], person["leftReason"]) == (
            person_id, name, None, None,
        )  # fmt: skip
        assert isinstance(person["version"], int) and person["version"] >= 1
    if secondary:
        assert not body.get("errors"), body["errors"]
    else:
        assert_only_denials(
            body,
            {("family", "carers", 0, "leftReason"): {SECONDARY}, ("family", "children", 0, "leftReason"): {SECONDARY}},
        )


@pytest.mark.parametrize(("role", "scope"), READ_CASES)
async def test_a_person_by_id_also_after_leaving(api: Api, grid: Grid, records: Records, role: str, scope: str) -> None:
    family = records.families[scope]
    body = await api.post(BY_ID, {"d": records.departed[scope], "c": family.child_id}, grid.tokens[role])
    if not reads_family_data(role):
        assert body["data"] == {"carer": None, "child": None}
        assert_only_denials(body, {("carer",): {PRIMARY}, ("child",): {PRIMARY}})
        return
    secondary = allows(role, SECONDARY, "read", scope)
    carer, child = body["data"]["carer"], body["data"]["child"]
    assert (carer["id"], carer["firstName"], carer["leftOn"]) == (records.departed[scope], "Jordan", LEFT_ON)
    assert carer["version"] >= 2  # added, then left
    assert (child["id"], child["firstName"], child["leftOn"], child["leftReason"]) == (
        family.child_id,
        "Sam",
        None,
        None,
    )
    if secondary:
        assert not body.get("errors"), body["errors"]
        assert carer["leftReason"] == LEFT_REASON
    else:
        assert carer["leftReason"] is None
        assert_only_denials(body, {("carer", "leftReason"): {SECONDARY}, ("child", "leftReason"): {SECONDARY}})


# ---------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------

HISTORY = "history { action }"
SNAPSHOT_PERSON = f"id version firstName lastName ethnicity leftOn {HISTORY}"
SNAPSHOT = f"""query($id: ID!) {{ family(id: $id) {{ id version
  carers {{ {SNAPSHOT_PERSON} relationships {{ relationship child {{ id }} }} }}
  children {{ {SNAPSHOT_PERSON} }} }} }}"""
UPDATE = {
    kind: f"""mutation($id: ID!, $v: Int!, $input: UpdatePersonInput!) {{
  update{kind}(id: $id, expectedVersion: $v, input: $input) {{ id version firstName ethnicity }} }}"""
    for kind in ("Carer", "Child")
}
# A value of each category unlike the one the family holds (checked), so that a refused write
# that went through would show.
CHANGE = {PRIMARY: ("firstName", "Robin"), SECONDARY: ("ethnicity", "MWBC")}


async def snapshot(api: Api, family: Family, reader: str) -> dict[str, Any]:
    return (await api.ok(SNAPSHOT, {"id": family.id}, reader))["family"]  # type: ignore[no-any-return]


async def target(api: Api, grid: Grid, records: Records, allowed: bool, scope: str) -> tuple[Family, str]:
    """A fresh family for an allowed write; the bare family of the scope for a refused one."""
    return await grid.fresh_family(api, scope) if allowed else (records.bare[scope], grid.owner(scope))


UPDATE_CASES = [
    pytest.param(
        role,
        category,
        scope,
        id=f"{role}-{verb(allows(role, category, 'write', scope))}-update-{CHANGE[category][0]}-{scope}",
    )
    for role in ROLES
    for category in CHANGE
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "category", "scope"), UPDATE_CASES)
async def test_update_carer_and_child(
    api: Api, grid: Grid, records: Records, role: str, category: str, scope: str
) -> None:
    """Head of centre may correct a name, not an ethnicity: each field needs its own category."""
    allowed = allows(role, category, "write", scope)
    family, reader = await target(api, grid, records, allowed, scope)
    state = partial(snapshot, api, family, reader)
    before = await state()
    name, value = CHANGE[category]
    writes = {}
    for kind, group in (("Carer", "carers"), ("Child", "children")):
        person = before[group][0]
        assert person[name] != value
        variables = {"id": person["id"], "v": person["version"], "input": {name: value}}
        writes[f"update{kind}"] = partial(api.post, UPDATE[kind], variables, grid.tokens[role])
    if not allowed:
        await assert_writes_refused(state, writes, refusal_categories(role, category))
        return
    bodies = {field: await write() for field, write in writes.items()}
    after = await state()
    expected = copy.deepcopy(before)
    for kind, group in (("Carer", "carers"), ("Child", "children")):
        body = bodies[f"update{kind}"]
        assert not body.get("errors"), body["errors"]
        person = expected[group][0]
        person.update({name: value, "version": person["version"] + 1})
        person["history"] = [*person["history"], {"action": "person.update"}]
        answer = body["data"][f"update{kind}"]
        assert (answer[name], answer["version"]) == (value, person["version"])
    assert after == expected


ADD_CARER = """mutation($f: ID!, $input: CarerInput!) { addCarer(familyId: $f, input: $input) {
  id firstName relationships { relationship child { id } } } }"""
ADD_CHILD = """mutation($f: ID!, $input: ChildInput!, $r: [RelationshipInput!]) {
  addChild(familyId: $f, input: $input, relationships: $r) { id firstName provisionalName } }"""
SET_RELATIONSHIP = """mutation($carer: ID!, $child: ID!, $r: Relationship) {
  setRelationship(carerId: $carer, childId: $child, relationship: $r) { id relationships { relationship } } }"""
MEMBERSHIP_CASES = [
    pytest.param(
        role, scope, id=f"{role}-{verb(allows(role, PRIMARY, 'write', scope))}-add-people-and-relate-them-{scope}"
    )
    for role in ROLES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "scope"), MEMBERSHIP_CASES)
async def test_add_people_and_set_a_relationship(api: Api, grid: Grid, records: Records, role: str, scope: str) -> None:
    """addCarer, addChild (a newborn, provisionally named, related to the carer) and
    setRelationship: PRIMARY write in a setting of the family's scope."""
    allowed = allows(role, PRIMARY, "write", scope)
    family, reader = await target(api, grid, records, allowed, scope)
    token = grid.tokens[role]
    state = partial(snapshot, api, family, reader)
    partner = {"firstName": "Jo", "lastName": "Reed", "gender": "MALE", "relationshipToChildren": "STEP_PARENT"}
    newborn = {"firstName": "", "lastName": "Reed", "gender": "FEMALE", "provisionalName": True}
    writes = {
        "addCarer": partial(api.post, ADD_CARER, {"f": family.id, "input": partner}, token),
        "addChild": partial(
            api.post,
            ADD_CHILD,
            {"f": family.id, "input": newborn, "r": [{"carerId": family.carer_id, "relationship": "MOTHER"}]},
            token,
        ),
        "setRelationship": partial(
            api.post, SET_RELATIONSHIP, {"carer": family.carer_id, "child": family.child_id, "r": "GUARDIAN"}, token
        ),
    }
    if not allowed:
        await assert_writes_refused(state, writes, refusal_categories(role, PRIMARY))
        return
    bodies = {field: await write() for field, write in writes.items()}
    after = await state()
    for body in bodies.values():
        assert not body.get("errors"), body["errors"]
    carer = bodies["addCarer"]["data"]["addCarer"]
    assert carer["relationships"] == [{"relationship": "STEP_PARENT", "child": {"id": family.child_id}}]
    baby = bodies["addChild"]["data"]["addChild"]
    assert (baby["firstName"], baby["provisionalName"]) == ("Baby", True)
    assert [c["id"] for c in after["carers"]] == [family.carer_id, carer["id"]]
    assert [c["id"] for c in after["children"]] == [family.child_id, baby["id"]]
    assert sorted((r["relationship"], r["child"]["id"]) for r in after["carers"][0]["relationships"]) == sorted(
        [("GUARDIAN", family.child_id), ("MOTHER", baby["id"])]
    )


REMOVE = (
    """mutation($p: ID!, $on: Date!, $why: String!) { removeFromFamily(personId: $p, leftOn: $on, reason: $why) }"""
)


def removes(role: str, scope: str) -> bool:
    """Leaving a family is primary data (who the family is); the reason is secondary data
    (it may say more than that the person moved out), so writing it needs SECONDARY write."""
    return allows(role, PRIMARY, "write", scope) and allows(role, SECONDARY, "write", scope)


REMOVE_CASES = [
    pytest.param(role, scope, id=f"{role}-{verb(removes(role, scope))}-remove-from-family-{scope}")
    for role in ROLES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "scope"), REMOVE_CASES)
async def test_remove_from_family(api: Api, grid: Grid, records: Records, role: str, scope: str) -> None:
    allowed = removes(role, scope)
    family, reader = await target(api, grid, records, allowed, scope)
    state = partial(snapshot, api, family, reader)
    remove = partial(api.post, REMOVE, {"p": family.child_id, "on": LEFT_ON, "why": LEFT_REASON}, grid.tokens[role])
    if not allowed:
        primary = allows(role, PRIMARY, "write", scope)
        needs = {SECONDARY} if primary else refusal_categories(role, PRIMARY)
        await assert_writes_refused(state, {"removeFromFamily": remove}, needs)
        return
    before = await state()
    body = await remove()
    after = await state()
    assert not body.get("errors"), body["errors"]
    assert body["data"] == {"removeFromFamily": True}
    # The child is no longer listed, nor among its carer's relationships.
    assert after["children"] == [] and after["carers"] == [{**before["carers"][0], "relationships": []}]
    left = await api.ok(BY_ID, {"d": family.carer_id, "c": family.child_id}, reader)
    assert (left["child"]["leftOn"], left["child"]["leftReason"]) == (LEFT_ON, LEFT_REASON)
