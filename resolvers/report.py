"""Reports (standards 5.1, 5.4, 13; API.md "Reports"): counts only, never a row, computed by
GROUP BY in the database and served as slices and margins of one suppressed lattice
(resolvers/suppression.py).

The lattice of a report is authority-wide: every setting (families count in the setting they
are registered with, so a setting's slice holds only families whose scope includes it: the
secondary-data rule of standards 13), the financial year around the period by quarter and
month (flows: new registrations, penetration), and the report's dimensions with their
hierarchies (ethnic group > ethnicity, reach area > LSOA). A report over the settings a caller
reports on is the sum of their slices: shown only when every part is shown.
"""

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from sqlalchemy import func, select

from authz.categories import Action, Category
from errors import BadUserInput, Forbidden
from models import BirthFigure, Setting
from resolvers.context import Context
from resolvers.form import calendar_for
from resolvers.ids import decode_key
from resolvers.report_counts import atoms_of
from resolvers.report_data import EARLIER, FINEST, HIERARCHIES, Dim, Dimension, Window, axes_of, dims_of
from resolvers.suppression import (
    PRIMARY,
    SECONDARY,
    Atoms,
    Axis,
    Cell,
    Lattice,
    Reason,
    Table,
    TooFine,
    display,
    exposed_totals,
    is_primary,
    limits_of,
    rate,
)


class Measure(StrEnum):
    REGISTERED_FAMILIES = "REGISTERED_FAMILIES"
    REGISTERED_CHILDREN = "REGISTERED_CHILDREN"
    NEW_REGISTRATIONS = "NEW_REGISTRATIONS"
    ATTENDANCES = "ATTENDANCES"
    ATTENDERS = "ATTENDERS"
    CONTACTS = "CONTACTS"
    PENETRATION_RATE = "PENETRATION_RATE"
    ENTRIES = "ENTRIES"  # forms, registers and contact sheets due in the period (standards 5)


class Period(StrEnum):
    MONTH = "MONTH"
    QUARTER = "QUARTER"
    YEAR = "YEAR"


RATE_DIMENSIONS = {"REACH_AREA", "MONTH"}


@dataclass(slots=True)
class CellData:
    keys: list[str]
    value: float | None
    suppressed: bool
    reason: Reason | None
    display: str


@dataclass(slots=True)
class ReportData:
    measure: Measure
    by: list[Dimension]
    period: Period
    period_start: date
    cells: list[CellData]
    total: CellData
    generated_at: datetime


async def report(
    ctx: Context, measure: str, by: list[str], period: str, period_start: date, setting_id: str | None
) -> ReportData:
    principal = ctx.require_principal()
    reach = principal.grants.settings_for(Category.REPORTING, Action.READ)
    if reach is not None and not reach:
        raise Forbidden(Category.REPORTING.name, "No read access to REPORTING data")
    window = Window.of(period, period_start, measure)
    dims = dims_of(measure, by)
    if measure == Measure.PENETRATION_RATE and not set(by) <= RATE_DIMENSIONS:
        raise BadUserInput("PENETRATION_RATE is reported by REACH_AREA and MONTH only", "input.by")
    codes: dict[int, str] = {row.id: row.code for row in await ctx.reader.rows(select(Setting.id, Setting.code))}
    settings = _reported_settings(reach, setting_id, codes)
    axes = axes_of(measure, dims, window)
    calendar = calendar_for(ctx.config.closure_days)
    atoms = await atoms_of(ctx.reader, measure, dims, window, calendar)
    top = _top(axes, dims, window, settings)
    # The report's own counts are by the finest keys already: its splits along its own
    # dimensions need no statement of their own.
    splits = [(dims_of(measure, [FINEST.get(name, name) for name in by]), atoms)]
    splits += [(s, await atoms_of(ctx.reader, measure, s, window, calendar)) for s in _splits(measure, by, window)]
    # Suppressing a fine, sparse table can take seconds of CPU: off the event loop.
    try:
        forced = await asyncio.to_thread(_exposed, measure, window, limits_of(axes, top), splits)
        lattice = await asyncio.to_thread(_lattice, axes, atoms, top, window.linked, forced)
    except TooFine:
        raise BadUserInput(
            "This report is too fine to suppress: use fewer or coarser dimensions (ETHNIC_GROUP, REACH_AREA)",
            "input.by",
        ) from None
    births = await _births(ctx, window) if measure == Measure.PENETRATION_RATE else None
    ctx.audit.read("report", "Report", None, category=Category.REPORTING, changes={"measure": measure, "by": by})
    return Slicer(lattice, dims, window, settings, codes, births).report(measure, by, period, period_start)


# The local authority's quarterly pack (issue 14; README "Reports").
PACK = [
    ("REGISTERED_CHILDREN", ["AGE_BAND", "ETHNIC_GROUP"]),
    ("NEW_REGISTRATIONS", ["SETTING"]),
    ("REGISTERED_FAMILIES", ["SETTING"]),
    ("PENETRATION_RATE", ["REACH_AREA"]),
    ("ATTENDANCES", ["SETTING", "OUTCOME_TYPE"]),  # standards 13
    ("CONTACTS", ["SETTING"]),  # standards 5.5: home visits and other contacts
    ("ENTRIES", ["SETTING", "TIMELINESS"]),  # standards 5.1-5.5: entry timeliness
]
QUARTER = re.compile(r"(\d{4})-Q([1-4])")


async def quarterly_pack(ctx: Context, quarter: str) -> list[ReportData]:
    """The pack's tables for a calendar quarter, "2026-Q3" (July to September 2026)."""
    match = QUARTER.fullmatch(quarter.strip())
    if match is None:
        raise BadUserInput("quarter must look like 2026-Q3", "quarter")
    if int(match[1]) == 0:
        raise BadUserInput("quarter must look like 2026-Q3", "quarter")
    start = date(int(match[1]), 3 * int(match[2]) - 2, 1)
    return [await report(ctx, measure, by, "QUARTER", start, None) for measure, by in PACK]


def _top(axes: list[Axis], dims: list[Dim], window: Window, settings: list[int] | None) -> Table:
    """The finest table a report reads: its dimensions' levels, the time axis's level it reads,
    and the settings' level when it reads setting slices."""
    top = [0] * len(axes)
    top[0] = 1 if settings is not None else 0
    for dim in dims:
        top[dim.axis] = dim.level
    top[1] = window.time_top(any(d.name == "MONTH" for d in dims))
    return tuple(top)


def _lattice(axes: list[Axis], atoms: Atoms, top: Table, linked: bool, forced: set[Cell]) -> Lattice:
    return Lattice.of(axes, atoms, top, registered_before(axes, atoms, top) if linked else None, forced)


def _splits(measure: str, by: list[str], window: Window) -> list[list[Dim]]:
    """A report's dimensions, at their finest levels, with each other dimension that splits
    a count into parts: not the setting (every lattice holds it whole), not an overlapping one
    (a family in two hard-to-reach groups: no part of a total), not one `_unsplit` leaves out,
    and only those a report of the measure may ask for."""
    own = [FINEST.get(name, name) for name in by]
    others = sorted(RATE_DIMENSIONS) if measure == Measure.PENETRATION_RATE else [d.value for d in Dimension]
    splits = []
    for other in others:
        if other == "SETTING" or other in FINEST or other in own or any({other, *by} <= h for h in HIERARCHIES):
            continue
        if other in _unsplit(measure, window):
            continue
        try:
            dims = dims_of(measure, [*own, other], most=3)
        except BadUserInput:
            continue
        if dims[-1].partition:
            splits.append(dims)
    return splits


def _exposed(measure: str, window: Window, limits: Table, splits: Sequence[tuple[list[Dim], Atoms]]) -> set[Cell]:
    """The cells of a report's lattice that a split of them one level further would give away
    (resolvers/suppression.py `exposed_totals`): every report that holds a cell finds it from
    the same counts, so every report hides it alike."""
    found: set[Cell] = set()
    unsplit = _unsplit(measure, window)
    for dims, atoms in splits:
        skip = [d.axis for d in dims if d.name in unsplit]
        found |= exposed_totals(axes_of(measure, dims, window), atoms, limits, skip)
    return found


def _unsplit(measure: str, window: Window) -> set[str]:
    """Splits whose parts depend on the period, not only on the cell: unique attenders' age
    bands and months (a person once in the period, aged at its end), registered children's
    months of registration (the quarter's or the month's). Two reports serving one cell would
    hide it differently if they looked at them, so none does (README "Reports")."""
    if measure == Measure.ATTENDERS:
        return {"AGE_BAND", "MONTH"}
    return set() if window.flow or window.linked else {"MONTH"}


def registered_before(axes: list[Axis], atoms: Atoms, top: Table) -> dict[Cell, Reason | None]:
    """The "earlier" cells of a linked lattice are the families registered before the year:
    the previous year's lattice serves them as its total, suppressed from its coarsest tables
    alone, so here they take that suppression (the same lattice without a time axis) and are
    never hidden as a complement."""
    before = [*axes[:1], Axis("MONTH", 0, closed=False), *axes[2:]]
    opening = {
        dropped: {(k[0], None, *k[2:]): n for k, n in counts.items() if k[1] == EARLIER}
        for dropped, counts in atoms.items()
    }
    lattice = Lattice.of(before, opening, (top[0], 0, *top[2:]))
    given: dict[Cell, Reason | None] = {}
    for table, counts in lattice.counts.items():
        for key in set(counts) | {k for t, k in lattice.marks if t == table}:
            for level in range(1, top[1] + 1):
                cell = ((table[0], level, *table[2:]), (key[0], EARLIER, *key[2:]))
                given[cell] = lattice.reason(table, key)
    return given


def _reported_settings(reach: frozenset[int] | None, setting_id: str | None, codes: dict[int, str]) -> list[int] | None:
    """The settings a report sums (None: the authority's margin)."""
    if setting_id is None:
        return None if reach is None else sorted(reach)
    key = decode_key(setting_id, "Setting")
    if key is None or key not in codes:
        raise BadUserInput("No such setting", "input.settingId")
    if reach is not None and key not in reach:
        raise Forbidden(Category.REPORTING.name, "No read access to REPORTING data of this setting")
    return [key]


async def _births(ctx: Context, window: Window) -> dict[tuple[str, str], int]:
    rows = await ctx.reader.rows(
        select(BirthFigure.reach_area, BirthFigure.month, func.sum(BirthFigure.births).label("births"))
        .where(BirthFigure.month >= window.year_start, BirthFigure.month < window.year_end)
        .group_by(BirthFigure.reach_area, BirthFigure.month)
    )
    return {(row.reach_area, window.month_key(row.month)): int(row.births) for row in rows}


@dataclass(slots=True)
class Slicer:
    """Cells of one report read off the suppressed lattice."""

    lattice: Lattice
    dims: list[Dim]
    window: Window
    settings: list[int] | None
    codes: dict[int, str]
    births: dict[tuple[str, str], int] | None
    seen: dict[tuple[str | None, ...], tuple[int, Reason | None]] = field(default_factory=dict)

    def report(self, measure: str, by: list[str], period: str, period_start: date) -> ReportData:
        per_dim = [self.keys(dim) for dim in self.dims]
        cells = [self.cell(list(combo)) for combo in _product(per_dim)]
        total = self.cell([None] * len(self.dims))
        return ReportData(
            measure=Measure(measure),
            by=[Dimension(b) for b in by],
            period=Period(period),
            period_start=period_start,
            cells=cells,
            total=total,
            generated_at=datetime.now(UTC),
        )

    def keys(self, dim: Dim) -> list[str]:
        if dim.name == "SETTING":
            chosen = self.settings if self.settings is not None else sorted(self.codes)
            return [str(s) for s in chosen]
        if dim.name == "MONTH":  # the period's months, and for counts at its end those before it
            return self.window.months() + ([EARLIER] if self.window.stock else [])
        present = sorted(k for (axis, level, _), k in _below(self.lattice) if axis == dim.axis and level == dim.level)
        return list(dict.fromkeys([*dim.known, *present]))

    def cell(self, keys: list[str | None]) -> CellData:
        """The cell at `keys` (one per dimension, None for its total)."""
        n, reason = self.counted(tuple(keys))
        labels = [self.codes[int(k)] if d.name == "SETTING" else k for d, k in zip(self.dims, keys, strict=True) if k]
        if self.births is not None:
            return self.rate_cell(labels, n, reason, keys)
        return CellData(labels, None if reason else float(n), reason is not None, reason, display(n, reason))

    def counted(self, keys: tuple[str | None, ...]) -> tuple[int, Reason | None]:
        """A cell's count and reason. A zero part of a total under 4 reads "<4" (domain.md §5.1
        rule 3): the lattice marks its own cells so, and a sum of parts (several settings or
        times) takes it here from the totals it is a part of."""
        if keys in self.seen:
            return self.seen[keys]
        n, reason = self.count(*self.place(keys))
        if not n and reason != PRIMARY:
            totals = [(*keys[:i], None, *keys[i + 1 :]) for i, k in enumerate(keys) if k and self.dims[i].partition]
            if any(self.counted(t)[1] == PRIMARY for t in totals):
                reason = PRIMARY
        self.seen[keys] = n, reason
        return n, reason

    def place(
        self, keys: tuple[str | None, ...]
    ) -> tuple[Table, tuple[str | None, ...], list[str] | None, list[tuple[int, str | None]] | None]:
        """Where a report's cell lies in the lattice: its table and key, the settings and the
        times whose cells it sums."""
        table = [0] * len(self.lattice.axes)
        key: list[str | None] = [None] * len(self.lattice.axes)
        times = [self.window.period_cell()] if self.window.flow else None
        if self.window.linked and not self.window.flow:  # families registered by the period's end
            times = self.window.registered_by(self.window.end)
        setting_keys: list[str] | None = None
        for dim, k in zip(self.dims, keys, strict=True):
            if k is None:
                continue
            if dim.name == "SETTING":
                setting_keys = [k]
                continue
            table[dim.axis], key[dim.axis] = dim.level, k
            if dim.name == "MONTH":
                linked_earlier = self.window.linked and k == EARLIER
                times = self.window.registered_by(self.window.start) if linked_earlier else [(dim.level, k)]
        if setting_keys is None and self.settings is not None:
            setting_keys = [str(s) for s in self.settings]
        if times is not None and len(times) == 1:
            (table[1], key[1]), times = times[0], None
        return tuple(table), tuple(key), setting_keys, times

    def count(
        self,
        table: Table,
        key: tuple[str | None, ...],
        settings: list[str] | None,
        times: list[tuple[int, str | None]] | None,
    ) -> tuple[int, Reason | None]:
        """A cell's count: the sum of its parts over the settings and times it spans, shown only
        when every part is shown."""
        setting_parts = [(0, None)] if settings is None else [(1, s) for s in settings]
        time_parts = [(table[1], key[1])] if times is None else times
        parts = [
            ((s_level, t_level, *table[2:]), (s_key, t_key, *key[2:]))
            for s_level, s_key in setting_parts
            for t_level, t_key in time_parts
        ]
        n = sum(self.lattice.value(*p) for p in parts)
        if len(parts) == 1:
            return n, self.lattice.reason(*parts[0])
        if any(self.lattice.reason(*p) for p in parts):
            return n, PRIMARY if is_primary(n) else SECONDARY
        return n, None

    def rate_cell(self, labels: list[str], n: int, reason: Reason | None, keys: list[str | None]) -> CellData:
        assert self.births is not None
        key = self.place(tuple(keys))[1]
        months = self.window.months_of(key[1])
        area = key[2] if len(key) > 2 else None
        births = sum(b for (a, m), b in self.births.items() if m in months and (area is None or a == area))
        value, why = rate(n, reason, births)
        shown = "-" if value is None and births == 0 else (display(0, why) if value is None else f"{value:.1f}%")
        return CellData(labels, value, why is not None, why, shown)


def _below(lattice: Lattice) -> list[tuple[tuple[int, int, str | None], str]]:
    return [(k, v) for k, keys in lattice.below.items() for v in keys]


def _product(lists: list[list[str]]) -> list[tuple[str, ...]]:
    result: list[tuple[str, ...]] = [()]
    for keys in lists:
        result = [(*r, k) for r in result for k in keys]
    return result


__all__ = ["CellData", "Measure", "Period", "ReportData", "quarterly_pack", "report"]
