"""A report's shape: its period (Window), its dimensions (Dim) and the lattice's axes.

Axis 0 is the setting a unit counts in (the family's registered setting; the activity's or the
contact's setting); axis 1 the time: for flows (new registrations, penetration's births,
attendances, contacts) the financial year by quarter and month, for counts at the period's end
the month of registration (with "earlier") when the report asks for MONTH, and for unique
attenders the period's months. The counts come from resolvers/report_counts.py.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from errors import BadUserInput
from resolvers.suppression import Axis

FLOWS = {"NEW_REGISTRATIONS", "PENETRATION_RATE", "ATTENDANCES", "CONTACTS", "ENTRIES"}
STOCKS = {"REGISTERED_FAMILIES", "REGISTERED_CHILDREN"}  # counted at the period's end
# Registered families at a period's end and new registrations share one lattice per financial
# year, whose time axis starts with the families registered before it ("earlier"): the families
# registered at a month's end are the sum of its cells, so ends and new registrations difference
# only into cells the lattice suppresses (README "Reports").
LINKED = {"REGISTERED_FAMILIES", "NEW_REGISTRATIONS"}
FAMILY_UNITS = {"REGISTERED_FAMILIES", "NEW_REGISTRATIONS", "CONTACTS"}  # described by the main carer
ACTIVITY_MEASURES = {"ATTENDANCES", "ATTENDERS"}
ACTIVITY_DIMENSIONS = {"OUTCOME_TYPE", "EVENT_TYPE"}
# Entries (standards 5.1-5.5): forms, registers and contact sheets due in the period, by setting
# and month, on time, late or still outstanding; nothing about a family describes them.
ENTRY_DIMENSIONS = {"SETTING", "MONTH", "TIMELINESS"}
TIMELINESS = ["ON_TIME", "LATE", "OUTSTANDING"]
# A person attends in several months and activities: unique attenders do not add up along these.
OVERLAPPING = {"HARD_TO_REACH_GROUP"}
OVERLAPPING_ATTENDERS = {"HARD_TO_REACH_GROUP", "MONTH", "OUTCOME_TYPE", "EVENT_TYPE"}
AGE_BANDS = ["0-1", "1-2", "2-3", "3-4", "4-5", "5+"]
GENDERS = ["FEMALE", "MALE", "OTHER", "NOT_KNOWN"]
UNKNOWN = "UNKNOWN"
EARLIER = "earlier"
YEAR = "year"  # the financial year's own registrations, beside "earlier" on a linked time axis
SEP = "\x1f"
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
FINEST = {"ETHNIC_GROUP": "ETHNICITY", "REACH_AREA": "LSOA"}  # a hierarchy's finest level holds its others


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
    TIMELINESS = "TIMELINESS"  # entries only: ON_TIME, LATE, OUTSTANDING


FIRST_YEAR_START, LAST_YEAR_START = (
    date(1, 4, 1),
    date(9999, 4, 1),
)  # the financial years a report may cover (the last one excluded)


def month_add(day: date, months: int) -> date:
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
    stock: bool  # counted at the period's end (MONTH then has an "earlier" key)
    linked: bool  # on the financial year's registrations axis (see LINKED)
    year_start: date
    year_end: date

    @classmethod
    def of(cls, period: str, start: date, measure: str) -> "Window":
        months = {"MONTH": 1, "QUARTER": 3, "YEAR": 12}[period]
        if start.day != 1 or (period == "QUARTER" and start.month % 3 != 1) or (period == "YEAR" and start.month != 4):
            raise BadUserInput(f"periodStart is not the first day of a {period.lower()}", "input.periodStart")
        if not FIRST_YEAR_START <= start < LAST_YEAR_START:  # its financial year must fit in a date
            raise BadUserInput(
                f"periodStart must be on or after {FIRST_YEAR_START} and before {LAST_YEAR_START}", "input.periodStart"
            )
        year_start = date(start.year if start.month >= 4 else start.year - 1, 4, 1)
        level = {"YEAR": 0, "QUARTER": 1, "MONTH": 2}[period]
        flow, stock, linked = measure in FLOWS, measure in STOCKS, measure in LINKED
        end, year_end = month_add(start, months), month_add(year_start, 12)
        return cls(start, end, level, flow, stock, linked, year_start, year_end)

    @property
    def key(self) -> str | None:
        return [None, quarter_key(self.start), month_key(self.start)][self.level]

    def period_cell(self) -> tuple[int, str | None]:
        """A flow's period on the time axis: its level and key."""
        if self.linked:
            return self.level + 1, [YEAR, quarter_key(self.start), month_key(self.start)][self.level]
        return self.level, self.key

    def registered_by(self, day: date) -> list[tuple[int, str | None]]:
        """The cells of a linked time axis that add up to the families registered before `day`
        (the first day of a month of the year, or the year's end): the fewest, coarsest."""
        if day == self.year_end:
            return [(0, None)]
        parts: list[tuple[int, str | None]] = [(1, EARLIER)]
        month = self.year_start
        while month < day:
            if month_add(month, 3) <= day:  # a whole quarter (the loop is at a quarter's start)
                parts.append((2, quarter_key(month)))
                month = month_add(month, 3)
            else:
                parts.append((3, month_key(month)))
                month = month_add(month, 1)
        return parts

    def time_top(self, by_month: bool) -> int:
        """The finest level of the time axis a report reads."""
        if self.linked:
            if by_month:
                return 3
            if self.flow:
                return self.level + 1
            return max(level for level, _ in self.registered_by(self.end))
        if self.flow:
            return 2 if by_month else self.level
        return 1 if by_month else 0

    def months(self) -> list[str]:
        count = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        return [month_key(month_add(self.start, i)) for i in range(count)]

    def year_months(self) -> list[date]:
        return [month_add(self.year_start, i) for i in range(12)]

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
    partition: bool = True  # False when a unit may have several keys (see OVERLAPPING)


def dims_of(measure: str, by: list[str], most: int = 2) -> list[Dim]:
    """A report's dimensions (`most` of them: a report's splits take one more)."""
    if len(by) > most:
        raise BadUserInput("A report has at most two dimensions", "input.by")
    if len(set(by)) != len(by) or any(h <= set(by) for h in HIERARCHIES):
        raise BadUserInput("A report's dimensions must differ and not be levels of one hierarchy", "input.by")
    if ACTIVITY_DIMENSIONS & set(by) and measure not in ACTIVITY_MEASURES:
        raise BadUserInput("OUTCOME_TYPE and EVENT_TYPE describe attendances and attenders only", "input.by")
    if measure == "ENTRIES" and not set(by) <= ENTRY_DIMENSIONS:
        raise BadUserInput("ENTRIES is reported by SETTING, MONTH and TIMELINESS only", "input.by")
    if measure != "ENTRIES" and "TIMELINESS" in by:
        raise BadUserInput("TIMELINESS describes entries only", "input.by")
    overlapping = OVERLAPPING_ATTENDERS if measure == "ATTENDERS" else OVERLAPPING
    dims, axis = [], 2
    for name in by:
        if name == "SETTING":
            dims.append(Dim(name, 0, 1))
        elif name == "MONTH":
            level = 3 if measure in LINKED else 2 if measure in FLOWS else 1
            dims.append(Dim(name, 1, level, partition=name not in overlapping))
        else:
            level = 2 if name in {"ETHNICITY", "LSOA"} else 1
            known = {"AGE_BAND": AGE_BANDS, "GENDER": GENDERS, "TIMELINESS": TIMELINESS}.get(name, [])
            dims.append(Dim(name, axis, level, known, name not in overlapping))
            axis += 1
    return dims


def _quarter_of(month: str) -> str:
    return quarter_key(date(int(month[:4]), int(month[5:]), 1))


def axes_of(measure: str, dims: list[Dim], window: Window) -> list[Axis]:
    """The setting axis is closed (every report's lattice holds every setting's slice); the time
    axis and the dimensions are open: other reports hold their margins without their levels."""
    if window.linked:
        time = Axis("MONTH", 3, lambda m: (EARLIER,) * 3 if m == EARLIER else (YEAR, _quarter_of(m), m), closed=False)
    elif window.flow:
        time = Axis("MONTH", 2, lambda m: (_quarter_of(m), m), closed=False)
    else:
        month = next((d for d in dims if d.name == "MONTH"), None)
        time = (
            Axis("MONTH", 0, closed=False)
            if month is None
            else Axis("MONTH", 1, partition=month.partition, closed=False)
        )
    axes = [Axis("SETTING", 1), time]
    for dim in dims:
        if dim.axis < 2:
            continue
        if dim.name in {"ETHNICITY", "ETHNIC_GROUP"}:
            axes.append(Axis(dim.name, dim.level, lambda code: (ethnic_group(code), code), closed=False))
        elif dim.name in {"REACH_AREA", "LSOA"}:
            axes.append(Axis(dim.name, dim.level, lambda fine: tuple(fine.split(SEP)), closed=False))
        else:
            axes.append(Axis(dim.name, 1, partition=dim.partition, closed=False))
    return axes
