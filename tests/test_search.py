"""searchPeople (standards 13): staff find an existing person before registering a duplicate —
a case-insensitive prefix match on first name, last name or "first last", narrowed by date of
birth or postcode, returning primary data only, across all settings."""

from typing import Any

import pytest
from graphql import GraphQLObjectType

from schema import build_schema
from tests.assertions import codes
from tests.conftest import Api, World
from tests.factories import Centre, fresh_centre, unique_name

SEARCH = """query($name: String!, $dob: Date, $postcode: String) {
  searchPeople(name: $name, dateOfBirth: $dob, postcode: $postcode) {
    personId familyId firstName lastName dateOfBirth postcode registeredSetting { id } } }"""


async def search(api: Api, token: str, name: str, **filters: Any) -> list[dict[str, Any]]:
    data = await api.ok(SEARCH, {"name": name, **filters}, token)
    return data["searchPeople"]  # type: ignore[no-any-return]


async def found_ids(api: Api, token: str, name: str, **filters: Any) -> set[str]:
    return {match["personId"] for match in await search(api, token, name, **filters)}


def person(first: str, last: str, dob: str, gender: str = "NOT_KNOWN") -> dict[str, Any]:
    return {"firstName": first, "lastName": last, "dateOfBirth": dob, "gender": gender}


OTHER_CHILD = person("Robin", "Lowther", "2024-03-10")


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


@pytest.fixture
async def searcher(api: Api, world: World) -> str:
    """Someone of another setting: primary data is shared across all settings."""
    return world.tokens["ADMIN_OFFICER"]


async def test_a_last_name_prefix_finds_carer_and_child_in_any_case(api: Api, centre: Centre, searcher: str) -> None:
    surname = unique_name()
    family = await centre.family(api, surname)
    expected = {family.carer_id, family.child_id}
    for query in (surname[:6], surname[:6].lower(), surname.upper(), surname):
        assert await found_ids(api, searcher, query) == expected, query


async def test_a_first_name_prefix_finds_the_person_in_any_case(api: Api, centre: Centre, searcher: str) -> None:
    first = unique_name()
    family = await centre.family(api, carers=[person(first, "Smith", "1990-04-01")], children=[OTHER_CHILD])
    for query in (first[:5], first.lower(), first.upper()):
        assert await found_ids(api, searcher, query) == {family.carer_id}, query


@pytest.mark.parametrize("query", ["full", "full-lower", "first-and-start-of-last", "extra-spaces"])
async def test_first_and_last_name_together_find_the_person(
    api: Api, centre: Centre, searcher: str, query: str
) -> None:
    first, last = unique_name(), unique_name()
    family = await centre.family(api, carers=[person(first, last, "1990-04-01")], children=[OTHER_CHILD])
    text = {
        "full": f"{first} {last}",
        "full-lower": f"{first} {last}".lower(),
        "first-and-start-of-last": f"{first} {last[:3]}",
        "extra-spaces": f"  {first}   {last}  ",
    }[query]
    assert await found_ids(api, searcher, text) == {family.carer_id}


async def test_the_match_is_a_prefix_not_a_substring(api: Api, centre: Centre, searcher: str) -> None:
    surname = unique_name()
    await centre.family(api, surname)
    assert await found_ids(api, searcher, surname[3:]) == set()
    assert await found_ids(api, searcher, f"Alex {surname[3:]}") == set()


async def test_the_match_ignores_case_of_non_ascii_letters(api: Api, centre: Centre, searcher: str) -> None:
    surname = "É" + unique_name().lower()
    family = await centre.family(api, carers=[person("Zoë", surname, "1990-04-01")], children=[OTHER_CHILD])
    assert await found_ids(api, searcher, surname.lower()) == {family.carer_id}
    assert await found_ids(api, searcher, surname.upper()) == {family.carer_id}


async def test_date_of_birth_narrows_the_search(api: Api, centre: Centre, searcher: str) -> None:
    surname = unique_name()
    family = await centre.family(api, surname)  # carer born 1990-04-01, child 2024-03-10
    assert await found_ids(api, searcher, surname, dob="2024-03-10") == {family.child_id}
    assert await found_ids(api, searcher, surname, dob="1990-04-01") == {family.carer_id}
    assert await found_ids(api, searcher, surname, dob="2000-01-01") == set()


async def test_postcode_narrows_the_search(api: Api, centre: Centre, searcher: str) -> None:
    surname = unique_name()
    wakefield = await centre.family(api, surname)
    leeds = await centre.family(api, surname, address={"line1": "2 Mill Lane", "postcode": "LS1 4AP"})
    assert await found_ids(api, searcher, surname, postcode="LS1 4AP") == {leeds.carer_id, leeds.child_id}
    assert await found_ids(api, searcher, surname, postcode="WF1 1AA") == {wakefield.carer_id, wakefield.child_id}
    assert await found_ids(api, searcher, surname, postcode="HX1 1AA") == set()


async def test_a_match_carries_the_primary_data_of_the_person(api: Api, world: World, centre: Centre) -> None:
    surname = unique_name()
    family = await centre.family(api, surname)
    matches = await search(api, world.tokens["HEAD_OF_CENTRE"], surname)
    by_id = {match["personId"]: match for match in matches}
    assert by_id[family.child_id] == {
        "personId": family.child_id,
        "familyId": family.id,
        "firstName": "Sam",
        "lastName": surname,
        "dateOfBirth": "2024-03-10",
        "postcode": "WF1 1AA",
        "registeredSetting": {"id": centre.setting_id},
    }


def test_a_person_match_holds_primary_data_only() -> None:
    match = build_schema()._schema.type_map["PersonMatch"]
    assert isinstance(match, GraphQLObjectType)
    primary = {"personId", "familyId", "firstName", "lastName", "dateOfBirth", "postcode", "registeredSetting"}
    assert set(match.fields) <= primary


@pytest.mark.parametrize("wildcard", ["%", "_"], ids=["percent-is-literal", "underscore-is-literal"])
async def test_like_wildcards_in_the_name_match_only_themselves(
    api: Api, centre: Centre, searcher: str, wildcard: str
) -> None:
    surname = unique_name()
    await centre.family(api, surname)
    # As wildcards these would match the surname ("Qab%…" or "Qab_…"); as letters they match nothing.
    assert await found_ids(api, searcher, surname[:3] + wildcard + surname[4:]) == set()
    assert await found_ids(api, searcher, surname[:3] + wildcard) == set()
    assert await found_ids(api, searcher, wildcard) == set()


@pytest.mark.parametrize("name", ["   ", "x" * 101, "Smi\x00th", "\u202eSmith"], ids=["blank", "long", "nul", "bidi"])
async def test_an_unusable_name_is_bad_user_input(api: Api, searcher: str, name: str) -> None:
    body = await api.post(SEARCH, {"name": name}, searcher)
    assert body["data"] is None or body["data"]["searchPeople"] is None  # NUL: refused before execution
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"].get("field", "name") == "name"  # NUL is refused before the field
