"""Activities, sessions, registers and home visits (API.md "Activities, sessions, registers, home
visits"; standards 5.5, 9): an activity is ACTIVITY data shared across all settings and written
only in its own; a register entry and a contact are SECONDARY data of the attendee's family,
entered only for a family in the activity's setting's reach and read only through its scope."""

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from authz.enforcer import policy_in_force
from tests import oracle
from tests.conftest import Api, World, register_family
from tests.factories import (
    Centre,
    activity_input,
    audit_events_since,
    fresh_centre,
    fresh_user,
    key_of,
    last_audit_id,
    unique_name,
)

ACTIVITY_FIELDS = """id version setting { id } description provider projectLeader frequency outcomeType outcome
  accessGroup eventType startDate startTime durationMinutes aims"""
CREATE = f"mutation($input: ActivityInput!) {{ createActivity(input: $input) {{ {ACTIVITY_FIELDS} }} }}"
UPDATE = f"""mutation($id: ID!, $v: Int!, $input: ActivityUpdate!) {{
  updateActivity(id: $id, expectedVersion: $v, input: $input) {{ {ACTIVITY_FIELDS} }} }}"""
ACTIVITY = f"query($id: ID!) {{ activity(id: $id) {{ {ACTIVITY_FIELDS} }} }}"
ACTIVITIES = """query($s: ID, $from: Date, $to: Date, $first: Int, $after: String) {
  activities(settingId: $s, from: $from, to: $to, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id description startDate } } }"""
SESSION = "id date startTime durationMinutes registerEnteredAt deadline late"
ADD_SESSIONS = f"mutation($a: ID!, $d: [Date!]!) {{ addSessions(activityId: $a, dates: $d) {{ {SESSION} }} }}"
REGISTER = "register { personId familyId firstName lastName attended recordedAt }"
RECORD = f"""mutation($s: ID!, $e: [AttendanceInput!]!) {{
  recordAttendance(sessionId: $s, entries: $e) {{ {SESSION} {REGISTER} }} }}"""
SESSIONS = f"query($id: ID!) {{ activity(id: $id) {{ sessions {{ {SESSION} {REGISTER} }} }} }}"
PERSON_ATTENDANCE = """query($id: ID!, $from: Date, $to: Date) { child(id: $id) {
  attendance(from: $from, to: $to) { personId attended session { id date activity { id } } }
  history { action category changes { field before after } } } }"""
CONTACT_FIELDS = "id kind date durationMinutes worker setting { id } summary peopleSeen enteredAt deadline late"
RECORD_CONTACT = f"mutation($input: ContactInput!) {{ recordContact(input: $input) {{ {CONTACT_FIELDS} }} }}"
CONTACTS = f"query($id: ID!) {{ family(id: $id) {{ contacts {{ {CONTACT_FIELDS} }} }} }}"
TIMELINESS = """query($s: ID!, $from: Date!, $to: Date!) { timeliness(settingId: $s, from: $from, to: $to) {
  byKind { kind received entered enteredLate outstanding outstandingPastDeadline }
  lateItems { id kind receivedOn deadline outstanding } } }"""
AFFILIATE = "mutation($input: AffiliationInput!) { affiliate(input: $input) { id } }"

WRITERS = ["MANAGER", "SENIOR_ADMINISTRATOR", "PARENT_SUPPORT_WORKER", "ADMIN_OFFICER"]
READ_ONLY = ["SENIOR_MANAGEMENT", "HEAD_OF_CENTRE"]
SERVICE = ["SYSTEM_ADMINISTRATOR", "CONTACTPOINT_FEED", "LA_REPORTING"]


def codes(body: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors") or []]


async def create(api: Api, token: str, setting_id: str, **changes: Any) -> dict[str, Any]:
    return (await api.ok(CREATE, {"input": activity_input(setting_id, **changes)}, token))["createActivity"]  # type: ignore[no-any-return]


async def sessions_on(api: Api, token: str, activity_id: str, *days: str) -> list[dict[str, Any]]:
    return (await api.ok(ADD_SESSIONS, {"a": activity_id, "d": list(days)}, token))["addSessions"]  # type: ignore[no-any-return]


def entries(*people: str, attended: bool = True) -> list[dict[str, Any]]:
    return [{"personId": person, "attended": attended} for person in people]


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


@pytest.fixture(scope="module")
async def group(api: Api, world: World) -> dict[str, Any]:
    """A stay-and-play group of setting A with one session whose register holds the own family
    (A) and the affiliated family (B, affiliated to A)."""
    manager = world.tokens["MANAGER"]
    activity = await create(api, manager, world.settings["A"])
    (session,) = await sessions_on(api, manager, activity["id"], "2026-11-02")
    own, affiliated = world.families["own"], world.families["affiliated"]
    people = entries(own.carer_id, own.child_id, affiliated.child_id)
    await api.ok(RECORD, {"s": session["id"], "e": people}, manager)
    return {"activity": activity, "session": session}


# --- activities: ACTIVITY data ----------------------------------------------------------------


async def test_a_manager_creates_an_activity_with_the_nine_fields_of_the_standards(api: Api, centre: Centre) -> None:
    made = await create(api, centre.manager, centre.setting_id)
    expected = activity_input(centre.setting_id)
    assert made["setting"] == {"id": centre.setting_id} and made["version"] == 1
    assert {k: made[k] for k in expected if k != "settingId"} == {k: v for k, v in expected.items() if k != "settingId"}
    assert (await api.ok(ACTIVITY, {"id": made["id"]}, centre.manager))["activity"] == made


@pytest.mark.parametrize("role", WRITERS + READ_ONLY + SERVICE, ids=lambda r: f"{r.lower()}-in-A")
async def test_activity_write_is_held_in_the_owning_setting_by_the_roles_of_the_matrix(
    api: Api, world: World, role: str
) -> None:
    body = await api.post(CREATE, {"input": activity_input(world.settings["A"])}, world.tokens[role])
    if role in WRITERS:
        assert not body.get("errors"), body
    else:
        assert codes(body) == ["FORBIDDEN"], body
    # No role of setting A writes an activity of setting B.
    body = await api.post(CREATE, {"input": activity_input(world.settings["B"])}, world.tokens[role])
    assert codes(body) == ["FORBIDDEN"]


@pytest.mark.parametrize("role", WRITERS + READ_ONLY + SERVICE, ids=lambda r: f"{r.lower()}-reads-B")
async def test_every_staff_role_reads_the_activities_of_every_setting(api: Api, world: World, role: str) -> None:
    made = await create(api, world.manager_b, world.settings["B"], description=f"Baby massage {unique_name()}")
    body = await api.post(ACTIVITY, {"id": made["id"]}, world.tokens[role])
    listed = await api.post(ACTIVITIES, {"s": world.settings["B"], "first": 1000}, world.tokens[role])
    if role in SERVICE:
        assert codes(body) == ["FORBIDDEN"] and codes(listed) == ["FORBIDDEN"]
        assert body["errors"][0]["extensions"]["category"] == "ACTIVITY"
        return
    assert body["data"]["activity"] == made
    assert made["id"] in {node["id"] for node in listed["data"]["activities"]["nodes"]}


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "unknown-outcome-type": ({"outcomeType": "NOPE"}, "outcomeType"),
    "unknown-access-group": ({"accessGroup": "NOPE"}, "accessGroup"),
    "unknown-event-type": ({"eventType": "NOPE"}, "eventType"),
    "empty-description": ({"description": "  "}, "description"),
    "zero-duration": ({"durationMinutes": 0}, "durationMinutes"),
}


@pytest.mark.parametrize("case", INVALID, ids=lambda c: f"create-activity-rejects-{c}")
async def test_an_invalid_activity_is_bad_user_input(api: Api, centre: Centre, case: str) -> None:
    changes, field = INVALID[case]
    body = await api.post(CREATE, {"input": activity_input(centre.setting_id, **changes)}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == field
    listed = await api.ok(ACTIVITIES, {"s": centre.setting_id}, centre.manager)
    assert listed["activities"]["totalCount"] == 0


async def test_a_deactivated_access_group_is_refused(api: Api, world: World, centre: Centre) -> None:
    code = unique_name().upper()
    await api.ok(
        "mutation($input: LookupValueInput!) { addLookupValue(input: $input) { code } }",
        {"input": {"list": "ACCESS_GROUP", "code": code, "label": "Pilot group"}},
        world.admin_token,
    )
    assert (await create(api, centre.manager, centre.setting_id, accessGroup=code))["accessGroup"] == code
    await api.ok(
        "mutation($input: LookupValueUpdate!) { updateLookupValue(input: $input) { code } }",
        {"input": {"list": "ACCESS_GROUP", "code": code, "active": False}},
        world.admin_token,
    )
    body = await api.post(CREATE, {"input": activity_input(centre.setting_id, accessGroup=code)}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_update_activity_is_version_checked_and_audited(api: Api, app: Any, centre: Centre) -> None:
    made = await create(api, centre.manager, centre.setting_id)
    mark = await last_audit_id(app)
    data = await api.ok(UPDATE, {"id": made["id"], "v": 1, "input": {"durationMinutes": 60}}, centre.manager)
    assert (data["updateActivity"]["version"], data["updateActivity"]["durationMinutes"]) == (2, 60)
    assert data["updateActivity"]["description"] == made["description"]  # omitted: unchanged
    (event,) = [e for e in await audit_events_since(app, mark) if e.action == "activity.update"]
    assert event.category == "ACTIVITY" and event.changes == {"durationMinutes": {"before": 90, "after": 60}}
    stale = await api.post(UPDATE, {"id": made["id"], "v": 1, "input": {"aims": "New aims"}}, centre.manager)
    assert codes(stale) == ["CONFLICT"]
    refused = await api.post(UPDATE, {"id": made["id"], "v": 2, "input": {"aims": "x"}}, centre.head_of_centre)
    assert codes(refused) == ["FORBIDDEN"]
    cleared = await api.post(UPDATE, {"id": made["id"], "v": 2, "input": {"aims": None}}, centre.manager)
    assert codes(cleared) == ["BAD_USER_INPUT"]


async def test_concurrent_updates_of_one_version_let_exactly_one_through(api: Api, centre: Centre) -> None:
    made = await create(api, centre.manager, centre.setting_id)
    bodies = await asyncio.gather(
        *(
            api.post(UPDATE, {"id": made["id"], "v": 1, "input": {"provider": f"Provider {n}"}}, centre.manager)
            for n in range(4)
        )
    )
    outcomes = sorted("ok" if not body.get("errors") else codes(body)[0] for body in bodies)
    assert outcomes == ["CONFLICT", "CONFLICT", "CONFLICT", "ok"]
    current = (await api.ok(ACTIVITY, {"id": made["id"]}, centre.manager))["activity"]
    winner = next(body for body in bodies if not body.get("errors"))["data"]["updateActivity"]
    assert current["version"] == 2 and current["provider"] == winner["provider"]


async def test_activities_page_newest_first_and_filter_by_period(api: Api, centre: Centre) -> None:
    made = [
        await create(api, centre.manager, centre.setting_id, startDate=day, description=f"Group {n}")
        for n, day in enumerate(["2026-01-05", "2026-06-01", "2026-03-02"])
    ]
    page = (await api.ok(ACTIVITIES, {"s": centre.setting_id, "first": 2}, centre.manager))["activities"]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"]
    assert [n["description"] for n in page["nodes"]] == ["Group 1", "Group 2"]
    after = page["pageInfo"]["endCursor"]
    rest = await api.ok(ACTIVITIES, {"s": centre.setting_id, "first": 2, "after": after}, centre.manager)
    assert [n["description"] for n in rest["activities"]["nodes"]] == ["Group 0"]
    assert not rest["activities"]["pageInfo"]["hasNextPage"]
    # A period holds the activities starting in it, and those with a session in it.
    await sessions_on(api, centre.manager, made[0]["id"], "2026-04-06")
    april = await api.ok(ACTIVITIES, {"s": centre.setting_id, "from": "2026-04-01", "to": "2026-06-30"}, centre.manager)
    assert [n["description"] for n in april["activities"]["nodes"]] == ["Group 1", "Group 0"]
    body = await api.post(ACTIVITIES, {"s": centre.setting_id, "after": "bm9wZQ"}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_a_page_of_activities_with_sessions_costs_the_same_for_2_or_20(
    api: Api, centre: Centre, count_statements: Any
) -> None:
    for n in range(20):
        made = await create(api, centre.manager, centre.setting_id, description=f"Group {n}")
        await sessions_on(api, centre.manager, made["id"], "2026-10-05", "2026-10-12")
    query = """query($s: ID, $first: Int) { activities(settingId: $s, first: $first) { totalCount
      nodes { id description setting { code }
        sessions { id date deadline late activity { id } register { personId } } } } }"""
    counts = []
    for first in (2, 2, 20):
        before = count_statements.count
        data = await api.ok(query, {"s": centre.setting_id, "first": first}, centre.manager)
        counts.append(count_statements.count - before)
        assert len(data["activities"]["nodes"]) == first
        assert all(len(node["sessions"]) == 2 for node in data["activities"]["nodes"])
    assert counts[1] == counts[2], counts


# --- sessions ------------------------------------------------------------------------------------


async def test_sessions_have_a_register_deadline_of_five_working_days(api: Api, centre: Centre) -> None:
    made = await create(api, centre.manager, centre.setting_id)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    added = await sessions_on(api, centre.manager, made["id"], "2026-11-06", "2026-11-02", tomorrow)
    by_date = {s["date"]: s for s in added}
    # Monday 2 November: due Monday 9 November; Friday 6 November: due Friday 13 November.
    assert (by_date["2026-11-02"]["deadline"], by_date["2026-11-06"]["deadline"]) == ("2026-11-09", "2026-11-13")
    assert by_date["2026-11-02"]["startTime"] == "09:30:00" and by_date["2026-11-02"]["durationMinutes"] == 90
    assert by_date["2026-11-02"]["registerEnteredAt"] is None
    assert by_date["2026-11-02"]["late"] is (date.today() > date(2026, 11, 9))
    assert by_date[tomorrow]["late"] is False
    again = await api.post(ADD_SESSIONS, {"a": made["id"], "d": ["2026-11-02"]}, centre.manager)
    assert codes(again) == ["BAD_USER_INPUT"] and again["errors"][0]["extensions"]["field"] == "dates[0]"
    early = await api.post(ADD_SESSIONS, {"a": made["id"], "d": ["2026-01-05"]}, centre.manager)
    assert codes(early) == ["BAD_USER_INPUT"]
    refused = await api.post(ADD_SESSIONS, {"a": made["id"], "d": ["2026-11-16"]}, centre.head_of_centre)
    assert codes(refused) == ["FORBIDDEN"]
    sessions = (await api.ok(SESSIONS, {"id": made["id"]}, centre.head_of_centre))["activity"]["sessions"]
    assert [s["date"] for s in sessions] == ["2026-11-02", "2026-11-06", tomorrow]
    # Found by probing: a session at the end of the calendar has no deadline (INTERNAL before).
    last = await api.post(ADD_SESSIONS, {"a": made["id"], "d": ["9999-12-31"]}, centre.manager)
    assert codes(last) == ["BAD_USER_INPUT"] and last["errors"][0]["extensions"]["field"] == "dates[0]"


# --- registers -----------------------------------------------------------------------------------


async def test_a_register_is_entered_whole_and_marks_the_session_entered(
    api: Api, world: World, group: dict[str, Any]
) -> None:
    sessions = (await api.ok(SESSIONS, {"id": group["activity"]["id"]}, world.tokens["MANAGER"]))["activity"]
    (session,) = sessions["sessions"]
    assert session["registerEnteredAt"] is not None
    own, affiliated = world.families["own"], world.families["affiliated"]
    assert {(e["personId"], e["familyId"], e["attended"]) for e in session["register"]} == {
        (own.carer_id, own.id, True),
        (own.child_id, own.id, True),
        (affiliated.child_id, affiliated.id, True),
    }
    assert {e["firstName"] for e in session["register"]} == {"Alex", "Sam"}


REGISTER_VIEWS = {
    # reader: the families of the register it sees (own: A; affiliated: B, affiliated to A)
    "MANAGER": {"own", "affiliated"},
    "HEAD_OF_CENTRE": {"own", "affiliated"},
    "ADMIN_OFFICER": {"own", "affiliated"},
    "SENIOR_MANAGEMENT": {"own", "affiliated"},
    "manager_b": {"affiliated"},
    "manager_c": set(),
}


@pytest.mark.parametrize("reader", REGISTER_VIEWS, ids=lambda r: f"{r.lower()}-sees-its-scope-of-the-register")
async def test_a_register_shows_only_the_families_whose_scope_the_reader_may_read_secondary_in(
    api: Api, world: World, group: dict[str, Any], reader: str
) -> None:
    if reader == "manager_b":
        token = world.manager_b
    elif reader == "manager_c":
        token = await fresh_user(api, world, "MANAGER", world.settings["C"])
    else:
        token = world.tokens[reader]
    data = await api.ok(SESSIONS, {"id": group["activity"]["id"]}, token)
    seen = {e["familyId"] for e in data["activity"]["sessions"][0]["register"]}
    assert seen == {world.families[name].id for name in REGISTER_VIEWS[reader]}


@pytest.mark.parametrize("name", ["other", "revoked"], ids=lambda n: f"{n}-family-needs-an-affiliation")
async def test_a_family_outside_the_settings_scope_is_affiliation_required_and_nothing_is_written(
    api: Api, world: World, app: Any, name: str
) -> None:
    manager = world.tokens["MANAGER"]
    activity = await create(api, manager, world.settings["A"])
    (session,) = await sessions_on(api, manager, activity["id"], "2026-11-03")
    own, outsider = world.families["own"], world.families[name]
    mark = await last_audit_id(app)
    body = await api.post(RECORD, {"s": session["id"], "e": entries(own.child_id, outsider.child_id)}, manager)
    assert codes(body) == ["BAD_USER_INPUT"], body
    extensions = body["errors"][0]["extensions"]
    assert extensions["reason"] == "AFFILIATION_REQUIRED" and extensions["field"] == "entries[1].personId"
    sessions = (await api.ok(SESSIONS, {"id": activity["id"]}, manager))["activity"]["sessions"]
    assert sessions[0]["register"] == [] and sessions[0]["registerEnteredAt"] is None
    assert await audit_events_since(app, mark) == []


async def test_a_family_is_entered_once_affiliated(api: Api, world: World, centre: Centre) -> None:
    """The term of a stay-and-play group: a family of another setting comes along; its register
    entry is refused until the family consents to the affiliation."""
    activity = await create(api, centre.manager, centre.setting_id)
    (session,) = await sessions_on(api, centre.manager, activity["id"], "2026-11-04")
    visitor = await register_family(api, world.manager_b, world.settings["B"], unique_name())
    refused = await api.post(RECORD, {"s": session["id"], "e": entries(visitor.child_id)}, centre.manager)
    assert refused["errors"][0]["extensions"]["reason"] == "AFFILIATION_REQUIRED"
    consent = {
        "familyId": visitor.id, "settingId": centre.setting_id, "consentGivenBy": "Alex", "consentDate": "2026-11-04",
    }  # fmt: skip
    await api.ok(AFFILIATE, {"input": consent}, world.manager_b)
    data = await api.ok(RECORD, {"s": session["id"], "e": entries(visitor.child_id)}, centre.manager)
    assert [e["personId"] for e in data["recordAttendance"]["register"]] == [visitor.child_id]


async def test_a_registers_audit_events_are_written_in_one_insert(api: Api, app: Any, centre: Centre) -> None:
    """One event per entry written and one for the register, each with the policy in force, in
    one statement whatever the number of entries (the register's event has no family)."""
    activity = await create(api, centre.manager, centre.setting_id)
    (session,) = await sessions_on(api, centre.manager, activity["id"], "2026-11-06")
    family = await centre.family(api)
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_EVENTS") and not oracle.in_shadow():
            inserts.append(statement)

    mark = await last_audit_id(app)
    event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
    try:
        await api.ok(RECORD, {"s": session["id"], "e": entries(family.carer_id, family.child_id)}, centre.manager)
    finally:
        event.remove(app.state.engine.sync_engine, "before_cursor_execute", count)
    assert len(inserts) == 1, inserts
    written = await audit_events_since(app, mark)
    assert [(e.action, e.record_type, e.family_id) for e in written] == [
        ("attendance.record", "Carer", key_of(family.id, "Family")),
        ("attendance.record", "Child", key_of(family.id, "Family")),
        ("register.record", "ActivitySession", None),
    ]
    assert {e.policy_version for e in written} == {policy_in_force()}


async def test_re_entering_a_person_replaces_their_entry_and_is_audited_with_before_and_after(
    api: Api, world: World, app: Any, centre: Centre
) -> None:
    activity = await create(api, centre.manager, centre.setting_id, description="Baby massage")
    (session,) = await sessions_on(api, centre.manager, activity["id"], "2026-11-05")
    family = await centre.family(api)
    first = entries(family.carer_id, family.child_id)
    await api.ok(RECORD, {"s": session["id"], "e": first}, centre.manager)
    entered_at = (await api.ok(SESSIONS, {"id": activity["id"]}, centre.manager))["activity"]["sessions"][0]
    mark = await last_audit_id(app)
    await api.ok(RECORD, {"s": session["id"], "e": first}, centre.manager)  # the same again: idempotent
    assert [e.action for e in await audit_events_since(app, mark)] == ["register.record"]
    data = await api.ok(RECORD, {"s": session["id"], "e": entries(family.child_id, attended=False)}, centre.manager)
    register = {e["personId"]: e["attended"] for e in data["recordAttendance"]["register"]}
    assert register == {family.carer_id: True, family.child_id: False}
    assert data["recordAttendance"]["registerEnteredAt"] == entered_at["registerEnteredAt"]  # first entry counts
    (event,) = [e for e in await audit_events_since(app, mark) if e.action == "attendance.record"]
    assert (event.record_type, event.record_id) == ("Child", key_of(family.child_id, "Child"))
    assert event.category == "SECONDARY"
    assert event.changes is not None
    assert event.changes["attendance"]["before"].startswith("attended: Baby massage on 2026-11-05")
    assert event.changes["attendance"]["after"].startswith("absent: Baby massage on 2026-11-05")
    # The person's history and attendance show it to those who may read the family's secondary data.
    child = (await api.ok(PERSON_ATTENDANCE, {"id": family.child_id}, centre.manager))["child"]
    assert [(a["attended"], a["session"]["id"]) for a in child["attendance"]] == [(False, session["id"])]
    changes = [e["changes"][0] for e in child["history"] if e["action"] == "attendance.record"]
    assert [(c["before"], c["after"]) for c in changes][-1][1].startswith("absent")
    assert len(changes) == 2 and changes[0]["before"] is None
    # From a setting outside the family's scope: no attendance, no attendance history.
    outsider = await api.post(PERSON_ATTENDANCE, {"id": family.child_id}, world.manager_b)
    assert codes(outsider) == ["FORBIDDEN"] and outsider["errors"][0]["extensions"]["category"] == "SECONDARY"
    child = outsider["data"]["child"]
    assert child["attendance"] is None
    assert [e for e in child["history"] if e["action"] == "attendance.record"] == []
    # from/to select sessions by date.
    window = await api.ok(PERSON_ATTENDANCE, {"id": family.child_id, "from": "2026-11-06"}, centre.manager)
    assert window["child"]["attendance"] == []


@pytest.mark.parametrize(
    "role", ["HEAD_OF_CENTRE", "SENIOR_MANAGEMENT", "SYSTEM_ADMINISTRATOR", "LA_REPORTING"], ids=str.lower
)
async def test_only_activity_and_secondary_writers_of_the_setting_enter_registers(
    api: Api, world: World, group: dict[str, Any], role: str
) -> None:
    own = world.families["own"]
    body = await api.post(RECORD, {"s": group["session"]["id"], "e": entries(own.child_id)}, world.tokens[role])
    assert codes(body) == ["FORBIDDEN"]


async def test_a_manager_of_another_setting_cannot_enter_a_register(
    api: Api, world: World, group: dict[str, Any]
) -> None:
    affiliated = world.families["affiliated"]
    body = await api.post(RECORD, {"s": group["session"]["id"], "e": entries(affiliated.child_id)}, world.manager_b)
    assert codes(body) == ["FORBIDDEN"] and body["errors"][0]["extensions"]["category"] == "ACTIVITY"


async def test_a_register_holds_at_most_500_entries(api: Api, world: World, group: dict[str, Any]) -> None:
    many = entries(*[world.families["own"].child_id] * 501)
    body = await api.post(RECORD, {"s": group["session"]["id"], "e": many}, world.tokens["MANAGER"])
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "entries"


async def _big_family(api: Api, centre: Centre) -> Any:
    surname = unique_name()
    person = {"lastName": surname, "gender": "FEMALE", "dateOfBirth": "2022-01-01"}
    return await api.ok(
        """mutation($input: RegisterFamilyInput!) { registerFamily(input: $input) {
          id carers { id } children { id } } }""",
        {
            "input": {
                "settingId": centre.setting_id,
                "source": "INITIAL_CONTACT",
                "receivedOn": "2026-11-02",
                "carers": [{**person, "firstName": "Carer"} for _ in range(10)],
                "children": [{**person, "firstName": "Child"} for _ in range(20)],
            }
        },
        centre.manager,
    )


async def test_entering_and_reading_a_register_cost_the_same_statements_for_2_or_30_people(
    api: Api, centre: Centre, count_statements: Any
) -> None:
    activity = await create(api, centre.manager, centre.setting_id)
    small_session, large_session, warm = await sessions_on(
        api, centre.manager, activity["id"], "2026-11-09", "2026-11-10", "2026-11-11"
    )
    small_family = await centre.family(api)
    big = (await _big_family(api, centre))["registerFamily"]
    small = entries(small_family.carer_id, small_family.child_id)
    large = entries(*[p["id"] for p in big["carers"] + big["children"]], small_family.child_id)
    await api.ok(RECORD, {"s": warm["id"], "e": small}, centre.manager)  # warm the pool and caches
    writes = []
    for session, register in ((small_session, small), (large_session, large)):
        before = count_statements.count
        await api.ok(RECORD, {"s": session["id"], "e": register}, centre.manager)
        writes.append(count_statements.count - before)
    assert writes[0] == writes[1], writes
    read = f"query($id: ID!) {{ activity(id: $id) {{ sessions {{ id {REGISTER} }} }} }}"
    reads = []
    for token in (centre.manager, centre.head_of_centre):
        before = count_statements.count
        data = await api.ok(read, {"id": activity["id"]}, token)
        reads.append(count_statements.count - before)
        assert sorted(len(s["register"]) for s in data["activity"]["sessions"]) == [2, 2, 31]
    assert reads[0] == reads[1]
    # One session's register of 31 costs what one of 2 does.
    one = f"query($id: ID!) {{ activity(id: $id) {{ sessions(from: $d, to: $d) {{ {REGISTER} }} }} }}"
    one = one.replace("query($id: ID!)", "query($id: ID!, $d: Date)")
    costs = []
    for day in ("2026-11-09", "2026-11-10"):
        before = count_statements.count
        await api.ok(one, {"id": activity["id"], "d": day}, centre.manager)
        costs.append(count_statements.count - before)
    assert costs[0] == costs[1], costs


async def test_registers_feed_timeliness_from_the_sessions_themselves(api: Api, centre: Centre) -> None:
    activity = await create(api, centre.manager, centre.setting_id)
    entered, missing = await sessions_on(api, centre.manager, activity["id"], "2026-10-05", "2026-10-06")
    family = await centre.family(api)
    await api.ok(RECORD, {"s": entered["id"], "e": entries(family.child_id)}, centre.manager)
    data = await api.ok(TIMELINESS, {"s": centre.setting_id, "from": "2026-10-01", "to": "2026-10-31"}, centre.manager)
    kinds = {k["kind"]: k for k in data["timeliness"]["byKind"]}
    register = kinds["REGISTER"]
    assert (register["received"], register["entered"], register["outstanding"]) == (2, 1, 1)
    # Entered today, more than five working days after 5 October: late; the other is past its deadline.
    assert (register["enteredLate"], register["outstandingPastDeadline"]) == (1, 1)
    late = {item["id"]: item for item in data["timeliness"]["lateItems"]}
    assert set(late) == {entered["id"], missing["id"]}
    assert late[missing["id"]]["outstanding"] is True and late[missing["id"]]["deadline"] == "2026-10-13"


# --- contacts ------------------------------------------------------------------------------------


async def test_a_home_visit_is_recorded_and_read_as_secondary_data(api: Api, world: World, centre: Centre) -> None:
    family = await centre.family(api)
    day = (date.today() - timedelta(days=1)).isoformat()
    contact = {
        "familyId": family.id, "kind": "HOME_VISIT", "date": day, "durationMinutes": 45,
        "summary": "Talked about the stay-and-play group", "peopleSeen": [family.carer_id, family.child_id],
    }  # fmt: skip
    made = (await api.ok(RECORD_CONTACT, {"input": contact}, centre.manager))["recordContact"]
    assert (made["kind"], made["date"], made["durationMinutes"], made["late"]) == ("HOME_VISIT", day, 45, False)
    assert made["setting"] == {"id": centre.setting_id} and made["peopleSeen"] == [family.carer_id, family.child_id]
    assert made["worker"]
    assert (await api.ok(CONTACTS, {"id": family.id}, centre.head_of_centre))["family"]["contacts"] == [made]
    hidden = await api.post(CONTACTS, {"id": family.id}, world.manager_b)
    assert codes(hidden) == ["FORBIDDEN"] and hidden["data"]["family"]["contacts"] is None
    for token in (world.manager_b, centre.head_of_centre):
        assert codes(await api.post(RECORD_CONTACT, {"input": contact}, token)) == ["FORBIDDEN"]
    stranger = {**contact, "peopleSeen": [world.families["own"].child_id]}
    body = await api.post(RECORD_CONTACT, {"input": stranger}, centre.manager)
    assert codes(body) == ["BAD_USER_INPUT"] and body["errors"][0]["extensions"]["field"] == "peopleSeen[0]"
    future = {**contact, "date": (date.today() + timedelta(days=2)).isoformat()}
    assert codes(await api.post(RECORD_CONTACT, {"input": future}, centre.manager)) == ["BAD_USER_INPUT"]
    data = await api.ok(TIMELINESS, {"s": centre.setting_id, "from": day, "to": day}, centre.manager)
    visits = next(k for k in data["timeliness"]["byKind"] if k["kind"] == "HOME_VISIT")
    assert (visits["received"], visits["entered"], visits["enteredLate"]) == (1, 1, 0)


# --- the demo --------------------------------------------------------------------------------------


DEMO_REGISTERS = """query { activities(first: 100) { totalCount nodes { description setting { code }
  sessions { date registerEnteredAt late register { familyId lastName } } } } }"""


async def test_the_demo_has_groups_registers_and_home_visits_seen_through_the_row_scope(tmp_path: Any) -> None:
    import httpx

    from config import AppConfig
    from demo.seed import ACTIVITIES, DEMO_PASSWORD, seed_demo
    from models.migrate import upgrade
    from server import create_app

    url = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    await asyncio.to_thread(upgrade, url)
    config = AppConfig(database_url=url, rate_limit_per_token=10**9, rate_limit_per_address=10**9)
    await seed_demo(config)
    app = create_app(config)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as client:
            demo = Api(client)
            seen: dict[str, dict[str, set[str]]] = {}
            for username in ("manager", "manager-south", "senior-mgmt"):
                token = await demo.login(username, DEMO_PASSWORD)
                page = (await demo.ok(DEMO_REGISTERS, token=token))["activities"]
                assert page["totalCount"] == len(ACTIVITIES)  # shared across all settings
                seen[username] = {
                    node["description"]: {e["lastName"] for s in node["sessions"] for e in s["register"]}
                    for node in page["nodes"]
                }
                if username == "manager":
                    stay = next(n for n in page["nodes"] if n["description"] == "Tuesday stay and play")
                    assert [s["registerEnteredAt"] is None for s in stay["sessions"]][-1]
                    assert any(s["late"] for s in stay["sessions"])
                    visits = await demo.ok(
                        "{ families(first: 50) { nodes { carers { lastName } contacts { kind worker } } } }",
                        token=token,
                    )
                    kinds = {
                        f["carers"][0]["lastName"]: [c["kind"] for c in f["contacts"]]
                        for f in visits["families"]["nodes"]
                    }
                    assert kinds["Hussain"] == ["HOME_VISIT"] and kinds["Adeyemi"] == []
            # Northgate's stay and play holds the Adeyemis of Southfields, affiliated to Northgate.
            assert seen["senior-mgmt"]["Tuesday stay and play"] == {"Kowalski", "Whitaker", "Adeyemi"}
            assert seen["manager"]["Tuesday stay and play"] == {"Kowalski", "Whitaker", "Adeyemi"}
            assert seen["manager-south"]["Tuesday stay and play"] == {"Adeyemi"}
            assert seen["manager"]["Thursday baby group"] == {"Adeyemi"}  # Clarke: Southfields only
            assert seen["manager"]["Speech and language group"] == set()
    finally:
        await app.state.engine.dispose()


async def test_concurrent_entries_of_one_register_leave_one_entry_per_person(api: Api, centre: Centre) -> None:
    activity = await create(api, centre.manager, centre.setting_id)
    (session,) = await sessions_on(api, centre.manager, activity["id"], "2026-11-12")
    family = await centre.family(api)
    bodies = await asyncio.gather(
        *(
            api.post(
                RECORD, {"s": session["id"], "e": entries(family.carer_id, family.child_id, attended=n % 2 == 0)},
                centre.manager,
            )
            for n in range(4)
        )
    )  # fmt: skip
    assert all(not body.get("errors") for body in bodies), [body.get("errors") for body in bodies]
    register = (await api.ok(SESSIONS, {"id": activity["id"]}, centre.manager))["activity"]["sessions"][0]["register"]
    assert sorted(e["personId"] for e in register) == sorted([family.carer_id, family.child_id])


async def test_concurrent_additions_of_one_date_add_one_session(api: Api, centre: Centre) -> None:
    activity = await create(api, centre.manager, centre.setting_id)
    bodies = await asyncio.gather(
        *(api.post(ADD_SESSIONS, {"a": activity["id"], "d": ["2026-11-19"]}, centre.manager) for _ in range(3))
    )
    assert sorted("ok" if not body.get("errors") else codes(body)[0] for body in bodies) == [
        "BAD_USER_INPUT",
        "BAD_USER_INPUT",
        "ok",
    ]
    sessions = (await api.ok(SESSIONS, {"id": activity["id"]}, centre.manager))["activity"]["sessions"]
    assert [s["date"] for s in sessions] == ["2026-11-19"]


async def test_several_activities_in_one_query(api: Api, world: World, group: dict[str, Any]) -> None:
    other = await create(api, world.manager_b, world.settings["B"])
    query = """query($a: ID!, $b: ID!) { a: activity(id: $a) { id sessions { register { personId } } }
      b: activity(id: $b) { id } c: activities(first: 1) { totalCount } }"""
    data = await api.ok(query, {"a": group["activity"]["id"], "b": other["id"]}, world.tokens["ADMIN_OFFICER"])
    assert (data["a"]["id"], data["b"]["id"]) == (group["activity"]["id"], other["id"])
    assert len(data["a"]["sessions"][0]["register"]) == 3
