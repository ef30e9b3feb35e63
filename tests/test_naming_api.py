"""Naming conventions applied through the API (standards 12): every name written is
normalised and validated — a refused name says which one, and nothing at all is written — and
an unnamed newborn is recorded as "Baby" with the family surname, flagged as provisional.
The rules themselves are tabled in tests/test_naming.py; this checks that registration uses them."""

from typing import Any

import pytest

from tests.assertions import assert_bad_input
from tests.conftest import Api, World
from tests.factories import Centre, audit_events_since, fresh_centre, last_audit_id
from tests.standards_support import today

REGISTER = """mutation($input: RegisterFamilyInput!) { registerFamily(input: $input) {
  id carers { firstName lastName } children { firstName lastName provisionalName } } }"""
COUNT = "query($s: ID!) { families(settingId: $s) { totalCount } }"
TIMELINESS = """query($s: ID!, $from: Date!, $to: Date!) {
  timeliness(settingId: $s, from: $from, to: $to) { byKind { received } } }"""


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


def registration(setting_id: str, carers: list[dict[str, Any]], children: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "input": {
            "settingId": setting_id,
            "source": "INITIAL_CONTACT",
            "receivedOn": today(),
            "consentToContact": True,
            "carers": carers,
            "children": children,
        }
    }


async def nothing_written(api: Api, app: Any, centre: Centre, audit_mark: int) -> None:
    assert (await api.ok(COUNT, {"s": centre.setting_id}, centre.manager))["families"]["totalCount"] == 0
    report = await api.ok(TIMELINESS, {"s": centre.setting_id, "from": "2000-01-01", "to": today()}, centre.manager)
    assert sum(kind["received"] for kind in report["timeliness"]["byKind"]) == 0  # no form either
    written = [e for e in await audit_events_since(app, audit_mark) if e.category is not None or e.family_id]
    assert written == []


REFUSED = [
    ("carers", 0, "firstName", "Mr John"),
    ("carers", 0, "firstName", "Mrs. Ann"),
    ("carers", 0, "lastName", "Sm1th"),
    ("carers", 1, "firstName", "J0hn"),
    ("carers", 1, "lastName", "Smith & Sons"),
    ("children", 0, "firstName", "Dr Who"),
    ("children", 0, "lastName", "   "),
    ("children", 0, "firstName", "Sam2"),
]


@pytest.mark.parametrize(
    ("group", "index", "key", "value"), REFUSED, ids=[f"{g}[{i}].{k}={v!r}" for g, i, k, v in REFUSED]
)
async def test_a_name_that_breaks_the_conventions_is_refused_and_nothing_is_written(
    api: Api, app: Any, centre: Centre, group: str, index: int, key: str, value: str
) -> None:
    carers = [{"firstName": "Alex", "lastName": "Jones"}, {"firstName": "Chris", "lastName": "Jones"}]
    children = [{"firstName": "Sam", "lastName": "Jones"}]
    {"carers": carers, "children": children}[group][index][key] = value
    mark = await last_audit_id(app)
    body = await api.post(REGISTER, registration(centre.setting_id, carers, children), centre.manager)
    assert_bad_input(body, "registerFamily", f"{group}[{index}].{key}")
    await nothing_written(api, app, centre, mark)


NORMALISED = [
    ("  mary   ann ", "Mary Ann"),
    ("o'neil", "O'Neil"),
    ("O\u2019BRIEN", "O'Brien"),
    ("smith-jones", "Smith-Jones"),
    ("McDonald", "McDonald"),
    ("de la Cruz", "de la Cruz"),
    ("JOHN", "John"),
]


@pytest.mark.parametrize(("given", "stored"), NORMALISED, ids=[g.strip() for g, _ in NORMALISED])
async def test_names_are_stored_normalised(api: Api, centre: Centre, given: str, stored: str) -> None:
    request = registration(
        centre.setting_id,
        [{"firstName": given, "lastName": given}],
        [{"firstName": given, "lastName": "Jones"}],
    )
    family = (await api.ok(REGISTER, request, centre.manager))["registerFamily"]
    assert family["carers"] == [{"firstName": stored, "lastName": stored}]
    assert family["children"] == [{"firstName": stored, "lastName": "Jones", "provisionalName": False}]
    read = await api.ok(
        "query($id: ID!) { family(id: $id) { carers { firstName lastName } } }", {"id": family["id"]}, centre.manager
    )
    assert read["family"]["carers"] == [{"firstName": stored, "lastName": stored}]


@pytest.mark.parametrize("forename", ["", "Baby", "  "], ids=["empty", "Baby", "blank"])
async def test_an_unnamed_newborn_is_recorded_as_baby_with_the_surname_and_flagged(
    api: Api, centre: Centre, forename: str
) -> None:
    request = registration(
        centre.setting_id,
        [{"firstName": "Alex", "lastName": "o'neil"}],
        [
            {"firstName": forename, "lastName": "o'neil", "provisionalName": True},
            {"firstName": "Sam", "lastName": "O'Neil"},
        ],
    )
    family = (await api.ok(REGISTER, request, centre.manager))["registerFamily"]
    assert family["children"] == [
        {"firstName": "Baby", "lastName": "O'Neil", "provisionalName": True},
        {"firstName": "Sam", "lastName": "O'Neil", "provisionalName": False},
    ]


@pytest.mark.parametrize(("key", "value"), [("firstName", "Kai"), ("lastName", "Mr Smith")])
async def test_a_provisional_name_with_an_invented_forename_or_a_bad_surname_is_refused(
    api: Api, app: Any, centre: Centre, key: str, value: str
) -> None:
    child = {"firstName": "", "lastName": "Smith", "provisionalName": True, key: value}
    mark = await last_audit_id(app)
    body = await api.post(
        REGISTER, registration(centre.setting_id, [{"firstName": "Alex", "lastName": "Smith"}], [child]), centre.manager
    )
    assert_bad_input(body, "registerFamily", f"children[0].{key}")
    await nothing_written(api, app, centre, mark)
