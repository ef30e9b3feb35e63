"""Concurrent writers (API.md: "every version-checked write compares and increments in one
statement"): writers racing on one record through the app at once, on the database's own
connection pool. Writers holding the same version: exactly one succeeds per version, the others
get CONFLICT. Writers holding none all succeed, each incrementing the version once. Either
way the record's history replays, change by change, to the value stored."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import literal, select

from models import Setting
from resolvers.reader import Reader
from tests.conftest import Api, World
from tests.factories import Centre, audit_events_since, fresh_centre, fresh_setting, last_audit_id
from tests.standards_support import add_lookup

WRITERS = 8

UPDATE = """mutation($id: ID!, $v: Int!, $text: String) {
  updateFamily(id: $id, expectedVersion: $v, input: {generalNote: $text}) { version } }"""
SET_NOTE = """mutation($s: ID!, $text: String, $v: Int) {
  setGeneralNote(subjectId: $s, text: $text, expectedVersion: $v) }"""
SET_WARNINGS = """mutation($s: ID!, $c: [String!]!, $v: Int) {
  setWarnings(subjectId: $s, codes: $c, expectedVersion: $v) }"""
STATE = """query($id: ID!) { family(id: $id) {
  version generalNote warnings history { action changes { field before after } }
  carers { generalNote warnings history { action changes { field before after } } } } }"""
WARNING_SETS = [["DANGEROUS_DOG"], ["DO_NOT_VISIT_ALONE"], ["DANGEROUS_DOG", "DO_NOT_VISIT_ALONE"], []]


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


async def state(api: Api, centre: Centre, family_id: str) -> dict[str, Any]:
    return (await api.ok(STATE, {"id": family_id}, centre.manager))["family"]  # type: ignore[no-any-return]


def replayed(record: dict[str, Any], field: str, initial: str | None) -> str | None:
    """The field's value after replaying the record's whole history from `initial`: each change must
    start from the value the previous one left."""
    value = initial
    for entry in record["history"]:
        for change in entry["changes"]:
            if change["field"] == field:
                assert change["before"] == value, f"{field}: history says {change['before']!r}, was {value!r}"
                value = change["after"]
    return value


def error_code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    return None if not errors else str(errors[0]["extensions"]["code"])


async def race(api: Api, token: str, requests: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Send every request at once; the app serves them concurrently, each on its own connection."""
    return await asyncio.gather(*(api.post(query, variables, token) for query, variables in requests))


Write = Callable[[str, int, int], tuple[str, dict[str, Any]]]
VERSIONED_WRITES: dict[str, Write] = {
    "updateFamily": lambda family, version, n: (UPDATE, {"id": family, "v": version, "text": f"Note {n}"}),
    "setGeneralNote": lambda family, version, n: (SET_NOTE, {"s": family, "v": version, "text": f"Note {n}"}),
}


@pytest.mark.parametrize("mutation", sorted(VERSIONED_WRITES))
async def test_writers_holding_the_same_version_succeed_once_per_version(
    api: Api, centre: Centre, mutation: str
) -> None:
    family = await centre.family(api)
    start = await state(api, centre, family.id)
    write = VERSIONED_WRITES[mutation]
    pending, version, rounds = list(range(WRITERS)), start["version"], 0
    while pending:  # each round every writer still waiting tries the version it read
        rounds += 1
        assert rounds <= WRITERS, "a round passed with no writer succeeding"
        bodies = await race(api, centre.manager, [write(family.id, version, n) for n in pending])
        winners = [n for n, body in zip(pending, bodies, strict=True) if error_code(body) is None]
        assert len(winners) == 1, bodies
        assert {error_code(body) for body in bodies} <= {None, "CONFLICT"}
        for body in bodies:
            if error_code(body) == "CONFLICT":
                assert body["errors"][0]["extensions"]["field"] == "expectedVersion"
        pending.remove(winners[0])
        version += 1
    end = await state(api, centre, family.id)
    assert end["version"] == start["version"] + WRITERS
    assert replayed(end, "generalNote", None) == end["generalNote"]


async def test_writers_without_a_version_all_succeed_and_each_increments_it(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    start = await state(api, centre, family.id)
    bodies = await race(
        api, centre.manager, [(SET_NOTE, {"s": family.id, "text": f"Note {n}"}) for n in range(WRITERS)]
    )
    assert [error_code(body) for body in bodies] == [None] * WRITERS
    end = await state(api, centre, family.id)
    assert end["version"] == start["version"] + WRITERS
    assert replayed(end, "generalNote", None) == end["generalNote"]


@pytest.mark.parametrize("subject", ["family", "carer"])
async def test_concurrent_code_lists_leave_a_history_that_replays(api: Api, centre: Centre, subject: str) -> None:
    family = await centre.family(api)
    subject_id = family.id if subject == "family" else family.carer_id
    start = await state(api, centre, family.id)
    requests = [(SET_WARNINGS, {"s": subject_id, "c": WARNING_SETS[n % len(WARNING_SETS)]}) for n in range(WRITERS)]
    bodies = await race(api, centre.manager, requests)
    assert [error_code(body) for body in bodies] == [None] * WRITERS
    end = await state(api, centre, family.id)
    record = end if subject == "family" else end["carers"][0]
    assert replayed(record, "warnings", "") == ", ".join(record["warnings"])
    if subject == "family":
        assert end["version"] == start["version"] + WRITERS


async def test_a_carer_carries_no_version_to_expect(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    body = await api.post(SET_NOTE, {"s": family.carer_id, "text": "New", "v": 1}, centre.manager)
    assert error_code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["field"] == "expectedVersion"


LOG = """mutation($s: ID!, $k: FormKind!) {
  logFormReceived(input: {settingId: $s, kind: $k, receivedOn: "2026-10-01"}) { id } }"""
MARK_ENTERED = "mutation($id: ID!) { markFormEntered(id: $id) { id } }"
REGISTER = "mutation($input: RegisterFamilyInput!) { registerFamily(input: $input) { id } }"


async def logged_form(api: Api, centre: Centre, kind: str) -> str:
    data = await api.ok(LOG, {"s": centre.setting_id, "k": kind}, centre.manager)
    return data["logFormReceived"]["id"]  # type: ignore[no-any-return]


async def test_an_item_is_marked_entered_by_one_writer_only(api: Api, centre: Centre) -> None:
    form_id = await logged_form(api, centre, "HOME_VISIT")
    bodies = await race(api, centre.manager, [(MARK_ENTERED, {"id": form_id})] * WRITERS)
    assert sorted(map(str, (error_code(body) for body in bodies))) == ["BAD_USER_INPUT"] * (WRITERS - 1) + ["None"]


async def test_a_logged_form_registers_one_family_only(api: Api, centre: Centre) -> None:
    form_id = await logged_form(api, centre, "INITIAL_CONTACT")
    registration = {
        "settingId": centre.setting_id,
        "source": "INITIAL_CONTACT",
        "receivedOn": "2026-10-01",
        "formId": form_id,
        "children": [{"firstName": "Sam", "lastName": "Racer"}],
    }
    bodies = await race(api, centre.manager, [(REGISTER, {"input": registration})] * WRITERS)
    assert sorted(map(str, (error_code(body) for body in bodies))) == ["BAD_USER_INPUT"] * (WRITERS - 1) + ["None"]
    count = await api.ok(
        "query($s: ID!) { families(settingId: $s) { totalCount } }", {"s": centre.setting_id}, centre.manager
    )
    assert count["families"]["totalCount"] == 1


END_PLAN = "mutation($id: ID!, $d: Date!) { endChildProtectionPlan(id: $id, endDate: $d) { endDate } }"
START_PLAN = """mutation($c: ID!) {
  startChildProtectionPlan(input: {childId: $c, startDate: "2026-01-05", category: NEGLECT}) { id } }"""
REVOKE = "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }"
AFFILIATE = """mutation($f: ID!, $s: ID!) {
  affiliate(input: {familyId: $f, settingId: $s, consentGivenBy: "Alex", consentDate: "2026-11-03"}) { id } }"""
UPDATE_LOOKUP = "mutation($input: LookupValueUpdate!) { updateLookupValue(input: $input) { label } }"


def one_success(bodies: list[dict[str, Any]], refusal: str) -> None:
    codes = sorted(str(error_code(body)) for body in bodies)
    assert codes == [refusal] * (len(bodies) - 1) + ["None"], bodies


async def test_a_plan_is_ended_by_one_writer_only(api: Api, app: Any, centre: Centre) -> None:
    family = await centre.family(api)
    plan = (await api.ok(START_PLAN, {"c": family.child_id}, centre.manager))["startChildProtectionPlan"]["id"]
    mark = await last_audit_id(app)
    dates = [f"2026-02-{day:02d}" for day in range(1, WRITERS + 1)]
    bodies = await race(api, centre.manager, [(END_PLAN, {"id": plan, "d": day}) for day in dates])
    one_success(bodies, "BAD_USER_INPUT")
    [winner] = [body["data"]["endChildProtectionPlan"]["endDate"] for body in bodies if error_code(body) is None]
    [event] = [event for event in await audit_events_since(app, mark) if event.action == "cp_plan.end"]
    assert event.changes == {"childProtectionPlan.endDate": {"before": None, "after": winner}}


async def test_an_affiliation_is_revoked_by_one_writer_only(api: Api, app: Any, world: World, centre: Centre) -> None:
    family = await centre.family(api)
    other = await fresh_setting(api, world)
    affiliation = (await api.ok(AFFILIATE, {"f": family.id, "s": other}, centre.manager))["affiliate"]["id"]
    mark = await last_audit_id(app)
    one_success(await race(api, centre.manager, [(REVOKE, {"id": affiliation})] * WRITERS), "BAD_USER_INPUT")
    assert [event.action for event in await audit_events_since(app, mark)] == ["affiliation.revoke"]


async def test_concurrent_relabels_of_a_lookup_value_leave_a_trail_that_replays(
    api: Api, app: Any, world: World
) -> None:
    value = await add_lookup(api, world, "WARNING")
    mark = await last_audit_id(app)
    requests = [
        (UPDATE_LOOKUP, {"input": {"list": "WARNING", "code": value["code"], "label": f"Label {n}"}})
        for n in range(WRITERS)
    ]
    bodies = await race(api, world.admin_token, requests)
    assert [error_code(body) for body in bodies] == [None] * WRITERS
    label = value["label"]
    for event in await audit_events_since(app, mark):
        assert (event.action, (event.changes or {})["label"]["before"]) == ("lookup.update", label)
        label = (event.changes or {})["label"]["after"]
    stored = await api.ok("{ lookups(list: WARNING, includeInactive: true) { code label } }", token=world.admin_token)
    assert {v["code"]: v["label"] for v in stored["lookups"]}[value["code"]] == label


async def test_a_request_session_takes_concurrent_reads_in_turn(app: Any) -> None:
    """A query's root fields and data loaders read one session at once (models/db.py
    SerialSession): each read waits its turn, whether it goes through the Reader or not. (On a
    plain AsyncSession the same reads fail: "concurrent operations are not permitted".)"""
    statements = [select(literal(n)) for n in range(4)]
    async with app.state.sessionmaker() as session:
        reader = Reader(session)
        answers = await asyncio.gather(
            session.scalar(statements[0]),
            session.scalars(statements[1]),
            session.execute(statements[2]),
            reader.rows(statements[3]),
            session.get(Setting, -1),
        )
    assert [answers[0], answers[1].one(), answers[2].scalar_one(), answers[3][0][0], answers[4]] == [0, 1, 2, 3, None]
