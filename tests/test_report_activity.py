"""Attendance and contact reports (API.md "Reports"; standards 13, 5.5): attendances, unique
attenders and contacts by outcome type, event type, month and age band, counted only where the
family's scope holds the setting (an affiliation revoked takes its attendance out), on the
report tests' own database."""

from typing import Any

from tests import test_report
from tests.conftest import Api, World, register_family
from tests.factories import Centre, fresh_centre, unique_name
from tests.test_activity import RECORD, RECORD_CONTACT, create, entries, sessions_on
from tests.test_report import by_key, child, run

# The report tests' own database and world (reports count the whole authority).
database_url, config, app, api, world = (
    test_report.database_url,
    test_report.config,
    test_report.app,
    test_report.api,
    test_report.world,
)

AFFILIATE = "mutation($input: AffiliationInput!) { affiliate(input: $input) { id } }"
REVOKE = "mutation($id: ID!) { revokeAffiliation(id: $id) { id } }"


async def affiliated_then_revoked(api: Api, world: World, visited: Centre) -> tuple[Any, str]:
    """A family of another centre affiliated to `visited`; returns it and its affiliation's id."""
    home = await fresh_centre(api, world)
    family = await home.family(api)
    consent = {
        "familyId": family.id,
        "settingId": visited.setting_id,
        "consentGivenBy": "Alex",
        "consentDate": "2026-10-01",
    }
    affiliation = (await api.ok(AFFILIATE, {"input": consent}, home.manager))["affiliate"]["id"]
    return (family, home.manager), affiliation


async def test_attendances_and_attenders_by_outcome_type_month_and_age_band(api: Api, world: World) -> None:
    """Five families (a carer and a child aged 2 each) at a school-readiness group in October
    (all ten) and November (four children, a fifth marked absent), and a parenting course in
    November (four carers). By hand: attendances 10 + 4 + 4 = 18; unique attenders 10."""
    centre = await fresh_centre(api, world)
    fams = [await centre.family(api) for _ in range(5)]
    group = await create(api, centre.manager, centre.setting_id, startDate="2026-10-05")
    course = await create(
        api, centre.manager, centre.setting_id, startDate="2026-11-09", outcomeType="PARENTING", eventType=None
    )
    october, november = await sessions_on(api, centre.manager, group["id"], "2026-10-05", "2026-11-02")
    (evening,) = await sessions_on(api, centre.manager, course["id"], "2026-11-09")
    everyone = entries(*(f.carer_id for f in fams), *(f.child_id for f in fams))
    await api.ok(RECORD, {"s": october["id"], "e": everyone}, centre.manager)
    absent = entries(fams[4].child_id, attended=False)
    await api.ok(RECORD, {"s": november["id"], "e": entries(*(f.child_id for f in fams[:4])) + absent}, centre.manager)
    await api.ok(RECORD, {"s": evening["id"], "e": entries(*(f.carer_id for f in fams[:4]))}, centre.manager)
    # An affiliated family's child attends too, then the affiliation is revoked: it counts nowhere.
    (stranger, home_manager), affiliation = await affiliated_then_revoked(api, world, centre)
    await api.ok(RECORD, {"s": october["id"], "e": entries(stranger.child_id)}, centre.manager)
    await api.ok(REVOKE, {"id": affiliation}, home_manager)

    token, mine = world.tokens["LA_REPORTING"], {"settingId": centre.setting_id}
    outcome = await run(api, token, measure="ATTENDANCES", by=["OUTCOME_TYPE"], **mine)
    assert by_key(outcome) == {("SCHOOL_READINESS",): "14", ("PARENTING",): "4"}
    assert outcome["total"]["value"] == 18
    event = by_key(await run(api, token, measure="ATTENDANCES", by=["EVENT_TYPE"], **mine))
    assert event == {("STAY_AND_PLAY",): "14", ("UNKNOWN",): "4"}
    months = await run(api, token, measure="ATTENDANCES", by=["MONTH"], **mine)
    assert by_key(months) == {("2026-10",): "10", ("2026-11",): "8", ("2026-12",): "0"}
    bands = by_key(await run(api, token, measure="ATTENDANCES", by=["AGE_BAND"], **mine))
    assert bands[("2-3",)] == "9" and bands[("adult",)] == "9"
    # Unique attenders: a person once in a total, in each month and outcome type they attended.
    attenders = await run(api, token, measure="ATTENDERS", by=["OUTCOME_TYPE"], **mine)
    assert by_key(attenders) == {("SCHOOL_READINESS",): "10", ("PARENTING",): "4"}
    assert attenders["total"]["display"] == "10"
    monthly = await run(api, token, measure="ATTENDERS", by=["MONTH"], **mine)
    assert by_key(monthly) == {("2026-10",): "10", ("2026-11",): "8", ("2026-12",): "0"}
    assert monthly["total"]["display"] == "10"
    november_only = await run(api, token, measure="ATTENDERS", by=[], period="MONTH", periodStart="2026-11-01", **mine)
    assert november_only["total"]["display"] == "8"
    # The centre's own manager sees the same numbers for its setting.
    own = await run(api, centre.manager, measure="ATTENDANCES", by=["OUTCOME_TYPE"])
    assert own["total"]["value"] == 18


async def test_contacts_count_where_the_familys_scope_holds_the_setting(api: Api, world: World) -> None:
    """Four home visits and two phone calls from the centre to its families, and one to an
    affiliated family whose affiliation is then revoked: 6 contacts, by month 4 and 2 (October
    hides as the complement of November's 2)."""
    centre = await fresh_centre(api, world)
    fams = [await centre.family(api) for _ in range(4)]
    for family, day in zip(fams, ["2026-10-06", "2026-10-13", "2026-10-20", "2026-10-27"], strict=True):
        visit = {"familyId": family.id, "kind": "HOME_VISIT", "date": day, "durationMinutes": 30,
                 "summary": "Visit", "peopleSeen": [family.carer_id]}  # fmt: skip
        await api.ok(RECORD_CONTACT, {"input": visit}, centre.manager)
    for family in fams[:2]:
        call = {"familyId": family.id, "kind": "PHONE", "date": "2026-11-03", "peopleSeen": []}
        await api.ok(RECORD_CONTACT, {"input": call}, centre.manager)
    (stranger, home_manager), affiliation = await affiliated_then_revoked(api, world, centre)
    visit = {"familyId": stranger.id, "kind": "HOME_VISIT", "date": "2026-11-04", "peopleSeen": []}
    await api.ok(RECORD_CONTACT, {"input": visit}, centre.manager)
    await api.ok(REVOKE, {"id": affiliation}, home_manager)

    token = world.tokens["LA_REPORTING"]
    months = await run(api, token, measure="CONTACTS", by=["MONTH"], settingId=centre.setting_id)
    assert by_key(months) == {("2026-10",): "*", ("2026-11",): "<4", ("2026-12",): "0"}
    assert months["total"]["value"] == 6
    everywhere = await run(api, token, measure="CONTACTS", by=["SETTING"])
    assert everywhere["total"]["value"] == 6  # the revoked family's visit counts in no setting


async def test_outcome_and_event_types_describe_attendance_only(api: Api, world: World) -> None:
    for measure in ["REGISTERED_FAMILIES", "CONTACTS", "NEW_REGISTRATIONS"]:
        body = await api.post(
            "query($i: ReportInput!) { report(input: $i) { measure } }",
            {"i": {"measure": measure, "by": ["OUTCOME_TYPE"], "period": "QUARTER", "periodStart": "2026-10-01"}},
            world.tokens["LA_REPORTING"],
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", measure


async def test_a_family_registered_elsewhere_is_not_attended_by_a_setting_outside_its_scope(
    api: Api, world: World
) -> None:
    """The register refuses it (AFFILIATION_REQUIRED): no attendance outside a family's scope
    can come into a report."""
    centre = await fresh_centre(api, world)
    other = await register_family(api, world.manager_b, world.settings["B"], unique_name())
    group = await create(api, centre.manager, centre.setting_id, startDate="2026-10-05")
    (session,) = await sessions_on(api, centre.manager, group["id"], "2026-10-05")
    body = await api.post(RECORD, {"s": session["id"], "e": entries(other.child_id)}, centre.manager)
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    report = await run(api, world.tokens["LA_REPORTING"], measure="ATTENDERS", by=[], settingId=centre.setting_id)
    assert report["total"]["display"] == "0"


async def test_attendances_count_a_childs_age_at_the_end_of_the_month_attended(api: Api, world: World) -> None:
    """Four children born 15 November 2024 attend on 5 October 2026: 1 at October's end, 2 at
    the quarter's. October's attendances by age are the same in October's report and in the
    quarter's, so the two cannot be told apart into the children who had a birthday between."""
    centre = await fresh_centre(api, world)
    fams = [await centre.family(api, children=[child("2024-11-15")]) for _ in range(4)]
    group = await create(api, centre.manager, centre.setting_id, startDate="2026-10-05")
    (october,) = await sessions_on(api, centre.manager, group["id"], "2026-10-05")
    await api.ok(RECORD, {"s": october["id"], "e": entries(*(f.child_id for f in fams))}, centre.manager)
    token, mine = world.tokens["LA_REPORTING"], {"settingId": centre.setting_id}
    quarter = by_key(await run(api, token, measure="ATTENDANCES", by=["AGE_BAND"], **mine))
    month = by_key(await run(api, token, measure="ATTENDANCES", by=["AGE_BAND"], period="MONTH", **mine))
    assert quarter == month
    assert quarter[("1-2",)] == "4" and quarter[("2-3",)] == "0"
    by_month = by_key(await run(api, token, measure="ATTENDANCES", by=["MONTH", "AGE_BAND"], **mine))
    assert by_month[("2026-10", "1-2")] == "4"
