"""The role matrix extended to the data standards' new fields and mutations (standards 4, 5,
7, 10, 11, 13, 15; DESIGN.md "Data categories and the default role matrix", "Row scope"):
every role × category × row scope, expanded from the hand-written table of tests/matrix.py —
warnings, hard-to-reach groups, custom indicators, general notes of people, forms and referral
details are SECONDARY; noFurtherContact and provisionalName are PRIMARY; past plans are
CP_PLAN; a record's history is readable with PRIMARY and each entry only with its own category;
reports need REPORTING and drop-down lists LOOKUPS_ADMIN.

Reads use the scope grid of tests/grid.py (every new field filled in), and writes the matrix
refuses its bare families of the same scopes; none of them changes the grid, and a refused
write checks so. A write the matrix allows acts on a fresh family built inside the test, so the
order of the tests never matters."""

from typing import Any

import pytest

from tests.assertions import Path, assert_only_denials, assert_refused, at
from tests.conftest import Api, Family, World
from tests.factories import unique_name
from tests.grid import ENDED_PLAN, OPEN_PLAN, RECORD_REFERRAL, Grid, grid_values, subject_ids
from tests.matrix import (
    CP_PLAN,
    EVERYWHERE,
    FAMILY_CATEGORIES,
    FORM_CATEGORY,
    LOOKUPS_ADMIN,
    PRIMARY,
    REPORTING,
    ROLES,
    SCOPES,
    SECONDARY,
    SETTING_SCOPES,
    STANDARDS_FIELDS,
    allows,
    allows_in_setting,
    family_query,
    guarded_paths,
    reach,
    reads_family_data,
    refusal_categories,
    verb,
)
from tests.standards_support import (
    ADD_LOOKUP,
    LOOKUPS,
    SET_GENERAL_NOTE,
    UPDATE_LOOKUP,
    add_lookup,
    lookup_values,
    set_codes_mutation,
    today,
    unique_code,
)

STAFF = [role for role in ROLES if reads_family_data(role)]


# ---------------------------------------------------------------------------------------------
# Reading the new fields
# ---------------------------------------------------------------------------------------------


def read_query(category: str) -> str:
    return family_query(*STANDARDS_FIELDS[category])


def check_values(grid: Grid, category: str, family: dict[str, Any]) -> None:
    if category == PRIMARY:
        assert family["noFurtherContact"] is True
        assert family["children"][0]["provisionalName"] is False
    elif category == SECONDARY:
        assert {name: family[name] for name in ("warnings", "hardToReachGroups", "indicators")} == grid_values(
            grid, "family"
        )
        assert sorted((f["kind"], f["referralReason"]) for f in family["forms"]) == [
            ("INITIAL_CONTACT", None),
            ("REFERRAL", "HOUSING"),
        ]
        for group, subject in (("carers", "carer"), ("children", "child")):
            person = family[group][0]
            assert person["generalNote"] == f"General note of the {subject}"
            values = grid_values(grid, subject)
            assert {name: person[name] for name in values} == values
    else:
        assert family["children"][0]["childProtectionPlans"] == [ENDED_PLAN, OPEN_PLAN]


READ_CASES = [
    pytest.param(
        role,
        category,
        scope,
        id=f"{role}-{verb(allows(role, category, 'read', scope))}-read-new-{category}-fields-{scope}",
    )
    for role in ROLES
    for category in STANDARDS_FIELDS
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "category", "scope"), READ_CASES)
async def test_read_new_fields(api: Api, grid: Grid, role: str, category: str, scope: str) -> None:
    expected = grid.families[scope]
    body = await api.post(read_query(category), {"id": expected.id}, grid.tokens[role])
    if not reads_family_data(role):
        assert body["data"] == {"family": None}
        assert_only_denials(body, {("family",): {PRIMARY}})
        return
    family = body["data"]["family"]
    assert (family["id"], family["address"], family["carers"][0]["id"], family["children"][0]["id"]) == (
        expected.id,
        {"postcode": "WF1 1AA"},
        expected.carer_id,
        expected.child_id,
    )
    if allows(role, category, "read", scope):
        assert not body.get("errors"), body["errors"]
        check_values(grid, category, family)
    else:
        denied = guarded_paths(STANDARDS_FIELDS[category])
        for path in denied:
            assert at(family, path) is None, path
        assert_only_denials(body, {("family", *path): {category} for path in denied})


HISTORY = """query($id: ID!) { family(id: $id) { history { category changes { field before after } }
  carers { history { category changes { field before after } } }
  children { history { category changes { field before after } } } } }"""
HISTORY_CASES = [pytest.param(role, scope, id=f"{role}-history-{scope}") for role in ROLES for scope in SCOPES]


@pytest.mark.parametrize(("role", "scope"), HISTORY_CASES)
async def test_history_entries_follow_the_matrix(api: Api, grid: Grid, role: str, scope: str) -> None:
    body = await api.post(HISTORY, {"id": grid.families[scope].id}, grid.tokens[role])
    if not reads_family_data(role):
        assert body["data"] == {"family": None}
        assert_only_denials(body, {("family",): {PRIMARY}})
        return
    assert not body.get("errors"), body["errors"]
    family = body["data"]["family"]
    visible = {c for c in FAMILY_CATEGORIES if allows(role, c, "read", scope)}
    # The grid wrote primary, secondary and confidential events on each record, and the child's
    # plans were read (a CP_PLAN event on the child).
    for record, categories in (
        (family, visible - {CP_PLAN}),
        (family["carers"][0], visible - {CP_PLAN}),
        (family["children"][0], visible),
    ):
        assert {entry["category"] for entry in record["history"]} == categories
    fields = {
        c["field"]
        for r in (family, family["carers"][0], family["children"][0])
        for e in r["history"]
        for c in e["changes"]
    }
    secondary_fields = {"generalNote", "warnings", "hardToReachGroups", "indicators", "ethnicity", "language"}
    assert bool(fields & secondary_fields) == (SECONDARY in visible)


LIST_QUERY = """query($s: ID!) { families(settingId: $s, first: 1000) { nodes {
    id warnings history { category } children { indicators childProtectionPlans { startDate } } } } }"""
LIST_PATHS: dict[str, list[Path]] = {
    SECONDARY: [("warnings",), ("children", 0, "indicators")],
    CP_PLAN: [("children", 0, "childProtectionPlans")],
}
LIST_CASES = [pytest.param(role, s, id=f"{role}-families-list-new-fields-setting-{s}") for role in STAFF for s in "AB"]


@pytest.mark.parametrize(("role", "setting"), LIST_CASES)
async def test_families_list_guards_the_new_fields_like_family(api: Api, grid: Grid, role: str, setting: str) -> None:
    body = await api.post(LIST_QUERY, {"s": grid.settings[setting]}, grid.tokens[role])
    nodes = body["data"]["families"]["nodes"]
    index = {node["id"]: i for i, node in enumerate(nodes)}
    grid_ids = {grid.families[scope].id: scope for scope in SCOPES}
    assert {grid_ids[i] for i in index if i in grid_ids} == SETTING_SCOPES[setting]
    expected: dict[Path, set[str]] = {}
    for scope in SETTING_SCOPES[setting]:
        i = index[grid.families[scope].id]
        node = nodes[i]
        # The family's own record: no plan is held on it, so no CP_PLAN entry.
        visible = {c for c in FAMILY_CATEGORIES if c != CP_PLAN and allows(role, c, "read", scope)}
        assert {entry["category"] for entry in node["history"]} == visible
        for category, paths in LIST_PATHS.items():
            for path in paths:
                if allows(role, category, "read", scope):
                    assert at(node, path) is not None, (scope, path)
                else:
                    assert at(node, path) is None, (scope, path)
                    expected[("families", "nodes", i, *path)] = {category}
    grid_indices = {index[grid.families[scope].id] for scope in SETTING_SCOPES[setting]}
    assert_only_denials({"errors": [e for e in body.get("errors") or [] if e["path"][2] in grid_indices]}, expected)


# ---------------------------------------------------------------------------------------------
# Writing the new fields: refused on the grid's bare families, which stay as they were;
# allowed on fresh families
# ---------------------------------------------------------------------------------------------

ENTRY = "category action changes { field before after }"
PERSON = f"id generalNote warnings hardToReachGroups indicators history {{ {ENTRY} }}"
SNAPSHOT = f"""query($id: ID!) {{ family(id: $id) {{
    id version generalNote warnings hardToReachGroups indicators noFurtherContact
    forms {{ id kind receivedOn referralType referralReason referrerName }}
    history {{ {ENTRY} }} carers {{ {PERSON} }} children {{ {PERSON} provisionalName }} }} }}"""


async def snapshot(api: Api, family: Family, reader: str) -> dict[str, Any]:
    return (await api.ok(SNAPSHOT, {"id": family.id}, reader))["family"]  # type: ignore[no-any-return]


def without_history(snap: dict[str, Any]) -> dict[str, Any]:
    def strip(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k != "history"}

    return {
        **strip(snap),
        "carers": [strip(c) for c in snap["carers"]],
        "children": [strip(c) for c in snap["children"]],
    }


def history_lengths(snap: dict[str, Any]) -> dict[str, int]:
    return {
        "family": len(snap["history"]),
        "carer": len(snap["carers"][0]["history"]),
        "child": len(snap["children"][0]["history"]),
    }


WRITES: dict[str, tuple[str, dict[str, Any]]] = {
    # mutation -> (field of the answer, value written per subject), each unlike what the family
    # holds (checked), so that a refused write that went through would show
    "setWarnings": (
        "warnings",
        {"family": ["DO_NOT_SEND_POST"], "carer": ["AGGRESSIVE_BEHAVIOUR"], "child": ["INFECTION_CONTROL"]},
    ),
    "setHardToReachGroups": (
        "hardToReachGroups",
        {"family": ["WORKLESS_HOUSEHOLD"], "carer": ["FATHER_OR_MALE_CARER"], "child": ["BME"]},
    ),
    "setIndicators": ("indicators", {"family": None, "carer": ["VOLUNTEER"], "child": ["BOTTLE_FED"]}),
    "setGeneralNote": ("generalNote", {"family": "Family note", "carer": "Carer note", "child": "Child note"}),
}
LIST_OF = {"setWarnings": "WARNING", "setHardToReachGroups": "HARD_TO_REACH_GROUP", "setIndicators": "CUSTOM_INDICATOR"}
WRITE_CASES = [
    pytest.param(role, mutation, scope, id=f"{role}-{verb(allows(role, SECONDARY, 'write', scope))}-{mutation}-{scope}")
    for role in ROLES
    for mutation in [*WRITES, "recordReferral"]
    for scope in SCOPES
]


async def write_subjects(
    api: Api, grid: Grid, token: str, mutation: str, family: Family, before: dict[str, Any]
) -> list[tuple[str, dict[str, Any], Any]]:
    """Each subject written through `mutation`: (subject, response, value written)."""
    answers = []
    name, values = WRITES[mutation]
    for subject, subject_id in subject_ids(family).items():
        value = values[subject] if values[subject] is not None else [grid.spare_indicator]
        record = before if subject == "family" else before["carers" if subject == "carer" else "children"][0]
        assert record[name] != value, "a write that changes nothing would not show a refusal that failed"
        if mutation == "setGeneralNote":
            body = await api.post(SET_GENERAL_NOTE, {"s": subject_id, "t": value}, token)
        else:
            body = await api.post(set_codes_mutation(LIST_OF[mutation]), {"s": subject_id, "c": value}, token)
        answers.append((subject, body, value))
    return answers


@pytest.mark.parametrize(("role", "mutation", "scope"), WRITE_CASES)
async def test_write_new_fields(api: Api, grid: Grid, role: str, mutation: str, scope: str) -> None:
    allowed = allows(role, SECONDARY, "write", scope)
    family, reader = await grid.fresh_family(api, scope) if allowed else (grid.bare_standards[scope], grid.owner(scope))
    token = grid.tokens[role]
    before = await snapshot(api, family, reader)
    if mutation == "recordReferral":
        referral = {"referralType": "PROFESSIONAL", "reason": "HEALTH", "referrerName": "Dr Jane Okafor"}
        answers = [
            (
                "family",
                await api.post(RECORD_REFERRAL, {"f": family.id, "d": "2026-11-20", "r": referral}, token),
                referral,
            )
        ]
    else:
        answers = await write_subjects(api, grid, token, mutation, family, before)
    after = await snapshot(api, family, reader)
    if not allowed:
        for _, body, _ in answers:
            assert_refused(body, mutation, refusal_categories(role, SECONDARY))
        assert after == before  # nothing changed, not even the history
        return
    for _, body, _ in answers:
        assert not body.get("errors"), body["errors"]
    expected = without_history(before)
    if mutation == "recordReferral":
        [(_, body, _)] = answers
        added = body["data"]["recordReferral"]
        assert (added["kind"], added["referralReason"]) == ("REFERRAL", "HEALTH")
        new_forms = [f for f in after["forms"] if f not in before["forms"]]
        assert [(f["id"], f["kind"], f["referralType"], f["referralReason"], f["referrerName"]) for f in new_forms] == [
            (added["id"], "REFERRAL", "PROFESSIONAL", "HEALTH", "Dr Jane Okafor")
        ]
        expected["forms"] = after["forms"]
        touched = {"family"}
    else:
        name = WRITES[mutation][0]
        for subject, body, value in answers:
            assert body["data"] == {mutation: value}
            record = expected if subject == "family" else expected["carers" if subject == "carer" else "children"][0]
            record[name] = value
        expected["version"] = before["version"] + 1  # every write of the family increments its version
        touched = {"family", "carer", "child"}
    assert without_history(after) == expected
    grown = history_lengths(after)
    for subject, count in history_lengths(before).items():
        assert grown[subject] == count + (1 if subject in touched else 0), subject


# Registration from a referral carries the referral's details: secondary data (DESIGN.md), so
# it needs SECONDARY write beside the PRIMARY write every registration needs (API.md).
def registers_referrals(role: str, setting: str) -> bool:
    return allows_in_setting(role, PRIMARY, "write", setting) and allows_in_setting(role, SECONDARY, "write", setting)


REFERRAL_REGISTRATION_CASES = [
    pytest.param(
        role,
        setting,
        id=f"{role}-{verb(registers_referrals(role, setting))}-register-from-a-referral-with-its-details-in-{setting}",
    )
    for role in ROLES
    for setting in "AB"
]
REGISTER = (
    """mutation($input: RegisterFamilyInput!) { registerFamily(input: $input) { id forms { kind referralReason } } }"""
)
COUNT = "query($s: ID!) { families(settingId: $s) { totalCount } }"


@pytest.mark.parametrize(("role", "setting"), REFERRAL_REGISTRATION_CASES)
async def test_register_from_a_referral_with_its_details(api: Api, grid: Grid, role: str, setting: str) -> None:
    allowed = registers_referrals(role, setting)
    surname = unique_name()
    request = {
        "input": {
            "settingId": grid.settings[setting],
            "source": "REFERRAL",
            "receivedOn": "2026-11-20",
            "consentToContact": True,
            "referral": {"referralType": "PROFESSIONAL", "reason": "PARENTING_SUPPORT", "referrerName": "Dr Okafor"},
            "carers": [{"firstName": "Alex", "lastName": surname}],
            "children": [{"firstName": "Sam", "lastName": surname}],
        }
    }
    counter = grid.manager_in(setting)
    before = (await api.ok(COUNT, {"s": grid.settings[setting]}, counter))["families"]["totalCount"]
    body = await api.post(REGISTER, request, grid.tokens[role])
    after = (await api.ok(COUNT, {"s": grid.settings[setting]}, counter))["families"]["totalCount"]
    if allowed:
        assert not body.get("errors"), body["errors"]
        assert body["data"]["registerFamily"]["forms"] == [{"kind": "REFERRAL", "referralReason": "PARENTING_SUPPORT"}]
        assert after == before + 1
        return
    primary = allows_in_setting(role, PRIMARY, "write", setting)
    assert_refused(body, "registerFamily", {SECONDARY} if primary else {PRIMARY, SECONDARY})
    assert after == before


# ---------------------------------------------------------------------------------------------
# Items received, in the setting they arrive at
# ---------------------------------------------------------------------------------------------

LOG = "mutation($input: FormReceivedInput!) { logFormReceived(input: $input) { id kind receivedOn outstanding } }"
TIMELINESS = """query($s: ID!, $from: Date!, $to: Date!) { timeliness(settingId: $s, from: $from, to: $to) {
  byKind { kind received outstanding } byUser { userName entered } lateItems { id } } }"""
LOG_CASES = [
    pytest.param(
        role,
        kind,
        setting,
        id=f"{role}-{verb(allows_in_setting(role, FORM_CATEGORY[kind], 'write', setting))}-log-{kind}-in-{setting}",
    )
    for role in ROLES
    for kind in FORM_CATEGORY
    for setting in "AB"
]


async def received_on(api: Api, grid: Grid, setting: str, day: str) -> dict[str, tuple[int, int]]:
    reader = grid.manager_in(setting)
    report = await api.ok(TIMELINESS, {"s": grid.settings[setting], "from": day, "to": day}, reader)
    return {k["kind"]: (k["received"], k["outstanding"]) for k in report["timeliness"]["byKind"]}


@pytest.mark.parametrize(("role", "kind", "setting"), LOG_CASES)
async def test_log_form_received(api: Api, grid: Grid, role: str, kind: str, setting: str) -> None:
    allowed = allows_in_setting(role, FORM_CATEGORY[kind], "write", setting)
    day = today()  # once: midnight may pass during the test
    before = await received_on(api, grid, setting, day)
    body = await api.post(
        LOG, {"input": {"settingId": grid.settings[setting], "kind": kind, "receivedOn": day}}, grid.tokens[role]
    )
    after = await received_on(api, grid, setting, day)
    if allowed:
        assert not body.get("errors"), body["errors"]
        form = body["data"]["logFormReceived"]
        assert (form["kind"], form["receivedOn"], form["outstanding"]) == (kind, day, True)
        received, outstanding = before[kind]
        assert after == {**before, kind: (received + 1, outstanding + 1)}
        return
    assert_refused(body, "logFormReceived", refusal_categories(role, FORM_CATEGORY[kind]))
    assert after == before


def reads_timeliness(role: str, setting: str) -> bool:
    """A setting's timeliness lists its own items (ids, dates, the names of those who entered
    them) with no small-number suppression: a report (REPORTING) on the setting's records,
    for those who may read its secondary data (standards 5.4, 13) — not for authority-wide
    reporting accounts."""
    return allows_in_setting(role, REPORTING, "read", setting) and allows_in_setting(role, SECONDARY, "read", setting)


TIMELINESS_CASES = [
    pytest.param(role, setting, id=f"{role}-{verb(reads_timeliness(role, setting))}-read-timeliness-{setting}")
    for role in ROLES
    for setting in "AB"
]


@pytest.mark.parametrize(("role", "setting"), TIMELINESS_CASES)
async def test_timeliness(api: Api, grid: Grid, role: str, setting: str) -> None:
    body = await api.post(
        TIMELINESS, {"s": grid.settings[setting], "from": "2026-01-01", "to": today()}, grid.tokens[role]
    )
    if reads_timeliness(role, setting):
        assert not body.get("errors"), body["errors"]
        by_kind = {k["kind"]: k["received"] for k in body["data"]["timeliness"]["byKind"]}
        assert set(by_kind) == set(FORM_CATEGORY)
        assert by_kind["REFERRAL"] >= (1 if setting == "A" else 3)  # the grid's referrals
        return
    missing = {
        c
        for c, ok in (
            (REPORTING, allows_in_setting(role, REPORTING, "read", setting)),
            (SECONDARY, allows_in_setting(role, SECONDARY, "read", setting)),
        )
        if not ok
    }
    assert_refused(body, "timeliness", missing)


# ---------------------------------------------------------------------------------------------
# Drop-down lists: everyone reads them, only the eStart Administrator keeps them
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=lambda role: f"{role}-can-read-lookups")
async def test_read_lookups(api: Api, grid: Grid, role: str) -> None:
    data = await api.ok(LOOKUPS, {"list": "WARNING", "all": False}, grid.tokens[role])
    assert "DANGEROUS_DOG" in {value["code"] for value in data["lookups"]}


def keeps_lookups(role: str) -> bool:
    """Drop-down lists are the authority's, not a setting's: kept only with LOOKUPS_ADMIN write."""
    return reach(role, LOOKUPS_ADMIN, "write") == EVERYWHERE


LOOKUP_CASES = [
    pytest.param(role, mutation, id=f"{role}-{verb(keeps_lookups(role))}-{mutation}")
    for role in ROLES
    for mutation in ("addLookupValue", "updateLookupValue")
]


@pytest.mark.parametrize(("role", "mutation"), LOOKUP_CASES)
async def test_keep_lookups(api: Api, world: World, grid: Grid, role: str, mutation: str) -> None:
    allowed = keeps_lookups(role)
    if mutation == "addLookupValue":
        code = unique_code()
        body = await api.post(
            ADD_LOOKUP,
            {"input": {"list": "HARD_TO_REACH_GROUP", "code": code, "label": "New group"}},
            grid.tokens[role],
        )
        expected = {"code": code, "label": "New group", "active": True, "appliesTo": None, "setting": None}
    else:
        original = await add_lookup(api, world, "HARD_TO_REACH_GROUP")
        code = original["code"]
        body = await api.post(
            UPDATE_LOOKUP,
            {"input": {"list": "HARD_TO_REACH_GROUP", "code": code, "label": "Relabelled", "active": False}},
            grid.tokens[role],
        )
        expected = {**original, "label": "Relabelled", "active": False}
    listed = (await lookup_values(api, world.admin_token, "HARD_TO_REACH_GROUP")).get(code)
    if allowed:
        assert not body.get("errors"), body["errors"]
        assert body["data"][mutation] == expected
        assert listed == expected
        return
    assert body["data"] is None or body["data"].get(mutation) is None, body
    assert_only_denials(body, {(mutation,): {LOOKUPS_ADMIN}})
    assert listed == (None if mutation == "addLookupValue" else original)
