"""Corrections of notes (standards 7; the issue: "a correction is a new note that references
the one it corrects"): the notes histories are append-only, so a correction is added beside
the note it corrects, which stays as it was. It must name a note of the same history — the
same subject and the same kind — or it is refused and nothing is added."""

from typing import Any

import pytest

from resolvers.ids import encode_id
from tests.assertions import assert_bad_input
from tests.conftest import Api, Family, World
from tests.factories import Centre, fresh_centre

ADD = """mutation($input: NoteInput!) {
  addNote(input: $input) { id kind text createdAt authorName correctsNoteId } }"""
NOTES = "id kind text createdAt authorName correctsNoteId"
HISTORIES = f"""query($id: ID!) {{ family(id: $id) {{
  notes {{ {NOTES} }} confidentialNotes {{ {NOTES} }}
  carers {{ notes {{ {NOTES} }} confidentialNotes {{ {NOTES} }} }}
  children {{ notes {{ {NOTES} }} confidentialNotes {{ {NOTES} }} }} }} }}"""
LISTS = {"HISTORY": "notes", "CONFIDENTIAL": "confidentialNotes"}


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def add(api: Api, token: str, subject: str, kind: str, text: str, corrects: str | None = None) -> dict[str, Any]:
    value = {"subjectId": subject, "kind": kind, "text": text, "correctsNoteId": corrects}
    return (await api.ok(ADD, {"input": value}, token))["addNote"]  # type: ignore[no-any-return]


async def histories(api: Api, token: str, family_id: str) -> dict[str, Any]:
    return (await api.ok(HISTORIES, {"id": family_id}, token))["family"]  # type: ignore[no-any-return]


def subject_of(family: Family, kind: str) -> str:
    return {"family": family.id, "carer": family.carer_id, "child": family.child_id}[kind]


def history_of(state: dict[str, Any], subject: str, kind: str) -> list[dict[str, Any]]:
    record = state if subject == "family" else state["carers" if subject == "carer" else "children"][0]
    return record[LISTS[kind]]  # type: ignore[no-any-return]


@pytest.mark.parametrize("subject", ["family", "carer", "child"])
@pytest.mark.parametrize("kind", ["HISTORY", "CONFIDENTIAL"])
async def test_a_correction_is_a_new_note_beside_the_one_it_corrects(
    api: Api, centre: Centre, subject: str, kind: str
) -> None:
    family = await centre.family(api)
    original = await add(api, centre.manager, subject_of(family, subject), kind, "Visited on Tuesday")
    assert original["correctsNoteId"] is None
    correction = await add(
        api, centre.manager, subject_of(family, subject), kind, "Correction: visited on Wednesday", original["id"]
    )
    assert correction["correctsNoteId"] == original["id"]
    assert correction["id"] != original["id"]
    listed = history_of(await histories(api, centre.manager, family.id), subject, kind)
    assert sorted(listed, key=lambda n: n["id"]) == sorted([original, correction], key=lambda n: n["id"])


WRONG = ["other-subject", "other-kind", "other-family", "not-a-note", "malformed", "missing-note"]


@pytest.mark.parametrize("wrong", WRONG)
async def test_a_correction_that_names_a_note_of_another_history_is_refused_and_nothing_is_added(
    api: Api, world: World, centre: Centre, wrong: str
) -> None:
    family, other = await centre.family(api), await centre.family(api)
    original = await add(api, centre.manager, family.carer_id, "HISTORY", "Original")
    await add(api, centre.manager, family.carer_id, "CONFIDENTIAL", "Confidential original")
    others = {
        "other-subject": (await add(api, centre.manager, family.child_id, "HISTORY", "On the child"))["id"],
        "other-kind": (await add(api, centre.manager, family.carer_id, "CONFIDENTIAL", "Other kind"))["id"],
        "other-family": (await add(api, centre.manager, other.carer_id, "HISTORY", "Other family"))["id"],
        "not-a-note": family.carer_id,
        "malformed": "not-an-id",
        "missing-note": encode_id("Note", 2_000_000_000),
    }
    before = await histories(api, centre.manager, family.id)
    body = await api.post(
        ADD,
        {
            "input": {
                "subjectId": family.carer_id,
                "kind": "HISTORY",
                "text": "Correction",
                "correctsNoteId": others[wrong],
            }
        },
        centre.manager,
    )
    assert_bad_input(body, "addNote", "correctsNoteId")
    assert await histories(api, centre.manager, family.id) == before
    assert original in history_of(before, "carer", "HISTORY")
