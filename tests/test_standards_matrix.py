"""The role matrix extended to the data standards' new fields and mutations (standards 4, 5,
7, 10, 11, 15; DESIGN.md "Data categories and the default role matrix", "Row scope"):
every role × category × row scope, expanded from the hand-written table of tests/matrix.py —
warnings, hard-to-reach groups, custom indicators, general notes of people, forms and referral
details are SECONDARY; noFurtherContact and provisionalName are PRIMARY; past plans are
CP_PLAN; a record's history is readable with PRIMARY and each entry only with its own category.
The administration categories the family matrix does not hold (drop-down lists, reporting) are
tabled below, from DESIGN.md's matrix.

The module builds its own site — settings A, B and C, a user per staff role in A, a manager
in B, and the four families of the scope grid with every new field filled in — so neither the
shared world nor the order of the tests matters. Reads never change the grid; writes act on
fresh families built inside the test."""

from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.conftest import AFFILIATE, STAFF_ROLES, Api, Family, World, register_family
from tests.factories import fresh_setting, fresh_user, unique_name
from tests.matrix import (
    CONFIDENTIAL,
    CP_PLAN,
    EVERYWHERE,
    HELD,
    NONE,
    PRIMARY,
    ROLES,
    SCOPES,
    SECONDARY,
    allows,
    allows_in_setting,
    reads_family_data,
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
SETTING_SCOPES = {"A": {"own", "affiliated"}, "B": {"other", "affiliated", "revoked"}}
Path = tuple[str | int, ...]

# Categories the family matrix of tests/matrix.py does not hold, written from DESIGN.md's table
# ("reporting" and "admin" columns; standards 4, 13, 15).
REPORTING_READ = {
    "SENIOR_MANAGEMENT": EVERYWHERE,
    "HEAD_OF_CENTRE": HELD,
    "MANAGER": HELD,
    "SENIOR_ADMINISTRATOR": HELD,
    "PARENT_SUPPORT_WORKER": HELD,
    "ADMIN_OFFICER": HELD,
    "SYSTEM_ADMINISTRATOR": NONE,
    "CONTACTPOINT_FEED": NONE,
    "LA_REPORTING": EVERYWHERE,
}
LOOKUPS_ADMIN_WRITE = {role: EVERYWHERE if role == "SYSTEM_ADMINISTRATOR" else NONE for role in ROLES}
# What an item received carries decides who logs it: an initial contact form and notice of a
# change of primary data carry primary data (5.1, 5.3); referrals, secondary changes, registers
# and home-visit sheets carry secondary data (5.2, 5.4, 5.5).
FORM_CATEGORY = {
    "INITIAL_CONTACT": PRIMARY,
    "PRIMARY_CHANGE": PRIMARY,
    "REFERRAL": SECONDARY,
    "SECONDARY_CHANGE": SECONDARY,
    "REGISTER": SECONDARY,
    "HOME_VISIT": SECONDARY,
}


def verb(allowed: bool) -> str:
    return "can" if allowed else "cannot"


def in_setting(reach: str, setting: str) -> bool:
    return reach == EVERYWHERE or (reach == HELD and setting == "A")


# ---------------------------------------------------------------------------------------------
# The site
# ---------------------------------------------------------------------------------------------


@dataclass
class Site:
    settings: dict[str, str]
    tokens: dict[str, str]  # role -> a user holding it in A (service roles: in all settings)
    manager_b: str
    family_indicator: str  # a custom indicator of the site's own, for families
    families: dict[str, Family] = field(default_factory=dict)
    surnames: dict[str, str] = field(default_factory=dict)
    plans: list[dict[str, Any]] = field(default_factory=list)


GRID_CODES = {
    # subject -> list -> codes
    "family": {"WARNING": ["DANGEROUS_DOG"], "HARD_TO_REACH_GROUP": ["LONE_PARENT"]},
    "carer": {
        "WARNING": ["DO_NOT_VISIT_ALONE"],
        "HARD_TO_REACH_GROUP": ["TEENAGE_PARENT"],
        "CUSTOM_INDICATOR": ["VOLUNTEER"],
    },
    "child": {
        "WARNING": ["SEVERE_ALLERGY"],
        "HARD_TO_REACH_GROUP": ["DISABLED_CHILD"],
        "CUSTOM_INDICATOR": ["BOTTLE_FED"],
    },
}
ENDED_PLAN = {"startDate": "2025-06-02", "endDate": "2025-12-01", "category": "PHYSICAL_ABUSE"}
OPEN_PLAN = {"startDate": "2026-10-01", "endDate": None, "category": "NEGLECT"}
START = "mutation($input: CpPlanInput!) { startChildProtectionPlan(input: $input) { id } }"
END = "mutation($id: ID!, $d: Date!) { endChildProtectionPlan(id: $id, endDate: $d) { id } }"
ADD_NOTE = "mutation($input: NoteInput!) { addNote(input: $input) { id } }"
RECORD_REFERRAL = """mutation($f: ID!, $d: Date!, $r: ReferralInput!) {
  recordReferral(familyId: $f, receivedOn: $d, referral: $r) { id kind referralReason } }"""
REVOKE = "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }"


def subject_ids(family: Family) -> dict[str, str]:
    return {"family": family.id, "carer": family.carer_id, "child": family.child_id}


async def consent_to(api: Api, token: str, family: Family, setting_id: str) -> str:
    consent = {"familyId": family.id, "settingId": setting_id, "consentGivenBy": "Alex", "consentDate": "2026-11-03"}
    return (await api.ok(AFFILIATE, {"input": consent}, token))["affiliate"]["id"]  # type: ignore[no-any-return]


async def fill(api: Api, site: Site, token: str, family: Family) -> None:
    """Every new field of the family, its carer and its child, filled in."""
    subjects = subject_ids(family)
    codes = {**GRID_CODES, "family": {**GRID_CODES["family"], "CUSTOM_INDICATOR": [site.family_indicator]}}
    for subject, lists in codes.items():
        for list_name, values in lists.items():
            await api.ok(set_codes_mutation(list_name), {"s": subjects[subject], "c": values}, token)
    for subject in ("carer", "child"):
        await api.ok(SET_GENERAL_NOTE, {"s": subjects[subject], "t": f"General note of the {subject}"}, token)
        await api.ok(
            ADD_NOTE, {"input": {"subjectId": subjects[subject], "kind": "CONFIDENTIAL", "text": "Secret"}}, token
        )
    await api.ok(ADD_NOTE, {"input": {"subjectId": family.id, "kind": "CONFIDENTIAL", "text": "Secret"}}, token)
    await api.ok(
        RECORD_REFERRAL, {"f": family.id, "d": "2026-11-02", "r": {"referralType": "SELF", "reason": "HOUSING"}}, token
    )
    ended = {"childId": family.child_id, "startDate": ENDED_PLAN["startDate"], "category": ENDED_PLAN["category"]}
    plan = (await api.ok(START, {"input": ended}, token))["startChildProtectionPlan"]["id"]
    await api.ok(END, {"id": plan, "d": ENDED_PLAN["endDate"]}, token)
    open_ = {"childId": family.child_id, "startDate": OPEN_PLAN["startDate"], "category": OPEN_PLAN["category"]}
    await api.ok(START, {"input": open_}, token)


@pytest.fixture(scope="module")
async def site(api: Api, world: World) -> Site:
    settings = {name: await fresh_setting(api, world) for name in "ABC"}
    tokens = {role: await fresh_user(api, world, role, settings["A"]) for role in STAFF_ROLES}
    tokens.update({role: world.tokens[role] for role in ROLES if role not in tokens})  # service roles: all settings
    manager_b = await fresh_user(api, world, "MANAGER", settings["B"])
    indicator = (await add_lookup(api, world, "CUSTOM_INDICATOR", appliesTo="FAMILY"))["code"]
    built = Site(settings, tokens, manager_b, indicator)
    for scope in SCOPES:
        surname = unique_name()
        owner = tokens["MANAGER"] if scope == "own" else manager_b
        setting = settings["A"] if scope == "own" else settings["B"]
        family = await register_family(api, owner, setting, surname, consentToContact=False)
        await fill(api, built, owner, family)
        if scope in ("affiliated", "revoked"):
            family.affiliation_id = await consent_to(api, owner, family, settings["A"])
        if scope == "revoked":
            await api.ok(REVOKE, {"id": family.affiliation_id}, owner)
        built.families[scope], built.surnames[scope] = family, surname
    return built


def owner_of(site: Site, scope: str) -> str:
    return site.tokens["MANAGER"] if scope == "own" else site.manager_b


# ---------------------------------------------------------------------------------------------
# Shared assertions
# ---------------------------------------------------------------------------------------------


def at(data: Any, path: Path) -> Any:
    for step in path:
        data = data[step]
    return data


def assert_only_denials(body: dict[str, Any], expected: dict[Path, set[str]]) -> None:
    """The response's errors are exactly one FORBIDDEN per expected path, with its category."""
    errors = body.get("errors") or []
    assert sorted((tuple(e.get("path") or ()) for e in errors), key=repr) == sorted(expected, key=repr), errors
    for error in errors:
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert error["extensions"].get("category") in expected[tuple(error["path"])], error


def assert_refused(body: dict[str, Any], mutation: str, role: str, category: str) -> None:
    """A refused write: FORBIDDEN naming the category; a caller with no right to family data at
    all may instead be told it lacks PRIMARY (it may not even look the record up)."""
    assert body["data"] is None or body["data"].get(mutation) is None, body
    categories = {category} if reads_family_data(role) else {category, PRIMARY}
    assert_only_denials(body, {(mutation,): categories})


# ---------------------------------------------------------------------------------------------
# Reading the new fields
# ---------------------------------------------------------------------------------------------

READ_FIELDS = {
    PRIMARY: "noFurtherContact children { provisionalName }",
    SECONDARY: """warnings hardToReachGroups indicators forms { kind referralReason }
                  carers { generalNote warnings hardToReachGroups indicators }
                  children { generalNote warnings hardToReachGroups indicators }""",
    CP_PLAN: "children { childProtectionPlans { startDate endDate category } }",
}
DENIED_PATHS: dict[str, list[Path]] = {
    SECONDARY: [("warnings",), ("hardToReachGroups",), ("indicators",), ("forms",)]
    + [
        (group, 0, name)
        for group in ("carers", "children")
        for name in ("generalNote", "warnings", "hardToReachGroups", "indicators")
    ],
    CP_PLAN: [("children", 0, "childProtectionPlans")],
}


def read_query(category: str) -> str:
    return f"""query($id: ID!) {{ family(id: $id) {{ id address {{ postcode }} carers {{ id firstName }}
        children {{ id firstName }} {READ_FIELDS[category]} }} }}"""


def check_values(site: Site, category: str, family: dict[str, Any]) -> None:
    if category == PRIMARY:
        assert family["noFurtherContact"] is True
        assert family["children"][0]["provisionalName"] is False
    elif category == SECONDARY:
        assert (family["warnings"], family["hardToReachGroups"], family["indicators"]) == (
            ["DANGEROUS_DOG"],
            ["LONE_PARENT"],
            [site.family_indicator],
        )
        assert sorted((f["kind"], f["referralReason"]) for f in family["forms"]) == [
            ("INITIAL_CONTACT", None),
            ("REFERRAL", "HOUSING"),
        ]
        for group, subject in (("carers", "carer"), ("children", "child")):
            person = family[group][0]
            assert person["generalNote"] == f"General note of the {subject}"
            lists = GRID_CODES[subject]
            assert (person["warnings"], person["hardToReachGroups"], person["indicators"]) == (
                lists["WARNING"],
                lists["HARD_TO_REACH_GROUP"],
                lists["CUSTOM_INDICATOR"],
            )
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
    for category in READ_FIELDS
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "category", "scope"), READ_CASES)
async def test_read_new_fields(api: Api, site: Site, role: str, category: str, scope: str) -> None:
    expected = site.families[scope]
    body = await api.post(read_query(category), {"id": expected.id}, site.tokens[role])
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
        check_values(site, category, family)
    else:
        for path in DENIED_PATHS[category]:
            assert at(family, path) is None, path
        assert_only_denials(body, {("family", *path): {category} for path in DENIED_PATHS[category]})


HISTORY = """query($id: ID!) { family(id: $id) { history { category changes { field before after } }
  carers { history { category changes { field before after } } }
  children { history { category changes { field before after } } } } }"""
HISTORY_CASES = [pytest.param(role, scope, id=f"{role}-history-{scope}") for role in ROLES for scope in SCOPES]


@pytest.mark.parametrize(("role", "scope"), HISTORY_CASES)
async def test_history_entries_follow_the_matrix(api: Api, site: Site, role: str, scope: str) -> None:
    body = await api.post(HISTORY, {"id": site.families[scope].id}, site.tokens[role])
    if not reads_family_data(role):
        assert body["data"] == {"family": None}
        assert_only_denials(body, {("family",): {PRIMARY}})
        return
    assert not body.get("errors"), body["errors"]
    family = body["data"]["family"]
    visible = {c for c in (PRIMARY, SECONDARY, CONFIDENTIAL, CP_PLAN) if allows(role, c, "read", scope)}
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
async def test_families_list_guards_the_new_fields_like_family(api: Api, site: Site, role: str, setting: str) -> None:
    body = await api.post(LIST_QUERY, {"s": site.settings[setting]}, site.tokens[role])
    nodes = body["data"]["families"]["nodes"]
    index = {node["id"]: i for i, node in enumerate(nodes)}
    grid = {site.families[scope].id: scope for scope in SCOPES}
    assert {grid[i] for i in index if i in grid} == SETTING_SCOPES[setting]
    expected: dict[Path, set[str]] = {}
    for scope in SETTING_SCOPES[setting]:
        i = index[site.families[scope].id]
        node = nodes[i]
        visible = {c for c in (PRIMARY, SECONDARY, CONFIDENTIAL) if allows(role, c, "read", scope)}
        assert {entry["category"] for entry in node["history"]} == visible  # the family's own record
        for category, paths in LIST_PATHS.items():
            for path in paths:
                if allows(role, category, "read", scope):
                    assert at(node, path) is not None, (scope, path)
                else:
                    assert at(node, path) is None, (scope, path)
                    expected[("families", "nodes", i, *path)] = {category}
    grid_indices = {index[site.families[scope].id] for scope in SETTING_SCOPES[setting]}
    assert_only_denials({"errors": [e for e in body.get("errors") or [] if e["path"][2] in grid_indices]}, expected)


# ---------------------------------------------------------------------------------------------
# Writing the new fields, on fresh families
# ---------------------------------------------------------------------------------------------

ENTRY = "category action changes { field before after }"
PERSON = f"id generalNote warnings hardToReachGroups indicators history {{ {ENTRY} }}"
SNAPSHOT = f"""query($id: ID!) {{ family(id: $id) {{
    id version generalNote warnings hardToReachGroups indicators noFurtherContact
    forms {{ id kind receivedOn referralType referralReason referrerName }}
    history {{ {ENTRY} }} carers {{ {PERSON} }} children {{ {PERSON} provisionalName }} }} }}"""


async def fresh_family(api: Api, site: Site, scope: str) -> tuple[Family, str]:
    """A new family in the shape of `scope`, and the token of a manager who may read all of it."""
    owner = owner_of(site, scope)
    family = await register_family(api, owner, site.settings["A" if scope == "own" else "B"], unique_name())
    if scope in ("affiliated", "revoked"):
        family.affiliation_id = await consent_to(api, owner, family, site.settings["A"])
    if scope == "revoked":
        await api.ok(REVOKE, {"id": family.affiliation_id}, owner)
    return family, owner


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


WRITES = {
    # mutation -> (field of the answer, value written per subject)
    "setWarnings": (
        "warnings",
        {"family": ["DANGEROUS_DOG"], "carer": ["DO_NOT_VISIT_ALONE"], "child": ["SEVERE_ALLERGY"]},
    ),
    "setHardToReachGroups": (
        "hardToReachGroups",
        {"family": ["LONE_PARENT"], "carer": ["TEENAGE_PARENT"], "child": ["DISABLED_CHILD"]},
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
    api: Api, site: Site, token: str, mutation: str, family: Family
) -> list[tuple[str, dict[str, Any], Any]]:
    """Each subject written through `mutation`: (subject, response, value written)."""
    answers = []
    values = WRITES[mutation][1]
    for subject, subject_id in subject_ids(family).items():
        value = values[subject] if values[subject] is not None else [site.family_indicator]
        if mutation == "setGeneralNote":
            body = await api.post(SET_GENERAL_NOTE, {"s": subject_id, "t": value}, token)
        else:
            body = await api.post(set_codes_mutation(LIST_OF[mutation]), {"s": subject_id, "c": value}, token)
        answers.append((subject, body, value))
    return answers


@pytest.mark.parametrize(("role", "mutation", "scope"), WRITE_CASES)
async def test_write_new_fields(api: Api, site: Site, role: str, mutation: str, scope: str) -> None:
    family, reader = await fresh_family(api, site, scope)
    allowed = allows(role, SECONDARY, "write", scope)
    token = site.tokens[role]
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
        answers = await write_subjects(api, site, token, mutation, family)
    after = await snapshot(api, family, reader)
    if not allowed:
        for _, body, _ in answers:
            assert_refused(body, mutation, role, SECONDARY)
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
async def test_register_from_a_referral_with_its_details(api: Api, site: Site, role: str, setting: str) -> None:
    allowed = registers_referrals(role, setting)
    surname = unique_name()
    request = {
        "input": {
            "settingId": site.settings[setting],
            "source": "REFERRAL",
            "receivedOn": "2026-11-20",
            "consentToContact": True,
            "referral": {"referralType": "PROFESSIONAL", "reason": "PARENTING_SUPPORT", "referrerName": "Dr Okafor"},
            "carers": [{"firstName": "Alex", "lastName": surname}],
            "children": [{"firstName": "Sam", "lastName": surname}],
        }
    }
    counter = site.tokens["MANAGER"] if setting == "A" else site.manager_b
    before = (await api.ok(COUNT, {"s": site.settings[setting]}, counter))["families"]["totalCount"]
    body = await api.post(REGISTER, request, site.tokens[role])
    after = (await api.ok(COUNT, {"s": site.settings[setting]}, counter))["families"]["totalCount"]
    if allowed:
        assert not body.get("errors"), body["errors"]
        assert body["data"]["registerFamily"]["forms"] == [{"kind": "REFERRAL", "referralReason": "PARENTING_SUPPORT"}]
        assert after == before + 1
        return
    assert body["data"] is None or body["data"].get("registerFamily") is None, body
    primary = allows_in_setting(role, PRIMARY, "write", setting)
    assert_only_denials(body, {("registerFamily",): {SECONDARY} if primary else {PRIMARY, SECONDARY}})
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


async def received_today(api: Api, site: Site, setting: str) -> dict[str, tuple[int, int]]:
    reader = site.tokens["MANAGER"] if setting == "A" else site.manager_b
    report = await api.ok(TIMELINESS, {"s": site.settings[setting], "from": today(), "to": today()}, reader)
    return {k["kind"]: (k["received"], k["outstanding"]) for k in report["timeliness"]["byKind"]}


@pytest.mark.parametrize(("role", "kind", "setting"), LOG_CASES)
async def test_log_form_received(api: Api, site: Site, role: str, kind: str, setting: str) -> None:
    allowed = allows_in_setting(role, FORM_CATEGORY[kind], "write", setting)
    before = await received_today(api, site, setting)
    body = await api.post(
        LOG, {"input": {"settingId": site.settings[setting], "kind": kind, "receivedOn": today()}}, site.tokens[role]
    )
    after = await received_today(api, site, setting)
    if allowed:
        assert not body.get("errors"), body["errors"]
        form = body["data"]["logFormReceived"]
        assert (form["kind"], form["receivedOn"], form["outstanding"]) == (kind, today(), True)
        received, outstanding = before[kind]
        assert after == {**before, kind: (received + 1, outstanding + 1)}
        return
    assert body["data"] is None or body["data"].get("logFormReceived") is None, body
    categories = {FORM_CATEGORY[kind]} if reads_family_data(role) else {FORM_CATEGORY[kind], PRIMARY}
    assert_only_denials(body, {("logFormReceived",): categories})
    assert after == before


def reads_timeliness(role: str, setting: str) -> bool:
    """A setting's timeliness lists its own items (ids, dates, the names of those who entered
    them) with no small-number suppression: a report (REPORTING) on the setting's records,
    for those who may read its secondary data (standards 5.4, 13) — not for authority-wide
    reporting accounts."""
    return in_setting(REPORTING_READ[role], setting) and allows_in_setting(role, SECONDARY, "read", setting)


TIMELINESS_CASES = [
    pytest.param(role, setting, id=f"{role}-{verb(reads_timeliness(role, setting))}-read-timeliness-{setting}")
    for role in ROLES
    for setting in "AB"
]


@pytest.mark.parametrize(("role", "setting"), TIMELINESS_CASES)
async def test_timeliness(api: Api, site: Site, role: str, setting: str) -> None:
    body = await api.post(
        TIMELINESS, {"s": site.settings[setting], "from": "2026-01-01", "to": today()}, site.tokens[role]
    )
    if reads_timeliness(role, setting):
        assert not body.get("errors"), body["errors"]
        by_kind = {k["kind"]: k["received"] for k in body["data"]["timeliness"]["byKind"]}
        assert set(by_kind) == set(FORM_CATEGORY)
        assert by_kind["REFERRAL"] >= (1 if setting == "A" else 3)  # the grid's referrals
        return
    assert body["data"] is None or body["data"].get("timeliness") is None, body
    missing = {
        c
        for c, ok in (
            ("REPORTING", in_setting(REPORTING_READ[role], setting)),
            (SECONDARY, allows_in_setting(role, SECONDARY, "read", setting)),
        )
        if not ok
    }
    assert_only_denials(body, {("timeliness",): missing})


# ---------------------------------------------------------------------------------------------
# Drop-down lists: everyone reads them, only the eStart Administrator keeps them
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES, ids=lambda role: f"{role}-can-read-lookups")
async def test_read_lookups(api: Api, site: Site, role: str) -> None:
    data = await api.ok(LOOKUPS, {"list": "WARNING", "all": False}, site.tokens[role])
    assert "DANGEROUS_DOG" in {value["code"] for value in data["lookups"]}


LOOKUP_CASES = [
    pytest.param(role, mutation, id=f"{role}-{verb(LOOKUPS_ADMIN_WRITE[role] != NONE)}-{mutation}")
    for role in ROLES
    for mutation in ("addLookupValue", "updateLookupValue")
]


@pytest.mark.parametrize(("role", "mutation"), LOOKUP_CASES)
async def test_keep_lookups(api: Api, world: World, site: Site, role: str, mutation: str) -> None:
    allowed = LOOKUPS_ADMIN_WRITE[role] != NONE
    if mutation == "addLookupValue":
        code = unique_code()
        body = await api.post(
            ADD_LOOKUP,
            {"input": {"list": "HARD_TO_REACH_GROUP", "code": code, "label": "New group"}},
            site.tokens[role],
        )
        expected = {"code": code, "label": "New group", "active": True, "appliesTo": None, "setting": None}
    else:
        original = await add_lookup(api, world, "HARD_TO_REACH_GROUP")
        code = original["code"]
        body = await api.post(
            UPDATE_LOOKUP,
            {"input": {"list": "HARD_TO_REACH_GROUP", "code": code, "label": "Relabelled", "active": False}},
            site.tokens[role],
        )
        expected = {**original, "label": "Relabelled", "active": False}
    listed = (await lookup_values(api, world.admin_token, "HARD_TO_REACH_GROUP")).get(code)
    if allowed:
        assert not body.get("errors"), body["errors"]
        assert body["data"][mutation] == expected
        assert listed == expected
        return
    assert body["data"] is None or body["data"].get(mutation) is None, body
    assert_only_denials(body, {(mutation,): {"LOOKUPS_ADMIN"}})
    assert listed == (None if mutation == "addLookupValue" else original)
