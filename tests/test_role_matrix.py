"""The role matrix (standards 4, DESIGN.md): every role × family category × read/write × row
scope, expanded from the hand-written table in tests/matrix.py — not from authz/policy.csv.

Reads use the shared world's four families (own, other, affiliated, revoked); they never change
it. Writes, allowed or refused, act on fresh families built inside the test for the scope under
test, so the world stays untouched and the tests do not depend on their order.
"""

from typing import Any

import pytest

from tests.conftest import AFFILIATE, Api, Family, World, register_family
from tests.matrix import (
    CATEGORIES,
    CONFIDENTIAL,
    CP_PLAN,
    PRIMARY,
    ROLES,
    SCOPES,
    SECONDARY,
    allows,
    allows_in_setting,
    reads_family_data,
)

STAFF = [role for role in ROLES if reads_family_data(role)]
NO_FAMILY_DATA = [role for role in ROLES if not reads_family_data(role)]
SURNAMES = {"own": "Own", "other": "Other", "affiliated": "Affiliated", "revoked": "Revoked"}
SETTING_SCOPES = {"A": {"own", "affiliated"}, "B": {"other", "affiliated", "revoked"}}

Path = tuple[str | int, ...]


def verb(allowed: bool) -> str:
    return "can" if allowed else "cannot"


# ---------------------------------------------------------------------------------------------
# Reading a family record, category by category
# ---------------------------------------------------------------------------------------------

# Representative fields of each category on the family and on its carers and children.
READ_FIELDS = {
    PRIMARY: "address { postcode } carers { firstName dateOfBirth } children { lastName }",
    SECONDARY: """generalNote notes { text } affiliations { id revokedAt }
                  carers { ethnicity notes { text } } children { language notes { text } }""",
    CONFIDENTIAL: """confidentialNotes { text } carers { confidentialNotes { text } }
                     children { confidentialNotes { text } }""",
    CP_PLAN: "children { childProtectionPlan { category } }",
}

# Where each category's fields sit in the READ_FIELDS answer, below ["family"].
DENIED_PATHS: dict[str, list[Path]] = {
    SECONDARY: [
        ("generalNote",),
        ("notes",),
        ("affiliations",),
        ("carers", 0, "ethnicity"),
        ("carers", 0, "notes"),
        ("children", 0, "language"),
        ("children", 0, "notes"),
    ],
    CONFIDENTIAL: [("confidentialNotes",), ("carers", 0, "confidentialNotes"), ("children", 0, "confidentialNotes")],
    CP_PLAN: [("children", 0, "childProtectionPlan")],
}


def read_query(category: str) -> str:
    # id, address and the people's ids are the siblings that a denial must leave intact.
    return f"""query($id: ID!) {{ family(id: $id) {{
        id address {{ postcode }} carers {{ id firstName }} children {{ id firstName }}
        {READ_FIELDS[category]} }} }}"""


def at(data: Any, path: Path) -> Any:
    for step in path:
        data = data[step]
    return data


def texts(notes: list[dict[str, Any]]) -> list[str]:
    return [note["text"] for note in notes]


def assert_only_denials(body: dict[str, Any], expected: dict[Path, set[str]]) -> None:
    """The response's errors are exactly one FORBIDDEN per expected path, with its category."""
    errors = body.get("errors") or []
    paths = [tuple(error.get("path") or ()) for error in errors]
    assert sorted(paths, key=repr) == sorted(expected, key=repr), errors
    for error in errors:
        path = tuple(error["path"])
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert error["extensions"].get("category") in expected[path], error


def check_primary(family: dict[str, Any], world: World, scope: str) -> None:
    assert family["address"] == {"postcode": "WF1 1AA"}
    assert [(c["firstName"], c["dateOfBirth"]) for c in family["carers"]] == [("Alex", "1990-04-01")]
    assert [c["lastName"] for c in family["children"]] == [SURNAMES[scope]]


def check_secondary(family: dict[str, Any], world: World, scope: str) -> None:
    note = f"HISTORY note on {SURNAMES[scope]}"
    assert family["generalNote"] == f"General note of {SURNAMES[scope]}"
    assert note in texts(family["notes"])
    assert family["carers"][0]["ethnicity"] == "WBRI"
    assert note in texts(family["carers"][0]["notes"])
    assert family["children"][0]["language"] == "ENG"
    assert note in texts(family["children"][0]["notes"])
    affiliations = {a["id"]: a["revokedAt"] for a in family["affiliations"]}
    if scope == "affiliated":
        assert affiliations == {world.families[scope].affiliation_id: None}
    if scope in ("own", "other"):
        assert affiliations == {}
    if scope == "revoked":  # a revoked affiliation, if listed at all, says it is revoked
        assert all(revoked_at is not None for revoked_at in affiliations.values())


def check_confidential(family: dict[str, Any], world: World, scope: str) -> None:
    note = f"CONFIDENTIAL note on {SURNAMES[scope]}"
    assert note in texts(family["confidentialNotes"])
    assert note in texts(family["carers"][0]["confidentialNotes"])
    assert note in texts(family["children"][0]["confidentialNotes"])
    assert all(n.startswith("CONFIDENTIAL") for n in texts(family["confidentialNotes"]))


def check_cp_plan(family: dict[str, Any], world: World, scope: str) -> None:
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
    for category in CATEGORIES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "category", "scope"), READ_CASES)
async def test_read(api: Api, world: World, role: str, category: str, scope: str) -> None:
    expected = world.families[scope]
    body = await api.post(read_query(category), {"id": expected.id}, world.tokens[role])
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
        CHECK_VALUES[category](family, world, scope)
    else:
        assert category != PRIMARY  # the matrix gives every staff role primary read everywhere
        for path in DENIED_PATHS[category]:
            assert at(family, path) is None, path
        assert_only_denials(body, {("family", *path): {category} for path in DENIED_PATHS[category]})


ACCESS_CASES = [pytest.param(role, scope, id=f"{role}-access-{scope}") for role in STAFF for scope in SCOPES]


@pytest.mark.parametrize(("role", "scope"), ACCESS_CASES)
async def test_access_answers_the_matrix(api: Api, world: World, role: str, scope: str) -> None:
    data = await api.ok(
        "query($id: ID!) { family(id: $id) { access { read write } } }",
        {"id": world.families[scope].id},
        world.tokens[role],
    )
    access = data["family"]["access"]
    assert sorted(access["read"]) == sorted(c for c in CATEGORIES if allows(role, c, "read", scope))
    assert sorted(access["write"]) == sorted(c for c in CATEGORIES if allows(role, c, "write", scope))


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
async def test_families_list_is_guarded_like_family(api: Api, world: World, role: str, setting: str) -> None:
    body = await api.post(LIST_QUERY, {"s": world.settings[setting]}, world.tokens[role])
    nodes = body["data"]["families"]["nodes"]
    index = {node["id"]: i for i, node in enumerate(nodes)}
    world_ids = {world.families[scope].id: scope for scope in SCOPES}
    assert {world_ids[i] for i in index if i in world_ids} == SETTING_SCOPES[setting]
    expected: dict[Path, set[str]] = {}
    for scope in SETTING_SCOPES[setting]:
        i = index[world.families[scope].id]
        node = nodes[i]
        assert node["address"] == {"postcode": "WF1 1AA"}
        for category, path in LIST_FIELDS.items():
            if allows(role, category, "read", scope):
                assert at(node, path) is not None, (scope, path)
            else:
                assert at(node, path) is None, (scope, path)
                expected[("families", "nodes", i, *path)] = {category}
    world_indices = {index[world.families[scope].id] for scope in SETTING_SCOPES[setting]}
    errors = [e for e in body.get("errors") or [] if e["path"][2] in world_indices]
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


async def open_plan_children(api: Api, world: World, setting: str) -> set[str]:
    """Children with an open plan in families shared with `setting`, as that setting's manager
    sees them through the family list (a cross-check independent of childProtectionList)."""
    manager = world.tokens["MANAGER"] if setting == "A" else world.manager_b
    data = await api.ok(
        """query($s: ID!) { families(settingId: $s, first: 1000) {
            nodes { children { id childProtectionPlan { id } } } } }""",
        {"s": world.settings[setting]},
        manager,
    )
    return {
        child["id"]
        for node in data["families"]["nodes"]
        for child in node["children"]
        if child["childProtectionPlan"] is not None
    }


@pytest.mark.parametrize(("role", "setting"), CP_LIST_CASES)
async def test_child_protection_list(api: Api, world: World, role: str, setting: str) -> None:
    body = await api.post(CP_LIST, {"s": world.settings[setting]}, world.tokens[role])
    if not allows_in_setting(role, CP_PLAN, "read", setting):
        assert body["data"] is None or body["data"].get("childProtectionList") is None, body
        assert_only_denials(body, {("childProtectionList",): {CP_PLAN}})
        return
    assert not body.get("errors"), body["errors"]
    children = body["data"]["childProtectionList"]
    ids = [child["id"] for child in children]
    assert len(ids) == len(set(ids))
    for scope in SCOPES:
        assert (world.families[scope].child_id in ids) == (scope in SETTING_SCOPES[setting]), scope
    assert set(ids) == await open_plan_children(api, world, setting)
    assert all(child["childProtectionPlan"] is not None for child in children)


# ---------------------------------------------------------------------------------------------
# Callers with no right to family data: the administrator and the service accounts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NO_FAMILY_DATA)
async def test_no_family_data_family_by_id_is_forbidden_for_every_id(api: Api, world: World, role: str) -> None:
    ids = [f.id for f in world.families.values()] + [
        world.families["own"].child_id,
        "no-such-family",
        "RmFtaWx5Ojk5OTk5OTk",
    ]
    for family_id in ids:
        body = await api.post(
            "query($id: ID!) { family(id: $id) { id address { postcode } } }", {"id": family_id}, world.tokens[role]
        )
        assert body["data"] == {"family": None}, family_id
        assert_only_denials(body, {("family",): {PRIMARY}})


@pytest.mark.parametrize("role", NO_FAMILY_DATA)
@pytest.mark.parametrize("setting", [None, "A", "B"], ids=["all", "setting-A", "setting-B"])
async def test_no_family_data_families_is_forbidden(api: Api, world: World, role: str, setting: str | None) -> None:
    variables = {"s": None if setting is None else world.settings[setting]}
    body = await api.post(
        "query($s: ID) { families(settingId: $s) { totalCount nodes { id } } }", variables, world.tokens[role]
    )
    assert body["data"] is None or body["data"].get("families") is None, body
    assert_only_denials(body, {("families",): {PRIMARY}})


SEARCH = "query($n: String!) { searchPeople(name: $n) { personId familyId firstName lastName postcode } }"


@pytest.mark.parametrize("role", NO_FAMILY_DATA)
async def test_no_family_data_search_people_is_forbidden(api: Api, world: World, role: str) -> None:
    body = await api.post(SEARCH, {"n": "Sam"}, world.tokens[role])
    assert body["data"] is None or body["data"].get("searchPeople") is None, body
    assert_only_denials(body, {("searchPeople",): {PRIMARY}})


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("scope", list(SCOPES))
async def test_staff_search_people_in_every_setting(api: Api, world: World, role: str, scope: str) -> None:
    # Primary data is shared across all settings (standards 13): anyone may find a record first.
    data = await api.ok(SEARCH, {"n": f"Sam {SURNAMES[scope]}"}, world.tokens[role])
    family = world.families[scope]
    match = [m for m in data["searchPeople"] if m["personId"] == family.child_id]
    assert match == [
        {
            "personId": family.child_id,
            "familyId": family.id,
            "firstName": "Sam",
            "lastName": SURNAMES[scope],
            "postcode": "WF1 1AA",
        }
    ]


# ---------------------------------------------------------------------------------------------
# Writes, on fresh families
# ---------------------------------------------------------------------------------------------

SNAPSHOT = """query($id: ID!) { family(id: $id) {
    id version address { line1 line2 town postcode } generalNote
    notes { id text } confidentialNotes { id text } affiliations { id revokedAt setting { code } }
    carers { id firstName ethnicity notes { id text } confidentialNotes { id text } }
    children { id firstName language notes { id text } confidentialNotes { id text }
               childProtectionPlan { id category startDate endDate } } } }"""
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


async def fresh_family(api: Api, world: World, scope: str) -> tuple[Family, str]:
    """A new family in the shape of `scope`, and the token of a manager who may read all of it."""
    manager_a, manager_b = world.tokens["MANAGER"], world.manager_b
    if scope == "own":
        return await register_family(api, manager_a, world.settings["A"], "Fresh"), manager_a
    family = await register_family(api, manager_b, world.settings["B"], "Fresh")
    if scope in ("affiliated", "revoked"):
        data = await api.ok(
            AFFILIATE,
            {
                "input": {
                    "familyId": family.id,
                    "settingId": world.settings["A"],
                    "consentGivenBy": "Alex",
                    "consentDate": "2026-11-03",
                }
            },
            manager_b,
        )
        family.affiliation_id = data["affiliate"]["id"]
    if scope == "revoked":
        await api.ok(
            "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }", {"id": family.affiliation_id}, manager_b
        )
    return family, manager_b


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


async def snapshot(api: Api, family: Family, reader: str) -> dict[str, Any]:
    return normalised((await api.ok(SNAPSHOT, {"id": family.id}, reader))["family"])


def assert_refused(body: dict[str, Any], field: str, role: str, category: str) -> None:
    """A refused write: FORBIDDEN naming the category. A caller with no right to family data
    at all may instead be told it lacks PRIMARY (it may not even look the record up)."""
    assert body["data"] is None or body["data"].get(field) is None, body
    categories = {category} if reads_family_data(role) else {category, PRIMARY}
    assert_only_denials(body, {(field,): categories})


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
        assert_refused(body, field, role, category)


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
        assert_refused(body, "updateFamily", role, PRIMARY)
        assert after == before
        return
    assert not body.get("errors"), body["errors"]
    assert body["data"]["updateFamily"] == {"id": family.id, "version": before["version"] + 1}
    assert after == {**before, "version": before["version"] + 1, "address": NEW_ADDRESS}


async def write_secondary(
    api: Api, token: str, role: str, family: Family, reader: str, allowed: bool, world: World, scope: str
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
        "settingId": world.settings["C"],
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
                assert_refused(body, field, role, SECONDARY)
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
    assert added == {"id": added["id"], "revokedAt": None, "setting": {"code": "CCC"}}
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
            assert_refused(body, "addNote", role, CONFIDENTIAL)
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


async def write_cp_plan(
    api: Api, token: str, role: str, family: Family, reader: str, allowed: bool, scope: str
) -> None:
    before = await snapshot(api, family, reader)
    assert before["children"][0]["childProtectionPlan"] is None
    start = {"input": {"childId": family.child_id, "startDate": PLAN_START, "category": "PHYSICAL_ABUSE"}}
    body = await api.post(START_PLAN, start, token)
    after = await snapshot(api, family, reader)
    if allowed:
        assert not body.get("errors"), body["errors"]
        plan = body["data"]["startChildProtectionPlan"]
        assert plan == {"id": plan["id"], "category": "PHYSICAL_ABUSE", "startDate": PLAN_START, "endDate": None}
        assert after["children"][0]["childProtectionPlan"] == plan
    else:
        assert_refused(body, "startChildProtectionPlan", role, CP_PLAN)
        assert after == before
        # Someone who may starts a plan, so that the refused role can try to end one.
        plan = (await api.ok(START_PLAN, start, reader))["startChildProtectionPlan"]
    before_end = await snapshot(api, family, reader)
    body = await api.post(END_PLAN, {"id": plan["id"], "d": PLAN_END}, token)
    after_end = await snapshot(api, family, reader)
    if allowed:
        assert not body.get("errors"), body["errors"]
        assert body["data"]["endChildProtectionPlan"] == {"id": plan["id"], "endDate": PLAN_END}
        assert after_end["children"][0]["childProtectionPlan"] is None  # no open plan any more
        assert {**after_end, "children": None} == {**before_end, "children": None}
        return
    assert after_end == before_end
    assert after_end["children"][0]["childProtectionPlan"]["endDate"] is None
    if allows(role, CP_PLAN, "read", scope):
        assert_refused(body, "endChildProtectionPlan", role, CP_PLAN)
    else:
        probe = {"id": "no-such-plan", "d": PLAN_END}
        await assert_refused_unseen(api, token, body, "endChildProtectionPlan", role, CP_PLAN, END_PLAN, probe)


WRITE_CASES = [
    pytest.param(
        role, category, scope, id=f"{role}-{verb(allows(role, category, 'write', scope))}-write-{category}-{scope}"
    )
    for role in ROLES
    for category in CATEGORIES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "category", "scope"), WRITE_CASES)
async def test_write(api: Api, world: World, role: str, category: str, scope: str) -> None:
    family, reader = await fresh_family(api, world, scope)
    allowed = allows(role, category, "write", scope)
    token = world.tokens[role]
    if category == PRIMARY:
        await write_primary(api, token, role, family, reader, allowed)
    elif category == SECONDARY:
        await write_secondary(api, token, role, family, reader, allowed, world, scope)
    elif category == CONFIDENTIAL:
        await write_confidential(api, token, role, family, reader, allowed)
    else:
        await write_cp_plan(api, token, role, family, reader, allowed, scope)


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
