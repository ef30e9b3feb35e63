"""Codes set on a family, a carer or a child from the drop-down lists: warnings (standards 7:
"the warnings dropdown field should be used", never free text), hard-to-reach groups (10) and
custom local indicators (11: childminders, volunteers, bottle-fed babies and any an authority
adds, for one setting or for all); and the one general note of each (7)."""

from typing import Any

import pytest

from resolvers.ids import encode_id
from tests.assertions import assert_bad_input, codes
from tests.conftest import AFFILIATE, Api, Family, World
from tests.factories import Centre, fresh_centre
from tests.standards_support import (
    SET_GENERAL_NOTE,
    SUBJECT_FIELDS,
    add_lookup,
    set_active,
    set_codes_mutation,
    subjects_state,
)

SUBJECT_KINDS = ["family", "carer", "child"]
LISTS = ["WARNING", "HARD_TO_REACH_GROUP", "CUSTOM_INDICATOR"]


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


def subject_id(family: Family, kind: str) -> str:
    return {"family": family.id, "carer": family.carer_id, "child": family.child_id}[kind]


def codes_on(state: dict[str, Any], kind: str, list_name: str) -> list[str]:
    record = state if kind == "family" else state["carers" if kind == "carer" else "children"][0]
    return record[SUBJECT_FIELDS[list_name]]  # type: ignore[no-any-return]


async def two_codes(api: Api, world: World, list_name: str) -> list[str]:
    """Two active codes of the list that apply to any subject, in code order."""
    if list_name == "WARNING":
        return ["DANGEROUS_DOG", "DO_NOT_VISIT_ALONE"]
    if list_name == "HARD_TO_REACH_GROUP":
        return ["LONE_PARENT", "TEENAGE_PARENT"]
    return sorted([(await add_lookup(api, world, "CUSTOM_INDICATOR"))["code"] for _ in range(2)])


async def set_codes(api: Api, token: str, list_name: str, subject: str, codes: list[str]) -> dict[str, Any]:
    return await api.post(set_codes_mutation(list_name), {"s": subject, "c": codes}, token)


def mutation_name(list_name: str) -> str:
    return {
        "WARNING": "setWarnings",
        "HARD_TO_REACH_GROUP": "setHardToReachGroups",
        "CUSTOM_INDICATOR": "setIndicators",
    }[list_name]


# ---------------------------------------------------------------------------------------------
# Setting, replacing and clearing codes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SUBJECT_KINDS)
@pytest.mark.parametrize("list_name", LISTS)
async def test_codes_are_set_on_their_subject_only_and_replaced_as_a_whole(
    api: Api, world: World, centre: Centre, list_name: str, kind: str
) -> None:
    family = await centre.family(api)
    first, second = await two_codes(api, world, list_name)
    body = await set_codes(api, centre.manager, list_name, subject_id(family, kind), [second, first, second])
    assert not body.get("errors"), body["errors"]
    assert body["data"][mutation_name(list_name)] == [first, second]  # each code once
    state = await subjects_state(api, centre.manager, family.id)
    for other in SUBJECT_KINDS:
        for other_list in LISTS:
            expected = [first, second] if (other, other_list) == (kind, list_name) else []
            assert codes_on(state, other, other_list) == expected, (other, other_list)
    # Replaced, not added to.
    assert (await set_codes(api, centre.manager, list_name, subject_id(family, kind), [second]))["data"] == {
        mutation_name(list_name): [second]
    }
    assert codes_on(await subjects_state(api, centre.manager, family.id), kind, list_name) == [second]
    # An empty list clears them.
    await set_codes(api, centre.manager, list_name, subject_id(family, kind), [])
    assert codes_on(await subjects_state(api, centre.manager, family.id), kind, list_name) == []


@pytest.mark.parametrize("list_name", LISTS)
@pytest.mark.parametrize(
    "wrong",
    ["unknown", "free-text", "other-list"],
    ids=["unknown-code", "free-text", "code-of-another-list"],
)
async def test_a_code_that_is_not_in_the_list_is_refused_and_nothing_changes(
    api: Api, world: World, centre: Centre, list_name: str, wrong: str
) -> None:
    family = await centre.family(api)
    first, second = await two_codes(api, world, list_name)
    await set_codes(api, centre.manager, list_name, family.carer_id, [first])
    before = await subjects_state(api, centre.manager, family.id)
    other_list_code = {
        "WARNING": "LONE_PARENT",
        "HARD_TO_REACH_GROUP": "DANGEROUS_DOG",
        "CUSTOM_INDICATOR": "DANGEROUS_DOG",
    }
    bad = {
        "unknown": "NO_SUCH_CODE_ANYWHERE",
        "free-text": "Dog in the garden, knock loudly",
        "other-list": other_list_code[list_name],
    }[wrong]
    body = await set_codes(api, centre.manager, list_name, family.carer_id, [second, bad])
    assert_bad_input(body, mutation_name(list_name), "codes")
    assert await subjects_state(api, centre.manager, family.id) == before


@pytest.mark.parametrize("list_name", LISTS)
async def test_a_deactivated_code_is_refused_but_kept_where_it_was_set(
    api: Api, world: World, centre: Centre, list_name: str
) -> None:
    code = (await add_lookup(api, world, list_name))["code"]
    kept, refused = await centre.family(api), await centre.family(api)
    assert (await set_codes(api, centre.manager, list_name, kept.child_id, [code]))["data"] == {
        mutation_name(list_name): [code]
    }
    await set_active(api, world, list_name, code, False)
    before = await subjects_state(api, centre.manager, refused.id)
    body = await set_codes(api, centre.manager, list_name, refused.child_id, [code])
    assert_bad_input(body, mutation_name(list_name), "codes")
    assert await subjects_state(api, centre.manager, refused.id) == before
    # Deactivated, never deleted: the child it was set on keeps it.
    assert codes_on(await subjects_state(api, centre.manager, kept.id), "child", list_name) == [code]
    await set_active(api, world, list_name, code, True)
    assert (await set_codes(api, centre.manager, list_name, refused.child_id, [code]))["data"] == {
        mutation_name(list_name): [code]
    }


@pytest.mark.parametrize("list_name", LISTS)
@pytest.mark.parametrize("subject", ["malformed", "setting", "missing-family"])
async def test_codes_on_something_that_is_not_a_family_carer_or_child_are_not_found(
    api: Api, world: World, centre: Centre, list_name: str, subject: str
) -> None:
    target = {"malformed": "nope", "setting": centre.setting_id, "missing-family": encode_id("Family", 2_000_000_000)}[
        subject
    ]
    first, _ = await two_codes(api, world, list_name)
    body = await set_codes(api, centre.manager, list_name, target, [first])
    assert body["data"] is None
    assert codes(body) == ["NOT_FOUND"]


# ---------------------------------------------------------------------------------------------
# Custom indicators: the kind of subject they apply to, and the setting that defined them
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("applies_to", ["FAMILY", "CARER", "CHILD"])
@pytest.mark.parametrize("kind", SUBJECT_KINDS)
async def test_an_indicator_applies_only_to_its_kind_of_subject(
    api: Api, world: World, centre: Centre, applies_to: str, kind: str
) -> None:
    code = (await add_lookup(api, world, "CUSTOM_INDICATOR", appliesTo=applies_to))["code"]
    family = await centre.family(api)
    before = await subjects_state(api, centre.manager, family.id)
    body = await set_codes(api, centre.manager, "CUSTOM_INDICATOR", subject_id(family, kind), [code])
    if applies_to == kind.upper():
        assert body["data"] == {"setIndicators": [code]}, body
        assert codes_on(await subjects_state(api, centre.manager, family.id), kind, "CUSTOM_INDICATOR") == [code]
    else:
        assert_bad_input(body, "setIndicators", "codes")
        assert await subjects_state(api, centre.manager, family.id) == before


@pytest.mark.parametrize(
    ("code", "kind", "applies"),
    [
        ("CHILDMINDER", "carer", True),
        ("CHILDMINDER", "child", False),
        ("CHILDMINDER", "family", False),
        ("VOLUNTEER", "carer", True),
        ("VOLUNTEER", "child", False),
        ("BOTTLE_FED", "child", True),
        ("BOTTLE_FED", "carer", False),
        ("BOTTLE_FED", "family", False),
    ],
)
async def test_the_standards_indicators_apply_to_carers_or_to_children(
    api: Api, centre: Centre, code: str, kind: str, applies: bool
) -> None:
    # Standards 11: childminders and volunteers are carers; a bottle-fed baby is a child.
    family = await centre.family(api)
    before = await subjects_state(api, centre.manager, family.id)
    body = await set_codes(api, centre.manager, "CUSTOM_INDICATOR", subject_id(family, kind), [code])
    if applies:
        assert body["data"] == {"setIndicators": [code]}, body
    else:
        assert_bad_input(body, "setIndicators", "codes")
        assert await subjects_state(api, centre.manager, family.id) == before


async def test_an_indicator_for_all_settings_is_used_in_any_setting(api: Api, world: World) -> None:
    code = (await add_lookup(api, world, "CUSTOM_INDICATOR"))["code"]
    for _ in range(2):
        centre = await fresh_centre(api, world)
        family = await centre.family(api)
        assert (await set_codes(api, centre.manager, "CUSTOM_INDICATOR", family.id, [code]))["data"] == {
            "setIndicators": [code]
        }


@pytest.mark.parametrize("where", ["registered-there", "affiliated-there", "elsewhere", "affiliation-revoked"])
async def test_a_local_indicator_is_used_only_on_families_shared_with_its_setting(
    api: Api, world: World, where: str
) -> None:
    local, other = await fresh_centre(api, world), await fresh_centre(api, world)
    code = (await add_lookup(api, world, "CUSTOM_INDICATOR", settingId=local.setting_id))["code"]
    home = local if where == "registered-there" else other
    family = await home.family(api)
    if where in ("affiliated-there", "affiliation-revoked"):
        consent = {
            "familyId": family.id,
            "settingId": local.setting_id,
            "consentGivenBy": "Alex",
            "consentDate": "2026-11-03",
        }
        affiliation = (await api.ok(AFFILIATE, {"input": consent}, other.manager))["affiliate"]["id"]
        if where == "affiliation-revoked":
            await api.ok("mutation($id: ID!) { revokeAffiliation(id: $id) { id } }", {"id": affiliation}, other.manager)
    before = await subjects_state(api, home.manager, family.id)
    body = await set_codes(api, home.manager, "CUSTOM_INDICATOR", family.id, [code])
    if where in ("registered-there", "affiliated-there"):
        assert body["data"] == {"setIndicators": [code]}, body
        assert (await subjects_state(api, home.manager, family.id))["indicators"] == [code]
    else:
        assert_bad_input(body, "setIndicators", "codes")
        assert await subjects_state(api, home.manager, family.id) == before


# ---------------------------------------------------------------------------------------------
# The general note: one per family, carer and child, replaced
# ---------------------------------------------------------------------------------------------


def general_notes(state: dict[str, Any]) -> dict[str, str | None]:
    return {
        "family": state["generalNote"],
        "carer": state["carers"][0]["generalNote"],
        "child": state["children"][0]["generalNote"],
    }


@pytest.mark.parametrize("kind", SUBJECT_KINDS)
async def test_the_general_note_of_a_subject_is_replaced_and_cleared(api: Api, centre: Centre, kind: str) -> None:
    family = await centre.family(api, "Noted")
    start = general_notes(await subjects_state(api, centre.manager, family.id))
    assert start == {"family": "General note of Noted", "carer": None, "child": None}
    target = subject_id(family, kind)
    first = await api.ok(SET_GENERAL_NOTE, {"s": target, "t": "  Prefers   morning visits "}, centre.manager)
    assert first == {"setGeneralNote": "Prefers morning visits"}
    assert general_notes(await subjects_state(api, centre.manager, family.id)) == {
        **start,
        kind: "Prefers morning visits",
    }
    await api.ok(SET_GENERAL_NOTE, {"s": target, "t": "Prefers afternoons"}, centre.manager)
    assert general_notes(await subjects_state(api, centre.manager, family.id)) == {**start, kind: "Prefers afternoons"}
    assert await api.ok(SET_GENERAL_NOTE, {"s": target, "t": None}, centre.manager) == {"setGeneralNote": None}
    assert general_notes(await subjects_state(api, centre.manager, family.id)) == {**start, kind: None}


@pytest.mark.parametrize("kind", SUBJECT_KINDS)
async def test_an_overlong_general_note_is_refused_and_nothing_changes(api: Api, centre: Centre, kind: str) -> None:
    family = await centre.family(api)
    await api.ok(SET_GENERAL_NOTE, {"s": subject_id(family, kind), "t": "Kept"}, centre.manager)
    before = await subjects_state(api, centre.manager, family.id)
    body = await api.post(SET_GENERAL_NOTE, {"s": subject_id(family, kind), "t": "x" * 4001}, centre.manager)
    assert_bad_input(body, "setGeneralNote", "text")
    assert await subjects_state(api, centre.manager, family.id) == before
