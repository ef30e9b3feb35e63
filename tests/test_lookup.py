"""Drop-down lists (standards 15; DESIGN.md "lookups_admin"): every user reads them, only the
eStart Administrator adds, relabels, deactivates and reactivates values; values are never
deleted, and an unknown or inactive code is refused with BAD_USER_INPUT wherever it is written."""

import re
from typing import Any

import pytest
from graphql import GraphQLObjectType

from resolvers.ids import encode_id
from schema import build_schema
from tests.assertions import assert_bad_input, codes
from tests.conftest import Api, World
from tests.factories import Centre, fresh_centre, unique_name
from tests.standards_support import (
    ADD_LOOKUP,
    LOOKUPS,
    UPDATE_LOOKUP,
    add_lookup,
    lookup_values,
    set_active,
    unique_code,
)

LISTS = [
    "ETHNICITY",
    "LANGUAGE",
    "WARNING",
    "HARD_TO_REACH_GROUP",
    "CUSTOM_INDICATOR",
    "RELATIONSHIP",
    "REFERRAL_REASON",
    "EVENT_TYPE",
    "OUTCOME_TYPE",
    "ACCESS_GROUP",
]
# ../shared/research/domain.md §3.1
DFE_ETHNICITIES = {
    "WBRI",
    "WIRI",
    "WIRT",
    "WROM",
    "WOTH",
    "MWBC",
    "MWBA",
    "MWAS",
    "MOTH",
    "AIND",
    "APKN",
    "ABAN",
    "AOTH",
    "BCRB",
    "BAFR",
    "BOTH",
    "CHNE",
    "OOTH",
    "REFU",
    "NOBT",
}
REGISTER = """mutation($input: RegisterFamilyInput!) {
  registerFamily(input: $input) { id carers { id ethnicity language relationships { relationship } }
                                  children { id ethnicity language } } }"""
COUNT = "query($s: ID!) { families(settingId: $s) { totalCount } }"
RECORD_REFERRAL = """mutation($f: ID!, $d: Date!, $r: ReferralInput!) {
  recordReferral(familyId: $f, receivedOn: $d, referral: $r) { id referralReason } }"""
FORMS = "query($id: ID!) { family(id: $id) { forms { id kind referralReason } } }"


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


def registration(
    setting_id: str, carer: dict[str, Any] | None = None, child: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    surname = unique_name()
    return {
        "input": {
            "settingId": setting_id,
            "source": "INITIAL_CONTACT",
            "receivedOn": "2026-11-02",
            "consentToContact": True,
            "carers": [{"firstName": "Alex", "lastName": surname, "relationshipToChildren": "MOTHER", **(carer or {})}],
            "children": [{"firstName": "Sam", "lastName": surname, **(child or {})}],
            **extra,
        }
    }


async def family_count(api: Api, centre: Centre) -> int:
    return (await api.ok(COUNT, {"s": centre.setting_id}, centre.manager))["families"]["totalCount"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# Reading the lists
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("list_name", LISTS)
async def test_every_list_of_the_standards_is_served_with_active_values(api: Api, world: World, list_name: str) -> None:
    values = (await api.ok(LOOKUPS, {"list": list_name, "all": False}, world.tokens["ADMIN_OFFICER"]))["lookups"]
    assert values, f"the {list_name} list is empty"
    for value in values:
        assert value["active"] is True
        assert re.fullmatch(r"[A-Z0-9_]{2,30}", value["code"]), value
        assert value["label"].strip() == value["label"] and value["label"]
    assert len({value["code"] for value in values}) == len(values)


async def test_the_ethnicity_list_holds_the_dfe_codes(api: Api, world: World) -> None:
    values = await lookup_values(api, world.tokens["MANAGER"], "ETHNICITY", include_inactive=False)
    assert DFE_ETHNICITIES <= set(values)


async def test_the_custom_indicators_start_with_childminder_volunteer_and_bottle_fed_baby(
    api: Api, world: World
) -> None:
    values = await lookup_values(api, world.tokens["MANAGER"], "CUSTOM_INDICATOR", include_inactive=False)
    found = {
        code: (values[code]["appliesTo"], values[code]["setting"])
        for code in ("CHILDMINDER", "VOLUNTEER", "BOTTLE_FED")
    }
    assert found == {"CHILDMINDER": ("CARER", None), "VOLUNTEER": ("CARER", None), "BOTTLE_FED": ("CHILD", None)}


async def test_a_caller_who_is_not_logged_in_gets_no_list(api: Api) -> None:
    body = await api.post(LOOKUPS, {"list": "WARNING", "all": False})
    assert body.get("data") is None
    assert codes(body) == ["UNAUTHENTICATED"]


# ---------------------------------------------------------------------------------------------
# The administrator keeps the lists
# ---------------------------------------------------------------------------------------------


async def test_an_added_value_is_listed_active_with_its_code_in_capitals(api: Api, world: World) -> None:
    code = unique_code()
    added = (
        await api.ok(
            ADD_LOOKUP,
            {"input": {"list": "WARNING", "code": f"  {code.lower()} ", "label": "  Keys   with neighbour "}},
            world.admin_token,
        )
    )["addLookupValue"]
    assert added == {"code": code, "label": "Keys with neighbour", "active": True, "appliesTo": None, "setting": None}
    listed = await lookup_values(api, world.tokens["HEAD_OF_CENTRE"], "WARNING", include_inactive=False)
    assert listed[code] == added
    assert code not in await lookup_values(api, world.tokens["HEAD_OF_CENTRE"], "HARD_TO_REACH_GROUP")


async def test_a_code_already_in_the_list_is_refused_and_the_value_is_unchanged(api: Api, world: World) -> None:
    first = await add_lookup(api, world, "LANGUAGE")
    body = await api.post(
        ADD_LOOKUP, {"input": {"list": "LANGUAGE", "code": first["code"], "label": "Another label"}}, world.admin_token
    )
    assert_bad_input(body, "addLookupValue", "code")
    assert (await lookup_values(api, world.admin_token, "LANGUAGE"))[first["code"]] == first


async def test_the_same_code_may_be_in_two_different_lists(api: Api, world: World) -> None:
    warning = await add_lookup(api, world, "WARNING")
    group = await add_lookup(api, world, "HARD_TO_REACH_GROUP", code=warning["code"])
    assert group["code"] == warning["code"]


@pytest.mark.parametrize(
    "code",
    ["X", "has space", "DASH-ED", "É_ACCENT", "A" * 31, ""],
    ids=["one-char", "space", "dash", "accent", "too-long", "empty"],
)
async def test_a_malformed_code_is_refused_and_nothing_is_added(api: Api, world: World, code: str) -> None:
    label = f"Malformed {unique_code()}"
    body = await api.post(ADD_LOOKUP, {"input": {"list": "WARNING", "code": code, "label": label}}, world.admin_token)
    assert_bad_input(body, "addLookupValue", "code")
    assert label not in {v["label"] for v in (await lookup_values(api, world.admin_token, "WARNING")).values()}


@pytest.mark.parametrize("label", ["", "   "], ids=["empty-label", "blank-label"])
async def test_a_value_without_a_label_is_refused(api: Api, world: World, label: str) -> None:
    code = unique_code()
    body = await api.post(ADD_LOOKUP, {"input": {"list": "WARNING", "code": code, "label": label}}, world.admin_token)
    assert_bad_input(body, "addLookupValue", "label")
    assert code not in await lookup_values(api, world.admin_token, "WARNING")


@pytest.mark.parametrize(
    ("extra", "field"),
    [({"settingId": "A"}, "settingId"), ({"appliesTo": "CHILD"}, "appliesTo")],
    ids=["settingId-on-a-warning", "appliesTo-on-a-warning"],
)
async def test_only_custom_indicators_are_local_to_a_setting_or_a_kind_of_subject(
    api: Api, world: World, extra: dict[str, str], field: str
) -> None:
    code = unique_code()
    value = {"list": "WARNING", "code": code, "label": "Local warning"}
    value.update({k: world.settings[v] if k == "settingId" else v for k, v in extra.items()})
    body = await api.post(ADD_LOOKUP, {"input": value}, world.admin_token)
    assert_bad_input(body, "addLookupValue", field)
    assert code not in await lookup_values(api, world.admin_token, "WARNING")


@pytest.mark.parametrize("setting", ["malformed", "unknown"], ids=["malformed-settingId", "unknown-settingId"])
async def test_an_indicator_of_a_setting_that_does_not_exist_is_refused(api: Api, world: World, setting: str) -> None:
    code = unique_code()
    setting_id = "not-an-id" if setting == "malformed" else encode_id("Setting", 2_000_000_000)
    value = {"list": "CUSTOM_INDICATOR", "code": code, "label": "Orphan", "settingId": setting_id}
    body = await api.post(ADD_LOOKUP, {"input": value}, world.admin_token)
    assert_bad_input(body, "addLookupValue", "settingId")
    assert code not in await lookup_values(api, world.admin_token, "CUSTOM_INDICATOR")


async def test_a_local_indicator_records_its_setting_and_its_kind_of_subject(api: Api, world: World) -> None:
    added = await add_lookup(api, world, "CUSTOM_INDICATOR", settingId=world.settings["B"], appliesTo="FAMILY")
    assert (added["appliesTo"], added["setting"]) == ("FAMILY", {"id": world.settings["B"]})
    listed = await lookup_values(api, world.tokens["MANAGER"], "CUSTOM_INDICATOR")
    assert listed[added["code"]] == added


async def test_a_deactivated_value_is_kept_but_listed_only_on_request(api: Api, world: World) -> None:
    added = await add_lookup(api, world, "EVENT_TYPE")
    code = added["code"]
    deactivated = await set_active(api, world, "EVENT_TYPE", code, False)
    assert deactivated == {**added, "active": False}
    reader = world.tokens["SENIOR_MANAGEMENT"]
    assert code not in await lookup_values(api, reader, "EVENT_TYPE", include_inactive=False)
    assert (await lookup_values(api, reader, "EVENT_TYPE", include_inactive=True))[code] == deactivated
    reactivated = await set_active(api, world, "EVENT_TYPE", code, True)
    assert reactivated == added
    assert (await lookup_values(api, reader, "EVENT_TYPE", include_inactive=False))[code] == added


async def test_relabelling_keeps_the_code_and_the_state(api: Api, world: World) -> None:
    added = await add_lookup(api, world, "OUTCOME_TYPE")
    data = await api.ok(
        UPDATE_LOOKUP,
        {"input": {"list": "OUTCOME_TYPE", "code": added["code"], "label": " Better   label "}},
        world.admin_token,
    )
    assert data["updateLookupValue"] == {**added, "label": "Better label"}
    assert (await lookup_values(api, world.admin_token, "OUTCOME_TYPE"))[added["code"]]["label"] == "Better label"


async def test_updating_a_code_that_is_not_in_the_list_is_not_found_and_adds_nothing(api: Api, world: World) -> None:
    code = unique_code()
    body = await api.post(
        UPDATE_LOOKUP, {"input": {"list": "WARNING", "code": code, "active": True}}, world.admin_token
    )
    assert body["data"] is None
    assert codes(body) == ["NOT_FOUND"]
    assert code not in await lookup_values(api, world.admin_token, "WARNING")


async def test_a_value_of_one_list_is_not_updated_through_another(api: Api, world: World) -> None:
    added = await add_lookup(api, world, "WARNING")
    body = await api.post(
        UPDATE_LOOKUP, {"input": {"list": "LANGUAGE", "code": added["code"], "active": False}}, world.admin_token
    )
    assert codes(body) == ["NOT_FOUND"]
    assert (await lookup_values(api, world.admin_token, "WARNING"))[added["code"]]["active"] is True


def test_no_mutation_deletes_a_drop_down_value() -> None:
    mutation = build_schema()._schema.type_map["Mutation"]
    assert isinstance(mutation, GraphQLObjectType)
    deleting = [
        name
        for name in mutation.fields
        if re.match(r"^(delete|remove|drop|purge)\w*", name, re.IGNORECASE)
        and re.search(r"lookup|value|list|code", name, re.IGNORECASE)
    ]
    assert deleting == []
    assert {"addLookupValue", "updateLookupValue"} <= set(mutation.fields)


# ---------------------------------------------------------------------------------------------
# Unknown and inactive codes are refused on write
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("list_name", "person", "key"),
    [
        ("LANGUAGE", "carer", "language"),
        ("LANGUAGE", "child", "language"),
        ("ETHNICITY", "carer", "ethnicity"),
        ("ETHNICITY", "child", "ethnicity"),
    ],
    ids=["carer-language", "child-language", "carer-ethnicity", "child-ethnicity"],
)
async def test_a_deactivated_code_is_refused_on_registration_and_kept_where_it_is_used(
    api: Api, world: World, centre: Centre, list_name: str, person: str, key: str
) -> None:
    code = (await add_lookup(api, world, list_name))["code"]
    used = await api.ok(REGISTER, registration(centre.setting_id, **{person: {key: code}}), centre.manager)
    record = used["registerFamily"]["carers" if person == "carer" else "children"][0]
    assert record[key] == code
    await set_active(api, world, list_name, code, False)
    before = await family_count(api, centre)
    body = await api.post(REGISTER, registration(centre.setting_id, **{person: {key: code}}), centre.manager)
    group = "carers" if person == "carer" else "children"
    assert_bad_input(body, "registerFamily", f"{group}[0].{key}")
    assert await family_count(api, centre) == before
    # Deactivated, never deleted: the record that uses the code keeps it.
    kept = await api.ok(
        "query($id: ID!) { family(id: $id) { carers { ethnicity language } children { ethnicity language } } }",
        {"id": used["registerFamily"]["id"]},
        centre.manager,
    )
    assert kept["family"][group][0][key] == code
    await set_active(api, world, list_name, code, True)
    again = await api.ok(REGISTER, registration(centre.setting_id, **{person: {key: code}}), centre.manager)
    assert again["registerFamily"][group][0][key] == code


@pytest.mark.parametrize(("person", "key"), [("carer", "ethnicity"), ("child", "language")])
async def test_an_unknown_code_is_refused_on_registration(api: Api, centre: Centre, person: str, key: str) -> None:
    before = await family_count(api, centre)
    body = await api.post(REGISTER, registration(centre.setting_id, **{person: {key: "ZZZZ_UNKNOWN"}}), centre.manager)
    assert_bad_input(body, "registerFamily", f"{'carers' if person == 'carer' else 'children'}[0].{key}")
    assert await family_count(api, centre) == before


async def test_a_deactivated_referral_reason_is_refused(api: Api, world: World, centre: Centre) -> None:
    reason = (await add_lookup(api, world, "REFERRAL_REASON"))["code"]
    family = await centre.family(api)
    referral = {"referralType": "SELF", "reason": reason}
    recorded = await api.ok(RECORD_REFERRAL, {"f": family.id, "d": "2026-11-20", "r": referral}, centre.manager)
    assert recorded["recordReferral"]["referralReason"] == reason
    await set_active(api, world, "REFERRAL_REASON", reason, False)
    forms = (await api.ok(FORMS, {"id": family.id}, centre.manager))["family"]["forms"]
    body = await api.post(RECORD_REFERRAL, {"f": family.id, "d": "2026-11-20", "r": referral}, centre.manager)
    assert_bad_input(body, "recordReferral", "referral.reason")
    assert (await api.ok(FORMS, {"id": family.id}, centre.manager))["family"]["forms"] == forms
    before = await family_count(api, centre)
    body = await api.post(
        REGISTER, registration(centre.setting_id, source="REFERRAL", referral=referral), centre.manager
    )
    assert_bad_input(body, "registerFamily", "referral.reason")
    assert await family_count(api, centre) == before


async def test_a_deactivated_relationship_is_refused_on_registration(api: Api, world: World, centre: Centre) -> None:
    # The relationship list is a drop-down list of the administrator's like the others
    # (the issue names it): a deactivated relationship cannot be recorded on a new carer.
    values = await lookup_values(api, world.admin_token, "RELATIONSHIP")
    assert values["FOSTER_CARER"]["active"] is True
    await set_active(api, world, "RELATIONSHIP", "FOSTER_CARER", False)
    try:
        before = await family_count(api, centre)
        body = await api.post(
            REGISTER, registration(centre.setting_id, carer={"relationshipToChildren": "FOSTER_CARER"}), centre.manager
        )
        assert_bad_input(body, "registerFamily", "carers[0].relationshipToChildren")
        assert await family_count(api, centre) == before
    finally:
        await set_active(api, world, "RELATIONSHIP", "FOSTER_CARER", True)
