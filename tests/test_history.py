"""A record's history (standards 2: "appropriate audit trails"): the audit events of a family,
a carer or a child — who, when, in which setting, which field, before and after — each shown
only to those who may read its category, so that a role that may not read a field does not
see its old values either. A refused write leaves no trace in it."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.assertions import codes
from tests.conftest import AFFILIATE, Api, Family, World
from tests.factories import Centre, fresh_centre
from tests.standards_support import SET_GENERAL_NOTE, set_codes_mutation

ENTRY = "at action userName category setting { id } changes { field before after }"
HISTORY = f"""query($id: ID!) {{ family(id: $id) {{ history {{ {ENTRY} }}
  carers {{ history {{ {ENTRY} }} }} children {{ history {{ {ENTRY} }} }} }} }}"""
UPDATE = """mutation($id: ID!, $v: Int!, $input: UpdateFamilyInput!) {
  updateFamily(id: $id, expectedVersion: $v, input: $input) { version } }"""
ADD_NOTE = "mutation($input: NoteInput!) { addNote(input: $input) { id } }"
NEW_ADDRESS = {"line1": "2 Mill Lane", "town": "Pontefract", "postcode": "WF8 1AA"}
SECRET = "Confidential: disclosure made at the stay and play"
OLD_NOTE_MARK = "GeneralNoteBeforeChange"


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def histories(api: Api, token: str, family_id: str) -> dict[str, list[dict[str, Any]]]:
    family = (await api.ok(HISTORY, {"id": family_id}, token))["family"]
    return {
        "family": family["history"],
        "carer": family["carers"][0]["history"],
        "child": family["children"][0]["history"],
    }


def changes(entry: dict[str, Any]) -> dict[str, tuple[str | None, str | None]]:
    return {change["field"]: (change["before"], change["after"]) for change in entry["changes"]}


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def display_name(api: Api, token: str) -> str:
    return (await api.ok("{ me { displayName } }", token=token))["me"]["displayName"]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# What an entry says
# ---------------------------------------------------------------------------------------------


async def test_an_update_is_listed_with_who_when_where_and_each_changed_field(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    start = datetime.now(UTC)
    await api.ok(
        UPDATE, {"id": family.id, "v": family.version, "input": {"address": NEW_ADDRESS}}, centre.head_of_centre
    )
    end = datetime.now(UTC)
    history = (await histories(api, centre.manager, family.id))["family"]
    [entry] = [e for e in history if e["action"] == "family.update"]
    assert entry["userName"] == await display_name(api, centre.head_of_centre)
    assert start <= moment(entry["at"]) <= end
    assert entry["setting"] == {"id": centre.setting_id}
    assert entry["category"] == "PRIMARY"
    assert changes(entry) == {
        "address.line1": ("1 Station Road", "2 Mill Lane"),
        "address.town": ("Wakefield", "Pontefract"),
        "address.postcode": ("WF1 1AA", "WF8 1AA"),
    }


async def test_registration_is_the_first_entry_of_each_record(api: Api, centre: Centre) -> None:
    family = await centre.family(api, "Firstentry")
    found = await histories(api, centre.manager, family.id)
    manager = await display_name(api, centre.manager)
    family_entries = {e["category"]: e for e in found["family"]}
    assert set(family_entries) == {"PRIMARY", "SECONDARY"}
    assert changes(family_entries["PRIMARY"]) == {
        "address.line1": (None, "1 Station Road"),
        "address.town": (None, "Wakefield"),
        "address.postcode": (None, "WF1 1AA"),
        "consentToContact": (None, "True"),
    }
    assert changes(family_entries["SECONDARY"]) == {"generalNote": (None, "General note of Firstentry")}
    carer = {e["category"]: changes(e) for e in found["carer"]}
    assert carer["PRIMARY"] == {
        "firstName": (None, "Alex"),
        "lastName": (None, "Firstentry"),
        "dateOfBirth": (None, "1990-04-01"),
        "gender": (None, "FEMALE"),
        "relationshipToChildren": (None, "MOTHER"),
    }
    assert carer["SECONDARY"] == {"ethnicity": (None, "WBRI"), "language": (None, "ENG")}
    child = {e["category"]: changes(e) for e in found["child"]}
    assert child["PRIMARY"]["firstName"] == (None, "Sam")
    for record in found.values():
        assert all(e["userName"] == manager and e["setting"] == {"id": centre.setting_id} for e in record)
    # Each record lists its own events only.
    assert not any("firstName" in changes(e) for e in found["family"])
    assert not any("address.postcode" in changes(e) for e in found["carer"] + found["child"])


async def test_changes_to_people_appear_in_their_own_history(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    await api.ok(SET_GENERAL_NOTE, {"s": family.carer_id, "t": "Works nights"}, centre.manager)
    await api.ok(set_codes_mutation("WARNING"), {"s": family.child_id, "c": ["SEVERE_ALLERGY"]}, centre.manager)
    found = await histories(api, centre.manager, family.id)
    carer_notes = [changes(e)["generalNote"] for e in found["carer"] if "generalNote" in changes(e)]
    assert carer_notes == [(None, "Works nights")]
    child_warnings = [(e["category"], changes(e)["warnings"][1]) for e in found["child"] if "warnings" in changes(e)]
    assert child_warnings == [("SECONDARY", "SEVERE_ALLERGY")]
    assert not any("warnings" in changes(e) or "generalNote" in changes(e) for e in found["family"][2:])


# ---------------------------------------------------------------------------------------------
# Each entry shown only to those who may read its category
# ---------------------------------------------------------------------------------------------

VIEWERS = {
    # viewer: the categories of entries it sees on a family registered with the centre
    "manager-of-the-setting": {"PRIMARY", "SECONDARY", "CONFIDENTIAL"},
    "head-of-centre-of-the-setting": {"PRIMARY", "SECONDARY"},
    "head-of-centre-of-another-setting": {"PRIMARY"},
    "manager-of-another-setting": {"PRIMARY"},
    "senior-management": {"PRIMARY", "SECONDARY"},
}


async def busy_family(api: Api, centre: Centre) -> Family:
    """A family with history in three categories: primary (address), secondary (general note,
    notes history, warnings on the child) and confidential (confidential notes)."""
    family = await centre.family(api, "Busy", generalNote=f"{OLD_NOTE_MARK} one")
    await api.ok(UPDATE, {"id": family.id, "v": family.version, "input": {"address": NEW_ADDRESS}}, centre.manager)
    await api.ok(
        UPDATE, {"id": family.id, "v": family.version + 1, "input": {"generalNote": "Now settled"}}, centre.manager
    )
    for subject in (family.id, family.carer_id, family.child_id):
        await api.ok(
            ADD_NOTE, {"input": {"subjectId": subject, "kind": "CONFIDENTIAL", "text": SECRET}}, centre.manager
        )
        await api.ok(ADD_NOTE, {"input": {"subjectId": subject, "kind": "HISTORY", "text": "Seen"}}, centre.manager)
    await api.ok(SET_GENERAL_NOTE, {"s": family.child_id, "t": f"{OLD_NOTE_MARK} two"}, centre.manager)
    await api.ok(SET_GENERAL_NOTE, {"s": family.child_id, "t": "Starts nursery"}, centre.manager)
    return family


async def viewer_token(api: Api, world: World, centre: Centre, viewer: str) -> str:
    if viewer == "manager-of-the-setting":
        return centre.manager
    if viewer == "head-of-centre-of-the-setting":
        return centre.head_of_centre
    if viewer == "senior-management":
        return world.tokens["SENIOR_MANAGEMENT"]
    other = await fresh_centre(api, world)
    return other.head_of_centre if viewer == "head-of-centre-of-another-setting" else other.manager


@pytest.mark.parametrize("viewer", list(VIEWERS))
async def test_history_shows_each_entry_only_to_those_who_may_read_its_category(
    api: Api, world: World, centre: Centre, viewer: str
) -> None:
    family = await busy_family(api, centre)
    everything = await histories(api, centre.manager, family.id)
    for record in ("family", "carer", "child"):  # the manager sees all three categories on each
        assert {e["category"] for e in everything[record]} == {"PRIMARY", "SECONDARY", "CONFIDENTIAL"}, record
    token = await viewer_token(api, world, centre, viewer)
    body = await api.post(HISTORY, {"id": family.id}, token)
    assert not body.get("errors"), body["errors"]
    family_data = body["data"]["family"]
    seen = {
        "family": family_data["history"],
        "carer": family_data["carers"][0]["history"],
        "child": family_data["children"][0]["history"],
    }
    for record, entries in seen.items():
        assert {e["category"] for e in entries} == VIEWERS[viewer], record
        # Exactly the manager's entries of the visible categories, unaltered.
        assert entries == [e for e in everything[record] if e["category"] in VIEWERS[viewer]], record
    text = json.dumps(body)
    if "SECONDARY" not in VIEWERS[viewer]:  # no old (or new) general note, not even in a PRIMARY entry
        assert OLD_NOTE_MARK not in text and "Now settled" not in text and "Starts nursery" not in text
        assert not any(
            c["field"] in ("generalNote", "warnings") for es in seen.values() for e in es for c in e["changes"]
        )


async def test_history_of_a_family_shared_by_affiliation_follows_the_affiliation(api: Api, world: World) -> None:
    home, partner = await fresh_centre(api, world), await fresh_centre(api, world)
    family = await busy_family(api, home)
    consent = {
        "familyId": family.id,
        "settingId": partner.setting_id,
        "consentGivenBy": "Alex",
        "consentDate": "2026-11-03",
    }
    affiliation = (await api.ok(AFFILIATE, {"input": consent}, home.manager))["affiliate"]["id"]
    shared = await histories(api, partner.head_of_centre, family.id)
    assert {e["category"] for e in shared["family"]} == {"PRIMARY", "SECONDARY"}
    await api.ok("mutation($id: ID!) { revokeAffiliation(id: $id) { id } }", {"id": affiliation}, home.manager)
    revoked = await histories(api, partner.head_of_centre, family.id)
    assert {e["category"] for record in revoked.values() for e in record} == {"PRIMARY"}


# ---------------------------------------------------------------------------------------------
# A refused write leaves no trace
# ---------------------------------------------------------------------------------------------


async def test_refused_writes_add_nothing_to_the_history(api: Api, world: World, centre: Centre) -> None:
    family = await centre.family(api)
    before = await histories(api, centre.manager, family.id)
    outsider = (await fresh_centre(api, world)).manager
    refused = [
        # FORBIDDEN: a head of centre may not change secondary data or write confidential notes.
        await api.post(
            UPDATE, {"id": family.id, "v": family.version, "input": {"generalNote": "No"}}, centre.head_of_centre
        ),
        await api.post(
            ADD_NOTE,
            {"input": {"subjectId": family.child_id, "kind": "CONFIDENTIAL", "text": "No"}},
            centre.head_of_centre,
        ),
        await api.post(SET_GENERAL_NOTE, {"s": family.carer_id, "t": "No"}, outsider),
        # BAD_USER_INPUT: a code not in the list, a malformed postcode.
        await api.post(set_codes_mutation("WARNING"), {"s": family.id, "c": ["NOT_A_WARNING"]}, centre.manager),
        await api.post(
            UPDATE,
            {
                "id": family.id,
                "v": family.version,
                "input": {"address": {"postcode": "NOT A POSTCODE"}, "generalNote": "No"},
            },
            centre.manager,
        ),
        # CONFLICT: a stale version, with changes in two categories.
        await api.post(
            UPDATE,
            {"id": family.id, "v": family.version - 1, "input": {"address": NEW_ADDRESS, "generalNote": "No"}},
            centre.manager,
        ),
    ]
    assert [codes(body) for body in refused] == [
        ["FORBIDDEN"],
        ["FORBIDDEN"],
        ["FORBIDDEN"],
        ["BAD_USER_INPUT"],
        ["BAD_USER_INPUT"],
        ["CONFLICT"],
    ]
    assert await histories(api, centre.manager, family.id) == before


# ---------------------------------------------------------------------------------------------
# The setting an entry names is the one the user acted in
# ---------------------------------------------------------------------------------------------

PARTNER_WRITES = ["address", "generalNote", "setGeneralNote", "setWarnings", "addNote"]


@pytest.mark.parametrize("write", PARTNER_WRITES)
async def test_a_write_from_an_affiliated_setting_is_recorded_against_that_setting(
    api: Api, world: World, write: str
) -> None:
    home, partner = await fresh_centre(api, world), await fresh_centre(api, world)
    family = await home.family(api)
    consent = {
        "familyId": family.id,
        "settingId": partner.setting_id,
        "consentGivenBy": "Alex",
        "consentDate": "2026-11-03",
    }
    await api.ok(AFFILIATE, {"input": consent}, home.manager)
    before = (await histories(api, home.manager, family.id))["family"]
    if write == "address":
        await api.ok(UPDATE, {"id": family.id, "v": family.version, "input": {"address": NEW_ADDRESS}}, partner.manager)
    elif write == "generalNote":
        await api.ok(
            UPDATE,
            {"id": family.id, "v": family.version, "input": {"generalNote": "From the partner"}},
            partner.manager,
        )
    elif write == "setGeneralNote":
        await api.ok(SET_GENERAL_NOTE, {"s": family.id, "t": "From the partner"}, partner.manager)
    elif write == "setWarnings":
        await api.ok(set_codes_mutation("WARNING"), {"s": family.id, "c": ["DANGEROUS_DOG"]}, partner.manager)
    else:
        await api.ok(
            ADD_NOTE, {"input": {"subjectId": family.id, "kind": "HISTORY", "text": "Partner"}}, partner.manager
        )
    added = (await histories(api, home.manager, family.id))["family"][len(before) :]
    assert len(added) == 1, added
    assert added[0]["userName"] == await display_name(api, partner.manager)
    assert added[0]["setting"] == {"id": partner.setting_id}
