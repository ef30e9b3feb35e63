"""Issue 14's "done when", end to end over real TCP, as a black-box client written from API.md
would try it against the demo: three centres register families through a quarter, the local
authority's reporting account runs every measure by every dimension, downloads the quarterly
pack as CSV and XLSX, and then attacks what it was served — adjacent periods (a quarter against
its months), all settings minus the others, nested areas (a reach area against its LSOAs), a
table's total against its cells, one report's cells against another's.

The attacker knows only what the API serves: each cell is a count of a set of units (families,
children, registrations), named by the measure, the settings, the months and the dimension keys
it covers; two cells naming the same set are the same count, and a set split into parts is the
sum of theirs. Solving those equations exactly (differencing) recovers no count, and neither
do bounds: "<4" is 1 to 3, or 0 to 3 as a part of a total that reads "<4" (README "Reports": a
"<4" over three "<4" parts would otherwise be 3 = 1 + 1 + 1), and "*" is at least 0."""

import csv
import io
import random
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from fractions import Fraction
from itertools import product
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.test_e2e_http import serving_demo
from tests.test_e2e_term import Client

pytestmark = pytest.mark.own_sqlite  # the demo server runs on an SQLite file of its own

QUARTER = "2026-07-01"
MONTHS = ("2026-07", "2026-08", "2026-09")
YEAR_START = "2026-04-01"  # the financial year around the quarter: its totals hold the quarter's
YEAR_MONTHS = tuple(f"{2026 + (m < 4)}-{m:02d}" for m in (*range(4, 13), 1, 2, 3))
CENTRES = {"NORTH": "manager", "SOUTH": "manager-south", "EAST": "manager-east"}
# postcode -> (reach area, LSOA): two reach areas of three LSOAs
AREAS = {
    f"WF{9 if area == 'Airedale' else 8} {lsoa}{letters}": (area, f"E0100{1 if area == 'Airedale' else 2}00{lsoa}")
    for area, lsoa, letters in product(("Airedale", "Calder"), (1, 2, 3), ("AA", "AB"))
}
MEASURES = ("REGISTERED_FAMILIES", "REGISTERED_CHILDREN", "NEW_REGISTRATIONS", "ATTENDANCES", "ATTENDERS",
            "CONTACTS", "PENETRATION_RATE")  # fmt: skip
DIMENSIONS = ("SETTING", "AGE_BAND", "GENDER", "ETHNICITY", "ETHNIC_GROUP", "REACH_AREA", "LSOA", "OUTCOME_TYPE",
              "EVENT_TYPE", "HARD_TO_REACH_GROUP", "MONTH")  # fmt: skip
ATTACKED = ("REGISTERED_FAMILIES", "REGISTERED_CHILDREN", "NEW_REGISTRATIONS")  # the counts this test's data makes
STOCKS = {"REGISTERED_FAMILIES", "REGISTERED_CHILDREN"}  # counted at a period's end; the others are sums over it
# Dimensions whose keys split a count into parts (a family is in one or none of each key);
# hard-to-reach groups overlap, so their cells are not parts of the total.
PARTS = set(DIMENSIONS) - {"HARD_TO_REACH_GROUP"}

REPORT = """query($i: ReportInput!) { report(input: $i) {
  cells { keys value suppressed reason display } total { keys value suppressed reason display } } }"""
PACK = """query($q: String!) { quarterlyPack(quarter: $q) { measure by
  cells { keys display } total { display } } }"""
REGISTER = "mutation($input: RegisterFamilyInput!) { registerFamily(input: $input) { id } }"


# The data: three centres register families through the quarter ---------------------------------


def surname(index: int) -> str:
    """Names hold no digits: the family's index in letters (Report-ba, Report-bb, ...)."""
    return "Report-" + "".join("abcdefghij"[int(digit)] for digit in str(index))


def person(first: str, last: str, born: str, gender: str, ethnicity: str) -> dict[str, Any]:
    return {"firstName": first, "lastName": last, "dateOfBirth": born, "gender": gender, "ethnicity": ethnicity,
            "language": "ENG"}  # fmt: skip


def registrations(rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """(centre, RegisterFamilyInput): small numbers by design, so most cells are suppressed."""
    ethnicities = ["WBRI", "WBRI", "WBRI", "MWBC", "APKN", "BCRB", "WIRI"]
    for index in range(48):
        children = [
            person(name, surname(index), date(rng.randint(2021, 2026), rng.randint(1, 6), 15).isoformat(),
                   rng.choice(["FEMALE", "MALE"]), rng.choice(ethnicities))
            for name in ["Amy", "Ben"][: rng.choice([1, 1, 2])]
        ]  # fmt: skip
        mother = person("Dana", surname(index), "1990-05-01", "FEMALE", children[0]["ethnicity"])
        yield (
            rng.choice(list(CENTRES)),
            {
                "source": "INITIAL_CONTACT",
                "receivedOn": date(2026, rng.choice([7, 8, 9]), rng.randint(1, 28)).isoformat(),
                "consentToContact": True,
                "address": {
                    "line1": f"{index} Report Street",
                    "town": "Wakefield",
                    "postcode": rng.choice(list(AREAS)),
                },
                "carers": [{**mother, "relationshipToChildren": "MOTHER"}],
                "children": children,
            },
        )


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving_demo(Path(tmp_path_factory.mktemp("reports"))) as (url, _):
        admin = Client(url, "sysadmin")
        lines = "".join(f"{postcode},{area},{lsoa}\n" for postcode, (area, lsoa) in AREAS.items())
        admin.ok("mutation($csv: String!) { importPostcodeAreas(csv: $csv) }", csv="postcode,reach_area,lsoa\n" + lines)
        settings = {s["code"]: s["id"] for s in admin.ok("{ settings { id code } }")["settings"]}
        managers = {centre: Client(url, user) for centre, user in CENTRES.items()}
        for centre, family in registrations(random.Random(14)):
            managers[centre].ok(REGISTER, input={**family, "settingId": settings[centre]})
        yield url


# What was served, as counts of named sets ------------------------------------------------------

# A count's name: the measure, the settings (None: all), the months it covers (a stock: the
# month at whose end it is counted, its MONTH the month of registration) and its other keys.
Name = tuple[str, str | None, frozenset[str], frozenset[tuple[str, str]]]


class Served:
    """Every cell served, by name: a value, or the reason it is hidden."""

    def __init__(self) -> None:
        self.shown: dict[Name, int] = {}
        self.hidden: dict[Name, str] = {}

    def add(self, name: Name, cell: dict[str, Any]) -> None:
        """A count shown by one report and hidden by another is known: the attacker reads it."""
        if cell["suppressed"]:
            if name not in self.shown:
                self.hidden[name] = cell["reason"]
        else:
            value = int(cell["value"])
            assert value == 0 or value >= 4, (name, cell)
            assert self.shown.setdefault(name, value) == value, name
            self.hidden.pop(name, None)

    def names(self) -> set[Name]:
        return self.shown.keys() | self.hidden.keys()


def name_of(measure: str, setting: str | None, months: tuple[str, ...], by: list[str], keys: list[str]) -> Name:
    other: set[tuple[str, str]] = set()
    covered = frozenset(months[-1:] if measure in STOCKS else months)
    for dimension, key in zip(by, keys, strict=True):
        if dimension == "SETTING":
            assert setting in (None, key)
            setting = key
        elif dimension == "MONTH" and measure not in STOCKS:
            covered = frozenset({key})
        else:
            other.add((dimension, key))
    return measure, setting, covered, frozenset(other)


# The reports the attacker takes: for each measure, by its dimensions, for the quarter and each
# of its months, for all settings and each one (a 2-dimension report for all settings only).
ATTACKS = {
    "NEW_REGISTRATIONS": [[], ["SETTING"], ["GENDER"], ["ETHNIC_GROUP"], ["REACH_AREA"], ["LSOA"], ["MONTH"],
                          ["HARD_TO_REACH_GROUP"], ["SETTING", "REACH_AREA"], ["MONTH", "LSOA"]],
    "REGISTERED_CHILDREN": [[], ["SETTING"], ["AGE_BAND"], ["GENDER"], ["SETTING", "AGE_BAND"]],
}  # fmt: skip


def collect(client: Client, served: Served, measure: str, setting_ids: dict[str, str]) -> list[list[Name]]:
    """Takes the reports of one measure into `served`; returns each table as [total, *cells]."""
    tables = []
    periods = [("YEAR", YEAR_START, YEAR_MONTHS), ("QUARTER", QUARTER, MONTHS)]
    periods += [("MONTH", f"{m}-01", (m,)) for m in MONTHS]
    for (period, start, months), setting, by in product(periods, [None, *setting_ids], ATTACKS[measure]):
        if (
            (setting is not None and len(by) > 1)
            or ("SETTING" in by and setting)
            or ("MONTH" in by and period != "QUARTER")
        ):
            continue
        request = {"measure": measure, "by": by, "period": period, "periodStart": start}
        report = client.ok(REPORT, i={**request, "settingId": setting and setting_ids[setting]})["report"]
        total = name_of(measure, setting, months, [], [])
        served.add(total, report["total"])
        cells = [name_of(measure, setting, months, by, cell["keys"]) for cell in report["cells"]]
        for name, cell in zip(cells, report["cells"], strict=True):
            served.add(name, cell)
        if by and all(d in PARTS for d in by):
            tables.append([total, *cells])
    return tables


# The attacker ------------------------------------------------------------------------------------

Equation = tuple[Name, list[Name]]  # the first counts the sum of the others


def equations(served: Served, tables: list[list[Name]], settings: list[str]) -> list[Equation]:
    """A table's total is the sum of its cells; and any served count is the sum of the served
    counts of its parts: its settings one by one, its months one by one (sums over a period),
    its reach area's LSOAs."""
    found: list[Equation] = [(table[0], table[1:]) for table in tables]
    names = served.names()
    lsoas = defaultdict(set)
    for area, lsoa in AREAS.values():
        lsoas[area].add(lsoa)
    for name in names:
        measure, setting, months, other = name
        splits: list[list[Name]] = []
        if setting is None:
            splits.append([(measure, s, months, other) for s in settings])
        if len(months) > 1:
            splits.append([(measure, setting, frozenset({m}), other) for m in sorted(months)])
        for dimension, key in other:
            if dimension == "REACH_AREA" and key in lsoas:
                rest = other - {(dimension, key)}
                splits.append([(measure, setting, months, rest | {("LSOA", lsoa)}) for lsoa in sorted(lsoas[key])])
        found += [(name, parts) for parts in splits if all(part in names for part in parts)]
    return found


def check_equations_hold(served: Served, found: list[Equation]) -> int:
    """The attacker's model is right: every equation whose counts are all shown holds."""
    checked = 0
    for whole, parts in found:
        if whole in served.shown and all(p in served.shown for p in parts):
            assert served.shown[whole] == sum(served.shown[p] for p in parts), (whole, parts)
            checked += 1
    return checked


Row = tuple[dict[int, Fraction], Fraction]  # sum of coefficient * unknown = constant


def rows_of(served: Served, found: list[Equation]) -> tuple[list[Name], list[Row]]:
    """The equations over the hidden counts, the shown ones moved to the constant side."""
    unknowns = sorted(served.hidden, key=repr)
    index = {name: i for i, name in enumerate(unknowns)}
    rows: list[Row] = []
    for whole, parts in found:
        row: dict[int, Fraction] = defaultdict(Fraction)
        constant = Fraction(0)
        for name, sign in [(whole, 1), *((p, -1) for p in parts)]:
            if name in index:
                row[index[name]] += sign
            else:
                constant -= sign * served.shown[name]
        row = {k: v for k, v in row.items() if v}
        if row:
            rows.append((row, constant))
    return unknowns, rows


def solve(served: Served, found: list[Equation]) -> dict[Name, Fraction]:
    """The hidden counts the equations determine exactly."""
    unknowns, rows = rows_of(served, found)
    return {unknowns[i]: value for i, value in exact(rows)}


def recovered(served: Served, found: list[Equation]) -> dict[Name, Fraction]:
    """The hidden counts the equations determine exactly, or by bounds propagated through them
    until stable: "*" is at least 0, "<4" at most 3 and at least 1 — or 0 where it is a part of
    a total served as "<4" (README "Reports"; the year's totals are served too). Bounds that
    contradict each other would mean the served counts break that rule."""
    unknowns, rows = rows_of(served, found)
    solved = dict(exact(rows))
    totals = [name for name, reason in served.hidden.items() if reason == "PRIMARY"]
    small = {u for u in unknowns if served.hidden[u] == "PRIMARY"}
    loose = {u for u in small if any(part_of(u, total) for total in totals)}
    low = {i: Fraction(1 if u in small and u not in loose else 0) for i, u in enumerate(unknowns)}
    high: dict[int, Fraction | None] = {i: Fraction(3) if u in small else None for i, u in enumerate(unknowns)}
    bounds = propagate(rows, low, high)
    assert bounds is not None, "the served counts contradict each other"
    low, high = bounds
    for i in range(len(unknowns)):
        if high[i] is not None and low[i] == high[i]:
            solved.setdefault(i, low[i])
    return {unknowns[i]: value for i, value in solved.items()}


def part_of(part: Name, whole: Name) -> bool:
    """`part` counts units that `whole` splits into: the same measure, within its settings and
    months (a stock: at the same end), its keys or finer ones (an LSOA of a reach area); a
    hard-to-reach group is no part (a family may be in several)."""
    if part == whole or part[0] != whole[0] or whole[1] not in (None, part[1]):
        return False
    if (part[2] != whole[2]) if part[0] in STOCKS else not part[2] <= whole[2]:
        return False
    area_of = {lsoa: area for area, lsoa in AREAS.values()}
    implied = part[3] | {("REACH_AREA", area_of.get(k, k)) for d, k in part[3] if d == "LSOA"}
    return whole[3] <= implied and (
        "HARD_TO_REACH_GROUP" in dict(whole[3]) or "HARD_TO_REACH_GROUP" not in dict(part[3])
    )


Bounds = tuple[dict[int, Fraction], dict[int, Fraction | None]]


def propagate(rows: list[Row], low: dict[int, Fraction], high: dict[int, Fraction | None]) -> Bounds | None:
    """Bounds tightened through the rows until stable; None when they contradict each other."""
    changed = True
    while changed:
        changed = False
        for row, constant in rows:
            for target, coefficient in row.items():
                # coefficient * x = constant - sum(others): bound the others, then x
                rest_low, rest_high = Fraction(0), Fraction(0)
                unbounded_low = unbounded_high = False
                for other, c in row.items():
                    if other == target:
                        continue
                    lo, hi = (low[other], high[other]) if c > 0 else (high[other], low[other])
                    if lo is None:
                        unbounded_low = True
                    else:
                        rest_low += c * lo
                    if hi is None:
                        unbounded_high = True
                    else:
                        rest_high += c * hi
                bounds = [None if unbounded_high else (constant - rest_high) / coefficient,
                          None if unbounded_low else (constant - rest_low) / coefficient]  # fmt: skip
                if coefficient < 0:
                    bounds.reverse()
                new_low, new_high = bounds
                if new_low is not None and new_low > low[target]:
                    low[target], changed = new_low, True
                current = high[target]
                if new_high is not None and (current is None or new_high < current):
                    high[target], changed = new_high, True
                current = high[target]
                if current is not None and low[target] > current:
                    return None
    return low, high


def exact(rows: list[Row]) -> Iterator[tuple[int, Fraction]]:
    """The unknowns a linear system determines, with their values (Gauss-Jordan elimination
    over the rationals: an unknown is determined when its pivot row holds nothing else)."""
    pivots: dict[int, tuple[dict[int, Fraction], Fraction]] = {}
    for row, constant in rows:
        row, constant = dict(row), constant
        for column, (pivot_row, pivot_constant) in pivots.items():
            factor = row.get(column)
            if factor:
                for k, v in pivot_row.items():
                    row[k] = row.get(k, Fraction(0)) - factor * v
                constant -= factor * pivot_constant
                row = {k: v for k, v in row.items() if v}
        if not row:
            continue
        column = min(row)
        scale = row[column]
        row = {k: v / scale for k, v in row.items()}
        constant /= scale
        for other_column, (other_row, other_constant) in list(pivots.items()):
            factor = other_row.get(column)
            if factor:
                merged = {
                    k: other_row.get(k, Fraction(0)) - factor * row.get(k, Fraction(0))
                    for k in other_row.keys() | row.keys()
                }
                pivots[other_column] = ({k: v for k, v in merged.items() if v}, other_constant - factor * constant)
        pivots[column] = (row, constant)
    for column, (row, constant) in pivots.items():
        if len(row) == 1:
            yield column, constant


def test_the_attacker_recovers_what_an_unprotected_table_leaves_open() -> None:
    """The attacker is not toothless: 5 = "<4" + 4 gives the 1 by difference; 5 = "<4" + "*"
    with the "*" known to be at most 4 by another line gives it by bounds."""
    served = Served()
    total, a, b = (("M", None, frozenset({"m"}), frozenset({("D", k)})) for k in ("t", "a", "b"))
    served.shown[total], served.hidden[a], served.shown[b] = 5, "PRIMARY", 4
    assert recovered(served, [(total, [a, b])]) == {a: 1}
    served = Served()
    other_total, c = (("M", None, frozenset({"m"}), frozenset({("E", k)})) for k in ("t", "c"))
    served.shown[total], served.hidden[a], served.hidden[b] = 5, "PRIMARY", "SECONDARY"
    served.shown[other_total], served.shown[c] = 4, 0
    assert recovered(served, [(total, [a, b]), (other_total, [b, c])]) == {b: 4, a: 1}


# The client -------------------------------------------------------------------------------------


def test_every_measure_by_every_dimension_for_a_quarter(base_url: str) -> None:
    la = Client(base_url, "la-reporting")
    for measure, by in product(MEASURES, [[], *([d] for d in DIMENSIONS)]):
        body = la(REPORT, i={"measure": measure, "by": by, "period": "QUARTER", "periodStart": QUARTER})
        if body.get("errors"):  # OUTCOME_TYPE and EVENT_TYPE describe attendances only
            assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
                ("BAD_USER_INPUT", "input.by")
            ], (measure, by, body)
            continue
        report = body["data"]["report"]
        for cell in [report["total"], *report["cells"]]:
            assert cell["suppressed"] == (cell["value"] is None), cell
            if cell["suppressed"] and cell["display"] != "-":  # "-": a rate with no births figure
                assert (cell["reason"], cell["display"]) in {("PRIMARY", "<4"), ("SECONDARY", "*")}, cell
            elif measure != "PENETRATION_RATE":
                assert cell["value"] == 0 or cell["value"] >= 4, (measure, by, cell)


@pytest.fixture(scope="module")
def attack(base_url: str) -> tuple[Served, list[Equation]]:
    """Everything the attacker was served, and the equations it knows between the counts."""
    la = Client(base_url, "la-reporting")
    setting_ids = {s["code"]: s["id"] for s in la.ok("{ settings { id code } }")["settings"]}
    served = Served()
    found: list[Equation] = []
    for measure in ATTACKS:
        tables = collect(la, served, measure, setting_ids)
        found += equations(served, tables, list(setting_ids))
    assert sum(1 for reason in served.hidden.values() if reason == "PRIMARY") >= 20  # small counts to protect
    assert check_equations_hold(served, found) >= 100
    return served, found


def test_differencing_recovers_no_count(attack: tuple[Served, list[Equation]]) -> None:
    """Adjacent periods, all settings less the others, a reach area less its LSOAs, a total less
    its cells, and any chain of those: no hidden count of 1 to 3 is determined."""
    served, found = attack
    assert {name: value for name, value in solve(served, found).items() if 1 <= value <= 3} == {}


def test_bounds_recover_no_count(attack: tuple[Served, list[Equation]]) -> None:
    served, found = attack
    assert {name: value for name, value in recovered(served, found).items() if 1 <= value <= 3} == {}


def test_the_quarterly_pack_downloads_as_the_api_serves_it(base_url: str) -> None:
    la = Client(base_url, "la-reporting")
    pack = la.ok(PACK, q="2026-Q3")["quarterlyPack"]
    headers = {"Authorization": f"Bearer {la.token}"}
    body = {"quarterlyPack": "2026-Q3"}
    as_csv = httpx.post(f"{base_url}/reports/export", json={**body, "format": "csv"}, headers=headers, timeout=30)
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = [row for row in csv.reader(io.StringIO(as_csv.text)) if row]
    as_xlsx = httpx.post(f"{base_url}/reports/export", json={**body, "format": "xlsx"}, headers=headers, timeout=30)
    assert as_xlsx.status_code == 200
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    sheets = load_workbook(io.BytesIO(as_xlsx.content)).worksheets
    assert len(sheets) == len(pack)
    for table, sheet in zip(pack, sheets, strict=True):
        values = [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows()]
        lines = [[*cell["keys"], cell["display"]] for cell in table["cells"]]
        lines.append(["Total", *[""] * (len(table["by"]) - 1), table["total"]["display"]])
        for line in lines:
            assert line in values, (table["measure"], line)
            assert line in rows, (table["measure"], line)
