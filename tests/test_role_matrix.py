"""The role matrix (standards 4, DESIGN.md): every role × family category × read/write × row
scope, expanded from the hand-written table in tests/matrix.py — not from authz/policy.csv.

Reads use the scope grid's four families (tests/grid.py), and writes the matrix refuses its bare
families of the same scopes; none of them changes the grid, and a refused write checks so. A
write the matrix allows acts on a fresh family built inside the test for the scope under test,
so the tests do not depend on their order.
"""

from typing import Any

import pytest

from tests.assertions import Path, assert_only_denials, assert_refused, at
from tests.conftest import Api, Family
from tests.grid import Grid
from tests.matrix import (
    CONFIDENTIAL,
    CP_PLAN,
    FAMILY_CATEGORIES,
    PRIMARY,
    RECORD_FIELDS,
    ROLES,
    SCOPES,
    SECONDARY,
    SETTING_SCOPES,
    allows,
    allows_in_setting,
    family_query,
    guarded_paths,
    reads_family_data,
    refusal_categories,
    verb,
)

STAFF = [role for role in ROLES if reads_family_data(role)]
NO_FAMILY_DATA = [role for role in ROLES if not reads_family_data(role)]


# ---------------------------------------------------------------------------------------------
# Reading a family record, category by category
# ---------------------------------------------------------------------------------------------


def read_query(category: str) -> str:
    return family_query(*RECORD_FIELDS[category])


def texts(notes: list[dict[str, Any]]) -> list[str]:
    return [note["text"] for note in notes]


def check_primary(family: dict[str, Any], grid: Grid, scope: str) -> None:
    assert family["address"] == {"postcode": "WF1 1AA"}
    assert [(c["firstName"], c["dateOfBirth"]) for c in family["carers"]] == [("Alex", "1990-04-01")]
    assert [c["lastName"] for c in family["children"]] == [grid.surnames[scope]]


def check_secondary(family: dict[str, Any], grid: Grid, scope: str) -> None:
    note = f"HISTORY note on {grid.surnames[scope]}"
    assert family["generalNote"] == f"General note of {grid.surnames[scope]}"
    assert texts(family["notes"]) == [note]
    assert family["carers"][0]["ethnicity"] == "WBRI"
    assert texts(family["carers"][0]["notes"]) == [note]
    assert family["children"][0]["language"] == "ENG"
    assert texts(family["children"][0]["notes"]) == [note]
    affiliations = {a["id"]: a["revokedAt"] for a in family["affiliations"]}
    if scope == "affiliated":
        assert affiliations == {grid.families[scope].affiliation_id: None}
    if scope in ("own", "other"):
        assert affiliations == {}
    if scope == "revoked":  # a revoked affiliation, if listed at all, says it is revoked
        assert all(revoked_at is not None for revoked_at in affiliations.values())


def check_confidential(family: dict[str, Any], grid: Grid, scope: str) -> None:
    note = f"CONFIDENTIAL note on {grid.surnames[scope]}"
    assert texts(family["confidentialNotes"]) == [note]
    assert texts(family["carers"][0]["confidentialNotes"]) == [note]
    assert texts(family["children"][0]["confidentialNotes"]) == [note]


def check_cp_plan(family: dict[str, Any], grid: Grid, scope: str) -> None:
    assert family["children"][0]["childProtectionPlan"] == {"category": "NEGLECT"}


CHECK_VALUES = {
    PRIMARY: check_primary,
    SECONDARY: check_secondary,
    CONFIDENTIAL: check_confidential,
    CP_PLAN: check_cp_plan,
}

READ_CASES = [
    pytest.param(
        role, category, scope, id=f"{role}-{verb(allows(role, category, 'read', scope))}-read-{category}-{scope}"
    )
    for role in ROLES
    for category in FAMILY_CATEGORIES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "category", "scope"), READ_CASES)
async def test_read(api: Api, grid: Grid, role: str, category: str, scope: str) -> None:
    expected = grid.families[scope]
    body = await api.post(read_query(category), {"id": expected.id}, grid.tokens[role])
    if not reads_family_data(role):
        # No right to family data at all: null + FORBIDDEN, the lookup not even made.
        assert body["data"] == {"family": None}
        assert_only_denials(body, {("family",): {PRIMARY}})
        return
    family = body["data"]["family"]
    assert family is not None, body
    # Siblings of any denied field are intact.
    assert family["id"] == expected.id
    assert family["address"]["postcode"] == "WF1 1AA"
    assert [c["id"] for c in family["carers"]] == [expected.carer_id]
    assert [(c["id"], c["firstName"]) for c in family["children"]] == [(expected.child_id, "Sam")]
    if allows(role, category, "read", scope):
        assert not body.get("errors"), body["errors"]
        CHECK_VALUES[category](family, grid, scope)
    else:
        assert category != PRIMARY  # the matrix gives every staff role primary read everywhere
        denied = guarded_paths(RECORD_FIELDS[category])
        for path in denied:
            assert at(family, path) is None, path
        assert_only_denials(body, {("family", *path): {category} for path in denied})


ACCESS_CASES = [pytest.param(role, scope, id=f"{role}-access-{scope}") for role in STAFF for scope in SCOPES]


@pytest.mark.parametrize(("role", "scope"), ACCESS_CASES)
async def test_access_answers_the_matrix(api: Api, grid: Grid, role: str, scope: str) -> None:
    data = await api.ok(
        "query($id: ID!) { family(id: $id) { access { read write } } }",
        {"id": grid.families[scope].id},
        grid.tokens[role],
    )
    access = data["family"]["access"]
    assert sorted(access["read"]) == sorted(c for c in FAMILY_CATEGORIES if allows(role, c, "read", scope))
    assert sorted(access["write"]) == sorted(c for c in FAMILY_CATEGORIES if allows(role, c, "write", scope))


# Lists pass the same guard as single records (Hot Chocolate #6673 in DESIGN.md).
LIST_QUERY = """query($s: ID!) { families(settingId: $s, first: 1000) { nodes {
    id address { postcode } generalNote confidentialNotes { text }
    children { id childProtectionPlan { category } } } } }"""
LIST_FIELDS: dict[str, Path] = {
    SECONDARY: ("generalNote",),
    CONFIDENTIAL: ("confidentialNotes",),
    CP_PLAN: ("children", 0, "childProtectionPlan"),
}
LIST_CASES = [
    pytest.param(role, setting, id=f"{role}-families-list-setting-{setting}") for role in STAFF for setting in "AB"
]


@pytest.mark.parametrize(("role", "setting"), LIST_CASES)
async def test_families_list_is_guarded_like_family(api: Api, grid: Grid, role: str, setting: str) -> None:
    body = await api.post(LIST_QUERY, {"s": grid.settings[setting]}, grid.tokens[role])
    nodes = body["data"]["families"]["nodes"]
    index = {node["id"]: i for i, node in enumerate(nodes)}
    grid_ids = {grid.families[scope].id: scope for scope in SCOPES}
    assert {grid_ids[i] for i in index if i in grid_ids} == SETTING_SCOPES[setting]
    expected: dict[Path, set[str]] = {}
    for scope in SETTING_SCOPES[setting]:
        i = index[grid.families[scope].id]
        node = nodes[i]
        assert node["address"] == {"postcode": "WF1 1AA"}
        for category, path in LIST_FIELDS.items():
            if allows(role, category, "read", scope):
                assert at(node, path) is not None, (scope, path)
            else:
                assert at(node, path) is None, (scope, path)
                expected[("families", "nodes", i, *path)] = {category}
    grid_indices = {index[grid.families[scope].id] for scope in SETTING_SCOPES[setting]}
    errors = [e for e in body.get("errors") or [] if e["path"][2] in grid_indices]
    assert_only_denials({"errors": errors}, expected)
    assert all(e["extensions"]["code"] == "FORBIDDEN" for e in body.get("errors") or [])


# ---------------------------------------------------------------------------------------------
# The list of children subject to a child protection plan
# ---------------------------------------------------------------------------------------------

CP_LIST = "query($s: ID!) { childProtectionList(settingId: $s) { id firstName childProtectionPlan { category } } }"
CP_LIST_CASES = [
    pytest.param(
        role,
        setting,
        id=f"{role}-{verb(allows_in_setting(role, CP_PLAN, 'read', setting))}-read-cp-list-setting-{setting}",
    )
    for role in ROLES
    for setting in "AB"
]


async def open_plan_children(api: Api, grid: Grid, setting: str) -> set[str]:
    """Children with an open plan in families shared with `setting`, as that setting's manager
    sees them through the family list (a cross-check independent of childProtectionList)."""
    data = await api.ok(
        """query($s: ID!) { families(settingId: $s, first: 1000) {
            nodes { children { id childProtectionPlan { id } } } } }""",
        {"s": grid.settings[setting]},
        grid.manager_in(setting),
    )
    return {
        child["id"]
        for node in data["families"]["nodes"]
        for child in node["children"]
        if child["childProtectionPlan"] is not None
    }


@pytest.mark.parametrize(("role", "setting"), CP_LIST_CASES)
async def test_child_protection_list(api: Api, grid: Grid, role: str, setting: str) -> None:
    body = await api.post(CP_LIST, {"s": grid.settings[setting]}, grid.tokens[role])
    if not allows_in_setting(role, CP_PLAN, "read", setting):
        assert_refused(body, "childProtectionList", {CP_PLAN})
        return
    assert not body.get("errors"), body["errors"]
    children = body["data"]["childProtectionList"]
    ids = [child["id"] for child in children]
    assert len(ids) == len(set(ids))
    for scope in SCOPES:
        assert (grid.families[scope].child_id in ids) == (scope in SETTING_SCOPES[setting]), scope
    assert set(ids) == await open_plan_children(api, grid, setting)
    assert all(child["childProtectionPlan"] is not None for child in children)


# ---------------------------------------------------------------------------------------------
# Callers with no right to family data: the administrator and the service accounts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NO_FAMILY_DATA)
async def test_no_family_data_family_by_id_is_forbidden_for_every_id(api: Api, grid: Grid, role: str) -> None:
    ids = [f.id for f in grid.families.values()] + [
        grid.families["own"].child_id,
        "no-such-family",
        "RmFtaWx5Ojk5OTk5OTk",
    ]
    for family_id in ids:
        body = await api.post(
            "query($id: ID!) { family(id: $id) { id address { postcode } } }", {"id": family_id}, grid.tokens[role]
        )
        assert body["data"] == {"family": None}, family_id
        assert_only_denials(body, {("family",): {PRIMARY}})


@pytest.mark.parametrize("role", NO_FAMILY_DATA)
@pytest.mark.parametrize("setting", [None, "A", "B"], ids=["all", "setting-A", "setting-B"])
async def test_no_family_data_families_is_forbidden(api: Api, grid: Grid, role: str, setting: str | None) -> None:
    variables = {"s": None if setting is None else grid.settings[setting]}
    body = await api.post(
        "query($s: ID) { families(settingId: $s) { totalCount nodes { id } } }", variables, grid.tokens[role]
    )
    assert_refused(body, "families", {PRIMARY})


SEARCH = "query($n: String!) { searchPeople(name: $n) { personId familyId firstName lastName postcode } }"


@pytest.mark.parametrize("role", NO_FAMILY_DATA)
async def test_no_family_data_search_people_is_forbidden(api: Api, grid: Grid, role: str) -> None:
    body = await api.post(SEARCH, {"n": "Sam"}, grid.tokens[role])
    assert_refused(body, "searchPeople", {PRIMARY})


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("scope", list(SCOPES))
async def test_staff_search_people_in_every_setting(api: Api, grid: Grid, role: str, scope: str) -> None:
    # Primary data is shared across all settings (standards 13): anyone may find a record first.
    data = await api.ok(SEARCH, {"n": f"Sam {grid.surnames[scope]}"}, grid.tokens[role])
    family = grid.families[scope]
    match = [m for m in data["searchPeople"] if m["personId"] == family.child_id]
    assert match == [
        {
            "personId": family.child_id,
            "familyId": family.id,
            "firstName": "Sam",
            "lastName": grid.surnames[scope],
            "postcode": "WF1 1AA",
        }
    ]


# ---------------------------------------------------------------------------------------------
# Writes: refused ones on the grid's bare families, which they leave as they were; allowed ones
# on fresh families
# ---------------------------------------------------------------------------------------------

# A family's state as its manager reads it. Reading a child's plan is audited (on the child's
# history), so only the plan tests read it.
SNAPSHOT = """query($id: ID!, $plan: Boolean!) { family(id: $id) {
    id version address { line1 line2 town postcode } generalNote
    notes { id text } confidentialNotes { id text } affiliations { id revokedAt setting { code } }
    carers { id firstName ethnicity notes { id text } confidentialNotes { id text } }
    children { id firstName language notes { id text } confidentialNotes { id text }
               childProtectionPlan @include(if: $plan) { id category startDate endDate } } } }"""
UPDATE_FAMILY = """mutation($id: ID!, $v: Int!, $input: UpdateFamilyInput!) {
    updateFamily(id: $id, expectedVersion: $v, input: $input) { id version } }"""
ADD_NOTE_TEXT = "mutation($input: NoteInput!) { addNote(input: $input) { id text } }"
START_PLAN = """mutation($input: CpPlanInput!) {
    startChildProtectionPlan(input: $input) { id category startDate endDate } }"""
AFFILIATE_TO = """mutation($input: AffiliationInput!) {
    affiliate(input: $input) { id revokedAt setting { code } } }"""
REVOKE = "mutation($id: ID!) { revokeAffiliation(id: $id) { id revokedAt } }"
END_PLAN = "mutation($id: ID!, $d: Date!) { endChildProtectionPlan(id: $id, endDate: $d) { id endDate } }"
NEW_ADDRESS = {"line1": "2 Mill Lane", "line2": None, "town": "Pontefract", "postcode": "WF8 1AA"}
PLAN_START, PLAN_END = "2026-11-01", "2026-11-20"


def normalised(family: dict[str, Any]) -> dict[str, Any]:
    """The snapshot with every notes list in id order, so that two snapshots compare as values."""

    def sort_notes(record: dict[str, Any]) -> dict[str, Any]:
        return {
            k: sorted(v, key=lambda n: n["id"]) if k in ("notes", "confidentialNotes") else v for k, v in record.items()
        }

    result = sort_notes(family)
    result["carers"] = [sort_notes(c) for c in family["carers"]]
    result["children"] = [sort_notes(c) for c in family["children"]]
    return result


async def snapshot(api: Api, family: Family, reader: str, plan: bool = False) -> dict[str, Any]:
    return normalised((await api.ok(SNAPSHOT, {"id": family.id, "plan": plan}, reader))["family"])


async def assert_refused_unseen(
    api: Api, token: str, body: dict[str, Any], field: str, role: str, category: str, query: str, probe: dict[str, Any]
) -> None:
    """A refused write on a record the caller may not even read: it must get the same answer
    as for a record that does not exist (DESIGN.md: not-found versus forbidden reveals
    existence), either FORBIDDEN naming a category or NOT_FOUND."""
    answer = await api.post(query, probe, token)
    assert body["data"] is None or body["data"].get(field) is None, body
    assert len(body.get("errors") or []) == 1, body
    error, probe_error = body["errors"][0], (answer.get("errors") or [{}])[0]
    assert error["path"] == [field]
    assert error["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND"), error
    assert error["extensions"] == probe_error.get("extensions"), (error, probe_error)
    if error["extensions"]["code"] == "FORBIDDEN":
        assert_refused(body, field, refusal_categories(role, category))


def subjects(family: Family) -> list[str]:
    return [family.id, family.carer_id, family.child_id]


def note_lists(snap: dict[str, Any], key: str) -> list[list[str]]:
    return [texts(snap[key]), texts(snap["carers"][0][key]), texts(snap["children"][0][key])]


async def write_primary(api: Api, token: str, role: str, family: Family, reader: str, allowed: bool) -> None:
    before = await snapshot(api, family, reader)
    body = await api.post(
        UPDATE_FAMILY, {"id": family.id, "v": before["version"], "input": {"address": NEW_ADDRESS}}, token
    )
    after = await snapshot(api, family, reader)
    if not allowed:
        assert_refused(body, "updateFamily", refusal_categories(role, PRIMARY))
        assert after == before
        return
    assert not body.get("errors"), body["errors"]
    assert body["data"]["updateFamily"] == {"id": family.id, "version": before["version"] + 1}
    assert after == {**before, "version": before["version"] + 1, "address": NEW_ADDRESS}


async def write_secondary(
    api: Api, token: str, role: str, family: Family, reader: str, allowed: bool, grid: Grid, scope: str
) -> None:
    before = await snapshot(api, family, reader)
    bodies = [
        (
            "updateFamily",
            await api.post(
                UPDATE_FAMILY,
                {"id": family.id, "v": before["version"], "input": {"generalNote": f"Changed by {role}"}},
                token,
            ),
        )
    ]
    for subject in subjects(family):
        input_ = {"subjectId": subject, "kind": "HISTORY", "text": f"History by {role}"}
        bodies.append(("addNote", await api.post(ADD_NOTE_TEXT, {"input": input_}, token)))
    # Recording consent to share (affiliate) or withdrawing it is a SECONDARY write (API.md).
    consent = {
        "familyId": family.id,
        "settingId": grid.settings["C"],
        "consentGivenBy": "Alex",
        "consentDate": "2026-11-04",
    }
    bodies.append(("affiliate", await api.post(AFFILIATE_TO, {"input": consent}, token)))
    if scope == "affiliated":
        bodies.append(("revokeAffiliation", await api.post(REVOKE, {"id": family.affiliation_id}, token)))
    after = await snapshot(api, family, reader)
    if not allowed:
        for field, body in bodies:
            if field == "revokeAffiliation" and not allows(role, SECONDARY, "read", scope):
                await assert_refused_unseen(
                    api, token, body, field, role, SECONDARY, REVOKE, {"id": "no-such-affiliation"}
                )
            else:
                assert_refused(body, field, refusal_categories(role, SECONDARY))
        assert after == before
        return
    for _, body in bodies:
        assert not body.get("errors"), body["errors"]
    assert bodies[0][1]["data"]["updateFamily"]["version"] == before["version"] + 1
    assert after["version"] == before["version"] + 1
    assert after["generalNote"] == f"Changed by {role}"
    for old, new in zip(note_lists(before, "notes"), note_lists(after, "notes"), strict=True):
        assert sorted(new) == sorted([*old, f"History by {role}"])
    assert (after["address"], after["confidentialNotes"]) == (before["address"], before["confidentialNotes"])
    added = bodies[4][1]["data"]["affiliate"]
    assert added == {"id": added["id"], "revokedAt": None, "setting": {"code": grid.setting_codes["C"]}}
    revoked_at = {a["id"]: a["revokedAt"] for a in after["affiliations"]}
    withdrawn = family.affiliation_id if scope == "affiliated" else None
    expected_affiliations = [
        {**a, "revokedAt": revoked_at.get(a["id"])} if a["id"] == withdrawn else a for a in before["affiliations"]
    ] + [added]
    assert sorted(after["affiliations"], key=repr) == sorted(expected_affiliations, key=repr)
    if withdrawn is not None:
        assert revoked_at[withdrawn] is not None
        assert bodies[5][1]["data"]["revokeAffiliation"] == {"id": withdrawn, "revokedAt": revoked_at[withdrawn]}
    assert note_lists(after, "confidentialNotes") == note_lists(before, "confidentialNotes")


async def write_confidential(api: Api, token: str, role: str, family: Family, reader: str, allowed: bool) -> None:
    before = await snapshot(api, family, reader)
    bodies = []
    for subject in subjects(family):
        input_ = {"subjectId": subject, "kind": "CONFIDENTIAL", "text": f"Confidential by {role}"}
        bodies.append(await api.post(ADD_NOTE_TEXT, {"input": input_}, token))
    after = await snapshot(api, family, reader)
    if not allowed:
        for body in bodies:
            assert_refused(body, "addNote", refusal_categories(role, CONFIDENTIAL))
        assert after == before
        return
    for body in bodies:
        assert not body.get("errors"), body["errors"]
        assert body["data"]["addNote"]["text"] == f"Confidential by {role}"
    for old, new in zip(note_lists(before, "confidentialNotes"), note_lists(after, "confidentialNotes"), strict=True):
        assert sorted(new) == sorted([*old, f"Confidential by {role}"])
    assert note_lists(after, "notes") == note_lists(before, "notes")
    assert (after["version"], after["generalNote"], after["address"]) == (
        before["version"],
        before["generalNote"],
        before["address"],
    )


def plan_start(family: Family) -> dict[str, Any]:
    return {"input": {"childId": family.child_id, "startDate": PLAN_START, "category": "PHYSICAL_ABUSE"}}


async def write_cp_plan(api: Api, token: str, family: Family, reader: str) -> None:
    """An allowed role starts a plan on a child with none, then ends it."""
    before = await snapshot(api, family, reader, plan=True)
    assert before["children"][0]["childProtectionPlan"] is None
    body = await api.post(START_PLAN, plan_start(family), token)
    after = await snapshot(api, family, reader, plan=True)
    assert not body.get("errors"), body["errors"]
    plan = body["data"]["startChildProtectionPlan"]
    assert plan == {"id": plan["id"], "category": "PHYSICAL_ABUSE", "startDate": PLAN_START, "endDate": None}
    assert after["children"][0]["childProtectionPlan"] == plan
    body = await api.post(END_PLAN, {"id": plan["id"], "d": PLAN_END}, token)
    after_end = await snapshot(api, family, reader, plan=True)
    assert not body.get("errors"), body["errors"]
    assert body["data"]["endChildProtectionPlan"] == {"id": plan["id"], "endDate": PLAN_END}
    assert after_end["children"][0]["childProtectionPlan"] is None  # no open plan any more
    assert {**after_end, "children": None} == {**after, "children": None}


async def refuse_cp_plan(api: Api, token: str, role: str, grid: Grid, scope: str) -> None:
    """A refused role can neither start a plan on a child with none (the bare family) nor end
    an open one (the planned family)."""
    bare, reader = grid.bare[scope], grid.owner(scope)
    before = await snapshot(api, bare, reader, plan=True)
    assert before["children"][0]["childProtectionPlan"] is None
    body = await api.post(START_PLAN, plan_start(bare), token)
    assert_refused(body, "startChildProtectionPlan", refusal_categories(role, CP_PLAN))
    assert await snapshot(api, bare, reader, plan=True) == before
    family = grid.planned[scope]
    before_end = await snapshot(api, family, reader, plan=True)
    body = await api.post(END_PLAN, {"id": family.plan_id, "d": PLAN_END}, token)
    after_end = await snapshot(api, family, reader, plan=True)
    assert after_end == before_end
    assert after_end["children"][0]["childProtectionPlan"]["endDate"] is None
    if allows(role, CP_PLAN, "read", scope):
        assert_refused(body, "endChildProtectionPlan", refusal_categories(role, CP_PLAN))
    else:
        probe = {"id": "no-such-plan", "d": PLAN_END}
        await assert_refused_unseen(api, token, body, "endChildProtectionPlan", role, CP_PLAN, END_PLAN, probe)


WRITE_CASES = [
    pytest.param(
        role, category, scope, id=f"{role}-{verb(allows(role, category, 'write', scope))}-write-{category}-{scope}"
    )
    for role in ROLES
    for category in FAMILY_CATEGORIES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "category", "scope"), WRITE_CASES)
async def test_write(api: Api, grid: Grid, role: str, category: str, scope: str) -> None:
    allowed = allows(role, category, "write", scope)
    family, reader = await grid.fresh_family(api, scope) if allowed else (grid.bare[scope], grid.owner(scope))
    token = grid.tokens[role]
    if category == PRIMARY:
        await write_primary(api, token, role, family, reader, allowed)
    elif category == SECONDARY:
        await write_secondary(api, token, role, family, reader, allowed, grid, scope)
    elif category == CONFIDENTIAL:
        await write_confidential(api, token, role, family, reader, allowed)
    elif allowed:
        await write_cp_plan(api, token, family, reader)
    else:
        await refuse_cp_plan(api, token, role, grid, scope)


def test_matrix_covers_every_api_role() -> None:
    assert sorted(ROLES) == sorted(
        [
            "SENIOR_MANAGEMENT",
            "HEAD_OF_CENTRE",
            "MANAGER",
            "SENIOR_ADMINISTRATOR",
            "PARENT_SUPPORT_WORKER",
            "ADMIN_OFFICER",
            "SYSTEM_ADMINISTRATOR",
            "CONTACTPOINT_FEED",
            "LA_REPORTING",
        ]
    )
