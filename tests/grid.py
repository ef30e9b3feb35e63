"""The scope grid the role-matrix tests read (tests/test_role_matrix.py,
tests/test_standards_matrix.py), built once per run through the public API.

Settings A, B and C of the grid's own; a user per staff role holding it in A (the service roles
are the world's, held in all settings); a manager in B; and the four families of the scope grid
(tests/matrix.py SCOPES), every field of the family record and of the data standards filled in
on the family, its carer and its child:
  own         registered with A
  other       registered with B only
  affiliated  registered with B, affiliated to A with consent
  revoked     registered with B, its affiliation to A revoked
Beside each, in the same scope, two bare families (nothing filled in, no plan), one for each
matrix file, and a planned one (bare but for an open plan on its child). Reading a family's
confidential notes or plan is audited on its history, and the data standards' tests compare
histories: their refusals act on bare families the family-record tests never read.

Nobody writes to the grid. The filled-in families are only read. Refused writes are tried on
the bare families (refused plan ends on the planned ones), which they must leave as they were:
the test that tries one compares the family before and after, and a refusal that fails cannot
spill into the reading tests. A write the matrix allows acts on a fresh family
(`Grid.fresh_family`), so the order of the tests never matters."""

from dataclasses import dataclass, field
from typing import Any

from tests.conftest import ADD_NOTE, AFFILIATE, STAFF_ROLES, Api, Family, World, register_family
from tests.factories import activity_input, fresh_setting, fresh_user, unique_name
from tests.matrix import ROLES, SCOPES, SETTING_SCOPES
from tests.standards_support import SET_GENERAL_NOTE, add_lookup, set_codes_mutation

# The drop-down values on the grid's subjects (subject -> list -> codes); the custom indicators
# are the grid's own (Grid.indicators), added to the lists when the grid is built.
GRID_CODES = {
    "family": {"WARNING": ["DANGEROUS_DOG"], "HARD_TO_REACH_GROUP": ["LONE_PARENT"]},
    "carer": {"WARNING": ["DO_NOT_VISIT_ALONE"], "HARD_TO_REACH_GROUP": ["TEENAGE_PARENT"]},
    "child": {"WARNING": ["SEVERE_ALLERGY"], "HARD_TO_REACH_GROUP": ["DISABLED_CHILD"]},
}
ENDED_PLAN = {"startDate": "2025-06-02", "endDate": "2025-12-01", "category": "PHYSICAL_ABUSE"}
OPEN_PLAN = {"startDate": "2026-10-01", "endDate": None, "category": "NEGLECT"}
START_PLAN = "mutation($input: CpPlanInput!) { startChildProtectionPlan(input: $input) { id } }"
END_PLAN = "mutation($id: ID!, $d: Date!) { endChildProtectionPlan(id: $id, endDate: $d) { id } }"
RECORD_REFERRAL = """mutation($f: ID!, $d: Date!, $r: ReferralInput!) {
  recordReferral(familyId: $f, receivedOn: $d, referral: $r) { id kind referralReason } }"""
REVOKE = "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }"


def subject_ids(family: Family) -> dict[str, str]:
    return {"family": family.id, "carer": family.carer_id, "child": family.child_id}


@dataclass
class Grid:
    settings: dict[str, str]  # "A", "B", "C" -> setting id
    tokens: dict[str, str]  # role -> a user holding it in A (service roles: in all settings)
    manager_b: str
    indicators: dict[str, str]  # subject -> the custom indicator of the grid's own on it
    spare_indicator: str  # a custom indicator for families on no subject of the grid
    setting_codes: dict[str, str] = field(default_factory=dict)  # "A", "B", "C" -> setting code
    families: dict[str, Family] = field(default_factory=dict)  # scope -> the filled-in family
    bare: dict[str, Family] = field(default_factory=dict)  # scope -> a family with nothing added
    bare_standards: dict[str, Family] = field(default_factory=dict)  # the same, for the standards' tests
    planned: dict[str, Family] = field(default_factory=dict)  # scope -> a bare family with an open plan
    surnames: dict[str, str] = field(default_factory=dict)  # scope -> the family's surname

    def owner(self, scope: str) -> str:
        """The token of the manager who registered the `scope` families (and reads all of them)."""
        return self.tokens["MANAGER"] if scope == "own" else self.manager_b

    def manager_in(self, setting: str) -> str:
        """The token of a manager of setting "A" or "B"."""
        return self.tokens["MANAGER"] if setting == "A" else self.manager_b

    def codes(self, subject: str) -> dict[str, list[str]]:
        """The drop-down values on the grid's `subject` ("family", "carer", "child"), per list."""
        return {**GRID_CODES[subject], "CUSTOM_INDICATOR": [self.indicators[subject]]}

    async def fresh_family(self, api: Api, scope: str) -> tuple[Family, str]:
        """A new family in the shape of `scope`, and the token of a manager who may read all of it."""
        owner = self.owner(scope)
        family = await register_family(api, owner, self.settings["A" if scope == "own" else "B"], unique_name())
        if scope in ("affiliated", "revoked"):
            family.affiliation_id = await consent_to(api, owner, family, self.settings["A"])
        if scope == "revoked":
            await api.ok(REVOKE, {"id": family.affiliation_id}, owner)
        return family, owner


async def consent_to(api: Api, token: str, family: Family, setting_id: str) -> str:
    consent = {"familyId": family.id, "settingId": setting_id, "consentGivenBy": "Alex", "consentDate": "2026-11-03"}
    return (await api.ok(AFFILIATE, {"input": consent}, token))["affiliate"]["id"]  # type: ignore[no-any-return]


async def fill(api: Api, grid: Grid, token: str, family: Family, surname: str) -> None:
    """Every field of the family, its carer and its child, filled in."""
    subjects = subject_ids(family)
    for subject, subject_id in subjects.items():
        for list_name, values in grid.codes(subject).items():
            await api.ok(set_codes_mutation(list_name), {"s": subject_id, "c": values}, token)
        for kind in ("HISTORY", "CONFIDENTIAL"):
            note = {"subjectId": subject_id, "kind": kind, "text": f"{kind} note on {surname}"}
            await api.ok(ADD_NOTE, {"input": note}, token)
        if subject != "family":  # the family's general note came with its registration
            await api.ok(SET_GENERAL_NOTE, {"s": subject_id, "t": f"General note of the {subject}"}, token)
    await api.ok(
        RECORD_REFERRAL, {"f": family.id, "d": "2026-11-02", "r": {"referralType": "SELF", "reason": "HOUSING"}}, token
    )
    ended = {"childId": family.child_id, "startDate": ENDED_PLAN["startDate"], "category": ENDED_PLAN["category"]}
    plan = (await api.ok(START_PLAN, {"input": ended}, token))["startChildProtectionPlan"]["id"]
    await api.ok(END_PLAN, {"id": plan, "d": ENDED_PLAN["endDate"]}, token)
    open_ = {"childId": family.child_id, "startDate": OPEN_PLAN["startDate"], "category": OPEN_PLAN["category"]}
    family.plan_id = (await api.ok(START_PLAN, {"input": open_}, token))["startChildProtectionPlan"]["id"]


async def build_grid(api: Api, world: World) -> Grid:
    settings = {name: await fresh_setting(api, world) for name in "ABC"}
    tokens = {role: await fresh_user(api, world, role, settings["A"]) for role in STAFF_ROLES}
    tokens.update({role: world.tokens[role] for role in ROLES if role not in tokens})  # service roles: all settings
    manager_b = await fresh_user(api, world, "MANAGER", settings["B"])
    indicators = {
        subject: (await add_lookup(api, world, "CUSTOM_INDICATOR", appliesTo=subject.upper()))["code"]
        for subject in ("family", "carer", "child")
    }
    spare = (await add_lookup(api, world, "CUSTOM_INDICATOR", appliesTo="FAMILY"))["code"]
    grid = Grid(settings, tokens, manager_b, indicators, spare)
    codes = {
        s["id"]: s["code"] for s in (await api.ok("{ settings { id code } }", token=world.admin_token))["settings"]
    }
    grid.setting_codes = {name: codes[setting_id] for name, setting_id in settings.items()}
    for scope in SCOPES:
        surname = unique_name()
        family = await register_family(
            api, grid.owner(scope), settings["A" if scope == "own" else "B"], surname, consentToContact=False
        )
        await fill(api, grid, grid.owner(scope), family, surname)
        if scope in ("affiliated", "revoked"):
            family.affiliation_id = await consent_to(api, grid.owner(scope), family, settings["A"])
        if scope == "revoked":
            await api.ok(REVOKE, {"id": family.affiliation_id}, grid.owner(scope))
        grid.families[scope], grid.surnames[scope] = family, surname
        grid.bare[scope] = (await grid.fresh_family(api, scope))[0]
        grid.bare_standards[scope] = (await grid.fresh_family(api, scope))[0]
        planned = grid.planned[scope] = (await grid.fresh_family(api, scope))[0]
        open_ = {"childId": planned.child_id, "startDate": OPEN_PLAN["startDate"], "category": OPEN_PLAN["category"]}
        planned.plan_id = (await api.ok(START_PLAN, {"input": open_}, grid.owner(scope)))["startChildProtectionPlan"][
            "id"
        ]
    return grid


def grid_values(grid: Grid, subject: str) -> dict[str, Any]:
    """The drop-down fields of the grid's `subject` as the API names them."""
    codes = grid.codes(subject)
    return {
        "warnings": codes["WARNING"],
        "hardToReachGroups": codes["HARD_TO_REACH_GROUP"],
        "indicators": codes["CUSTOM_INDICATOR"],
    }


# ---------------------------------------------------------------------------------------------
# The second part of the grid (tests/test_person_matrix.py, tests/test_activity_matrix.py): for
# each scope a family of its own (the first part's histories stay as they are) with a carer who
# left it, a home visit, and register entries; an activity of A and one of B, each with a session.
# Read only, like the first part; refused writes try the `bare` families.
# ---------------------------------------------------------------------------------------------

ADD_CARER = """mutation($f: ID!, $input: CarerInput!) { addCarer(familyId: $f, input: $input) { id } }"""
REMOVE = "mutation($p: ID!, $on: Date!, $why: String!) { removeFromFamily(personId: $p, leftOn: $on, reason: $why) }"
CREATE_ACTIVITY = "mutation($input: ActivityInput!) { createActivity(input: $input) { id } }"
ADD_SESSIONS = "mutation($a: ID!, $d: [Date!]!) { addSessions(activityId: $a, dates: $d) { id } }"
RECORD_ATTENDANCE = """mutation($s: ID!, $e: [AttendanceInput!]!) {
  recordAttendance(sessionId: $s, entries: $e) { id } }"""
RECORD_CONTACT = "mutation($input: ContactInput!) { recordContact(input: $input) { id } }"
LEFT_ON, LEFT_REASON = "2026-11-10", "Moved out to live with her sister"
SESSION_DAY = "2026-11-02"
# The scopes whose families each setting's session registers: those whose scope holds the setting.
REGISTERED = {"A": SETTING_SCOPES["A"], "B": SETTING_SCOPES["B"]}


def contact_input(family: Family) -> dict[str, Any]:
    return {
        "familyId": family.id,
        "kind": "HOME_VISIT",
        "date": "2026-11-03",
        "durationMinutes": 45,
        "summary": "Talked about nursery places",
        "peopleSeen": [family.child_id],
    }


@dataclass
class Records:
    families: dict[str, Family]  # scope -> a family of that scope, read only
    departed: dict[str, str]  # scope -> the id of a carer who left that family
    bare: dict[str, Family]  # scope -> a family refused writes try, which they leave as it was
    activities: dict[str, str]  # "A", "B" -> an activity of that setting
    sessions: dict[str, str]  # "A", "B" -> its one session, on SESSION_DAY


async def build_records(api: Api, grid: Grid) -> Records:
    records = Records({}, {}, {}, {}, {})
    for scope in SCOPES:
        family, owner = await grid.fresh_family(api, scope)
        leaver = {"firstName": "Jordan", "lastName": "Reed", "gender": "MALE"}
        departed = (await api.ok(ADD_CARER, {"f": family.id, "input": leaver}, owner))["addCarer"]["id"]
        await api.ok(REMOVE, {"p": departed, "on": LEFT_ON, "why": LEFT_REASON}, owner)
        await api.ok(RECORD_CONTACT, {"input": contact_input(family)}, owner)
        records.families[scope], records.departed[scope] = family, departed
        records.bare[scope] = (await grid.fresh_family(api, scope))[0]
    for setting in "AB":
        manager = grid.manager_in(setting)
        activity = (await api.ok(CREATE_ACTIVITY, {"input": activity_input(grid.settings[setting])}, manager))[
            "createActivity"
        ]["id"]
        session = (await api.ok(ADD_SESSIONS, {"a": activity, "d": [SESSION_DAY]}, manager))["addSessions"][0]["id"]
        entries = [
            {"personId": records.families[scope].child_id, "attended": True} for scope in sorted(REGISTERED[setting])
        ]
        await api.ok(RECORD_ATTENDANCE, {"s": session, "e": entries}, manager)
        records.activities[setting], records.sessions[setting] = activity, session
    return records
