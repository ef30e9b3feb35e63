"""Family records: registering, updating with optimistic concurrency, reading one, paging
through many (standards 5, 6; API.md "Semantics")."""

import base64
import logging
from datetime import date, timedelta
from typing import Any

import pytest

from resolvers.ids import encode_id
from tests.assertions import codes
from tests.conftest import REGISTER, Api, World, create_user
from tests.factories import Centre, fresh_centre, unique_name

FAMILY = """query($id: ID!) {
  family(id: $id) { id version address { line1 line2 town postcode } generalNote
                    carers { firstName lastName } children { firstName lastName } } }"""
UPDATE = """mutation($id: ID!, $v: Int!, $input: UpdateFamilyInput!) {
  updateFamily(id: $id, expectedVersion: $v, input: $input) { id version address { line1 postcode } generalNote } }"""
PAGE = """query($s: ID, $first: Int!, $after: String) {
  families(settingId: $s, first: $first, after: $after) {
    totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"""
NO_SUCH_KEY = 2_000_000_000  # a well-formed key no row has
HUGE_KEY = 10**15  # well-formed too, but past a 32-bit integer column
NEW_ADDRESS = {"line1": "2 Mill Lane", "town": "Leeds", "postcode": "LS1 4AP"}


def family_input(
    setting_id: str, surname: str, carer: dict[str, Any] | None = None, child: dict[str, Any] | None = None, **top: Any
) -> dict[str, Any]:
    return {
        "settingId": setting_id,
        "source": "REFERRAL",
        "receivedOn": "2026-11-02",
        "consentToContact": True,
        "address": {"line1": "1 Station Road", "town": "Wakefield", "postcode": "WF1 1AA"},
        "carers": [
            {
                "firstName": "Alex",
                "lastName": surname,
                "dateOfBirth": "1990-04-01",
                "gender": "FEMALE",
                "ethnicity": "WBRI",
                "language": "ENG",
                "relationshipToChildren": "MOTHER",
                **(carer or {}),
            }
        ],
        "children": [
            {
                "firstName": "Sam",
                "lastName": surname,
                "dateOfBirth": "2024-03-10",
                "gender": "MALE",
                "ethnicity": "MWBC",
                "language": "ENG",
                **(child or {}),
            }
        ],
        "generalNote": f"General note of {surname}",
        **top,
    }


async def read_family(api: Api, token: str, family_id: str) -> dict[str, Any]:
    return (await api.ok(FAMILY, {"id": family_id}, token))["family"]  # type: ignore[no-any-return]


async def total_in(api: Api, token: str, setting_id: str) -> int:
    data = await api.ok(PAGE, {"s": setting_id, "first": 10}, token)
    return data["families"]["totalCount"]  # type: ignore[no-any-return]


async def people_named(api: Api, token: str, surname: str) -> list[Any]:
    data = await api.ok("query($n: String!) { searchPeople(name: $n) { personId } }", {"n": surname}, token)
    people: list[Any] = data["searchPeople"]
    return people


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


# --- registering -------------------------------------------------------------------------------


async def test_register_family_keeps_what_was_entered(api: Api, centre: Centre) -> None:
    surname = unique_name()
    data = await api.ok(REGISTER, {"input": family_input(centre.setting_id, surname)}, centre.manager)
    family = await read_family(api, centre.manager, data["registerFamily"]["id"])
    assert family["version"] == 1
    assert family["address"] == {"line1": "1 Station Road", "line2": None, "town": "Wakefield", "postcode": "WF1 1AA"}
    assert family["generalNote"] == f"General note of {surname}"
    assert family["carers"] == [{"firstName": "Alex", "lastName": surname}]
    assert family["children"] == [{"firstName": "Sam", "lastName": surname}]


def _in_future() -> str:
    return (date.today() + timedelta(days=30)).isoformat()


INVALID_REGISTRATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "bad-postcode": ({"address": {"line1": "1 Station Road", "postcode": "NOT A POSTCODE"}}, "postcode"),
    "unknown-carer-ethnicity-code": ({"carer": {"ethnicity": "ZZZZ"}}, "ethnicity"),
    "unknown-child-ethnicity-code": ({"child": {"ethnicity": "ZZZZ"}}, "ethnicity"),
    "empty-carer-first-name": ({"carer": {"firstName": "   "}}, "firstName"),
    "empty-child-last-name": ({"child": {"lastName": ""}}, "lastName"),
    "child-born-in-the-future": ({"child": {"dateOfBirth": "FUTURE"}}, "dateOfBirth"),
    "form-received-in-the-future": ({"receivedOn": "FUTURE"}, "receivedOn"),
    "malformed-setting-id": ({"settingId": "no-such-setting"}, "settingId"),
    "family-id-as-setting-id": ({"settingId": "FAMILY"}, "settingId"),
    "nonexistent-setting-id": ({"settingId": encode_id("Setting", NO_SUCH_KEY)}, "settingId"),
    "setting-id-beyond-the-integer-range": ({"settingId": encode_id("Setting", HUGE_KEY)}, "settingId"),
}


@pytest.mark.parametrize("case", INVALID_REGISTRATIONS, ids=lambda c: f"register-rejects-{c}-and-writes-nothing")
async def test_invalid_registration_is_bad_user_input_naming_the_field_and_writes_nothing(
    api: Api, world: World, centre: Centre, case: str
) -> None:
    change, field = INVALID_REGISTRATIONS[case]
    surname = unique_name()
    carer, child = change.get("carer", {}), change.get("child", {})
    top = {k: v for k, v in change.items() if k not in ("carer", "child")}
    replacements = {"FUTURE": _in_future(), "FAMILY": world.families["own"].id}
    top = {k: replacements.get(v, v) if isinstance(v, str) else v for k, v in top.items()}
    child = {k: replacements.get(v, v) for k, v in child.items()}
    body = await api.post(
        REGISTER, {"input": family_input(centre.setting_id, surname, carer, child, **top)}, centre.manager
    )
    assert body["data"] is None
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"].endswith(field)
    assert await total_in(api, centre.manager, centre.setting_id) == 0
    assert await people_named(api, centre.manager, surname) == []


# --- updating ------------------------------------------------------------------------------------


async def test_update_family_changes_the_given_fields_and_bumps_the_version(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    data = await api.ok(UPDATE, {"id": family.id, "v": 1, "input": {"address": NEW_ADDRESS}}, centre.manager)
    assert data["updateFamily"]["version"] == 2
    stored = await read_family(api, centre.manager, family.id)
    assert stored["address"]["postcode"] == "LS1 4AP"
    assert stored["generalNote"] is not None, "an omitted field is unchanged"


async def test_update_with_a_stale_expected_version_is_a_conflict_and_changes_nothing(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    await api.ok(UPDATE, {"id": family.id, "v": 1, "input": {"generalNote": "First edit"}}, centre.manager)
    body = await api.post(
        UPDATE,
        {"id": family.id, "v": 1, "input": {"generalNote": "Stale edit", "address": NEW_ADDRESS}},
        centre.manager,
    )
    assert body["data"] is None
    assert codes(body) == ["CONFLICT"]
    stored = await read_family(api, centre.manager, family.id)
    assert (stored["version"], stored["generalNote"], stored["address"]["postcode"]) == (2, "First edit", "WF1 1AA")


async def test_head_of_centre_can_change_the_address(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    data = await api.ok(UPDATE, {"id": family.id, "v": 1, "input": {"address": NEW_ADDRESS}}, centre.head_of_centre)
    assert data["updateFamily"]["version"] == 2
    assert (await read_family(api, centre.manager, family.id))["address"]["postcode"] == "LS1 4AP"


@pytest.mark.parametrize(
    "change",
    [{"generalNote": "Rewritten"}, {"generalNote": "Rewritten", "address": NEW_ADDRESS}],
    ids=[
        "head_of_centre-cannot-change-Family.generalNote",
        "head_of_centre-cannot-change-Family.generalNote-even-with-the-address",
    ],
)
async def test_head_of_centre_cannot_change_the_general_note_and_nothing_changes(
    api: Api, centre: Centre, change: dict[str, Any]
) -> None:
    family = await centre.family(api)
    before = await read_family(api, centre.manager, family.id)
    body = await api.post(UPDATE, {"id": family.id, "v": 1, "input": change}, centre.head_of_centre)
    assert body["data"] is None
    assert codes(body) == ["FORBIDDEN"]
    assert body["errors"][0]["extensions"]["category"] == "SECONDARY"
    assert await read_family(api, centre.manager, family.id) == before


async def test_update_with_a_bad_postcode_is_bad_user_input_and_changes_nothing(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    before = await read_family(api, centre.manager, family.id)
    change = {"generalNote": "Changed", "address": {"line1": "3 High Street", "postcode": "12345"}}
    body = await api.post(UPDATE, {"id": family.id, "v": 1, "input": change}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"].endswith("postcode")
    assert await read_family(api, centre.manager, family.id) == before


async def test_update_with_null_clears_the_general_note(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    await api.ok(UPDATE, {"id": family.id, "v": 1, "input": {"generalNote": None}}, centre.manager)
    stored = await read_family(api, centre.manager, family.id)
    assert stored["generalNote"] is None
    assert stored["address"]["postcode"] == "WF1 1AA"


# --- reading one ---------------------------------------------------------------------------------


async def test_family_with_malformed_foreign_or_nonexistent_id_is_not_found_all_alike(api: Api, world: World) -> None:
    ids = {
        "malformed": "this is not an id",
        "another-type": world.settings["A"],
        "nonexistent": encode_id("Family", NO_SUCH_KEY),
    }
    answers = {kind: await api.post(FAMILY, {"id": value}, world.tokens["MANAGER"]) for kind, value in ids.items()}
    for answer in answers.values():
        assert answer["data"] == {"family": None}
        assert codes(answer) == ["NOT_FOUND"]
    assert answers["malformed"] == answers["another-type"] == answers["nonexistent"]


async def test_family_with_a_key_beyond_the_integer_range_is_not_found_too(api: Api, world: World) -> None:
    answer = await api.post(FAMILY, {"id": encode_id("Family", HUGE_KEY)}, world.tokens["MANAGER"])
    assert answer["data"] == {"family": None}
    assert codes(answer) == ["NOT_FOUND"]


async def test_a_denied_field_is_not_logged_as_an_error(api: Api, world: World, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    body = await api.post(
        """query($id: ID!) { family(id: $id) { id generalNote notes { text } confidentialNotes { text }
             children { firstName childProtectionPlan { category } confidentialNotes { text } } } }""",
        {"id": world.families["other"].id},
        world.tokens["HEAD_OF_CENTRE"],
    )
    assert "FORBIDDEN" in codes(body)
    assert body["data"]["family"]["id"] == world.families["other"].id
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert [r for r in caplog.records if r.exc_info] == []


# --- paging through many -------------------------------------------------------------------------


async def test_families_pages_with_first_and_after_and_counts_the_total(api: Api, centre: Centre) -> None:
    registered = [(await centre.family(api)).id for _ in range(5)]
    seen: list[str] = []
    pages = []
    after = None
    while True:
        data = (await api.ok(PAGE, {"s": centre.setting_id, "first": 2, "after": after}, centre.manager))["families"]
        pages.append((len(data["nodes"]), data["pageInfo"]["hasNextPage"], data["totalCount"]))
        seen.extend(node["id"] for node in data["nodes"])
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert pages == [(2, True, 5), (2, True, 5), (1, False, 5)]
    assert sorted(seen) == sorted(registered)
    past_the_end = {"s": centre.setting_id, "first": 2, "after": data["pageInfo"]["endCursor"]}
    data = (await api.ok(PAGE, past_the_end, centre.manager))["families"]
    assert (data["nodes"], data["pageInfo"]["hasNextPage"], data["totalCount"]) == ([], False, 5)


async def test_cursors_are_opaque_and_carry_no_field_values(api: Api, centre: Centre) -> None:
    surname = unique_name()
    family = await centre.family(api, surname)
    data = (await api.ok(PAGE, {"s": centre.setting_id, "first": 1}, centre.manager))["families"]
    cursor = data["pageInfo"]["endCursor"]
    assert isinstance(cursor, str) and cursor != family.id
    padded = cursor + "=" * (-len(cursor) % 4)
    decoded = base64.urlsafe_b64decode(padded).decode(errors="replace") if cursor.isascii() else cursor
    for value in (surname, "WF1 1AA", "WF11AA", "Station", f"General note of {surname}"):
        assert value not in cursor and value not in decoded


@pytest.mark.parametrize("cursor", ["garbage", "FAMILY_ID"], ids=["garbage-cursor", "an-id-used-as-a-cursor"])
async def test_a_cursor_not_issued_by_the_list_is_bad_user_input(api: Api, world: World, cursor: str) -> None:
    after = world.families["own"].id if cursor == "FAMILY_ID" else cursor
    body = await api.post(PAGE, {"first": 2, "after": after}, world.tokens["MANAGER"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "after"


@pytest.mark.parametrize("first", [0, -1, 1001], ids=lambda n: f"first-{n}-is-refused")
async def test_page_size_is_bounded(api: Api, world: World, first: int) -> None:
    body = await api.post(PAGE, {"first": first}, world.tokens["MANAGER"])
    assert body["data"] == {"families": None}
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "first"


async def test_a_page_of_a_thousand_is_allowed(api: Api, world: World) -> None:
    await api.ok(PAGE, {"first": 1000}, world.tokens["MANAGER"])


async def test_families_of_a_setting_are_those_registered_there_or_affiliated_unrevoked(api: Api, world: World) -> None:
    setting, elsewhere = await fresh_centre(api, world), await fresh_centre(api, world)
    registered = await setting.family(api)
    affiliated, revoked, unrelated = [await elsewhere.family(api) for _ in range(3)]
    affiliations = {}
    for family in (affiliated, revoked):
        data = await api.ok(
            "mutation($input: AffiliationInput!) { affiliate(input: $input) { id } }",
            {
                "input": {
                    "familyId": family.id,
                    "settingId": setting.setting_id,
                    "consentGivenBy": "Alex",
                    "consentDate": "2026-11-03",
                }
            },
            elsewhere.manager,
        )
        affiliations[family.id] = data["affiliate"]["id"]
    await api.ok(
        "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }", {"id": affiliations[revoked.id]}, elsewhere.manager
    )
    for reader in (setting.manager, elsewhere.manager, world.tokens["SENIOR_MANAGEMENT"]):
        data = (await api.ok(PAGE, {"s": setting.setting_id, "first": 10}, reader))["families"]
        assert sorted(node["id"] for node in data["nodes"]) == sorted([registered.id, affiliated.id])
        assert data["totalCount"] == 2
    assert unrelated.id not in {node["id"] for node in data["nodes"]}


async def test_families_without_a_setting_lists_the_callers_scopes(api: Api, world: World) -> None:
    data = await api.ok(PAGE, {"first": 1000}, world.tokens["MANAGER"])
    listed = {node["id"] for node in data["families"]["nodes"]}
    expected = {name: name in ("own", "affiliated") for name in ("own", "other", "affiliated", "revoked")}
    assert {name: world.families[name].id in listed for name in expected} == expected


async def test_families_without_a_setting_lists_every_family_for_an_authority_wide_role(api: Api, world: World) -> None:
    data = await api.ok(PAGE, {"first": 1000}, world.tokens["SENIOR_MANAGEMENT"])
    listed = {node["id"] for node in data["families"]["nodes"]}
    assert {f.id for f in world.families.values()} <= listed
    if not data["families"]["pageInfo"]["hasNextPage"]:
        assert data["families"]["totalCount"] == len(listed)


async def test_a_role_held_in_every_setting_widens_the_list_only_as_far_as_its_own_grants(
    api: Api, world: World
) -> None:
    """List reach comes from the grants for family data, not from where roles are held: LA
    reporting in every setting gives reporting everywhere, not the families of every setting."""
    centre = await fresh_centre(api, world)
    own = await centre.family(api)
    roles: list[dict[str, Any]] = [
        {"role": "LA_REPORTING", "settingId": None},
        {"role": "ADMIN_OFFICER", "settingId": centre.setting_id},
    ]
    token = await create_user(api, world.admin_token, f"reporting-officer-{unique_name().lower()}", roles)
    data = (await api.ok(PAGE, {"first": 1000}, token))["families"]
    assert [node["id"] for node in data["nodes"]] == [own.id]
    assert data["totalCount"] == 1


async def test_families_of_an_unknown_setting_is_bad_user_input(api: Api, world: World) -> None:
    body = await api.post(PAGE, {"s": "not-a-setting", "first": 2}, world.tokens["MANAGER"])
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "settingId"
