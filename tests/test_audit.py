"""The audit trail (DESIGN "Security principles"): every write and every read of confidential
data is recorded — who, when, which setting, what changed — and the trail is append-only in
the database itself."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from models import AuditEvent
from models.base import utcnow
from tests.assertions import codes
from tests.conftest import ADD_NOTE, AFFILIATE, PASSWORD, Api, World
from tests.factories import (
    audit_events_since,
    changed_pairs,
    fresh_centre,
    fresh_setting,
    fresh_user,
    key_of,
    last_audit_id,
    unique_name,
    user_key,
)

UPDATE = """mutation($id: ID!, $v: Int!, $input: UpdateFamilyInput!) {
  updateFamily(id: $id, expectedVersion: $v, input: $input) { version } }"""
START_PLAN = "mutation($input: CpPlanInput!) { startChildProtectionPlan(input: $input) { id } }"
END_PLAN = "mutation($id: ID!, $d: Date!) { endChildProtectionPlan(id: $id, endDate: $d) { id } }"
REVOKE = "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }"


@dataclass
class Expected:
    """What the audit events of a write must say: by whom, about which family, and that one of
    them names the written record (`also`: another name the record may go by, e.g. a note's
    subject) in the setting the write was made in."""

    token: str
    record_type: str
    record_id: int | None
    family_id: int | None
    setting_id: int | None
    also: tuple[str, int] | None = None

    def names(self, event: AuditEvent) -> bool:
        return (event.record_type, event.record_id) in {(self.record_type, self.record_id), self.also}


@dataclass
class Trail:
    """Marks where the trail stood before the write under test."""

    app: Any
    mark: int = 0
    started: datetime | None = None

    async def begin(self) -> None:
        self.mark = await last_audit_id(self.app)
        self.started = utcnow()

    async def since(self) -> list[AuditEvent]:
        return await audit_events_since(self.app, self.mark)


Scenario = Callable[[Api, World, Trail], Awaitable[Expected]]


async def _register_family(api: Api, world: World, trail: Trail) -> Expected:
    centre = await fresh_centre(api, world)
    await trail.begin()
    family = await centre.family(api)
    return Expected(
        centre.manager,
        "Family",
        key_of(family.id, "Family"),
        key_of(family.id, "Family"),
        key_of(centre.setting_id, "Setting"),
    )


async def _update_family(api: Api, world: World, trail: Trail) -> Expected:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    await trail.begin()
    await api.ok(UPDATE, {"id": family.id, "v": 1, "input": {"generalNote": "Changed"}}, centre.manager)
    family_key = key_of(family.id, "Family")
    return Expected(centre.manager, "Family", family_key, family_key, key_of(centre.setting_id, "Setting"))


async def _add_note(api: Api, world: World, trail: Trail) -> Expected:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    await trail.begin()
    data = await api.ok(
        ADD_NOTE, {"input": {"subjectId": family.child_id, "kind": "CONFIDENTIAL", "text": "Seen"}}, centre.manager
    )
    return Expected(
        centre.manager,
        "Note",
        key_of(data["addNote"]["id"], "Note"),
        key_of(family.id, "Family"),
        key_of(centre.setting_id, "Setting"),
        also=("Child", key_of(family.child_id, "Child")),
    )


async def _affiliate(api: Api, world: World, trail: Trail) -> Expected:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    partner = await fresh_setting(api, world)
    await trail.begin()
    data = await api.ok(
        AFFILIATE,
        {"input": {"familyId": family.id, "settingId": partner, "consentGivenBy": "Alex", "consentDate": "2026-11-03"}},
        centre.manager,
    )
    return Expected(
        centre.manager,
        "Affiliation",
        key_of(data["affiliate"]["id"], "Affiliation"),
        key_of(family.id, "Family"),
        key_of(centre.setting_id, "Setting"),
    )


async def _revoke_affiliation(api: Api, world: World, trail: Trail) -> Expected:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    partner = await fresh_setting(api, world)
    data = await api.ok(
        AFFILIATE,
        {"input": {"familyId": family.id, "settingId": partner, "consentGivenBy": "Alex", "consentDate": "2026-11-03"}},
        centre.manager,
    )
    await trail.begin()
    await api.ok(REVOKE, {"id": data["affiliate"]["id"]}, centre.manager)
    return Expected(
        centre.manager,
        "Affiliation",
        key_of(data["affiliate"]["id"], "Affiliation"),
        key_of(family.id, "Family"),
        key_of(centre.setting_id, "Setting"),
    )


async def _start_plan(api: Api, world: World, trail: Trail) -> Expected:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    await trail.begin()
    await api.ok(
        START_PLAN,
        {"input": {"childId": family.child_id, "startDate": "2026-10-01", "category": "NEGLECT"}},
        centre.manager,
    )
    return Expected(  # recorded against the child, so the child's history shows it
        centre.manager,
        "Child",
        key_of(family.child_id, "Child"),
        key_of(family.id, "Family"),
        key_of(centre.setting_id, "Setting"),
    )


async def _end_plan(api: Api, world: World, trail: Trail) -> Expected:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    data = await api.ok(
        START_PLAN,
        {"input": {"childId": family.child_id, "startDate": "2026-10-01", "category": "NEGLECT"}},
        centre.manager,
    )
    plan_id = data["startChildProtectionPlan"]["id"]
    await trail.begin()
    await api.ok(END_PLAN, {"id": plan_id, "d": "2026-10-20"}, centre.manager)
    return Expected(
        centre.manager,
        "Child",
        key_of(family.child_id, "Child"),
        key_of(family.id, "Family"),
        key_of(centre.setting_id, "Setting"),
    )


async def _create_setting(api: Api, world: World, trail: Trail) -> Expected:
    await trail.begin()
    setting_id = await fresh_setting(api, world)
    key = key_of(setting_id, "Setting")
    return Expected(world.admin_token, "Setting", key, None, key)


async def _create_user(api: Api, world: World, trail: Trail) -> Expected:
    await trail.begin()
    data = await api.ok(
        "mutation($input: UserInput!) { createUser(input: $input) { id } }",
        {
            "input": {
                "username": f"audited-{unique_name().lower()}",
                "displayName": "Audited User",
                "password": "correct horse battery staple",
                "crbCheckedOn": "2026-01-05",
                "dataProtectionTrainedOn": "2026-01-06",
                # A role one administrator may give alone (authz/duties.py).
                "roles": [{"role": "ADMIN_OFFICER", "settingId": world.settings["A"]}],
            }
        },
        world.admin_token,
    )
    return Expected(world.admin_token, "User", key_of(data["createUser"]["id"], "User"), None, None)


WRITES: dict[str, Scenario] = {
    "registerFamily": _register_family,
    "updateFamily": _update_family,
    "addNote": _add_note,
    "affiliate": _affiliate,
    "revokeAffiliation": _revoke_affiliation,
    "startChildProtectionPlan": _start_plan,
    "endChildProtectionPlan": _end_plan,
    "createSetting": _create_setting,
    "createUser": _create_user,
}


@pytest.mark.parametrize("write", WRITES, ids=lambda w: f"{w}-appends-an-audit-event")
async def test_every_successful_write_appends_an_audit_event(api: Api, world: World, app: Any, write: str) -> None:
    trail = Trail(app)
    expected = await WRITES[write](api, world, trail)
    finished = utcnow()
    events = await trail.since()
    assert events, "no audit event"
    assert {event.user_id for event in events} == {await user_key(api, expected.token)}
    assert trail.started is not None and all(trail.started <= event.at <= finished for event in events)
    assert all(event.action for event in events)
    assert {event.family_id for event in events} == {expected.family_id}
    naming = [event for event in events if expected.names(event)]
    assert naming, [(event.record_type, event.record_id) for event in events]
    assert {event.setting_id for event in naming} == {expected.setting_id}


async def test_update_family_records_before_and_after_of_the_changed_fields_only(
    api: Api, world: World, app: Any
) -> None:
    centre = await fresh_centre(api, world)
    surname = unique_name()
    family = await centre.family(api, surname)
    trail = Trail(app)
    await trail.begin()
    change = {
        "generalNote": "Moved house",
        "address": {"line1": "2 Mill Lane", "town": "Wakefield", "postcode": "LS1 4AP"},
    }
    await api.ok(UPDATE, {"id": family.id, "v": 1, "input": change}, centre.manager)
    events = await trail.since()
    assert {(event.record_type, event.record_id) for event in events} == {("Family", key_of(family.id, "Family"))}
    assert set().union(*(changed_pairs(event.changes) for event in events)) == {
        (f"General note of {surname}", "Moved house"),
        ("1 Station Road", "2 Mill Lane"),
        ("WF1 1AA", "LS1 4AP"),
    }


@pytest.mark.parametrize("action", ["login", "logout"], ids=lambda a: f"{a}-is-audited")
async def test_login_and_logout_are_audited(api: Api, world: World, app: Any, action: str) -> None:
    token = await fresh_user(api, world, "MANAGER", world.settings["A"])
    me = (await api.ok("{ me { id username } }", token=token))["me"]
    username, user_id = me["username"], key_of(me["id"], "User")
    trail = Trail(app)
    await trail.begin()
    if action == "login":
        await api.login(username, PASSWORD)
    else:
        await api.ok("mutation { logout }", token=token)
    [event] = await trail.since()
    # The caller of login is not yet anyone: the event names the user as its record.
    assert (event.record_type, event.record_id) == ("User", user_id)
    assert event.user_id in (None, event.record_id)


@pytest.mark.parametrize(
    "subject", ["family", "carer", "child"], ids=lambda s: f"reading-{s}-confidentialNotes-is-audited"
)
async def test_reading_confidential_notes_appends_a_read_event(api: Api, world: World, app: Any, subject: str) -> None:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    await api.ok(
        ADD_NOTE, {"input": {"subjectId": family.id, "kind": "CONFIDENTIAL", "text": "Sensitive"}}, centre.manager
    )
    selection = {
        "family": "confidentialNotes { text }",
        "carer": "carers { confidentialNotes { text } }",
        "child": "children { confidentialNotes { text } }",
    }[subject]
    trail = Trail(app)
    await trail.begin()
    await api.ok(f"query($id: ID!) {{ family(id: $id) {{ id {selection} }} }}", {"id": family.id}, centre.manager)
    events = await trail.since()
    assert len(events) == 1
    [event] = events
    assert event.user_id == await user_key(api, centre.manager)
    assert event.family_id == key_of(family.id, "Family")
    assert event.record_type == subject.title()
    expected_record = {"family": family.id, "carer": family.carer_id, "child": family.child_id}[subject]
    assert event.record_id == key_of(expected_record, subject.title())


async def test_reading_other_fields_appends_nothing(api: Api, world: World, app: Any) -> None:
    trail = Trail(app)
    await trail.begin()
    await api.ok(
        "query($id: ID!) { family(id: $id) { id address { postcode } generalNote notes { text } } }",
        {"id": world.families["own"].id},
        world.tokens["MANAGER"],
    )
    assert await trail.since() == []


async def test_reading_the_child_protection_list_appends_a_read_event(api: Api, world: World, app: Any) -> None:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    await api.ok(
        START_PLAN,
        {"input": {"childId": family.child_id, "startDate": "2026-10-01", "category": "NEGLECT"}},
        centre.manager,
    )
    trail = Trail(app)
    await trail.begin()
    data = await api.ok(
        "query($s: ID!) { childProtectionList(settingId: $s) { id } }", {"s": centre.setting_id}, centre.manager
    )
    assert [child["id"] for child in data["childProtectionList"]] == [family.child_id]
    [event] = await trail.since()
    assert event.user_id == await user_key(api, centre.manager)
    assert event.setting_id == key_of(centre.setting_id, "Setting")


async def test_a_plan_shown_in_a_childs_history_is_an_audited_read_once_per_request(
    api: Api, world: World, app: Any
) -> None:
    """Child.history shows a plan's category and dates to plan readers: the read is audited,
    once for the request whatever the number of fields that carried the plan."""
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    value = {"childId": family.child_id, "startDate": "2026-10-01", "category": "NEGLECT"}
    await api.ok(START_PLAN, {"input": value}, centre.manager)
    history = "history { category changes { after } }"
    for selection in (history, f"childProtectionPlan {{ category }} childProtectionPlans {{ startDate }} {history}"):
        trail = Trail(app)
        await trail.begin()
        query = f"query($id: ID!) {{ family(id: $id) {{ children {{ {selection} }} }} }}"
        [child] = (await api.ok(query, {"id": family.id}, centre.manager))["family"]["children"]
        assert any(entry["category"] == "CP_PLAN" for entry in child["history"])
        [event] = await trail.since()
        assert (event.action, event.record_type, event.record_id) == (
            "cp_plan.read",
            "Child",
            key_of(family.child_id, "Child"),
        )
        assert (event.user_id, event.category) == (await user_key(api, centre.manager), "CP_PLAN")


async def test_confidential_entries_shown_in_a_history_are_an_audited_read(api: Api, world: World, app: Any) -> None:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    await api.ok(ADD_NOTE, {"input": {"subjectId": family.id, "kind": "CONFIDENTIAL", "text": "Hush"}}, centre.manager)
    trail = Trail(app)
    await trail.begin()
    data = await api.ok(
        "query($id: ID!) { family(id: $id) { history { category } } }", {"id": family.id}, centre.manager
    )
    assert "CONFIDENTIAL" in {entry["category"] for entry in data["family"]["history"]}
    [event] = await trail.since()
    assert (event.action, event.record_type, event.category) == ("confidential_notes.read", "Family", "CONFIDENTIAL")
    # The head of centre sees no confidential entry, and no read is recorded.
    await trail.begin()
    data = await api.ok(
        "query($id: ID!) { family(id: $id) { history { category } } }", {"id": family.id}, centre.head_of_centre
    )
    assert "CONFIDENTIAL" not in {entry["category"] for entry in data["family"]["history"]}
    assert await trail.since() == []


async def test_reads_stay_in_the_audit_log_and_out_of_the_records_history(api: Api, world: World, app: Any) -> None:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    value = {"childId": family.child_id, "startDate": "2026-10-01", "category": "NEGLECT"}
    await api.ok(START_PLAN, {"input": value}, centre.manager)
    for subject in (family.id, family.child_id):
        await api.ok(
            ADD_NOTE, {"input": {"subjectId": subject, "kind": "CONFIDENTIAL", "text": "Hush"}}, centre.manager
        )
    reads = """query($id: ID!) { family(id: $id) { confidentialNotes { text } history { action }
      children { confidentialNotes { text } childProtectionPlan { category } history { action } } } }"""
    for _ in range(3):
        data = (await api.ok(reads, {"id": family.id}, centre.manager))["family"]
    actions = [entry["action"] for entry in data["history"] + data["children"][0]["history"]]
    assert actions and not [action for action in actions if action.endswith(".read")], actions
    trail = Trail(app)
    await trail.begin()
    await api.ok(reads, {"id": family.id}, centre.manager)
    assert sorted(event.action for event in await trail.since()) == [
        "confidential_notes.read",
        "confidential_notes.read",
        "cp_plan.read",
    ]


# --- refused writes leave no trace ---------------------------------------------------------------


async def _forbidden(api: Api, world: World) -> Callable[[], Awaitable[dict[str, Any]]]:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    return lambda: api.post(UPDATE, {"id": family.id, "v": 1, "input": {"generalNote": "No"}}, centre.head_of_centre)


async def _conflict(api: Api, world: World) -> Callable[[], Awaitable[dict[str, Any]]]:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    await api.ok(UPDATE, {"id": family.id, "v": 1, "input": {"generalNote": "First"}}, centre.manager)
    return lambda: api.post(UPDATE, {"id": family.id, "v": 1, "input": {"generalNote": "Stale"}}, centre.manager)


async def _bad_input(api: Api, world: World) -> Callable[[], Awaitable[dict[str, Any]]]:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    return lambda: api.post(
        ADD_NOTE, {"input": {"subjectId": family.id, "kind": "HISTORY", "text": "  "}}, centre.manager
    )


async def _forbidden_affiliation(api: Api, world: World) -> Callable[[], Awaitable[dict[str, Any]]]:
    home, outsider = await fresh_centre(api, world), await fresh_centre(api, world)
    family = await home.family(api)
    return lambda: api.post(
        AFFILIATE,
        {
            "input": {
                "familyId": family.id,
                "settingId": outsider.setting_id,
                "consentGivenBy": "Alex",
                "consentDate": "2026-11-03",
            }
        },
        outsider.manager,
    )


REFUSED: dict[str, tuple[Callable[[Api, World], Awaitable[Callable[[], Awaitable[dict[str, Any]]]]], str]] = {
    "forbidden-update": (_forbidden, "FORBIDDEN"),
    "stale-update": (_conflict, "CONFLICT"),
    "empty-note": (_bad_input, "BAD_USER_INPUT"),
    "affiliation-from-outside-the-scope": (_forbidden_affiliation, "FORBIDDEN"),
}


@pytest.mark.parametrize("case", REFUSED, ids=lambda c: f"{c}-appends-no-change")
async def test_a_refused_write_appends_no_change(api: Api, world: World, app: Any, case: str) -> None:
    prepare, code = REFUSED[case]
    attempt = await prepare(api, world)
    trail = Trail(app)
    await trail.begin()
    body = await attempt()
    assert codes(body) == [code]
    # only the denial itself is audited (issue 5: denied mutations are audit events)
    expected = ["mutation.denied"] if code == "FORBIDDEN" else []
    assert [event.action for event in await trail.since()] == expected


# --- append-only in the database itself ----------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET action = 'tampered' WHERE id = :id", "DELETE FROM audit_events WHERE id = :id"],
    ids=["audit_events-refuses-UPDATE", "audit_events-refuses-DELETE"],
)
async def test_the_database_refuses_to_change_the_audit_trail(api: Api, world: World, app: Any, statement: str) -> None:
    await fresh_setting(api, world)  # at least one event to tamper with
    event_id = await last_audit_id(app)
    async with app.state.sessionmaker() as session:
        before = (await session.execute(select(AuditEvent.action).where(AuditEvent.id == event_id))).scalar_one()
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement), {"id": event_id})
            await session.commit()
        await session.rollback()
    async with app.state.sessionmaker() as session:
        after = (await session.execute(select(AuditEvent.action).where(AuditEvent.id == event_id))).scalar_one()
    assert after == before != "tampered"


async def test_a_refused_mutation_is_audited_once_a_minute_however_often_it_is_tried(
    api: Api, world: World, app: Any
) -> None:
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    attempt = 'mutation($id: ID!) { updateFamily(id: $id, expectedVersion: 1, input: {generalNote: "x"}) { id } }'
    trail = Trail(app)
    await trail.begin()
    for _ in range(5):  # a head of centre may read, not write, secondary data
        body = await api.post(attempt, {"id": family.id}, centre.head_of_centre)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    events = [event for event in await trail.since() if event.action == "mutation.denied"]
    assert len(events) <= 2  # not five: a flood of refusals is one event a minute (2 across a minute's edge)
    assert events[0].changes is not None and events[0].changes["mutation"] == "updateFamily"
    assert events[0].user_id == await user_key(api, centre.head_of_centre)


async def test_each_refused_mutation_of_one_request_is_audited(api: Api, world: World, app: Any) -> None:
    """Reads of one record are audited once a request; events that name no record are all kept."""
    centre = await fresh_centre(api, world)
    family = await centre.family(api)
    attempt = """mutation($id: ID!) { setGeneralNote(subjectId: $id, text: "x")
      updateFamily(id: $id, expectedVersion: 1, input: {generalNote: "x"}) { id } }"""
    trail = Trail(app)
    await trail.begin()
    body = await api.post(attempt, {"id": family.id}, centre.head_of_centre)
    assert {error["extensions"]["code"] for error in body["errors"]} == {"FORBIDDEN"}
    denied = [event.changes for event in await trail.since() if event.action == "mutation.denied"]
    assert sorted((changes or {})["mutation"] for changes in denied) == ["setGeneralNote", "updateFamily"]
