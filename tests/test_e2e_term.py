"""A term of a stay-and-play group, end to end over real TCP, as a client written from API.md
would run it against the demo: create the activity, add its sessions, enter registers (refused
for a family of another setting until the family consents to an affiliation), record a home
visit, then read it all back as the roles of three settings and the system administrator."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from demo.seed import DEMO_PASSWORD
from resolvers.validation import today
from tests.assertions import codes
from tests.test_e2e_http import graphql, serving_demo

LOGIN = "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }"
FAMILIES = """query($setting: ID) { families(settingId: $setting, first: 100) { nodes {
  id registeredSetting { id code } carers { id } children { id } } } }"""
SESSION = """query($id: ID!) { activity(id: $id) { description setting { code }
  sessions { id date deadline late registerEnteredAt register { personId familyId attended } } } }"""
RECORD = """mutation($session: ID!, $entries: [AttendanceInput!]!) {
  recordAttendance(sessionId: $session, entries: $entries) { registerEnteredAt register { personId attended } } }"""
pytestmark = pytest.mark.own_sqlite  # the demo server runs on an SQLite file of its own

CHILD_ATTENDANCE = "query($id: ID!) { child(id: $id) { firstName attendance { attended } } }"  # the demo's too


class Client:
    """One logged-in demo user over HTTP."""

    def __init__(self, base_url: str, username: str) -> None:
        self.base_url = base_url
        login = graphql(base_url, LOGIN, {"u": username, "p": DEMO_PASSWORD})
        assert not login.get("errors"), login
        self.token = login["data"]["login"]["token"]

    def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        return graphql(self.base_url, query, variables, token=self.token)

    def ok(self, query: str, **variables: Any) -> dict[str, Any]:
        body = self(query, **variables)
        assert not body.get("errors"), body
        return body["data"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving_demo(Path(tmp_path_factory.mktemp("term"))) as (url, _):
        yield url


def first_code(client: Client, lookup_list: str) -> str:
    values = client.ok("query($l: LookupList!) { lookups(list: $l) { code } }", l=lookup_list)["lookups"]
    assert values, lookup_list
    return str(values[0]["code"])


def test_a_term_of_a_stay_and_play_group(base_url: str) -> None:
    north, south, east = (Client(base_url, u) for u in ("manager", "manager-south", "manager-east"))
    seen_from_north = north.ok(FAMILIES, setting=None)["families"]["nodes"]
    ours = next(f for f in seen_from_north if f["registeredSetting"]["code"] == "NORTH" and f["children"])
    north_id = ours["registeredSetting"]["id"]
    in_north_scope = {f["id"] for f in seen_from_north}
    theirs = next(
        f
        for f in south.ok(FAMILIES, setting=None)["families"]["nodes"]
        if f["registeredSetting"]["code"] == "SOUTH" and f["children"] and f["id"] not in in_north_scope
    )

    # The activity (standards 9) and a term of weekly sessions, the last one today: the UK date
    # the service keeps records in, whatever the machine's time zone, read once.
    day = today()
    activity = north.ok(
        """mutation($input: ActivityInput!) { createActivity(input: $input) { id version setting { code } } }""",
        input={
            "settingId": north_id,
            "description": "Stay and play, autumn term",
            "provider": "Northgate Children's Centre",
            "projectLeader": "Mark Bennett",
            "frequency": "WEEKLY",
            "outcomeType": first_code(north, "OUTCOME_TYPE"),
            "accessGroup": first_code(north, "ACCESS_GROUP"),
            "eventType": first_code(north, "EVENT_TYPE"),
            "startDate": (day - timedelta(weeks=5)).isoformat(),
            "startTime": "09:30:00",
            "durationMinutes": 90,
            "aims": "Play, language and making friends",
        },
    )["createActivity"]
    assert activity["setting"]["code"] == "NORTH"
    dates = [(day - timedelta(weeks=w)).isoformat() for w in range(5, -1, -1)]
    sessions = north.ok(
        "mutation($a: ID!, $d: [Date!]!) { addSessions(activityId: $a, dates: $d) { id date deadline late } }",
        a=activity["id"],
        d=dates,
    )["addSessions"]
    assert [s["date"] for s in sessions] == dates
    assert all(s["deadline"] > s["date"] for s in sessions)  # 5 working days after the session
    first = sessions[0]["id"]
    attended_before = south.ok(CHILD_ATTENDANCE, id=theirs["children"][0]["id"])["child"]["attendance"]

    # A family of SOUTH that has not consented to NORTH cannot be entered, and nothing is written.
    entries = [
        {"personId": ours["children"][0]["id"], "attended": True},
        {"personId": theirs["children"][0]["id"], "attended": True},
    ]
    refused = north(RECORD, session=first, entries=entries)
    assert codes(refused) == ["BAD_USER_INPUT"]
    assert refused["errors"][0]["extensions"]["reason"] == "AFFILIATION_REQUIRED"
    unwritten = north.ok(SESSION, id=activity["id"])["activity"]["sessions"][0]
    assert unwritten["register"] == [] and unwritten["registerEnteredAt"] is None

    # SOUTH records the family's consent to NORTH (standards 6); then the register goes in whole.
    south.ok(
        """mutation($input: AffiliationInput!) { affiliate(input: $input) { id } }""",
        input={
            "familyId": theirs["id"],
            "settingId": north_id,
            "consentGivenBy": "the family's main carer",
            "consentDate": day.isoformat(),
        },
    )
    entered = north.ok(RECORD, session=first, entries=entries)["recordAttendance"]
    assert entered["registerEnteredAt"] is not None
    assert sorted(e["personId"] for e in entered["register"]) == sorted(e["personId"] for e in entries)
    # Re-entering a person replaces their entry.
    north.ok(RECORD, session=first, entries=[{"personId": ours["children"][0]["id"], "attended": False}])

    # A home visit to NORTH's family.
    contact = north.ok(
        """mutation($input: ContactInput!) { recordContact(input: $input) {
             kind date deadline late setting { code } peopleSeen } }""",
        input={
            "familyId": ours["id"],
            "kind": "HOME_VISIT",
            "date": day.isoformat(),
            "durationMinutes": 45,
            "summary": "Settling in; invited to stay and play",
            "peopleSeen": [ours["carers"][0]["id"]],
        },
    )["recordContact"]
    assert contact["kind"] == "HOME_VISIT" and contact["setting"]["code"] == "NORTH" and not contact["late"]

    # What each role sees. NORTH: the whole register, its own family's entry replaced.
    register = {
        e["personId"]: e["attended"]
        for e in north.ok(SESSION, id=activity["id"])["activity"]["sessions"][0]["register"]
    }
    assert register == {ours["children"][0]["id"]: False, theirs["children"][0]["id"]: True}
    # SOUTH: the activity (shared across settings) but only its own family on the register.
    from_south = south.ok(SESSION, id=activity["id"])["activity"]["sessions"][0]["register"]
    assert [e["familyId"] for e in from_south] == [theirs["id"]]
    # EAST: the activity and its sessions, no attendee at all; a child's attendance is FORBIDDEN.
    from_east = east.ok(SESSION, id=activity["id"])["activity"]
    assert from_east["description"] == "Stay and play, autumn term" and len(from_east["sessions"]) == 6
    assert all(s["register"] == [] for s in from_east["sessions"])
    hidden = east(CHILD_ATTENDANCE, id=theirs["children"][0]["id"])
    assert hidden["data"]["child"]["attendance"] is None and codes(hidden) == ["FORBIDDEN"]
    attended = south.ok(CHILD_ATTENDANCE, id=theirs["children"][0]["id"])["child"]["attendance"]
    assert attended.count({"attended": True}) == attended_before.count({"attended": True}) + 1
    # The home visit is SECONDARY of NORTH's family: NORTH reads it, EAST does not.
    contacts = "query($id: ID!) { family(id: $id) { contacts { kind summary } } }"
    assert north.ok(contacts, id=ours["id"])["family"]["contacts"][0]["kind"] == "HOME_VISIT"
    assert codes(east(contacts, id=ours["id"])) == ["FORBIDDEN"]
    # The system administrator reads no activity data.
    sysadmin = Client(base_url, "sysadmin")
    assert codes(sysadmin(SESSION, id=activity["id"])) == ["FORBIDDEN"]
