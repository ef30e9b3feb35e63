"""The role matrix of activities, registers and contacts (issue 12; API.md "Activities,
sessions, registers, home visits"; standards 5.5, 9, 13): an activity and its sessions are
ACTIVITY data, read by every staff role for every setting and written only with ACTIVITY write
in the owning setting; a register entry and a contact are SECONDARY data of the attendee's
family, entered with ACTIVITY and SECONDARY write in the activity's setting for a family whose
scope holds it, and read only through a setting of the family's scope.

Reads use the grid's second part (tests/grid.py `Records`): an activity of A whose session
registers the own and affiliated families, one of B registering the other, affiliated and
revoked families, and a home visit on each. Refused writes try the records' own activities and
bare families and leave them as they were; allowed writes act on fresh ones."""

from functools import partial
from typing import Any

import pytest

from tests.assertions import assert_only_denials, assert_refused, assert_writes_refused
from tests.conftest import Api, Family
from tests.factories import activity_input
from tests.grid import (
    ADD_SESSIONS as ADD_SESSION_IDS,
)
from tests.grid import (
    CREATE_ACTIVITY as CREATE_ACTIVITY_ID,
)
from tests.grid import (
    REGISTERED,
    SESSION_DAY,
    Grid,
    Records,
    contact_input,
)
from tests.matrix import (
    ACTIVITY,
    PRIMARY,
    ROLES,
    SCOPES,
    SECONDARY,
    allows,
    allows_in_setting,
    reads_family_data,
    verb,
)

SETTINGS = ("A", "B")
FIELDS = """id version setting { id } description provider projectLeader frequency outcomeType outcome
  accessGroup eventType startDate startTime durationMinutes aims"""
SESSIONS = "sessions { id date deadline late registerEnteredAt }"
ACTIVITY_QUERY = f"query($id: ID!) {{ activity(id: $id) {{ {FIELDS} {SESSIONS} }} }}"
LIST = "query($s: ID) { activities(settingId: $s, first: 1000) { totalCount nodes { id } } }"
REGISTER = "query($id: ID!) { activity(id: $id) { sessions { register { personId familyId attended } } } }"


def readable_activity(role: str, setting: str) -> bool:
    return allows_in_setting(role, ACTIVITY, "read", setting)


READ_CASES = [
    pytest.param(role, setting, id=f"{role}-{verb(readable_activity(role, setting))}-read-activity-of-{setting}")
    for role in ROLES
    for setting in SETTINGS
]


@pytest.mark.parametrize(("role", "setting"), READ_CASES)
async def test_read_an_activity(api: Api, grid: Grid, records: Records, role: str, setting: str) -> None:
    activity_id = records.activities[setting]
    body = await api.post(ACTIVITY_QUERY, {"id": activity_id}, grid.tokens[role])
    if not readable_activity(role, setting):
        assert_refused(body, "activity", {ACTIVITY})
        return
    assert not body.get("errors"), body["errors"]
    activity = body["data"]["activity"]
    expected = activity_input(grid.settings[setting])
    assert activity["setting"] == {"id": grid.settings[setting]}
    assert {k: activity[k] for k in expected if k != "settingId"} == {
        k: v for k, v in expected.items() if k != "settingId"
    }
    [session] = activity["sessions"]
    assert session["date"] == SESSION_DAY and session["registerEnteredAt"] is not None


@pytest.mark.parametrize(("role", "setting"), READ_CASES)
async def test_list_activities(api: Api, grid: Grid, records: Records, role: str, setting: str) -> None:
    body = await api.post(LIST, {"s": grid.settings[setting]}, grid.tokens[role])
    if not readable_activity(role, setting):
        assert_refused(body, "activities", {ACTIVITY})
        return
    assert not body.get("errors"), body["errors"]
    listed = body["data"]["activities"]
    assert records.activities[setting] in [node["id"] for node in listed["nodes"]]
    assert listed["totalCount"] == len(listed["nodes"])  # the writes' tests add activities of their own


def register_view(role: str, setting: str) -> set[str]:
    """The register's families a reader sees: those whose secondary data it may read."""
    return {scope for scope in REGISTERED[setting] if allows(role, SECONDARY, "read", scope)}


REGISTER_CASES = [
    pytest.param(
        role,
        setting,
        id=f"{role}-sees-{'+'.join(sorted(register_view(role, setting))) or 'none'}-in-register-of-{setting}",
    )
    for role in ROLES
    for setting in SETTINGS
]


@pytest.mark.parametrize(("role", "setting"), REGISTER_CASES)
async def test_read_a_register(api: Api, grid: Grid, records: Records, role: str, setting: str) -> None:
    """A register seen from another setting shows only that setting's families."""
    body = await api.post(REGISTER, {"id": records.activities[setting]}, grid.tokens[role])
    if not readable_activity(role, setting):
        assert_refused(body, "activity", {ACTIVITY})
        return
    assert not body.get("errors"), body["errors"]
    [session] = body["data"]["activity"]["sessions"]
    seen = sorted((e["familyId"], e["personId"], e["attended"]) for e in session["register"])
    families = records.families
    assert seen == sorted((families[s].id, families[s].child_id, True) for s in register_view(role, setting))


ATTENDANCE = """query($id: ID!) { family(id: $id) { id
  contacts { kind date durationMinutes summary peopleSeen setting { id } deadline }
  carers { id attendance { personId } } children { id attendance { personId attended } } } }"""
SECONDARY_READ_CASES = [
    pytest.param(
        role, scope, id=f"{role}-{verb(allows(role, SECONDARY, 'read', scope))}-read-attendance-and-contacts-{scope}"
    )
    for role in ROLES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "scope"), SECONDARY_READ_CASES)
async def test_read_attendance_and_contacts(api: Api, grid: Grid, records: Records, role: str, scope: str) -> None:
    """Family.contacts and Carer/Child.attendance are SECONDARY fields of the record."""
    family = records.families[scope]
    body = await api.post(ATTENDANCE, {"id": family.id}, grid.tokens[role])
    if not reads_family_data(role):
        assert body["data"] == {"family": None}
        assert_only_denials(body, {("family",): {PRIMARY}})
        return
    read = body["data"]["family"]
    assert (read["id"], read["carers"][0]["id"], read["children"][0]["id"]) == (
        family.id,
        family.carer_id,
        family.child_id,
    )
    if not allows(role, SECONDARY, "read", scope):
        paths = [("contacts",), ("carers", 0, "attendance"), ("children", 0, "attendance")]
        assert (read["contacts"], read["carers"][0]["attendance"], read["children"][0]["attendance"]) == (
            None,
            None,
            None,
        )
        assert_only_denials(body, {("family", *path): {SECONDARY} for path in paths})
        return
    assert not body.get("errors"), body["errors"]
    sessions = sum(scope in REGISTERED[setting] for setting in SETTINGS)
    assert read["children"][0]["attendance"] == [{"personId": family.child_id, "attended": True}] * sessions
    assert read["carers"][0]["attendance"] == []
    visit = contact_input(family)
    registered_with = grid.settings["A" if scope == "own" else "B"]
    assert [
        (c["kind"], c["date"], c["durationMinutes"], c["summary"], c["peopleSeen"], c["setting"])
        for c in read["contacts"]
    ] == [
        (
            visit["kind"],
            visit["date"],
            visit["durationMinutes"],
            visit["summary"],
            visit["peopleSeen"],
            {"id": registered_with},
        )
    ]


# ---------------------------------------------------------------------------------------------
# Writing activities: ACTIVITY write in the owning setting
# ---------------------------------------------------------------------------------------------

CREATE = "mutation($input: ActivityInput!) { createActivity(input: $input) { id description setting { id } } }"
UPDATE = """mutation($id: ID!, $v: Int!, $input: ActivityUpdate!) {
  updateActivity(id: $id, expectedVersion: $v, input: $input) { id version description } }"""
ADD_SESSIONS = "mutation($a: ID!, $d: [Date!]!) { addSessions(activityId: $a, dates: $d) { date deadline } }"


def writes_activity(role: str, setting: str) -> bool:
    return allows_in_setting(role, ACTIVITY, "write", setting)


WRITE_CASES = [
    pytest.param(role, setting, id=f"{role}-{verb(writes_activity(role, setting))}-write-activity-of-{setting}")
    for role in ROLES
    for setting in SETTINGS
]


async def activity_count(api: Api, grid: Grid, setting: str) -> int:
    data = await api.ok(LIST, {"s": grid.settings[setting]}, grid.manager_in(setting))
    return data["activities"]["totalCount"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("role", "setting"), WRITE_CASES)
async def test_create_an_activity(api: Api, grid: Grid, role: str, setting: str) -> None:
    count = partial(activity_count, api, grid, setting)
    new = activity_input(grid.settings[setting], description="Baby massage")
    create = partial(api.post, CREATE, {"input": new}, grid.tokens[role])
    if not writes_activity(role, setting):
        # a caller who may not even read activities is told ACTIVITY too, for the lookup
        await assert_writes_refused(count, {"createActivity": create}, {ACTIVITY})
        return
    before = await count()
    body = await create()
    after = await count()
    assert not body.get("errors"), body["errors"]
    made = body["data"]["createActivity"]
    assert (made["description"], made["setting"]) == ("Baby massage", {"id": grid.settings[setting]})
    assert after == before + 1


async def activity_state(api: Api, activity_id: str, reader: str) -> dict[str, Any]:
    return (await api.ok(ACTIVITY_QUERY, {"id": activity_id}, reader))["activity"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("role", "setting"), WRITE_CASES)
async def test_change_an_activity_and_add_sessions(
    api: Api, grid: Grid, records: Records, role: str, setting: str
) -> None:
    allowed = writes_activity(role, setting)
    owner = grid.manager_in(setting)
    if allowed:
        made = await api.ok(CREATE_ACTIVITY_ID, {"input": activity_input(grid.settings[setting])}, owner)
        activity_id = made["createActivity"]["id"]
    else:
        activity_id = records.activities[setting]
    state = partial(activity_state, api, activity_id, owner)
    before = await state()
    token = grid.tokens[role]
    update = {"id": activity_id, "v": before["version"], "input": {"description": "Messy play"}}
    writes = {
        "updateActivity": partial(api.post, UPDATE, update, token),
        "addSessions": partial(api.post, ADD_SESSIONS, {"a": activity_id, "d": ["2026-11-16", "2026-11-23"]}, token),
    }
    if not allowed:
        await assert_writes_refused(state, writes, {ACTIVITY})
        return
    updated, added = [await write() for write in writes.values()]
    after = await state()
    for body in (updated, added):
        assert not body.get("errors"), body["errors"]
    assert updated["data"]["updateActivity"] == {
        "id": activity_id,
        "version": before["version"] + 1,
        "description": "Messy play",
    }
    assert [s["date"] for s in added["data"]["addSessions"]] == ["2026-11-16", "2026-11-23"]
    assert (after["description"], after["version"]) == ("Messy play", before["version"] + 1)
    assert sorted(s["date"] for s in after["sessions"]) == ["2026-11-16", "2026-11-23"]


# ---------------------------------------------------------------------------------------------
# Entering registers and recording contacts: SECONDARY data of the family
# ---------------------------------------------------------------------------------------------

RECORD = """mutation($s: ID!, $e: [AttendanceInput!]!) {
  recordAttendance(sessionId: $s, entries: $e) { id registerEnteredAt register { personId attended } } }"""
SESSION_STATE = "query($id: ID!) { activity(id: $id) { sessions { id registerEnteredAt register { personId } } } }"


def enters_registers(role: str) -> bool:
    """ACTIVITY write and SECONDARY write in the activity's setting (A)."""
    return writes_activity(role, "A") and allows_in_setting(role, SECONDARY, "write", "A")


def register_outcome(role: str, scope: str) -> str:
    if not enters_registers(role):
        return "cannot"
    return "can" if SCOPES[scope] else "needs-affiliation-to"


ENTRY_CASES = [
    pytest.param(role, scope, id=f"{role}-{register_outcome(role, scope)}-enter-register-of-A-with-{scope}")
    for role in ROLES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "scope"), ENTRY_CASES)
async def test_enter_a_register(api: Api, grid: Grid, records: Records, role: str, scope: str) -> None:
    """A session of setting A; the entry is the child of a family of `scope`. A family whose
    scope does not hold A is BAD_USER_INPUT, reason AFFILIATION_REQUIRED (standards 6)."""
    outcome = register_outcome(role, scope)
    manager = grid.tokens["MANAGER"]
    activity = (await api.ok(CREATE_ACTIVITY_ID, {"input": activity_input(grid.settings["A"])}, manager))[
        "createActivity"
    ]["id"]
    session = (await api.ok(ADD_SESSION_IDS, {"a": activity, "d": [SESSION_DAY]}, manager))["addSessions"][0]["id"]
    family: Family = (await grid.fresh_family(api, scope))[0] if outcome == "can" else records.bare[scope]
    entries = [{"personId": family.child_id, "attended": True}]
    record = partial(api.post, RECORD, {"s": session, "e": entries}, grid.tokens[role])

    async def session_state() -> dict[str, Any]:
        sessions = (await api.ok(SESSION_STATE, {"id": activity}, manager))["activity"]["sessions"]
        return sessions[0]  # type: ignore[no-any-return]

    async def state() -> tuple[dict[str, Any], dict[str, Any]]:
        return await session_state(), await api.ok(ATTENDANCE, {"id": family.id}, grid.owner(scope))

    if outcome != "can":
        if outcome == "cannot":
            needs = {ACTIVITY, SECONDARY} if reads_family_data(role) else {ACTIVITY}
            await assert_writes_refused(state, {"recordAttendance": record}, needs)
        else:
            await assert_writes_refused(
                state, {"recordAttendance": record}, code="BAD_USER_INPUT", reason="AFFILIATION_REQUIRED"
            )
        unchanged = await session_state()
        assert (unchanged["registerEnteredAt"], unchanged["register"]) == (None, [])
        return
    body = await record()
    assert not body.get("errors"), body["errors"]
    entered = body["data"]["recordAttendance"]
    assert entered["register"] == [{"personId": family.child_id, "attended": True}]
    assert (await session_state())["registerEnteredAt"] == entered["registerEnteredAt"] is not None
    after = (await api.ok(ATTENDANCE, {"id": family.id}, grid.owner(scope)))["family"]
    assert after["children"][0]["attendance"] == [{"personId": family.child_id, "attended": True}]


RECORD_CONTACT = """mutation($input: ContactInput!) { recordContact(input: $input) {
  kind date worker setting { id } peopleSeen } }"""
CONTACT_CASES = [
    pytest.param(role, scope, id=f"{role}-{verb(allows(role, SECONDARY, 'write', scope))}-record-contact-{scope}")
    for role in ROLES
    for scope in SCOPES
]


@pytest.mark.parametrize(("role", "scope"), CONTACT_CASES)
async def test_record_a_contact(api: Api, grid: Grid, records: Records, role: str, scope: str) -> None:
    """recordContact: SECONDARY write in a setting of the family's scope (the contact's setting)."""
    allowed = allows(role, SECONDARY, "write", scope)
    family, reader = await grid.fresh_family(api, scope) if allowed else (records.bare[scope], grid.owner(scope))

    async def contacts() -> list[dict[str, Any]]:
        return (await api.ok(ATTENDANCE, {"id": family.id}, reader))["family"]["contacts"]  # type: ignore[no-any-return]

    record = partial(api.post, RECORD_CONTACT, {"input": contact_input(family)}, grid.tokens[role])
    if not allowed:
        needs = {SECONDARY} if reads_family_data(role) else {SECONDARY, PRIMARY}
        await assert_writes_refused(contacts, {"recordContact": record}, needs)
        return
    before = await contacts()
    body = await record()
    after = await contacts()
    assert not body.get("errors"), body["errors"]
    contact = body["data"]["recordContact"]
    # Recorded in the setting the writer holds the right in: A for the grid's users.
    assert (contact["kind"], contact["setting"], contact["peopleSeen"]) == (
        "HOME_VISIT",
        {"id": grid.settings["A"]},
        [family.child_id],
    )
    assert len(after) == len(before) + 1
