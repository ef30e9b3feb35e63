"""Disclosure control (resolvers/suppression.py): research/domain.md §5.1's test vectors, and an
adversary that tries the standard differencing attacks on every table of random lattices."""

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import pairwise, product

import pytest

from resolvers.report import Slicer, registered_before
from resolvers.report_data import EARLIER, Window, axes_of, month_add, month_key, quarter_key
from resolvers.suppression import (
    PRIMARY,
    SECONDARY,
    Axis,
    Cell,
    Key,
    Lattice,
    Line,
    Reason,
    Table,
    bounds,
    display,
    exposed_totals,
    fragile,
    limits_of,
    narrow,
    rate,
    suppress_table,
)


def one_way(counts: dict[str, int]) -> dict[str, str]:
    """A one-dimension table with its total published (domain.md's one-way vectors)."""
    lattice = Lattice.of([Axis("d", 1)], {frozenset(): {(k,): n for k, n in counts.items()}})
    return {k: display(n, lattice.reason((1,), (k,))) for k, n in counts.items()}


def test_one_primary_takes_the_next_smallest_as_its_complement() -> None:
    assert one_way({"WBRI": 120, "APKN": 2, "BAFR": 9, "CHNE": 15}) == {
        "WBRI": "120",
        "APKN": "<4",
        "BAFR": "*",
        "CHNE": "15",
    }


def test_two_primaries_need_no_complement() -> None:
    assert one_way({"WBRI": 120, "APKN": 2, "BAFR": 3, "CHNE": 15}) == {
        "WBRI": "120",
        "APKN": "<4",
        "BAFR": "<4",
        "CHNE": "15",
    }


def test_zero_is_shown_and_suppresses_nothing() -> None:
    assert one_way({"0-1": 40, "1-2": 0, "2-3": 37}) == {"0-1": "40", "1-2": "0", "2-3": "37"}


def test_two_way_table_suppresses_a_rectangle() -> None:
    data: dict[Key, int] = {
        ("A", "M"): 10,
        ("A", "F"): 2,
        ("B", "M"): 8,
        ("B", "F"): 12,
        ("C", "M"): 20,
        ("C", "F"): 25,
    }
    lattice = Lattice.of([Axis("row", 1), Axis("col", 1)], {frozenset(): data})
    reasons = {k: lattice.reason((1, 1), k) for k in data}
    assert reasons == {
        ("A", "M"): SECONDARY,
        ("A", "F"): PRIMARY,
        ("B", "M"): SECONDARY,
        ("B", "F"): SECONDARY,
        ("C", "M"): None,
        ("C", "F"): None,
    }
    assert all(lattice.reason(t, k) is None for t in [(0, 0), (1, 0), (0, 1)] for k in lattice.counts[t])


def test_a_small_total_is_suppressed_with_its_line() -> None:
    lattice = Lattice.of([Axis("d", 1)], {frozenset(): {("a",): 2, ("b",): 0}})
    assert lattice.reason((0,), (None,)) == PRIMARY
    assert lattice.reason((1,), ("a",)) == PRIMARY


def test_a_complement_that_bounds_would_pin_is_not_enough() -> None:
    # total 5 = x + y with x in 1..3 and y >= 4 pins x = 1: a third cell must go.
    t, x, y, z = (((0,), (None,)), ((1,), ("x",)), ((1,), ("y",)), ((1,), ("z",)))
    marks = suppress_table({t: 9, x: 1, y: 4, z: 4}, [x, y, z], [Line(t, (x, y, z))], fixed={})
    assert marks == {x: PRIMARY, y: SECONDARY, z: SECONDARY}


def test_a_total_a_finer_line_pins_through_is_hidden_along_a_closed_axis_only() -> None:
    """5 = S1 + S2 with S1 = 1: "<4" and "*" under a shown 5 pin the 1 (S2 is 0 or at least 4),
    and no other cell of the line can help: along the (closed) setting axis the total goes too.
    Along an open axis (a report's own dimension) the total is left as other reports serve it."""
    atoms: dict[frozenset[int], dict[Key, int]] = {frozenset(): {("S1",): 1, ("S2",): 4}}
    closed = Lattice.of([Axis("SETTING", 1)], atoms)
    assert closed.marks == {((1,), ("S1",)): PRIMARY, ((1,), ("S2",)): SECONDARY, ((0,), (None,)): SECONDARY}
    assert bounds_attack(Published.of(closed)) == set()
    open_ = Lattice.of([Axis("SETTING", 1, closed=False)], atoms)
    assert open_.reason((0,), (None,)) is None
    assert bounds_attack(Published.of(open_)) == {((1,), ("S2",))}  # 4, so S1 is 5 - 4


def test_rates_are_suppressed_with_their_numerator_or_a_small_base() -> None:
    assert rate(30, None, 80) == (37.5, None)
    assert rate(2, PRIMARY, 80) == (None, PRIMARY)
    assert rate(9, SECONDARY, 80) == (None, SECONDARY)
    assert rate(2, None, 3) == (None, PRIMARY)


# The adversary --------------------------------------------------------------------------------


@dataclass(slots=True)
class Published:
    """What readers hold of one or several reports: each served table's counts, its hidden
    cells' reasons, and the sums they know hold (each coarser cell is the sum of the finer)."""

    counts: dict[Table, dict[Key, int]]
    marks: dict[Cell, Reason]
    lines: list[Line]

    @classmethod
    def of(cls, *reports: Lattice) -> "Published":
        counts = {t: cells for report in reports for t, cells in report.counts.items()}
        marks = {c: r for report in reports for c, r in report.marks.items()}
        lines = {(line.parent, line.children): line for r in reports for t in r.counts for line in r.lines_of(t)}
        return cls(counts, marks, list(lines.values()))


def served(published: Published) -> tuple[dict[Cell, int], dict[Cell, Reason]]:
    """What a reader gets: every table's shown counts and its hidden cells' reasons."""
    hidden = dict(published.marks)  # zero cells too: a zero may be hidden
    shown = {(t, k): n for t, cells in published.counts.items() for k, n in cells.items() if (t, k) not in hidden}
    return shown, hidden


def structure(published: Published) -> list[Line]:
    return published.lines


def blank(published: Published, cell: Cell) -> bool:
    """A hidden zero ("*", or "<4" as a part of a total under 4): recovering it recovers no count."""
    table, key = cell
    return cell in published.marks and not published.counts.get(table, {}).get(key, 0)


def loose(published: Published) -> set[Cell]:
    """The parts of a total read "<4": a reader's "<4" there may be 0."""
    return {c for line in structure(published) if published.marks.get(line.parent) == PRIMARY for c in line.children}


def differencing(lattice: Published) -> dict[Cell, int]:
    """The standard attacks: a total minus the shown parts of it (all settings minus the
    others, a reach area minus its other LSOAs, a quarter minus its other months, a band's
    margin minus the other cells), and a part as its total minus the other parts."""
    shown, hidden = served(lattice)
    recovered = {}
    for line in structure(lattice):
        unknown = [m for m in line.members if m in hidden]
        if len(unknown) != 1:
            continue
        parent = shown.get(line.parent, 0) if line.parent not in hidden else None
        parts = sum(shown.get(c, 0) for c in line.children if c not in hidden)
        cell = unknown[0]
        if not blank(lattice, cell):
            recovered[cell] = parts if parent is None else parent - parts
    return recovered


def linear_attack(lattice: Published) -> set[Cell]:
    """Every hidden cell any combination of the served sums determines (exact rationals)."""
    _, hidden = served(lattice)
    order = sorted(hidden, key=str)
    index = {c: i for i, c in enumerate(order)}
    rows = []
    for line in structure(lattice):
        row: dict[int, Fraction] = defaultdict(Fraction)
        for member, sign in [(line.parent, 1), *((c, -1) for c in line.children)]:
            if member in index:
                row[index[member]] += sign
        if any(row.values()):
            rows.append(dict(row))
    basis: list[dict[int, Fraction]] = []
    for row in rows:
        for b in basis:
            pivot = min(k for k, v in b.items() if v)
            if row.get(pivot):
                f = row[pivot] / b[pivot]
                for k, v in b.items():
                    row[k] = row.get(k, Fraction(0)) - f * v
        row = {k: v for k, v in row.items() if v}
        if row:
            basis.append(row)
    # Fully reduce, then a basis row with one entry names a determined cell.
    reduced: dict[int, dict[int, Fraction]] = {}
    for b in sorted(basis, key=lambda r: -min(r)):
        pivot = min(b)
        b = {k: v / b[pivot] for k, v in b.items()}
        for p, r in reduced.items():
            if b.get(p):
                f = b[p]
                for k, v in r.items():
                    b[k] = b.get(k, Fraction(0)) - f * v
                b = {k: v for k, v in b.items() if v}
        reduced[pivot] = b
    return {order[p] for p, r in reduced.items() if set(r) == {p} and not blank(lattice, order[p])}


def bounds_attack(lattice: Published) -> set[Cell]:
    """Hidden cells one line's sum and the other members' known ranges pin to one value
    (PRIMARY is 1..3, or 0..3 as a part of a total under 4; SECONDARY 0 or at least 4: the
    reasons are served)."""
    shown, hidden = served(lattice)
    parts = loose(lattice)
    pinned = set()
    for line in structure(lattice):
        if line.parent in hidden:
            continue
        unknown = [c for c in line.children if c in hidden]
        rest = shown.get(line.parent, 0) - sum(shown.get(c, 0) for c in line.children if c not in hidden)
        for cell in unknown:
            others = [bounds(hidden[c], c in parts) for c in unknown if c != cell]
            lo = max(bounds(hidden[cell], cell in parts)[0], rest - sum(hi for _, hi in others))
            hi = min(bounds(hidden[cell], cell in parts)[1], rest - sum(lo for lo, _ in others))
            lo, hi = narrow(hidden[cell], lo, hi)
            if lo == hi and not blank(lattice, cell):
                pinned.add(cell)
    return pinned


MONTHS = {"04": "Q1", "05": "Q1", "06": "Q1", "07": "Q2", "08": "Q2", "09": "Q2"}
LSOAS = {"E01000001": "R1", "E01000002": "R1", "E01000003": "R2", "E01000004": "R2", "E01000005": "R2"}
BANDS = ["0-1", "1-2", "2-3", "3-4", "4-5", "5+"]
SMALL = [0, 0, 0, 1, 1, 2, 3, 5, 8, 13, 30]


def random_atoms(seed: int) -> dict[Key, int]:
    rng = random.Random(seed)
    atoms: dict[Key, int] = {}
    for key in product(["S1", "S2", "S3"], MONTHS, LSOAS, BANDS[:3]):
        n = rng.choice(SMALL)
        if n:
            atoms[key] = n
    return atoms


def random_axes(closed: bool) -> list[Axis]:
    """Setting, month, LSOA and age band: every axis closed (one cube serves every report) or
    only the setting's (reports have their own dimensions, as resolvers/report.py builds them)."""
    return [
        Axis("SETTING", 1),
        Axis("MONTH", 2, lambda m: (MONTHS[m], m), closed=closed),
        Axis("LSOA", 2, lambda lsoa: (LSOAS[lsoa], lsoa), closed=closed),
        Axis("AGE_BAND", 1, closed=closed),
    ]


def random_lattice(seed: int) -> Published:
    return Published.of(Lattice.of(random_axes(closed=True), {frozenset(): random_atoms(seed)}))


@pytest.mark.parametrize("seed", range(4))
def test_no_differencing_attack_recovers_a_suppressed_count(seed: int) -> None:
    lattice = random_lattice(seed)
    shown, hidden = served(lattice)
    assert any(r == PRIMARY for r in hidden.values())  # the data has small counts to protect
    assert differencing(lattice) == {}
    for (table, key), n in shown.items():
        assert not 0 < n < 4, (table, key, n)


@pytest.mark.parametrize("seed", range(4))
def test_no_combination_of_sums_recovers_a_suppressed_count(seed: int) -> None:
    assert linear_attack(random_lattice(seed)) == set()


@pytest.mark.parametrize("seed", range(4))
def test_no_bounds_pin_a_suppressed_count(seed: int) -> None:
    assert bounds_attack(random_lattice(seed)) == set()


def test_the_adversary_finds_what_per_table_suppression_leaves_open() -> None:
    """The attacks can fail: suppress each table alone (no down-set) and they recover counts."""
    lattice = Lattice.of(random_axes(closed=True), {frozenset(): random_atoms(0)})
    naive = Lattice(lattice.axes, lattice.counts)
    values = {(t, k): n for t, cells in lattice.counts.items() for k, n in cells.items()}
    for table in naive.tables():
        own = [line for line in lattice.lines_of(table) if all(c[0] == table for c in line.children)]
        cells = [(table, k) for k in lattice.counts[table]]
        marks = suppress_table(values, cells, [Line(line.parent, line.children) for line in own], {})
        naive.marks.update({c: r for c, r in marks.items() if c[0] == table})
    assert differencing(Published.of(naive)) or linear_attack(Published.of(naive))


def test_the_bounds_attack_finds_what_a_cube_without_repairs_leaves_open() -> None:
    """With every axis open (no total hidden for a finer line), the bounds pin counts of seed 0."""
    assert bounds_attack(Published.of(Lattice.of(random_axes(closed=False), {frozenset(): random_atoms(0)})))


# Several reports ------------------------------------------------------------------------------

# The reports a reader can ask of one measure and period, as their finest tables: the setting
# axis is closed (always built whole), the others are a report's own levels.
REPORT_TOPS = [t for t in product([1], range(3), range(3), range(2)) if sum(1 for x in t[1:] if x) <= 2]


def several_reports(seed: int) -> list[Lattice]:
    """Each report hides the totals a split along any open axis would give away, as
    resolvers/report.py does."""
    atoms: dict[frozenset[int], dict[Key, int]] = {frozenset(): random_atoms(seed)}
    axes = random_axes(closed=False)
    return [
        Lattice.of(axes, atoms, top, forced=exposed_totals(axes, atoms, limits_of(axes, top))) for top in REPORT_TOPS
    ]


@pytest.mark.parametrize("seed", range(2))
def test_several_reports_serve_each_table_alike_and_no_differencing_across_them_recovers_a_count(
    seed: int,
) -> None:
    reports = several_reports(seed)
    for one, other in pairwise(reports):
        for table in one.counts.keys() & other.counts.keys():
            for key in one.counts[table].keys() | {k for t, k in one.marks if t == table}:
                assert one.reason(table, key) == other.reason(table, key), (table, key)
    published = Published.of(*reports)
    assert differencing(published) == {}
    assert linear_attack(published) == set()


@pytest.mark.parametrize("seed", range(4))
def test_no_bounds_pin_a_count_across_several_reports(seed: int) -> None:
    """A report's own dimensions are open axes (other reports serve their margins without
    them): a total that a split along one would give away (5 = "<4" + "*") is hidden in every
    report, whether it serves the split or not."""
    assert bounds_attack(Published.of(*several_reports(seed))) == set()


def test_without_the_totals_a_split_gives_away_the_bounds_pin_a_count() -> None:
    """Seed 1 without `exposed_totals`: 5 = 4 + 1 along the LSOAs of a reach area pins the 1."""
    atoms: dict[frozenset[int], dict[Key, int]] = {frozenset(): random_atoms(1)}
    reports = [Lattice.of(random_axes(closed=False), atoms, top) for top in REPORT_TOPS]
    assert bounds_attack(Published.of(*reports))


def test_a_split_that_pins_a_part_even_fully_hidden_is_fragile() -> None:
    assert fragile(4, [1, 1, 1, 1]) and fragile(5, [4, 1]) and fragile(6, [3, 3])
    assert not fragile(4, [2, 2]) and not fragile(6, [5, 1]) and not fragile(3, [1, 1, 1]) and not fragile(9, [4, 4, 1])


def test_a_table_is_suppressed_the_same_in_every_lattice_that_holds_it() -> None:
    rng = random.Random(7)
    atoms: dict[Key, int] = {
        (s, lsoa, band): rng.choice([0, 1, 2, 4, 9]) for s, lsoa, band in product(["S1", "S2"], LSOAS, BANDS)
    }
    geo = Axis("LSOA", 2, lambda lsoa: (LSOAS[lsoa], lsoa))
    wide = Lattice.of([Axis("SETTING", 1), geo, Axis("AGE_BAND", 1, closed=False)], {frozenset(): atoms})
    narrow_atoms: dict[Key, int] = defaultdict(int)
    for (s, lsoa, _), n in atoms.items():
        narrow_atoms[(s, lsoa)] += n
    narrow = Lattice.of([Axis("SETTING", 1), geo], {frozenset(): dict(narrow_atoms)})
    for table in narrow.counts:
        for key in narrow.counts[table]:
            assert narrow.reason(table, key) == wide.reason((*table, 0), (*key, None)), (table, key)


def test_overlapping_groups_are_not_summed() -> None:
    """A family in two hard-to-reach groups counts in both, and once in the total."""
    axes = [Axis("SETTING", 1), Axis("GROUP", 1, partition=False)]
    atoms: dict[frozenset[int], dict[Key, int]] = {
        frozenset(): {("S1", "LONE"): 5, ("S1", "TEEN"): 5, ("S2", "LONE"): 6},
        frozenset({1}): {("S1", None): 7, ("S2", None): 6},
    }
    lattice = Lattice.of(axes, atoms)
    assert lattice.value((0, 0), (None, None)) == 13
    assert lattice.value((0, 1), (None, "LONE")) == 11
    assert not lattice.marks


# Registered families and new registrations ----------------------------------------------------


def year_end(start: date) -> date:
    return month_add(start, 12)


def registrations_year(start: date, atoms: dict[Key, int]) -> tuple[Window, Slicer]:
    """The linked lattice of a financial year over settings S1..S3 (families by setting and
    registration month, "earlier" before the year), served as the API serves it."""
    window = Window.of("YEAR", start, "REGISTERED_FAMILIES")
    axes = axes_of("REGISTERED_FAMILIES", [], window)
    top = (1, 3)
    lattice = Lattice.of(axes, {frozenset(): atoms}, top, registered_before(axes, {frozenset(): atoms}, top))
    return window, Slicer(lattice, [], window, None, {1: "S1", 2: "S2", 3: "S3"}, None)


@pytest.mark.parametrize("seed", range(8))
def test_registered_families_at_period_ends_never_difference_into_a_hidden_new_registration(seed: int) -> None:
    """Two financial years of registrations by setting and month. For each setting and the
    total: the families registered at consecutive period ends (months, quarters, years, across
    the years' boundary) are both shown only when the new registrations between them are."""
    rng = random.Random(seed)
    sparse = [0, 0, 0, 0, 0, 0, 1, 2, 4, 5]  # few registrations: small totals at the year's end too
    by_month = {(s, month_add(date(2025, 4, 1), i)): rng.choice(sparse) for s in ["1", "2", "3"] for i in range(24)}
    before = {s: rng.choice([0, 2, 4, 5]) for s in ["1", "2", "3"]}
    served: dict[tuple[str | None, date], tuple[int, Reason | None]] = {}  # (setting, end) -> count at that end
    new: dict[tuple[str | None, date, date], Reason | None] = {}  # (setting, from, to) -> a new registrations cell
    opening: dict[str | None, list[Reason | None]] = defaultdict(list)  # the year's "earlier" cells
    for year in (date(2025, 4, 1), date(2026, 4, 1)):
        atoms: dict[Key, int] = defaultdict(int)
        for (s, month), n in by_month.items():
            if month < year_end(year) and n:
                atoms[(s, EARLIER if month < year else month_key(month))] += n
        for s, n in before.items():
            if n:
                atoms[(s, EARLIER)] += n
        window, slicer = registrations_year(year, dict(atoms))
        for setting in [None, "1", "2", "3"]:
            table, settings = ((1, 0), [setting]) if setting else ((0, 0), None)
            for i in range(13):
                end = month_add(year, i)
                served[(setting, end)] = slicer.count(table, (setting, None), settings, window.registered_by(end))
            if year.year == 2026:
                opening[setting] = [
                    slicer.count((table[0], t), (setting, EARLIER), settings, None)[1] for t in (1, 2, 3)
                ]
            cells = [(3, month_key(month_add(year, i)), i, 1) for i in range(12)]
            cells += [(2, quarter_key(month_add(year, 3 * q)), 3 * q, 3) for q in range(4)] + [(1, "year", 0, 12)]
            for level, key, first, months in cells:
                start, stop = month_add(year, first), month_add(year, first + months)
                new[(setting, start, stop)] = slicer.count((table[0], level), (setting, key), settings, None)[1]
    assert any(reason == PRIMARY for reason in new.values())  # the data has small counts to protect
    for setting, reasons in opening.items():
        # What the first year serves as its total, the second holds as its opening: hidden alike.
        assert reasons == [served[(setting, date(2026, 4, 1))][1]] * 3, setting
    for (setting, start, stop), reason in new.items():
        ends = [served[(setting, start)], served[(setting, stop)]]
        if reason is not None:
            assert any(r is not None for _, r in ends), (setting, start, stop)
        elif all(r is None for _, r in ends):
            assert ends[1][0] - ends[0][0] >= 0


def test_a_lattice_too_large_to_suppress_in_time_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from resolvers import suppression

    atoms: dict[Key, int] = {(s, lsoa): 2 for s in ["S1", "S2"] for lsoa in LSOAS}
    axes = [Axis("SETTING", 1), Axis("LSOA", 2, lambda lsoa: (LSOAS[lsoa], lsoa))]
    assert Lattice.of(axes, {frozenset(): atoms}).marks  # 1 + 2 + 5 + 2 + 4 + 10 cells
    monkeypatch.setattr(suppression, "MAX_CELLS", 20)
    with pytest.raises(suppression.TooFine):
        Lattice.of(axes, {frozenset(): atoms})
