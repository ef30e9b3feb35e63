"""Helpers shared by the tests of the data standards' rules (lookups, subject codes, forms,
history, the standards matrix): queries and fresh drop-down values (the assertions are in
tests/assertions.py).

Drop-down lists are global, so a test that adds or deactivates a value adds one of its own
with a unique code and never deactivates a value other tests rely on."""

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.conftest import Api, World

LONDON = ZoneInfo("Europe/London")

ADD_LOOKUP = """mutation($input: LookupValueInput!) {
  addLookupValue(input: $input) { code label active appliesTo setting { id } } }"""
UPDATE_LOOKUP = """mutation($input: LookupValueUpdate!) {
  updateLookupValue(input: $input) { code label active appliesTo setting { id } } }"""
LOOKUPS = """query($list: LookupList!, $all: Boolean!) {
  lookups(list: $list, includeInactive: $all) { code label active appliesTo setting { id } } }"""

SET_MUTATIONS = {
    "WARNING": "setWarnings",
    "HARD_TO_REACH_GROUP": "setHardToReachGroups",
    "CUSTOM_INDICATOR": "setIndicators",
}
SUBJECT_FIELDS = {"WARNING": "warnings", "HARD_TO_REACH_GROUP": "hardToReachGroups", "CUSTOM_INDICATOR": "indicators"}


def set_codes_mutation(list_name: str) -> str:
    name = SET_MUTATIONS[list_name]
    return f"mutation($s: ID!, $c: [String!]!) {{ {name}(subjectId: $s, codes: $c) }}"


SET_GENERAL_NOTE = "mutation($s: ID!, $t: String) { setGeneralNote(subjectId: $s, text: $t) }"

SUBJECTS_STATE = """query($id: ID!) { family(id: $id) {
  version generalNote warnings hardToReachGroups indicators
  carers { id generalNote warnings hardToReachGroups indicators }
  children { id generalNote warnings hardToReachGroups indicators } } }"""


def today() -> str:
    """Today, for dates the service must accept as not in the future and whose deadline has
    not passed: the earlier of the UK date (deadlines) and the process's local date (the
    service's "in the future" checks), which differ for an hour a night in summer time."""
    return min(datetime.now(LONDON).date(), date.today()).isoformat()


def unique_code(prefix: str = "T") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12].upper()}"


async def add_lookup(api: Api, world: World, list_name: str, **extra: Any) -> dict[str, Any]:
    """A new active value of `list_name`, added by the eStart Administrator."""
    code = extra.pop("code", None) or unique_code()
    value = {"list": list_name, "code": code, "label": f"Test value {code}", **extra}
    return (await api.ok(ADD_LOOKUP, {"input": value}, world.admin_token))["addLookupValue"]  # type: ignore[no-any-return]


async def set_active(api: Api, world: World, list_name: str, code: str, active: bool) -> dict[str, Any]:
    data = await api.ok(
        UPDATE_LOOKUP, {"input": {"list": list_name, "code": code, "active": active}}, world.admin_token
    )
    return data["updateLookupValue"]  # type: ignore[no-any-return]


async def lookup_values(
    api: Api, token: str, list_name: str, include_inactive: bool = True
) -> dict[str, dict[str, Any]]:
    data = await api.ok(LOOKUPS, {"list": list_name, "all": include_inactive}, token)
    return {value["code"]: value for value in data["lookups"]}


async def subjects_state(api: Api, token: str, family_id: str) -> dict[str, Any]:
    return (await api.ok(SUBJECTS_STATE, {"id": family_id}, token))["family"]  # type: ignore[no-any-return]
