"""The whole record is editable (API.md "The whole record is editable"; standards 5.3, 5.4, 12):
a person's details are corrected field by field with the write right of each field's category,
people join and leave a family, relationships are set — each change audited, in the person's
history, logged against its deadline, and safe under concurrency."""

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from tests.conftest import Api, World
from tests.factories import Centre, fresh_centre, unique_name

CARER = "id version firstName lastName dateOfBirth gender ethnicity language leftOn leftReason"
PERSON = f"{CARER} provisionalName"
UPDATE_CHILD = f"""mutation($id: ID!, $v: Int!, $input: UpdatePersonInput!) {{
  updateChild(id: $id, expectedVersion: $v, input: $input) {{ {PERSON} }} }}"""
UPDATE_CARER = f"""mutation($id: ID!, $v: Int!, $input: UpdatePersonInput!) {{
  updateCarer(id: $id, expectedVersion: $v, input: $input) {{ {CARER} }} }}"""
ADD_CHILD = f"""mutation($f: ID!, $input: ChildInput!, $r: [RelationshipInput!]) {{
  addChild(familyId: $f, input: $input, relationships: $r) {{ {PERSON} }} }}"""
ADD_CARER = """mutation($f: ID!, $input: CarerInput!) {
  addCarer(familyId: $f, input: $input) { id firstName relationships { relationship child { id } } } }"""
SET_RELATIONSHIP = """mutation($carer: ID!, $child: ID!, $r: Relationship) {
  setRelationship(carerId: $carer, childId: $child, relationship: $r) {
    relationships { relationship child { id } } } }"""
REMOVE = (
    """mutation($p: ID!, $on: Date!, $why: String!) { removeFromFamily(personId: $p, leftOn: $on, reason: $why) }"""
)
FAMILY = """query($id: ID!) { family(id: $id) {
  carers { id relationships { relationship child { id } } } children { id firstName } } }"""
CHILD = f"""query($id: ID!) {{ child(id: $id) {{ {PERSON}
  history {{ action category changes {{ field before after }} }} }} }}"""
TIMELINESS = (
    """query($s: ID!, $d: Date!) { timeliness(settingId: $s, from: $d, to: $d) { byKind { kind received entered } } }"""
)


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


def yesterday() -> str:
    return (date.today() - timedelta(days=1)).isoformat()


async def child_of(api: Api, token: str, child_id: str) -> dict[str, Any]:
    return (await api.ok(CHILD, {"id": child_id}, token))["child"]  # type: ignore[no-any-return]


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def test_a_manager_corrects_a_childs_primary_and_secondary_details(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    noticed = yesterday()  # once: midnight may pass during the test
    changes = {"firstName": "samuel", "dateOfBirth": "2024-03-11", "ethnicity": "MWBC", "noticeReceivedOn": noticed}
    data = await api.ok(UPDATE_CHILD, {"id": family.child_id, "v": 1, "input": changes}, centre.manager)
    child = data["updateChild"]
    assert (child["version"], child["firstName"], child["dateOfBirth"], child["ethnicity"]) == (
        2,
        "Samuel",
        "2024-03-11",
        "MWBC",
    )
    assert child["language"] == "ENG"  # omitted: unchanged
    history = (await child_of(api, centre.manager, family.child_id))["history"]
    updates = {entry["category"]: entry["changes"] for entry in history if entry["action"] == "person.update"}
    assert {c["field"]: (c["before"], c["after"]) for c in updates["PRIMARY"]} == {
        "firstName": ("Sam", "Samuel"),
        "dateOfBirth": ("2024-03-10", "2024-03-11"),
    }
    assert updates["SECONDARY"] == [{"field": "ethnicity", "before": "WBRI", "after": "MWBC"}]
    # Standards 5.3 and 5.4: the notice of change is logged against its deadline, entered now.
    kinds = (await api.ok(TIMELINESS, {"s": centre.setting_id, "d": noticed}, centre.manager))["timeliness"]
    entered = {k["kind"]: (k["received"], k["entered"]) for k in kinds["byKind"]}
    assert entered["PRIMARY_CHANGE"] == (1, 1)
    assert entered["SECONDARY_CHANGE"] == (1, 1)


async def test_head_of_centre_may_correct_a_name_but_not_an_ethnicity(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    refused = await api.post(
        UPDATE_CARER,
        {"id": family.carer_id, "v": 1, "input": {"lastName": "Lee", "ethnicity": "MWBC"}},
        centre.head_of_centre,
    )
    assert codes(refused) == ["FORBIDDEN"], refused
    assert refused["errors"][0]["extensions"]["category"] == "SECONDARY"
    data = await api.ok(
        UPDATE_CARER, {"id": family.carer_id, "v": 1, "input": {"lastName": "Lee"}}, centre.head_of_centre
    )
    assert (data["updateCarer"]["lastName"], data["updateCarer"]["version"]) == ("Lee", 2)  # the refusal wrote nothing


async def test_staff_outside_the_familys_scope_cannot_correct_it(api: Api, world: World, centre: Centre) -> None:
    family = await centre.family(api)
    body = await api.post(UPDATE_CHILD, {"id": family.child_id, "v": 1, "input": {"firstName": "Max"}}, world.manager_b)
    assert codes(body) == ["FORBIDDEN"]
    body = await api.post(REMOVE, {"p": family.child_id, "on": yesterday(), "why": "moved"}, world.manager_b)
    assert codes(body) == ["FORBIDDEN"]
    assert (await child_of(api, centre.manager, family.child_id))["firstName"] == "Sam"


INVALID_UPDATES = {
    "unknown-ethnicity-code": ({"ethnicity": "ZZZZ"}, "ethnicity"),
    "unknown-language-code": ({"language": "ZZZZ"}, "language"),
    "cleared-first-name": ({"firstName": None}, "firstName"),
    "empty-last-name": ({"lastName": "  "}, "lastName"),
    "born-in-the-future": ({"dateOfBirth": (date.today() + timedelta(days=3)).isoformat()}, "dateOfBirth"),
    "notice-in-the-future": ({"firstName": "Max", "noticeReceivedOn": "2999-01-01"}, "noticeReceivedOn"),
    "nothing-to-change": ({}, "input"),
}


@pytest.mark.parametrize("case", INVALID_UPDATES, ids=lambda c: f"update-child-rejects-{c}-and-writes-nothing")
async def test_an_invalid_correction_is_bad_user_input_and_writes_nothing(api: Api, centre: Centre, case: str) -> None:
    family = await centre.family(api)
    change, field = INVALID_UPDATES[case]
    body = await api.post(UPDATE_CHILD, {"id": family.child_id, "v": 1, "input": change}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == field
    child = await child_of(api, centre.manager, family.child_id)
    assert (child["version"], child["firstName"], child["ethnicity"]) == (1, "Sam", "WBRI")


async def test_concurrent_corrections_with_one_version_give_one_success(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    names = ["Ada", "Bea", "Cal", "Dov", "Eli", "Fay"]
    bodies = await asyncio.gather(
        *(
            api.post(UPDATE_CHILD, {"id": family.child_id, "v": 1, "input": {"firstName": n}}, centre.manager)
            for n in names
        )
    )
    winners = [body["data"]["updateChild"]["firstName"] for body in bodies if not body.get("errors")]
    assert len(winners) == 1
    assert sorted(code for body in bodies for code in codes(body)) == ["CONFLICT"] * (len(names) - 1)
    child = await child_of(api, centre.manager, family.child_id)
    assert (child["version"], child["firstName"]) == (2, winners[0])
    updates = [entry for entry in child["history"] if entry["action"] == "person.update"]
    assert [change["before"] for entry in updates for change in entry["changes"]] == ["Sam"]


async def test_a_newborn_joins_with_a_provisional_name_and_a_relationship(api: Api, centre: Centre) -> None:
    surname = unique_name()
    family = await centre.family(api, surname)
    newborn = {"firstName": "", "lastName": surname, "gender": "FEMALE", "provisionalName": True}
    data = await api.ok(
        ADD_CHILD,
        {"f": family.id, "input": newborn, "r": [{"carerId": family.carer_id, "relationship": "MOTHER"}]},
        centre.manager,
    )
    baby = data["addChild"]
    assert (baby["firstName"], baby["provisionalName"], baby["version"]) == ("Baby", True, 1)
    read = (await api.ok(FAMILY, {"id": family.id}, centre.manager))["family"]
    assert [c["id"] for c in read["children"]] == [family.child_id, baby["id"]]
    assert {"relationship": "MOTHER", "child": {"id": baby["id"]}} in read["carers"][0]["relationships"]
    history = (await child_of(api, centre.manager, baby["id"]))["history"]
    assert {entry["action"] for entry in history} == {"person.register"}
    # Named at last: the provisional flag goes with the placeholder.
    named = await api.ok(UPDATE_CHILD, {"id": baby["id"], "v": 1, "input": {"firstName": "Maya"}}, centre.manager)
    assert (named["updateChild"]["firstName"], named["updateChild"]["provisionalName"]) == ("Maya", False)


async def test_a_new_child_names_only_current_carers_of_its_family(api: Api, world: World, centre: Centre) -> None:
    family = await centre.family(api)
    stranger = world.families["own"].carer_id
    child = {"firstName": "Kim", "lastName": "Lee", "gender": "MALE"}
    body = await api.post(
        ADD_CHILD,
        {"f": family.id, "input": child, "r": [{"carerId": stranger, "relationship": "FATHER"}]},
        centre.manager,
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "relationships[0].carerId"
    read = (await api.ok(FAMILY, {"id": family.id}, centre.manager))["family"]
    assert len(read["children"]) == 1


async def test_a_new_partner_is_related_to_each_child(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    partner = {"firstName": "Jo", "lastName": "Reed", "gender": "MALE", "relationshipToChildren": "STEP_PARENT"}
    data = await api.ok(ADD_CARER, {"f": family.id, "input": partner}, centre.manager)
    assert data["addCarer"]["relationships"] == [{"relationship": "STEP_PARENT", "child": {"id": family.child_id}}]
    head = await api.post(ADD_CARER, {"f": family.id, "input": {**partner, "ethnicity": "WBRI"}}, centre.head_of_centre)
    assert codes(head) == ["FORBIDDEN"]  # ethnicity is secondary: the head of centre may not write it


async def test_a_relationship_is_set_changed_and_removed(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    variables = {"carer": family.carer_id, "child": family.child_id}
    changed = await api.ok(SET_RELATIONSHIP, {**variables, "r": "GUARDIAN"}, centre.manager)
    assert changed["setRelationship"]["relationships"] == [
        {"relationship": "GUARDIAN", "child": {"id": family.child_id}}
    ]
    removed = await api.ok(SET_RELATIONSHIP, {**variables, "r": None}, centre.manager)
    assert removed["setRelationship"]["relationships"] == []
    other = await centre.family(api)
    body = await api.post(
        SET_RELATIONSHIP, {"carer": family.carer_id, "child": other.child_id, "r": "MOTHER"}, centre.manager
    )
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_a_person_who_leaves_is_kept_but_no_longer_listed(api: Api, world: World, centre: Centre) -> None:
    family = await centre.family(api)
    newborn = {"firstName": "Ivy", "lastName": "Lee", "gender": "FEMALE"}
    second = (await api.ok(ADD_CHILD, {"f": family.id, "input": newborn}, centre.manager))["addChild"]["id"]
    left_on = yesterday()  # once: midnight may pass during the test
    assert (await api.ok(REMOVE, {"p": family.child_id, "on": left_on, "why": "moved to her father"}, centre.manager))[
        "removeFromFamily"
    ]
    read = (await api.ok(FAMILY, {"id": family.id}, centre.manager))["family"]
    assert [c["id"] for c in read["children"]] == [second]
    assert read["carers"][0]["relationships"] == []
    child = await child_of(api, centre.manager, family.child_id)
    assert (child["firstName"], child["leftOn"], child["leftReason"]) == ("Sam", left_on, "moved to her father")
    # Primary data is shared everywhere; why the person left is secondary, for the scope only.
    elsewhere = await api.post(CHILD, {"id": family.child_id}, world.manager_b)
    assert elsewhere["data"]["child"]["leftOn"] == left_on
    assert elsewhere["data"]["child"]["leftReason"] is None
    assert "FORBIDDEN" in codes(elsewhere)
    again = await api.post(REMOVE, {"p": family.child_id, "on": left_on, "why": "twice"}, centre.manager)
    assert codes(again) == ["BAD_USER_INPUT"]


async def test_a_family_keeps_at_least_one_person(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    await api.ok(REMOVE, {"p": family.child_id, "on": yesterday(), "why": "moved"}, centre.manager)
    body = await api.post(REMOVE, {"p": family.carer_id, "on": yesterday(), "why": "moved"}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert len((await api.ok(FAMILY, {"id": family.id}, centre.manager))["family"]["carers"]) == 1


async def test_callers_without_family_rights_learn_nothing(api: Api, world: World) -> None:
    own = world.families["own"]
    for token in (world.admin_token, world.tokens["CONTACTPOINT_FEED"]):
        body = await api.post(UPDATE_CHILD, {"id": own.child_id, "v": 1, "input": {"firstName": "Max"}}, token)
        assert codes(body) == ["FORBIDDEN"]
        body = await api.post(CHILD, {"id": own.child_id}, token)
        assert codes(body) == ["FORBIDDEN"]
    missing = await api.post(CHILD, {"id": own.carer_id}, world.tokens["MANAGER"])  # a carer's id names no child
    assert missing["data"]["child"] is None
    assert codes(missing) == ["NOT_FOUND"]
