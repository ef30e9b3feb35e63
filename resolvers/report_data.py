"""A report's lattice from the database: its axes, and its finest counts by one GROUP BY (two
with hard-to-reach groups, where a family may be in several), whatever the number of families.

Axis 0 is the setting a family is registered with; axis 1 the time: for flows (new
registrations, penetration's births) the financial year by quarter and month, for counts at
the period's end the month of registration (with "earlier") when the report asks for MONTH.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, null, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from errors import BadUserInput
from models import Carer, Child, Family, PostcodeArea, SubjectCode
from resolvers.suppression import Axis, Key

FLOWS = {"NEW_REGISTRATIONS", "PENETRATION_RATE"}
FAMILY_UNITS = {"REGISTERED_FAMILIES", "NEW_REGISTRATIONS"}
AGE_BANDS = ["0-1", "1-2", "2-3", "3-4", "4-5", "5+"]
GENDERS = ["FEMALE", "MALE", "OTHER", "NOT_KNOWN"]
UNKNOWN = "UNKNOWN"
EARLIER = "earlier"
_SEP = "\x1f"
_NULL = cast(null(), String(1))
# research/domain.md §3.1: DfE ethnicity codes by major group; refused and not obtained are Unknown.
ETHNIC_GROUPS = {
    **dict.fromkeys(["WBRI", "WIRI", "WIRT", "WROM", "WOTH"], "White"),
    **dict.fromkeys(["MWBC", "MWBA", "MWAS", "MOTH"], "Mixed"),
    **dict.fromkeys(["AIND", "APKN", "ABAN", "AOTH"], "Asian or Asian British"),
    **dict.fromkeys(["BCRB", "BAFR", "BOTH"], "Black or Black British"),
    **dict.fromkeys(["CHNE", "OOTH"], "Chinese / other"),
}
# Two levels of one hierarchy in one report would be the finer level again.
HIERARCHIES = [{"ETHNICITY", "ETHNIC_GROUP"}, {"REACH_AREA", "LSOA"}]


class Dimension(StrEnum):
    SETTING = "SETTING"
    AGE_BAND = "AGE_BAND"
    GENDER = "GENDER"
    ETHNICITY = "ETHNICITY"
    ETHNIC_GROUP = "ETHNIC_GROUP"
    REACH_AREA = "REACH_AREA"
    LSOA = "LSOA"
    OUTCOME_TYPE = "OUTCOME_TYPE"
    EVENT_TYPE = "EVENT_TYPE"
    HARD_TO_REACH_GROUP = "HARD_TO_REACH_GROUP"
    MONTH = "MONTH"


def _month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_key(day: date) -> str:
    return f"{day.year:04d}-Q{(day.month - 1) // 3 + 1}"


def ethnic_group(code: str) -> str:
    return ETHNIC_GROUPS.get(code, UNKNOWN)


@dataclass(frozen=True, slots=True)
class Window:
    """A report's period, and the financial year (April to March) around it."""

    start: date
    end: date  # exclusive
    level: int  # 0 year, 1 quarter, 2 month: the period's level on the time axis
    flow: bool
    year_start: date
    year_end: date

    @classmethod
    def of(cls, period: str, start: date, measure: str) -> "Window":
        months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[period]
        if start.day != 1 or (period == "QUARTER" and start.month % 3 != 1) or (period == "YEAR" and start.month != 4):
            raise BadUserInput(f"periodStart is not the first day of a {period.lower()}", "input.periodStart")
        year_start = date(start.year if start.month >= 4 else start.year - 1, 4, 1)
        level = {"YEAR": 0, "QUARTER": 1, "MONTH": 2}[period]
        flow = measure in FLOWS
        return cls(start, _month_add(start, months), level, flow, year_start, _month_add(year_start, 12))

    @property
    def key(self) -> str | None:
        return [None, quarter_key(self.start), month_key(self.start)][self.level]

    def months(self) -> list[str]:
        count = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        return [month_key(_month_add(self.start, i)) for i in range(count)]

    def year_months(self) -> list[date]:
        return [_month_add(self.year_start, i) for i in range(12)]

    def month_key(self, day: date) -> str:
        return month_key(day)

    def months_of(self, time_key: str | None) -> list[str]:
        """The months of a cell's time key (None: the whole year)."""
        keys = [month_key(m) for m in self.year_months()]
        if time_key is None:
            return keys
        if "Q" in time_key:
            return [m for m, d in zip(keys, self.year_months(), strict=True) if quarter_key(d) == time_key]
        return [time_key]


@dataclass(frozen=True, slots=True)
class Dim:
    """A dimension of a report: on which axis of the lattice, at which level."""

    name: str
    axis: int
    level: int
    known: Sequence[str] = field(default_factory=list)


def dims_of(measure: str, by: list[str]) -> list[Dim]:
    if len(by) > 2:
        raise BadUserInput("A report has at most two dimensions", "input.by")
    if len(set(by)) != len(by) or any(h <= set(by) for h in HIERARCHIES):
        raise BadUserInput("A report's dimensions must differ and not be levels of one hierarchy", "input.by")
    dims, axis = [], 2
    for name in by:
        if name == "SETTING":
            dims.append(Dim(name, 0, 1))
        elif name == "MONTH":
            dims.append(Dim(name, 1, 2 if measure in FLOWS else 1))
        else:
            level = 2 if name in {"ETHNICITY", "LSOA"} else 1
            known = {"AGE_BAND": AGE_BANDS, "GENDER": GENDERS}.get(name, [])
            dims.append(Dim(name, axis, level, known))
            axis += 1
    return dims


def axes_of(measure: str, dims: list[Dim], window: Window) -> list[Axis]:
    flow = measure in FLOWS
    time = Axis("MONTH", 2, lambda m: (quarter_key(date(int(m[:4]), int(m[5:]), 1)), m)) if flow else None
    if time is None:
        time = Axis("MONTH", 1 if any(d.name == "MONTH" for d in dims) else 0)
    axes = [Axis("SETTING", 1), time]
    for dim in dims:
        if dim.axis < 2:
            continue
        if dim.name in {"ETHNICITY", "ETHNIC_GROUP"}:
            axes.append(Axis(dim.name, dim.level, lambda code: (ethnic_group(code), code)))
        elif dim.name in {"REACH_AREA", "LSOA"}:
            axes.append(Axis(dim.name, dim.level, lambda fine: tuple(fine.split(_SEP))))
        else:
            axes.append(Axis(dim.name, 1, partition=dim.name != "HARD_TO_REACH_GROUP"))
    return axes


async def atoms_of(
    session: AsyncSession, measure: str, dims: list[Dim], window: Window
) -> dict[frozenset[int], dict[Key, int]]:
    """Counts by the finest keys of every axis; for hard-to-reach groups also without them."""
    atoms: dict[frozenset[int], dict[Key, int]] = {
        frozenset(): await _count(session, measure, dims, window, with_groups=True)
    }
    for dim in dims:
        if dim.name == "HARD_TO_REACH_GROUP":
            atoms[frozenset({dim.axis})] = await _count(session, measure, dims, window, with_groups=False)
    return atoms


async def _count(
    session: AsyncSession, measure: str, dims: list[Dim], window: Window, with_groups: bool
) -> dict[Key, int]:
    family_units = measure in FAMILY_UNITS
    person: Any = aliased(Carer) if family_units else Child
    unit = Family.id if family_units else Child.id
    columns: list[ColumnElement[Any]] = [Family.registered_setting_id.label("setting")]
    time = _time_column(measure, dims, window)
    columns.append(time.label("time"))
    statement = select().select_from(Family)
    if family_units:
        main = (
            select(func.min(Carer.id))
            .where(Carer.family_id == Family.id, Carer.left_on.is_(None))
            .correlate(Family)
            .scalar_subquery()
        )
        statement = statement.outerjoin(person, person.id == main)
    else:
        statement = statement.join(Child, Child.family_id == Family.id)
    geo_join = measure == "PENETRATION_RATE" or any(d.name in {"REACH_AREA", "LSOA"} for d in dims)
    if geo_join:
        on = PostcodeArea.postcode == Family.postcode
        statement = (
            statement.join(PostcodeArea, on) if measure == "PENETRATION_RATE" else statement.outerjoin(PostcodeArea, on)
        )
    names = []
    for dim in dims:
        if dim.axis < 2:
            continue
        names.append(dim.name)
        if dim.name == "HARD_TO_REACH_GROUP":
            if not with_groups:
                columns.append(_NULL.label(dim.name))
                continue
            statement = statement.join(
                SubjectCode, and_(SubjectCode.family_id == Family.id, SubjectCode.list_name == "HARD_TO_REACH_GROUP")
            )
            columns.append(SubjectCode.code.label(dim.name))
        else:
            columns.extend(_dim_columns(dim.name, person, family_units, window))
    # Grouped outside a subquery: PostgreSQL does not see two renderings of one CASE with bound
    # parameters as the same expression.
    units = statement.add_columns(*columns, unit.label("unit")).where(*_filters(measure, window, family_units))
    inner = units.subquery()
    keys = [c for c in inner.c if c.name != "unit"]
    grouped = select(*keys, func.count(func.distinct(inner.c.unit)).label("n")).group_by(*keys)
    result: dict[Key, int] = {}
    for row in (await session.execute(grouped)).mappings():
        key: list[str | None] = [str(row["setting"]), row["time"]]
        for dim in dims:
            if dim.axis < 2:
                continue
            if dim.name in {"REACH_AREA", "LSOA"}:
                key.append(f"{row['reach'] or UNKNOWN}{_SEP}{row['lsoa'] or UNKNOWN}")
            else:
                key.append(row[dim.name])
        result[tuple(key)] = result.get(tuple(key), 0) + int(row["n"])
    return result


def _dim_columns(name: str, person: Any, family_units: bool, window: Window) -> list[ColumnElement[Any]]:
    if name == "AGE_BAND":
        if family_units:
            return [literal("adult").label(name)]
        last = window.end - timedelta(days=1)  # ages on the period's last day
        bounds = [_years_before(last, n) for n in range(1, 6)]
        whens = [(person.date_of_birth.is_(None), literal(UNKNOWN))]
        whens += [(person.date_of_birth > b, literal(band)) for b, band in zip(bounds, AGE_BANDS, strict=False)]
        return [case(*whens, else_=literal("5+")).label(name)]
    if name == "GENDER":
        return [func.coalesce(person.gender, "NOT_KNOWN").label(name)]
    if name in {"ETHNICITY", "ETHNIC_GROUP"}:
        return [func.coalesce(person.ethnicity, UNKNOWN).label(name)]
    return [PostcodeArea.reach_area.label("reach"), PostcodeArea.lsoa.label("lsoa")]


def _years_before(day: date, years: int) -> date:
    """`day` `years` earlier; the period's end is exclusive, so a child born on the end's
    date `years` ago is `years` old on the period's last day only from the next day."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _time_column(measure: str, dims: list[Dim], window: Window) -> ColumnElement[Any]:
    if measure in FLOWS:
        column: Any = Family.received_on if measure == "NEW_REGISTRATIONS" else Child.date_of_birth
        months = window.year_months()
        return case(*[(column < _month_add(m, 1), literal(month_key(m))) for m in months], else_=_NULL)
    if any(d.name == "MONTH" for d in dims):
        months = [_month_add(window.start, i) for i in range(len(window.months()))]
        whens = [(Family.received_on < window.start, literal(EARLIER))]
        whens += [(Family.received_on < _month_add(m, 1), literal(month_key(m))) for m in months]
        return case(*whens, else_=_NULL)
    return _NULL


def _filters(measure: str, window: Window, family_units: bool) -> list[ColumnElement[bool]]:
    if measure == "NEW_REGISTRATIONS":
        return [Family.received_on >= window.year_start, Family.received_on < window.year_end]
    if measure == "PENETRATION_RATE":
        return [
            Child.date_of_birth >= window.year_start,
            Child.date_of_birth < window.year_end,
            Child.left_on.is_(None),
        ]
    filters: list[ColumnElement[bool]] = [Family.received_on < window.end]
    if not family_units:
        filters += [
            or_(Child.left_on.is_(None), Child.left_on >= window.end),
            or_(Child.date_of_birth.is_(None), Child.date_of_birth < window.end),
        ]
    return filters
