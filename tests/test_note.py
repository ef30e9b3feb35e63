"""Notes histories (standards 7): a family, a carer and a child each have a history of notes
and a confidential history; entries are appended, never edited, and each records its author
and the setting it was written in."""

import re
from typing import Any

import pytest
from graphql import GraphQLObjectType

from schema import build_schema
from tests.assertions import codes
from tests.conftest import AFFILIATE, Api, World
from tests.factories import Centre, fresh_centre

ADD = """mutation($input: NoteInput!) {
  addNote(input: $input) { id kind text createdAt authorName setting { id } } }"""
HISTORIES = """query($id: ID!) { family(id: $id) {
  notes { id text } confidentialNotes { id text }
  carers { notes { id text } confidentialNotes { id text } }
  children { notes { id text } confidentialNotes { id text } } } }"""


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def add_note(api: Api, token: str, subject_id: str, kind: str, text: str) -> dict[str, Any]:
    data = await api.ok(ADD, {"input": {"subjectId": subject_id, "kind": kind, "text": text}}, token)
    return data["addNote"]  # type: ignore[no-any-return]


async def histories(api: Api, token: str, family_id: str) -> dict[str, list[str]]:
    family = (await api.ok(HISTORIES, {"id": family_id}, token))["family"]
    found = {}
    for owner, record in (("family", family), ("carer", family["carers"][0]), ("child", family["children"][0])):
        for kind in ("notes", "confidentialNotes"):
            found[f"{owner}.{kind}"] = [note["text"] for note in record[kind]]
    return found


async def display_name(api: Api, token: str) -> str:
    return (await api.ok("{ me { displayName } }", token=token))["me"]["displayName"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("subject", ["family", "carer", "child"])
@pytest.mark.parametrize("kind", ["HISTORY", "CONFIDENTIAL"])
async def test_a_note_joins_only_the_history_of_its_subject_and_kind(
    api: Api, centre: Centre, subject: str, kind: str
) -> None:
    family = await centre.family(api)
    subject_id = {"family": family.id, "carer": family.carer_id, "child": family.child_id}[subject]
    await add_note(api, centre.manager, subject_id, kind, "Met at the stay and play")
    expected: dict[str, list[str]] = {
        f"{owner}.{k}": [] for owner in ("family", "carer", "child") for k in ("notes", "confidentialNotes")
    }
    expected[f"{subject}.{'notes' if kind == 'HISTORY' else 'confidentialNotes'}"] = ["Met at the stay and play"]
    assert await histories(api, centre.manager, family.id) == expected


async def test_a_note_records_its_author_its_setting_and_its_kind(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    note = await add_note(api, centre.manager, family.id, "HISTORY", "Home visit arranged")
    assert note["kind"] == "HISTORY"
    assert note["text"] == "Home visit arranged"
    assert note["authorName"] == await display_name(api, centre.manager)
    assert note["setting"] == {"id": centre.setting_id}
    assert note["createdAt"]
    data = await api.ok(
        "query($id: ID!) { family(id: $id) { notes { id authorName setting { id } } } }",
        {"id": family.id},
        centre.manager,
    )
    assert data["family"]["notes"] == [
        {"id": note["id"], "authorName": note["authorName"], "setting": {"id": centre.setting_id}}
    ]


async def test_a_note_written_from_an_affiliated_setting_records_that_setting(api: Api, world: World) -> None:
    home, partner = await fresh_centre(api, world), await fresh_centre(api, world)
    family = await home.family(api)
    await api.ok(
        AFFILIATE,
        {
            "input": {
                "familyId": family.id,
                "settingId": partner.setting_id,
                "consentGivenBy": "Alex",
                "consentDate": "2026-11-03",
            }
        },
        home.manager,
    )
    note = await add_note(api, partner.manager, family.child_id, "CONFIDENTIAL", "Seen at the partner centre")
    assert note["setting"] == {"id": partner.setting_id}
    assert note["authorName"] == await display_name(api, partner.manager)


async def test_notes_are_appended_and_earlier_notes_are_kept_unchanged(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    first = await add_note(api, centre.manager, family.carer_id, "HISTORY", "First contact")
    second = await add_note(api, centre.manager, family.carer_id, "HISTORY", "Second contact")
    data = await api.ok(
        "query($id: ID!) { family(id: $id) { carers { notes { id text createdAt } } } }",
        {"id": family.id},
        centre.manager,
    )
    notes = data["family"]["carers"][0]["notes"]
    assert sorted(notes, key=lambda n: n["id"]) == sorted(
        [{k: n[k] for k in ("id", "text", "createdAt")} for n in (first, second)], key=lambda n: n["id"]
    )


def test_no_mutation_edits_or_deletes_a_note() -> None:
    mutation = build_schema()._schema.type_map["Mutation"]
    assert isinstance(mutation, GraphQLObjectType)
    editing = [name for name in mutation.fields if re.match(r"^(update|edit|change|delete|remove)\w*Notes?$", name)]
    assert editing == []
    assert "addNote" in mutation.fields


@pytest.mark.parametrize("text", ["", "   "], ids=["empty-text", "blank-text"])
async def test_a_note_without_text_is_bad_user_input_and_adds_nothing(api: Api, centre: Centre, text: str) -> None:
    family = await centre.family(api)
    body = await api.post(ADD, {"input": {"subjectId": family.id, "kind": "HISTORY", "text": text}}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "text"
    assert (await histories(api, centre.manager, family.id))["family.notes"] == []


@pytest.mark.parametrize("subject", ["malformed", "a-setting-id"], ids=lambda s: f"note-on-{s}-is-not-found")
async def test_a_note_on_something_that_is_not_a_family_carer_or_child_is_not_found(
    api: Api, world: World, subject: str
) -> None:
    subject_id = {"malformed": "not-an-id", "a-setting-id": world.settings["A"]}[subject]
    body = await api.post(
        ADD, {"input": {"subjectId": subject_id, "kind": "HISTORY", "text": "Lost"}}, world.tokens["MANAGER"]
    )
    assert body["data"] is None
    assert codes(body) == ["NOT_FOUND"]
