"""Reports through the API (API.md "Reports"): who may run them, what they count, suppression,
and that no pair of served reports differs by a suppressed count."""

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from config import AppConfig
from resolvers.validation import today
from server import create_app
from tests.conftest import Api, World, build_world, config_for, fresh_database
from tests.factories import fresh_centre, fresh_setting, fresh_user, unique_name

# A report counts the whole authority and suppresses on the whole of it, so what other tests
# register would change these tests' cells: this module has a database and world of its own.


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from fresh_database(tmp_path_factory)


@pytest.fixture(scope="module")
def config(database_url: str) -> AppConfig:
    return config_for(database_url)


@pytest.fixture(scope="module")
async def app(config: AppConfig) -> AsyncIterator[Any]:
    application = create_app(config)
    yield application
    await application.state.engine.dispose()


@pytest.fixture(scope="module")
async def api(app: Any) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield Api(client)


@pytest.fixture(scope="module")
async def world(api: Api, config: AppConfig) -> World:
    return await build_world(api, config)


REPORT = """
query($input: ReportInput!) {
  report(input: $input) {
    measure by period periodStart generatedAt
    cells { keys value suppressed reason display }
    total { keys value suppressed reason display }
  }
}"""


def child(born: str, gender: str = "MALE", ethnicity: str = "WBRI") -> dict[str, Any]:
    return {
        "firstName": "Kim",
        "lastName": unique_name(),
        "dateOfBirth": born,
        "gender": gender,
        "ethnicity": ethnicity,
        "language": "ENG",
    }


async def families(api: Api, manager: str, setting: str, children: list[list[dict[str, Any]]], **extra: Any) -> None:
    from tests.conftest import register_family

    for kids in children:
        await register_family(api, manager, setting, unique_name(), children=kids, **extra)


async def run(api: Api, token: str, **input: Any) -> dict[str, Any]:
    data = await api.ok(REPORT, {"input": {"period": "QUARTER", "periodStart": "2026-10-01", **input}}, token)
    return data["report"]  # type: ignore[no-any-return]


def by_key(report: dict[str, Any]) -> dict[tuple[str, ...], str]:
    return {tuple(c["keys"]): c["display"] for c in report["cells"]}


async def test_children_by_age_band_at_the_period_end(api: Api, world: World) -> None:
    centre = await fresh_centre(api, world)
    await families(api, centre.manager, centre.setting_id, [[child("2026-01-10")] for _ in range(5)])
    await families(api, centre.manager, centre.setting_id, [[child("2024-06-01"), child("2024-06-01")]] * 2)
    report = await run(
        api, world.tokens["LA_REPORTING"], measure="REGISTERED_CHILDREN", by=["AGE_BAND"], settingId=centre.setting_id
    )
    cells = by_key(report)
    assert cells[("0-1",)] == "5" and cells[("2-3",)] == "4" and cells[("1-2",)] == "0"
    assert report["total"]["display"] == "9" and report["total"]["value"] == 9


async def test_small_counts_are_suppressed_with_a_complement(api: Api, world: World) -> None:
    centre = await fresh_centre(api, world)
    kids = [[child("2026-01-10")] for _ in range(6)] + [[child("2024-06-01")] for _ in range(2)]
    kids += [[child("2023-06-01")] for _ in range(9)]
    await families(api, centre.manager, centre.setting_id, kids)
    report = await run(
        api, world.tokens["LA_REPORTING"], measure="REGISTERED_CHILDREN", by=["AGE_BAND"], settingId=centre.setting_id
    )
    cells = {tuple(c["keys"]): c for c in report["cells"]}
    assert cells[("2-3",)]["display"] == "<4" and cells[("2-3",)]["reason"] == "PRIMARY"
    assert cells[("2-3",)]["value"] is None and cells[("2-3",)]["suppressed"]
    # Which cell complements it depends on every setting's counts (the setting axis is built
    # whole): one of the others, and what is shown is the count.
    complements = [key for key in [("0-1",), ("3-4",)] if cells[key]["display"] == "*"]
    assert complements and all(cells[key]["reason"] == "SECONDARY" for key in complements)
    true = {("0-1",): "6", ("3-4",): "9"}
    assert all(cells[key]["display"] == true[key] for key in true if key not in complements)
    assert report["total"]["display"] == "17"


async def test_no_report_without_reporting_read(api: Api, world: World) -> None:
    for role in ["SYSTEM_ADMINISTRATOR", "CONTACTPOINT_FEED"]:
        body = await api.post(
            REPORT,
            {"input": {"measure": "REGISTERED_FAMILIES", "by": [], "period": "YEAR", "periodStart": "2026-04-01"}},
            world.tokens[role],
        )
        assert body["data"]["report"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], role


async def test_a_centre_reports_on_its_settings_only(api: Api, world: World) -> None:
    mine, other = await fresh_centre(api, world), await fresh_centre(api, world)
    await families(api, mine.manager, mine.setting_id, [[child("2025-02-02")]] * 4)
    await families(api, other.manager, other.setting_id, [[child("2025-02-02")]] * 6)
    own = await run(api, mine.manager, measure="REGISTERED_FAMILIES", by=[])
    assert own["total"]["display"] == "4"
    body = await api.post(
        REPORT,
        {
            "input": {
                "measure": "REGISTERED_FAMILIES",
                "by": [],
                "period": "QUARTER",
                "periodStart": "2026-10-01",
                "settingId": other.setting_id,
            }
        },
        mine.manager,
    )
    assert body["data"]["report"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_periods_start_on_their_first_day(api: Api, world: World) -> None:
    for period, start in [("QUARTER", "2026-11-01"), ("YEAR", "2026-01-01"), ("MONTH", "2026-10-02")]:
        body = await api.post(
            REPORT,
            {"input": {"measure": "REGISTERED_FAMILIES", "by": [], "period": period, "periodStart": start}},
            world.tokens["LA_REPORTING"],
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", period


async def test_periods_at_the_ends_of_the_calendar_are_refused_not_internal(api: Api, world: World) -> None:
    """A period whose financial year starts before year 1 or ends after 9999 cannot be
    computed: BAD_USER_INPUT, not INTERNAL (found by probing: year 10000 is out of range)."""
    token = world.tokens["LA_REPORTING"]
    for period, start in [("YEAR", "9999-04-01"), ("MONTH", "9999-12-01"), ("MONTH", "0001-03-01")]:
        body = await api.post(
            REPORT,
            {"input": {"measure": "REGISTERED_FAMILIES", "by": [], "period": period, "periodStart": start}},
            token,
        )
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (period, start)
        assert body["errors"][0]["extensions"]["field"] == "input.periodStart"
    for start in ["0001-04-01", "9999-03-01"]:  # the first and the last month that fit
        await api.ok(
            REPORT, {"input": {"measure": "ATTENDERS", "by": ["MONTH"], "period": "MONTH", "periodStart": start}}, token
        )
    for quarter in ["9999-Q2", "0000-Q1"]:
        body = await api.post("query($q: String!) { quarterlyPack(quarter: $q) { measure } }", {"q": quarter}, token)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", quarter


async def test_statements_do_not_grow_with_the_families(api: Api, world: World, count_statements: Any) -> None:
    centre = await fresh_centre(api, world)
    token = world.tokens["LA_REPORTING"]
    counts = []
    for _ in range(2):
        await families(api, centre.manager, centre.setting_id, [[child("2025-05-05")]] * 3)
        before = count_statements.count
        await run(api, token, measure="REGISTERED_CHILDREN", by=["SETTING", "HARD_TO_REACH_GROUP"])
        await run(api, token, measure="ATTENDERS", by=["OUTCOME_TYPE", "MONTH"])
        await run(api, token, measure="CONTACTS", by=["REACH_AREA", "HARD_TO_REACH_GROUP"])
        counts.append(count_statements.count - before)
    assert counts[0] == counts[1]


async def test_months_and_their_quarter_do_not_difference(api: Api, world: World) -> None:
    """Adjacent periods: the quarter's count minus two of its months never gives the third
    when that month is suppressed; nor does the authority minus the other settings."""
    centre = await fresh_centre(api, world)
    token = world.tokens["LA_REPORTING"]
    for received, n in [("2026-07-06", 9), ("2026-08-05", 2), ("2026-09-07", 7)]:
        await families(api, centre.manager, centre.setting_id, [[child("2025-05-05")]] * n, receivedOn=received)
    quarter = await run(
        api, token, measure="NEW_REGISTRATIONS", by=[], periodStart="2026-07-01", settingId=centre.setting_id
    )
    months = []
    for start in ["2026-07-01", "2026-08-01", "2026-09-01"]:
        report = await run(
            api,
            token,
            measure="NEW_REGISTRATIONS",
            by=[],
            period="MONTH",
            periodStart=start,
            settingId=centre.setting_id,
        )
        months.append(report["total"])
    by_month = await run(
        api, token, measure="NEW_REGISTRATIONS", by=["MONTH"], periodStart="2026-07-01", settingId=centre.setting_id
    )
    assert [c["display"] for c in by_month["cells"]] == [m["display"] for m in months]
    assert months[1]["display"] == "<4"
    shown = [m["value"] for m in months if m["value"] is not None]
    assert quarter["total"]["value"] is None or len(shown) < 2
    # All settings minus the others.
    everyone = await run(
        api, token, measure="NEW_REGISTRATIONS", by=["SETTING"], period="MONTH", periodStart="2026-08-01"
    )
    total = (await run(api, token, measure="NEW_REGISTRATIONS", by=[], period="MONTH", periodStart="2026-08-01"))[
        "total"
    ]
    hidden = [c for c in everyone["cells"] if c["suppressed"]]
    assert total["suppressed"] or len(hidden) != 1


async def test_a_manager_counts_only_families_of_the_reported_setting(api: Api, world: World) -> None:
    """Secondary-derived dimensions count families registered with the reported setting: an
    affiliated family's ethnicity is counted where it is registered, not where it visits."""
    home, visited = await fresh_centre(api, world), await fresh_centre(api, world)
    await families(api, home.manager, home.setting_id, [[child("2025-02-02", ethnicity="BAFR")]] * 5)
    report = await run(api, visited.manager, measure="REGISTERED_CHILDREN", by=["ETHNICITY"])
    assert report["total"]["display"] == "0"
    assert all(c["display"] == "0" for c in report["cells"])


async def test_service_accounts_without_settings_are_not_needed(api: Api, world: World) -> None:
    setting = await fresh_setting(api, world)
    token = await fresh_user(api, world, "HEAD_OF_CENTRE", setting)
    report = await run(api, token, measure="REGISTERED_FAMILIES", by=["GENDER"])
    assert report["total"]["display"] == "0"


async def test_penetration_is_registered_births_over_births(api: Api, world: World) -> None:
    admin = world.tokens["SYSTEM_ADMINISTRATOR"]
    csv = "postcode,reach_area,lsoa\nWF9 9ZZ,Penrith,E01099991\nWF9 9ZY,Penrith,E01099992\n"
    await api.ok("mutation($csv: String!) { importPostcodeAreas(csv: $csv) }", {"csv": csv}, admin)
    births = [{"month": m, "reachArea": "Penrith", "births": 10} for m in ["2025-07-01", "2025-08-01", "2025-09-01"]]
    await api.ok("mutation($e: [BirthFigureInput!]!) { setBirthFigures(entries: $e) }", {"e": births}, admin)
    centre = await fresh_centre(api, world)
    address = {"line1": "2 Fell Road", "town": "Wakefield", "postcode": "WF9 9ZZ"}
    await families(api, centre.manager, centre.setting_id, [[child("2025-07-15")]] * 6, address=address)
    token = world.tokens["LA_REPORTING"]
    report = await run(api, token, measure="PENETRATION_RATE", by=["REACH_AREA"], periodStart="2025-07-01")
    assert by_key(report)[("Penrith",)] == "20.0%"
    month = await run(api, token, measure="PENETRATION_RATE", by=[], period="MONTH", periodStart="2025-08-01")
    assert month["total"]["display"] == "0.0%"
    body = await api.post(
        REPORT,
        {"input": {"measure": "PENETRATION_RATE", "by": ["GENDER"], "period": "QUARTER", "periodStart": "2025-07-01"}},
        token,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_reach_areas_and_lsoas_come_from_the_postcode(api: Api, world: World) -> None:
    admin = world.tokens["SYSTEM_ADMINISTRATOR"]
    csv = "postcode,reach_area,lsoa\nWF8 8AA,Lowfield,E01088881\nWF8 8AB,Lowfield,E01088882\n"
    await api.ok("mutation($csv: String!) { importPostcodeAreas(csv: $csv) }", {"csv": csv}, admin)
    centre = await fresh_centre(api, world)
    for postcode, n in [("WF8 8AA", 5), ("WF8 8AB", 4)]:
        address = {"line1": "3 Low Road", "town": "Wakefield", "postcode": postcode}
        await families(api, centre.manager, centre.setting_id, [[child("2025-01-15")]] * n, address=address)
    token = world.tokens["LA_REPORTING"]
    areas = by_key(await run(api, token, measure="REGISTERED_FAMILIES", by=["REACH_AREA"], settingId=centre.setting_id))
    lsoas = by_key(await run(api, token, measure="REGISTERED_FAMILIES", by=["LSOA"], settingId=centre.setting_id))
    assert areas[("Lowfield",)] == "9"
    assert lsoas[("E01088881",)] == "5" and lsoas[("E01088882",)] == "4"


async def test_the_quarterly_pack_holds_its_tables(api: Api, world: World) -> None:
    query = "query($q: String!) { quarterlyPack(quarter: $q) { measure by period periodStart total { display } } }"
    pack = (await api.ok(query, {"q": "2026-Q3"}, world.tokens["LA_REPORTING"]))["quarterlyPack"]
    assert [(t["measure"], t["by"]) for t in pack] == [
        ("REGISTERED_CHILDREN", ["AGE_BAND", "ETHNIC_GROUP"]),
        ("NEW_REGISTRATIONS", ["SETTING"]),
        ("REGISTERED_FAMILIES", ["SETTING"]),
        ("PENETRATION_RATE", ["REACH_AREA"]),
        ("ATTENDANCES", ["SETTING", "OUTCOME_TYPE"]),
        ("CONTACTS", ["SETTING"]),
        ("ENTRIES", ["SETTING", "TIMELINESS"]),
    ]
    assert {t["periodStart"] for t in pack} == {"2026-07-01"}
    body = await api.post(query, {"q": "2026-Q5"}, world.tokens["LA_REPORTING"])
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_exports_serve_the_api_numbers_as_csv_and_xlsx(api: Api, world: World) -> None:
    import csv
    import io

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    admin = world.tokens["SYSTEM_ADMINISTRATOR"]
    areas = "postcode,reach_area,lsoa\nWF7 7AA,=HYPERLINK(1),E01077771\n"
    await api.ok("mutation($csv: String!) { importPostcodeAreas(csv: $csv) }", {"csv": areas}, admin)
    centre = await fresh_centre(api, world)
    address = {"line1": "4 Any Road", "town": "Wakefield", "postcode": "WF7 7AA"}
    await families(api, centre.manager, centre.setting_id, [[child("2025-01-15")]] * 2, address=address)
    token = world.tokens["LA_REPORTING"]
    spec = {"measure": "REGISTERED_FAMILIES", "by": ["REACH_AREA"], "settingId": centre.setting_id}
    served = await run(api, token, **spec)
    payload = {"input": {**spec, "period": "QUARTER", "periodStart": "2026-10-01"}, "format": "csv"}
    headers = {"Authorization": f"Bearer {token}"}
    response = await api.client.post("/reports/export", json=payload, headers=headers)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.content.count(b"\r\n") > 5
    rows = list(csv.reader(io.StringIO(response.text)))
    assert ["'=HYPERLINK(1)", "<4"] in rows
    assert ["Total", served["total"]["display"]] in rows
    assert [c["display"] for c in served["cells"] if c["keys"] == ["=HYPERLINK(1)"]] == ["<4"]

    response = await api.client.post("/reports/export", json={**payload, "format": "xlsx"}, headers=headers)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert ["'=HYPERLINK(1)", "<4"] in values and values[0] == ["Measure", "REGISTERED_FAMILIES"]

    pack = await api.client.post(
        "/reports/export", json={"quarterlyPack": "2026-Q3", "format": "xlsx"}, headers=headers
    )
    sheets = load_workbook(io.BytesIO(pack.content)).worksheets
    assert [sheet.title for sheet in sheets] == [
        "1 REGISTERED_CHILDREN", "2 NEW_REGISTRATIONS", "3 REGISTERED_FAMILIES", "4 PENETRATION_RATE",
        "5 ATTENDANCES", "6 CONTACTS", "7 ENTRIES",
    ]  # fmt: skip
    pack_csv = await api.client.post(
        "/reports/export", json={"quarterlyPack": "2026-Q3", "format": "csv"}, headers=headers
    )
    assert pack_csv.text.count("Measure,") == 7 and "Measure,ENTRIES" in pack_csv.text

    refused = await api.client.post("/reports/export", json=payload, headers={"Authorization": f"Bearer {admin}"})
    assert refused.status_code == 403
    anonymous = await api.client.post("/reports/export", json=payload)
    assert anonymous.status_code == 401


async def test_hard_to_reach_groups_overlap_and_the_total_counts_each_family_once(api: Api, world: World) -> None:
    from tests.conftest import register_family

    centre = await fresh_centre(api, world)
    groups = [["LONE_PARENT", "TEENAGE_PARENT"]] * 5 + [["LONE_PARENT"]] * 4 + [[]] * 6
    for codes in groups:
        family = await register_family(api, centre.manager, centre.setting_id, unique_name())
        if codes:
            await api.ok(
                "mutation($s: ID!, $c: [String!]!) { setHardToReachGroups(subjectId: $s, codes: $c) }",
                {"s": family.id, "c": codes},
                centre.manager,
            )
    report = await run(
        api,
        world.tokens["LA_REPORTING"],
        measure="REGISTERED_FAMILIES",
        by=["HARD_TO_REACH_GROUP"],
        settingId=centre.setting_id,
    )
    cells = by_key(report)
    assert cells[("LONE_PARENT",)] == "9" and cells[("TEENAGE_PARENT",)] == "5"
    assert report["total"]["display"] == "15"


async def test_registered_families_at_month_ends_do_not_difference_into_new_registrations(
    api: Api, world: World
) -> None:
    """Six families registered in July, two in August, five in September: August's two are
    suppressed, and so is the August end, which would otherwise differ from July's by them."""
    centre = await fresh_centre(api, world)
    for received, n in [("2026-07-06", 6), ("2026-08-05", 2), ("2026-09-07", 5)]:
        await families(api, centre.manager, centre.setting_id, [[child("2025-05-05")]] * n, receivedOn=received)
    token, mine = world.tokens["LA_REPORTING"], {"settingId": centre.setting_id, "period": "MONTH"}
    august = await run(api, token, measure="NEW_REGISTRATIONS", by=[], periodStart="2026-08-01", **mine)
    assert august["total"]["display"] == "<4"
    ends = []
    for start in ["2026-07-01", "2026-08-01", "2026-09-01"]:
        report = await run(api, token, measure="REGISTERED_FAMILIES", by=[], periodStart=start, **mine)
        ends.append(report["total"])
    # By hand: 6 at July's end; August's end 6 + 2 hides (its part August is hidden); 13 at
    # September's end is the quarter's 13, whose August and September are both hidden.
    assert [e["display"] for e in ends] == ["6", "*", "13"]
    by_month = await run(
        api, token, measure="REGISTERED_FAMILIES", by=["MONTH"], periodStart="2026-07-01", settingId=centre.setting_id
    )
    cells = {tuple(c["keys"]): c for c in by_month["cells"]}
    assert cells[("2026-08",)]["display"] == "<4" and cells[("earlier",)]["display"] == "0"
    assert by_month["total"]["value"] in (13, None)


LOG_FORM = "mutation($input: FormReceivedInput!) { logFormReceived(input: $input) { id } }"


async def test_entries_are_on_time_late_or_outstanding(api: Api, world: World) -> None:
    """Standards 5.1: an initial contact form is entered within 2 working days. Four families
    received on 5 October 2026 and entered since (late), five forms received on 6 October and
    never entered (outstanding), four received and entered today (on time)."""
    centre = await fresh_centre(api, world)
    await families(api, centre.manager, centre.setting_id, [[child("2025-05-05")]] * 4, receivedOn="2026-10-05")
    logged = {"settingId": centre.setting_id, "kind": "INITIAL_CONTACT", "receivedOn": "2026-10-06"}
    for _ in range(5):
        await api.ok(LOG_FORM, {"input": logged}, centre.manager)
    now = today()
    await families(api, centre.manager, centre.setting_id, [[child("2025-05-05")]] * 4, receivedOn=now.isoformat())
    token = world.tokens["LA_REPORTING"]
    year = {"measure": "ENTRIES", "by": ["TIMELINESS"], "period": "YEAR", "settingId": centre.setting_id}
    report = await run(api, token, **year, periodStart="2026-04-01")
    cells = by_key(report)
    assert cells[("LATE",)] == "4" and cells[("OUTSTANDING",)] == "5"
    year_start = date(now.year if now.month >= 4 else now.year - 1, 4, 1)
    current = by_key(await run(api, token, **year, periodStart=year_start.isoformat()))
    assert current[("ON_TIME",)] == "4"
    if year_start == date(2026, 4, 1):
        assert report["total"]["value"] == 13
    body = await api.post(
        REPORT,
        {"input": {**year, "by": ["GENDER"], "periodStart": "2026-04-01"}},
        token,
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_export_waits_for_a_password_set_by_someone_else_to_be_changed(api: Api, world: World) -> None:
    """Found by probing: POST /reports/export answered a session whose password an administrator
    set (mustChangePassword), which may run only changePassword, logout and me."""
    from tests.conftest import CRB_CHECKED_ON, INITIAL_PASSWORD, PASSWORD, TRAINED_ON

    username = f"export-{unique_name().lower()}"
    roles = [{"role": "ADMIN_OFFICER", "settingId": world.settings["A"]}]
    data = {"username": username, "displayName": "Export Probe", "password": INITIAL_PASSWORD,
            "crbCheckedOn": CRB_CHECKED_ON.isoformat(), "dataProtectionTrainedOn": TRAINED_ON.isoformat(),
            "roles": roles}  # fmt: skip
    await api.ok("mutation($i: UserInput!) { createUser(input: $i) { id } }", {"i": data}, world.admin_token)
    token = await api.login(username, INITIAL_PASSWORD)
    payload = {"quarterlyPack": "2026-Q3", "format": "csv"}
    refused = await api.client.post("/reports/export", json=payload, headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["extensions"]["reason"] == "PASSWORD_CHANGE_REQUIRED"
    change = "mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }"
    await api.ok(change, {"c": INITIAL_PASSWORD, "n": PASSWORD}, token)
    token = await api.login(username, PASSWORD)
    served = await api.client.post("/reports/export", json=payload, headers={"Authorization": f"Bearer {token}"})
    assert served.status_code == 200


@pytest.mark.parametrize("sign", ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"])
def test_a_cell_a_spreadsheet_could_read_as_a_formula_is_neutralised(sign: str) -> None:
    from web.export import neutralised

    assert neutralised(f"{sign}HYPERLINK(1)") == f"'{sign}HYPERLINK(1)"
    assert neutralised("Northgate") == "Northgate"
    assert neutralised("-") == "-"  # a rate with no base: no formula


async def test_reports_side_by_side_in_one_query(api: Api, world: World) -> None:
    """graphql-core resolves a query's root fields concurrently: two reports and the pack in one
    document each answer (their reads go through the request's Reader, one statement at a time
    on its one session; on a loaded machine reading the session directly once failed with
    "concurrent operations are not permitted", which this test does not reproduce at will)."""
    centre = await fresh_centre(api, world)
    await families(api, centre.manager, centre.setting_id, [[child("2024-06-01")] for _ in range(5)])
    document = """query($a: ReportInput!, $b: ReportInput!) {
      a: report(input: $a) { total { display } }  b: report(input: $b) { total { display } }
      pack: quarterlyPack(quarter: "2026-Q3") { measure } }"""
    quarter = {"period": "QUARTER", "periodStart": "2026-10-01", "settingId": centre.setting_id}
    body = await api.post(
        document,
        {"a": {**quarter, "measure": "REGISTERED_CHILDREN", "by": ["AGE_BAND"]},
         "b": {**quarter, "measure": "NEW_REGISTRATIONS", "by": ["ETHNIC_GROUP"]}},
        world.tokens["LA_REPORTING"],
    )  # fmt: skip
    assert not body.get("errors"), body
    assert body["data"]["a"]["total"]["display"] == body["data"]["b"]["total"]["display"] == "5"
    assert len(body["data"]["pack"]) == 7
