"""Forms and deadlines (standards 5): the Initial Contact Form (5.1, with consent to further
contact) and the Referral Form (5.2), notice of changes of primary (5.3) and secondary (5.4)
data, registers and home-visit contact sheets (5.5). Each item records when it was received
and when it was entered; its deadline is counted in working days of England from receipt
(../shared/research/domain.md §6.1); each setting sees how promptly it entered what it received.

"Today" is wherever the suite runs: a late item is one received on a fixed past date whose
deadline is long gone, an on-time one is received today (its deadline is after today)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from models import Form
from resolvers.validation import today as uk_today
from tests.assertions import assert_bad_input, codes
from tests.conftest import Api, World
from tests.factories import Centre, fresh_centre, fresh_user, key_of, unique_name, user_key
from tests.standards_support import today

FORM_FIELDS = """id kind receivedOn enteredAt deadline late outstanding description consentToContact consentDate
                 referralType referrerName referrerOrganisation referralReason"""
REGISTER = f"""mutation($input: RegisterFamilyInput!) {{
  registerFamily(input: $input) {{ id version noFurtherContact forms {{ {FORM_FIELDS} }} }} }}"""
LOG = f"mutation($input: FormReceivedInput!) {{ logFormReceived(input: $input) {{ {FORM_FIELDS} }} }}"
RECORD_REFERRAL = f"""mutation($f: ID!, $d: Date!, $r: ReferralInput!, $form: ID) {{
  recordReferral(familyId: $f, receivedOn: $d, referral: $r, formId: $form) {{ {FORM_FIELDS} }} }}"""
FAMILY_FORMS = f"query($id: ID!) {{ family(id: $id) {{ version noFurtherContact forms {{ {FORM_FIELDS} }} }} }}"
UPDATE = """mutation($id: ID!, $v: Int!, $input: UpdateFamilyInput!) {
  updateFamily(id: $id, expectedVersion: $v, input: $input) { id version address { postcode } generalNote } }"""
TIMELINESS = """query($s: ID!, $from: Date!, $to: Date!) { timeliness(settingId: $s, from: $from, to: $to) {
  byKind { kind received entered enteredLate outstanding outstandingPastDeadline }
  byUser { userName entered enteredLate }
  lateItems { id kind receivedOn deadline outstanding enteredAt } } }"""
COUNT = "query($s: ID!) { families(settingId: $s) { totalCount } }"
KINDS = ["INITIAL_CONTACT", "REFERRAL", "PRIMARY_CHANGE", "SECONDARY_CHANGE", "REGISTER", "HOME_VISIT"]
LONG_AGO = "2026-10-01"  # a Thursday; 2 working days: Mon 2026-10-05, 5 working days: Thu 2026-10-08
PROFESSIONAL = {
    "referralType": "PROFESSIONAL",
    "reason": "SPEECH_LANGUAGE",
    "referrerName": "Dr Jane Okafor",
    "organisation": "Wakefield Health Visiting",
}


@pytest.fixture
async def centre(api: Api, world: World) -> Centre:
    return await fresh_centre(api, world)


def registration(setting_id: str, received_on: str, **extra: Any) -> dict[str, Any]:
    surname = unique_name()
    return {
        "input": {
            "settingId": setting_id,
            "source": "INITIAL_CONTACT",
            "receivedOn": received_on,
            "consentToContact": True,
            "address": {"line1": "1 Station Road", "town": "Wakefield", "postcode": "WF1 1AA"},
            "carers": [{"firstName": "Alex", "lastName": surname, "relationshipToChildren": "MOTHER"}],
            "children": [{"firstName": "Sam", "lastName": surname}],
            **extra,
        }
    }


async def register(api: Api, token: str, setting_id: str, received_on: str, **extra: Any) -> dict[str, Any]:
    return (await api.ok(REGISTER, registration(setting_id, received_on, **extra), token))["registerFamily"]  # type: ignore[no-any-return]


async def log(api: Api, token: str, setting_id: str, kind: str, received_on: str, **extra: Any) -> dict[str, Any]:
    value = {"settingId": setting_id, "kind": kind, "receivedOn": received_on, **extra}
    return (await api.ok(LOG, {"input": value}, token))["logFormReceived"]  # type: ignore[no-any-return]


async def forms_of(api: Api, token: str, family_id: str) -> list[dict[str, Any]]:
    return (await api.ok(FAMILY_FORMS, {"id": family_id}, token))["family"]["forms"]  # type: ignore[no-any-return]


async def timeliness(api: Api, token: str, setting_id: str, start: str, end: str) -> dict[str, Any]:
    return (await api.ok(TIMELINESS, {"s": setting_id, "from": start, "to": end}, token))["timeliness"]  # type: ignore[no-any-return]


async def received_count(api: Api, centre: Centre) -> int:
    report = await timeliness(api, centre.manager, centre.setting_id, "2000-01-01", today())
    return sum(kind["received"] for kind in report["byKind"])


async def family_count(api: Api, centre: Centre) -> int:
    return (await api.ok(COUNT, {"s": centre.setting_id}, centre.manager))["families"]["totalCount"]  # type: ignore[no-any-return]


def moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------------------------------------
# Deadlines in working days of England, through the API
# ---------------------------------------------------------------------------------------------

DEADLINES = [
    ("INITIAL_CONTACT", "2025-12-24", "2025-12-30"),  # Christmas, Boxing Day, a weekend
    ("REFERRAL", "2026-04-02", "2026-04-08"),  # Good Friday, Easter Monday
    ("PRIMARY_CHANGE", "2025-08-22", "2025-08-27"),  # late summer bank holiday
    ("SECONDARY_CHANGE", "2025-12-19", "2025-12-30"),  # 5 days across Christmas
    ("REGISTER", "2026-04-02", "2026-04-13"),  # 5 days across Easter
    ("HOME_VISIT", LONG_AGO, "2026-10-08"),  # 5 ordinary working days
]


@pytest.mark.parametrize(("kind", "received", "deadline"), DEADLINES, ids=[d[0] for d in DEADLINES])
async def test_an_item_received_is_outstanding_with_its_deadline_in_working_days(
    api: Api, centre: Centre, kind: str, received: str, deadline: str
) -> None:
    form = await log(api, centre.manager, centre.setting_id, kind, received, description="Post tray")
    assert {
        k: form[k] for k in ("kind", "receivedOn", "deadline", "outstanding", "late", "enteredAt", "description")
    } == {
        "kind": kind,
        "receivedOn": received,
        "deadline": deadline,
        "outstanding": True,
        "late": True,
        "enteredAt": None,
        "description": "Post tray",
    }


@pytest.mark.parametrize("kind", KINDS)
async def test_an_item_received_today_is_outstanding_but_not_late(api: Api, centre: Centre, kind: str) -> None:
    form = await log(api, centre.manager, centre.setting_id, kind, today())
    assert (form["outstanding"], form["late"], form["enteredAt"]) == (True, False, None)
    assert form["deadline"] > today()


@pytest.mark.parametrize("kind", ["INITIAL_CONTACT", "HOME_VISIT"])
async def test_an_item_received_in_the_future_is_refused_and_nothing_is_logged(
    api: Api, centre: Centre, kind: str
) -> None:
    body = await api.post(
        LOG, {"input": {"settingId": centre.setting_id, "kind": kind, "receivedOn": "2099-01-04"}}, centre.manager
    )
    assert_bad_input(body, "logFormReceived", "receivedOn")
    assert await received_count(api, centre) == 0


MARK_ENTERED = f"mutation($id: ID!) {{ markFormEntered(id: $id) {{ {FORM_FIELDS} }} }}"


@pytest.mark.parametrize("kind", ["PRIMARY_CHANGE", "SECONDARY_CHANGE", "REGISTER", "HOME_VISIT"])
async def test_an_item_whose_content_is_entered_elsewhere_is_marked_entered_once(
    api: Api, centre: Centre, kind: str
) -> None:
    logged = await log(api, centre.manager, centre.setting_id, kind, LONG_AGO)
    form = (await api.ok(MARK_ENTERED, {"id": logged["id"]}, centre.manager))["markFormEntered"]
    assert (form["outstanding"], form["late"], form["enteredAt"] is not None) == (False, True, True)
    assert_bad_input(await api.post(MARK_ENTERED, {"id": logged["id"]}, centre.manager), "markFormEntered", "id")


@pytest.mark.parametrize("kind", ["INITIAL_CONTACT", "REFERRAL"])
async def test_a_registration_or_referral_form_is_not_marked_entered_with_nothing_entered(
    api: Api, centre: Centre, kind: str
) -> None:
    """Its content is entered by registerFamily or recordReferral: closing it empty would make
    an unentered form count as entered on time."""
    day = today()  # once: midnight may pass during the test
    logged = await log(api, centre.manager, centre.setting_id, kind, day)
    body = await api.post(MARK_ENTERED, {"id": logged["id"]}, centre.manager)
    assert_bad_input(body, "markFormEntered", "id")
    report = await timeliness(api, centre.manager, centre.setting_id, day, day)
    assert next(k for k in report["byKind"] if k["kind"] == kind)["outstanding"] == 1


# ---------------------------------------------------------------------------------------------
# Registration enters an Initial Contact Form or a Referral Form
# ---------------------------------------------------------------------------------------------


async def test_registration_enters_its_initial_contact_form(api: Api, centre: Centre) -> None:
    start = now()
    family = await register(api, centre.manager, centre.setting_id, LONG_AGO)
    end = now()
    [form] = family["forms"]
    assert {k: form[k] for k in ("kind", "receivedOn", "deadline", "outstanding", "late", "consentToContact")} == {
        "kind": "INITIAL_CONTACT",
        "receivedOn": LONG_AGO,
        "deadline": "2026-10-05",
        "outstanding": False,
        "late": True,
        "consentToContact": True,
    }
    assert form["consentDate"] == LONG_AGO  # default: the day the form was received
    assert start <= moment(form["enteredAt"]) <= end
    assert await forms_of(api, centre.manager, family["id"]) == family["forms"]


async def test_a_registration_entered_on_the_day_of_receipt_is_on_time(api: Api, centre: Centre) -> None:
    day = today()
    [form] = (await register(api, centre.manager, centre.setting_id, day))["forms"]
    assert (form["kind"], form["receivedOn"], form["outstanding"], form["late"]) == (
        "INITIAL_CONTACT",
        day,
        False,
        False,
    )


async def test_registration_from_a_referral_enters_a_referral_form_with_its_details(api: Api, centre: Centre) -> None:
    family = await register(api, centre.manager, centre.setting_id, today(), source="REFERRAL", referral=PROFESSIONAL)
    [form] = family["forms"]
    assert {k: form[k] for k in ("kind", "referralType", "referrerName", "referrerOrganisation", "referralReason")} == {
        "kind": "REFERRAL",
        "referralType": "PROFESSIONAL",
        "referrerName": "Dr Jane Okafor",
        "referrerOrganisation": "Wakefield Health Visiting",
        "referralReason": "SPEECH_LANGUAGE",
    }
    assert (form["outstanding"], form["late"]) == (False, False)


async def test_referral_details_on_an_initial_contact_registration_are_refused(api: Api, centre: Centre) -> None:
    body = await api.post(REGISTER, registration(centre.setting_id, today(), referral=PROFESSIONAL), centre.manager)
    assert_bad_input(body, "registerFamily", "referral")
    assert (await family_count(api, centre), await received_count(api, centre)) == (0, 0)


async def test_registering_a_logged_form_enters_that_form(api: Api, centre: Centre) -> None:
    logged = await log(api, centre.manager, centre.setting_id, "INITIAL_CONTACT", LONG_AGO)
    start = now()
    family = await register(api, centre.manager, centre.setting_id, LONG_AGO, formId=logged["id"])
    [form] = family["forms"]
    assert form["id"] == logged["id"]
    assert (form["receivedOn"], form["deadline"], form["outstanding"], form["late"]) == (
        LONG_AGO,
        "2026-10-05",
        False,
        True,
    )
    assert start <= moment(form["enteredAt"]) <= now()
    assert await received_count(api, centre) == 1  # entered, not logged a second time


async def test_a_referral_logged_then_registered_is_the_same_form(api: Api, centre: Centre) -> None:
    logged = await log(api, centre.manager, centre.setting_id, "REFERRAL", today())
    family = await register(
        api,
        centre.manager,
        centre.setting_id,
        today(),
        source="REFERRAL",
        formId=logged["id"],
        referral={"referralType": "SELF", "reason": "HOUSING"},
    )
    [form] = family["forms"]
    assert (form["id"], form["kind"], form["referralType"], form["referralReason"], form["outstanding"]) == (
        logged["id"],
        "REFERRAL",
        "SELF",
        "HOUSING",
        False,
    )


@pytest.mark.parametrize("case", ["already-entered", "other-kind", "other-setting", "malformed"])
async def test_registering_with_a_form_that_cannot_be_entered_is_refused_and_nothing_changes(
    api: Api, world: World, centre: Centre, case: str
) -> None:
    other = await fresh_centre(api, world)
    if case == "already-entered":
        form_id = (await log(api, centre.manager, centre.setting_id, "INITIAL_CONTACT", LONG_AGO))["id"]
        await register(api, centre.manager, centre.setting_id, LONG_AGO, formId=form_id)
    elif case == "other-kind":
        form_id = (await log(api, centre.manager, centre.setting_id, "REFERRAL", LONG_AGO))["id"]
    elif case == "other-setting":
        form_id = (await log(api, other.manager, other.setting_id, "INITIAL_CONTACT", LONG_AGO))["id"]
    else:
        form_id = "not-a-form"
    families, received = await family_count(api, centre), await received_count(api, centre)
    other_before = await timeliness(api, other.manager, other.setting_id, "2000-01-01", today())
    body = await api.post(REGISTER, registration(centre.setting_id, LONG_AGO, formId=form_id), centre.manager)
    assert body["data"] is None
    assert codes(body) in (["BAD_USER_INPUT"], ["NOT_FOUND"]), body
    if codes(body) == ["BAD_USER_INPUT"]:
        assert body["errors"][0]["extensions"]["field"] == "formId"
    assert (await family_count(api, centre), await received_count(api, centre)) == (families, received)
    assert await timeliness(api, other.manager, other.setting_id, "2000-01-01", today()) == other_before
    if case == "other-kind":  # still outstanding
        report = await timeliness(api, centre.manager, centre.setting_id, LONG_AGO, LONG_AGO)
        assert next(k for k in report["byKind"] if k["kind"] == "REFERRAL")["outstanding"] == 1


# ---------------------------------------------------------------------------------------------
# Consent to further contact (standards 5.1)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("consent", [True, False, None], ids=["consent", "no-consent", "consent-not-given"])
async def test_a_family_without_consent_is_registered_but_marked_no_further_contact(
    api: Api, centre: Centre, consent: bool | None
) -> None:
    request = registration(centre.setting_id, today())
    if consent is None:
        del request["input"]["consentToContact"]
    else:
        request["input"]["consentToContact"] = consent
    family = (await api.ok(REGISTER, request, centre.manager))["registerFamily"]
    assert family["noFurtherContact"] is (consent is not True)
    assert family["forms"][0]["consentToContact"] is (consent is True)
    assert await family_count(api, centre) == 1
    reader = (await api.ok(FAMILY_FORMS, {"id": family["id"]}, centre.head_of_centre))["family"]
    assert reader["noFurtherContact"] is (consent is not True)


async def test_consent_records_when_it_was_given_and_who_recorded_it(api: Api, app: Any, centre: Centre) -> None:
    family = await register(
        api, centre.manager, centre.setting_id, "2026-11-10", consentToContact=False, consentDate="2026-11-12"
    )
    [form] = family["forms"]
    assert (form["consentToContact"], form["consentDate"]) == (False, "2026-11-12")
    async with app.state.sessionmaker() as session:
        stored = await session.scalar(select(Form).where(Form.id == key_of(form["id"], "Form")))
    assert stored is not None
    assert stored.consent_recorded_by_id == await user_key(api, centre.manager)


@pytest.mark.parametrize(("field", "value"), [("consentDate", "2099-01-01"), ("receivedOn", "2099-01-01")])
async def test_a_registration_dated_in_the_future_is_refused_and_nothing_is_written(
    api: Api, centre: Centre, field: str, value: str
) -> None:
    request = registration(centre.setting_id, today())
    request["input"][field] = value
    body = await api.post(REGISTER, request, centre.manager)
    assert_bad_input(body, "registerFamily", field)
    assert (await family_count(api, centre), await received_count(api, centre)) == (0, 0)


# ---------------------------------------------------------------------------------------------
# Referrals for a registered family (standards 5.2)
# ---------------------------------------------------------------------------------------------


async def test_a_referral_for_a_registered_family_is_entered_on_receipt(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    referral = (await api.ok(RECORD_REFERRAL, {"f": family.id, "d": LONG_AGO, "r": PROFESSIONAL}, centre.manager))[
        "recordReferral"
    ]
    assert {
        k: referral[k]
        for k in (
            "kind",
            "receivedOn",
            "deadline",
            "outstanding",
            "late",
            "referralType",
            "referrerName",
            "referrerOrganisation",
            "referralReason",
        )
    } == {
        "kind": "REFERRAL",
        "receivedOn": LONG_AGO,
        "deadline": "2026-10-05",
        "outstanding": False,
        "late": True,
        "referralType": "PROFESSIONAL",
        "referrerName": "Dr Jane Okafor",
        "referrerOrganisation": "Wakefield Health Visiting",
        "referralReason": "SPEECH_LANGUAGE",
    }
    assert referral in await forms_of(api, centre.manager, family.id)


async def test_recording_a_logged_referral_enters_that_form(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    logged = await log(api, centre.manager, centre.setting_id, "REFERRAL", today())
    referral = (
        await api.ok(
            RECORD_REFERRAL,
            {"f": family.id, "d": today(), "r": {"referralType": "SELF", "reason": "HOUSING"}, "form": logged["id"]},
            centre.manager,
        )
    )["recordReferral"]
    assert (referral["id"], referral["outstanding"], referral["late"], referral["referralType"]) == (
        logged["id"],
        False,
        False,
        "SELF",
    )
    assert referral["enteredAt"] is not None
    assert logged["id"] in [form["id"] for form in await forms_of(api, centre.manager, family.id)]


@pytest.mark.parametrize("case", ["initial-contact-form", "unknown-reason", "future"])
async def test_a_referral_that_cannot_be_recorded_is_refused_and_nothing_changes(
    api: Api, centre: Centre, case: str
) -> None:
    family = await centre.family(api)
    day = today()
    logged = await log(
        api, centre.manager, centre.setting_id, "INITIAL_CONTACT" if case != "unknown-reason" else "REFERRAL", day
    )
    variables = {"f": family.id, "d": day, "r": PROFESSIONAL, "form": logged["id"]}
    field = "formId"
    if case == "unknown-reason":
        variables["r"] = {**PROFESSIONAL, "reason": "NOT_A_REASON"}
        field = "referral.reason"
    if case == "future":
        variables.update({"d": "2099-01-02", "form": None})
        field = "receivedOn"
    forms = await forms_of(api, centre.manager, family.id)
    received = await received_count(api, centre)
    body = await api.post(RECORD_REFERRAL, variables, centre.manager)
    assert_bad_input(body, "recordReferral", field)
    assert await forms_of(api, centre.manager, family.id) == forms
    assert await received_count(api, centre) == received
    report = await timeliness(api, centre.manager, centre.setting_id, day, day)
    assert sum(k["outstanding"] for k in report["byKind"]) == 1  # the logged item is still outstanding


# ---------------------------------------------------------------------------------------------
# Notice of a change of primary or secondary data (standards 5.3, 5.4)
# ---------------------------------------------------------------------------------------------

NEW_ADDRESS = {"line1": "2 Mill Lane", "town": "Pontefract", "postcode": "WF8 1AA"}


@pytest.mark.parametrize(
    ("change", "notice", "expected"),
    [
        ({"address": NEW_ADDRESS}, "2025-08-22", [("PRIMARY_CHANGE", "2025-08-22", "2025-08-27", True)]),
        (
            {"generalNote": "Moved in with grandparents"},
            "2025-12-19",
            [("SECONDARY_CHANGE", "2025-12-19", "2025-12-30", True)],
        ),
        (
            {"address": NEW_ADDRESS, "generalNote": "Moved"},
            LONG_AGO,
            [("PRIMARY_CHANGE", LONG_AGO, "2026-10-05", True), ("SECONDARY_CHANGE", LONG_AGO, "2026-10-08", True)],
        ),
    ],
    ids=["primary-change", "secondary-change", "both"],
)
async def test_an_update_enters_the_notice_of_change_with_its_deadline(
    api: Api, centre: Centre, change: dict[str, Any], notice: str, expected: list[tuple[str, str, str, bool]]
) -> None:
    family = await centre.family(api)
    before = await forms_of(api, centre.manager, family.id)
    start = now()
    await api.ok(
        UPDATE, {"id": family.id, "v": family.version, "input": {**change, "noticeReceivedOn": notice}}, centre.manager
    )
    added = [form for form in await forms_of(api, centre.manager, family.id) if form not in before]
    assert sorted((f["kind"], f["receivedOn"], f["deadline"], f["late"]) for f in added) == expected
    for form in added:
        assert form["outstanding"] is False
        assert start <= moment(form["enteredAt"]) <= now()
    assert [f["id"] for f in before] == [f["id"] for f in await forms_of(api, centre.manager, family.id) if f in before]


async def test_an_update_without_a_notice_date_counts_from_today(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    before = await forms_of(api, centre.manager, family.id)
    # The service's today is the UK date when it handles the update (midnight may pass meanwhile).
    days = {uk_today().isoformat()}
    await api.ok(UPDATE, {"id": family.id, "v": family.version, "input": {"address": NEW_ADDRESS}}, centre.manager)
    days.add(uk_today().isoformat())
    added = [form for form in await forms_of(api, centre.manager, family.id) if form not in before]
    assert [(f["kind"], f["late"], f["outstanding"]) for f in added] == [("PRIMARY_CHANGE", False, False)]
    assert added[0]["receivedOn"] in days


async def test_an_update_that_changes_nothing_enters_no_notice(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    before = await forms_of(api, centre.manager, family.id)
    same = {"line1": "1 Station Road", "town": "Wakefield", "postcode": "WF1 1AA"}
    await api.ok(
        UPDATE,
        {"id": family.id, "v": family.version, "input": {"address": same, "noticeReceivedOn": LONG_AGO}},
        centre.manager,
    )
    assert await forms_of(api, centre.manager, family.id) == before


async def test_a_notice_received_in_the_future_is_refused_and_nothing_changes(api: Api, centre: Centre) -> None:
    family = await centre.family(api)
    before = await api.ok(
        "query($id: ID!) { family(id: $id) { version address { postcode } generalNote forms { id } } }",
        {"id": family.id},
        centre.manager,
    )
    body = await api.post(
        UPDATE,
        {
            "id": family.id,
            "v": family.version,
            "input": {"address": NEW_ADDRESS, "generalNote": "Changed", "noticeReceivedOn": "2099-03-03"},
        },
        centre.manager,
    )
    assert_bad_input(body, "updateFamily", "noticeReceivedOn")
    after = await api.ok(
        "query($id: ID!) { family(id: $id) { version address { postcode } generalNote forms { id } } }",
        {"id": family.id},
        centre.manager,
    )
    assert after == before


# ---------------------------------------------------------------------------------------------
# Timeliness of a setting: per kind, per user, for a date range
# ---------------------------------------------------------------------------------------------


async def display_name(api: Api, token: str) -> str:
    return (await api.ok("{ me { displayName } }", token=token))["me"]["displayName"]  # type: ignore[no-any-return]


async def test_timeliness_counts_items_per_kind_and_per_user_in_the_date_range(
    api: Api, world: World, centre: Centre
) -> None:
    manager, officer = centre.manager, await fresh_user(api, world, "ADMIN_OFFICER", centre.setting_id)
    # Entered late, by the officer: an initial contact logged long ago.
    logged_late = await log(api, manager, centre.setting_id, "INITIAL_CONTACT", LONG_AGO)
    await register(api, officer, centre.setting_id, LONG_AGO, formId=logged_late["id"])
    # Entered on time, by the manager: registered on the day of receipt, then a referral.
    on_time = await register(api, manager, centre.setting_id, today())
    await api.ok(RECORD_REFERRAL, {"f": on_time["id"], "d": today(), "r": PROFESSIONAL}, manager)
    # Outstanding, within its deadline; outstanding past it; and one received before the range.
    await log(api, manager, centre.setting_id, "REFERRAL", today())
    overdue = await log(api, manager, centre.setting_id, "HOME_VISIT", LONG_AGO)
    await log(api, manager, centre.setting_id, "REGISTER", "2026-04-02")
    # A change of address noticed long ago, entered late by the officer.
    await api.ok(
        UPDATE,
        {"id": on_time["id"], "v": on_time["version"], "input": {"address": NEW_ADDRESS, "noticeReceivedOn": LONG_AGO}},
        officer,
    )
    change = next(f for f in await forms_of(api, manager, on_time["id"]) if f["kind"] == "PRIMARY_CHANGE")

    report = await timeliness(api, manager, centre.setting_id, "2026-05-01", today())
    counts = {
        k["kind"]: (k["received"], k["entered"], k["enteredLate"], k["outstanding"], k["outstandingPastDeadline"])
        for k in report["byKind"]
    }
    assert counts == {
        "INITIAL_CONTACT": (2, 2, 1, 0, 0),
        "REFERRAL": (2, 1, 0, 1, 0),
        "PRIMARY_CHANGE": (1, 1, 1, 0, 0),
        "SECONDARY_CHANGE": (0, 0, 0, 0, 0),
        "REGISTER": (0, 0, 0, 0, 0),
        "HOME_VISIT": (1, 0, 0, 1, 1),
    }
    users = {u["userName"]: (u["entered"], u["enteredLate"]) for u in report["byUser"]}
    assert users == {await display_name(api, manager): (2, 0), await display_name(api, officer): (2, 2)}
    late = {
        item["id"]: (item["kind"], item["receivedOn"], item["deadline"], item["outstanding"])
        for item in report["lateItems"]
    }
    assert late == {
        logged_late["id"]: ("INITIAL_CONTACT", LONG_AGO, "2026-10-05", False),
        change["id"]: ("PRIMARY_CHANGE", LONG_AGO, "2026-10-05", False),
        overdue["id"]: ("HOME_VISIT", LONG_AGO, "2026-10-08", True),
    }
    # The range decides what counts: the register received in April is in this one, alone.
    april = await timeliness(api, manager, centre.setting_id, "2026-04-01", "2026-04-30")
    assert {k["kind"]: k["received"] for k in april["byKind"] if k["received"]} == {"REGISTER": 1}
    assert [(i["kind"], i["deadline"], i["outstanding"]) for i in april["lateItems"]] == [
        ("REGISTER", "2026-04-13", True)
    ]
    assert april["byUser"] == []


async def test_timeliness_counts_only_the_settings_own_items(api: Api, world: World, centre: Centre) -> None:
    other = await fresh_centre(api, world)
    await log(api, other.manager, other.setting_id, "HOME_VISIT", LONG_AGO)
    report = await timeliness(api, centre.manager, centre.setting_id, "2000-01-01", today())
    assert all(k["received"] == 0 for k in report["byKind"])
    assert (report["byUser"], report["lateItems"]) == ([], [])


async def test_timeliness_of_a_range_that_ends_before_it_starts_is_refused(api: Api, centre: Centre) -> None:
    body = await api.post(
        TIMELINESS, {"s": centre.setting_id, "from": "2026-11-02", "to": "2026-11-01"}, centre.manager
    )
    assert body["data"] == {"timeliness": None}  # nullable root field (API.md)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "to"
