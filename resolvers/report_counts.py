"""A report's finest counts from the database: one GROUP BY, and one more for each set of
overlapping axes left out (a family in several hard-to-reach groups, a person attending in
several months or activities counts once in their total), whatever the number of families.

Each measure counts units of one source: families (with their main carer) or children by
registration; attendances (a person at a session, attended) and attenders (a person, once per
setting) by the activity's setting; contacts by the contact's setting. Attendance and contacts
are secondary data of the family: they count only where the family's scope (its registered
setting and current affiliations) holds the setting they count in (standards 13).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.orm import InstrumentedAttribute, aliased

from models import (
    Activity,
    ActivitySession,
    Affiliation,
    Attendance,
    Carer,
    Child,
    Contact,
    Family,
    Form,
    PostcodeArea,
    SubjectCode,
)
from models.base import UtcDateTime
from resolvers.reader import Reader
from resolvers.report_data import (
    ACTIVITY_MEASURES,
    AGE_BANDS,
    EARLIER,
    FAMILY_UNITS,
    SEP,
    UNKNOWN,
    Dim,
    Window,
    month_add,
    month_key,
)
from resolvers.suppression import Key
from resolvers.validation import LONDON, today
from resolvers.working_days import WORKING_DAYS_ALLOWED, Deadline, WorkingCalendar

_NULL = cast(null(), String(1))
Expr = ColumnElement[Any] | InstrumentedAttribute[Any]


@dataclass(frozen=True, slots=True)
class Source:
    """What a measure counts: its FROM clause, the setting and date a unit counts by, the person
    who describes it (age, gender, ethnicity), the unit itself and which units are in."""

    statement: Select[Any]
    setting: Expr
    day: Expr
    unit: Expr
    gender: Expr
    ethnicity: Expr
    born: Expr | None  # None: adults only
    child: ColumnElement[bool] | None  # for attendance: the person is a child
    filters: list[ColumnElement[bool]]


async def atoms_of(
    reader: Reader, measure: str, dims: list[Dim], window: Window, calendar: WorkingCalendar
) -> dict[frozenset[int], dict[Key, int]]:
    """Counts by the finest keys of every axis; for every set of overlapping axes also without
    them. Read through the request's Reader: another root field of the query (quarterlyPack
    beside report) may be reading at the same time, and a session takes one statement at once."""
    if measure == "ENTRIES":
        return {frozenset(): await _entries(reader, dims, window, calendar)}
    overlapping = [dim.axis for dim in dims if not dim.partition]
    atoms: dict[frozenset[int], dict[Key, int]] = {}
    for size in range(len(overlapping) + 1):
        for dropped in combinations(overlapping, size):
            atoms[frozenset(dropped)] = await _count(reader, measure, dims, window, frozenset(dropped))
    return atoms


def _in_scope(setting: Expr) -> ColumnElement[bool]:
    """The family's scope holds `setting`: it is registered there or affiliated to it now."""
    affiliated = (
        select(Affiliation.id)
        .where(Affiliation.family_id == Family.id, Affiliation.setting_id == setting, Affiliation.revoked_at.is_(None))
        .exists()
    )
    return or_(Family.registered_setting_id == setting, affiliated)


def _main_carer() -> Any:
    """The family's first carer still in it: who describes a family's age, gender, ethnicity."""
    carer: Any = aliased(Carer)
    first = (
        select(func.min(Carer.id))
        .where(Carer.family_id == Family.id, Carer.left_on.is_(None))
        .correlate(Family)
        .scalar_subquery()
    )
    return carer, carer.id == first


def _source(measure: str, window: Window) -> Source:
    if measure in ACTIVITY_MEASURES:
        return _attendance(measure, window)
    if measure == "CONTACTS":
        carer, on = _main_carer()
        statement = select().select_from(Contact).join(Family, Family.id == Contact.family_id).outerjoin(carer, on)
        filters = [_in_scope(Contact.setting_id), *_dated(Contact.date, window)]
        return Source(statement, Contact.setting_id, Contact.date, Contact.id, carer.gender, carer.ethnicity,
                      None, None, filters)  # fmt: skip
    if measure in FAMILY_UNITS:
        carer, on = _main_carer()
        statement = select().select_from(Family).outerjoin(carer, on)
        return Source(statement, Family.registered_setting_id, Family.received_on, Family.id, carer.gender,
                      carer.ethnicity, None, None, _registrations(measure, window))  # fmt: skip
    statement = select().select_from(Family).join(Child, Child.family_id == Family.id)
    day = Child.date_of_birth if measure == "PENETRATION_RATE" else Family.received_on
    return Source(statement, Family.registered_setting_id, day, Child.id, Child.gender,
                  Child.ethnicity, Child.date_of_birth, None, _registrations(measure, window))  # fmt: skip


def _attendance(measure: str, window: Window) -> Source:
    is_child = Attendance.person_type == "Child"
    statement = (
        select()
        .select_from(Attendance)
        .join(ActivitySession, ActivitySession.id == Attendance.session_id)
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .join(Family, Family.id == Attendance.family_id)
        .outerjoin(Child, and_(is_child, Child.id == Attendance.person_id))
        .outerjoin(Carer, and_(Attendance.person_type == "Carer", Carer.id == Attendance.person_id))
    )
    # Unique attenders: a person once per setting, so that settings add up.
    person = Attendance.person_id * 2 + case((is_child, 1), else_=0)
    unit = Attendance.id if measure == "ATTENDANCES" else person
    filters = [Attendance.attended.is_(True), _in_scope(Activity.setting_id), *_dated(ActivitySession.date, window)]
    return Source(statement, Activity.setting_id, ActivitySession.date, unit,
                  func.coalesce(Child.gender, Carer.gender), func.coalesce(Child.ethnicity, Carer.ethnicity),
                  Child.date_of_birth, is_child, filters)  # fmt: skip


def _dated(day: Expr, window: Window) -> list[ColumnElement[bool]]:
    """Flows read the financial year around the period; unique attenders the period itself."""
    start, end = (window.year_start, window.year_end) if window.flow else (window.start, window.end)
    return [day >= start, day < end]


def _registrations(measure: str, window: Window) -> list[ColumnElement[bool]]:
    if window.linked:  # families registered by the year's end: "earlier" and the year's months
        return [Family.received_on < window.year_end]
    if measure == "PENETRATION_RATE":
        return [
            Child.date_of_birth >= window.year_start,
            Child.date_of_birth < window.year_end,
            Child.left_on.is_(None),
        ]
    return [
        Family.received_on < window.end,
        or_(Child.left_on.is_(None), Child.left_on >= window.end),
        or_(Child.date_of_birth.is_(None), Child.date_of_birth < window.end),
    ]


async def _count(
    reader: Reader, measure: str, dims: list[Dim], window: Window, dropped: frozenset[int]
) -> dict[Key, int]:
    source = _source(measure, window)
    month_dropped = any(d.name == "MONTH" and d.axis in dropped for d in dims)
    time = _NULL if month_dropped else _time_column(source.day, dims, window)
    columns: list[ColumnElement[Any]] = [source.setting.label("setting"), time.label("time")]
    statement = source.statement
    geo_join = measure == "PENETRATION_RATE" or any(d.name in {"REACH_AREA", "LSOA"} for d in dims)
    if geo_join:
        on = PostcodeArea.postcode == Family.postcode
        statement = (
            statement.join(PostcodeArea, on) if measure == "PENETRATION_RATE" else statement.outerjoin(PostcodeArea, on)
        )
    for dim in dims:
        if dim.axis < 2:
            continue
        if dim.axis in dropped:
            columns.append(_NULL.label(dim.name))
        elif dim.name == "HARD_TO_REACH_GROUP":
            statement = statement.join(
                SubjectCode, and_(SubjectCode.family_id == Family.id, SubjectCode.list_name == "HARD_TO_REACH_GROUP")
            )
            columns.append(SubjectCode.code.label(dim.name))
        else:
            columns.extend(_dim_columns(dim.name, source, window))
    # Grouped outside a subquery: PostgreSQL does not see two renderings of one CASE with bound
    # parameters as the same expression.
    units = statement.add_columns(*columns, source.unit.label("unit")).where(*source.filters)
    inner = units.subquery()
    keys = [c for c in inner.c if c.name != "unit"]
    # A row is a unit unless a person attends often or a family's group is set on several of
    # its members: counting rows lets the database hash instead of sort (2x at 10,000 families).
    repeats = measure == "ATTENDERS" or any(d.name == "HARD_TO_REACH_GROUP" and d.axis not in dropped for d in dims)
    n = func.count(func.distinct(inner.c.unit)) if repeats else func.count()
    grouped = select(*keys, n.label("n")).group_by(*keys)
    result: dict[Key, int] = {}
    for row in (row._mapping for row in await reader.rows(grouped)):
        key: list[str | None] = [str(row["setting"]), row["time"]]
        for dim in dims:
            if dim.axis < 2:
                continue
            if dim.name in {"REACH_AREA", "LSOA"}:
                key.append(f"{row['reach'] or UNKNOWN}{SEP}{row['lsoa'] or UNKNOWN}")
            else:
                key.append(row[dim.name])
        result[tuple(key)] = result.get(tuple(key), 0) + int(row["n"])
    return result


def _dim_columns(name: str, source: Source, window: Window) -> list[ColumnElement[Any]]:
    if name == "AGE_BAND":
        return [_age_band(source, window).label(name)]
    if name == "GENDER":
        return [func.coalesce(source.gender, "NOT_KNOWN").label(name)]
    if name in {"ETHNICITY", "ETHNIC_GROUP"}:
        return [func.coalesce(source.ethnicity, UNKNOWN).label(name)]
    if name == "OUTCOME_TYPE":
        return [Activity.outcome_type.label(name)]
    if name == "EVENT_TYPE":
        return [func.coalesce(Activity.event_type, UNKNOWN).label(name)]
    return [PostcodeArea.reach_area.label("reach"), PostcodeArea.lsoa.label("lsoa")]


def _age_band(source: Source, window: Window) -> ColumnElement[Any]:
    """A child's age band on the period's last day; carers are "adult". A flow's child
    (attendances) is aged on the last day of the month it is counted in: a month's attendances
    by age are then the same in the month's report and in its quarter's, which could otherwise
    be told apart into the few children who had a birthday in between."""
    if source.born is None:
        return literal("adult")
    whens: list[tuple[ColumnElement[bool], Any]] = []
    if source.child is not None:
        whens.append((~source.child, literal("adult")))
    whens.append((source.born.is_(None), literal(UNKNOWN)))
    if not window.flow:
        return case(*whens, *_bands(source.born, window.end), else_=literal("5+"))
    months = [(source.day < month_add(m, 1), case(*_bands(source.born, month_add(m, 1)), else_=literal("5+")))
              for m in window.year_months()]  # fmt: skip
    return case(*whens, *months, else_=_NULL)


def _bands(born: Expr, end: date) -> list[tuple[ColumnElement[bool], Any]]:
    """The age bands on the day before `end`, youngest first (the last, 5+, is the else)."""
    last = end - timedelta(days=1)
    return [(born > _years_before(last, n), literal(band)) for n, band in zip(range(1, 6), AGE_BANDS, strict=False)]


def _years_before(day: date, years: int) -> date:
    """`day` `years` earlier; the period's end is exclusive, so a child born on the end's
    date `years` ago is `years` old on the period's last day only from the next day. Before
    the calendar's first year: its first day (nobody is born before it)."""
    if day.year - years < date.min.year:
        return date.min
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _time_column(day: Expr, dims: list[Dim], window: Window) -> ColumnElement[Any]:
    if window.flow or window.linked:
        whens = [(day < window.year_start, literal(EARLIER))] if window.linked else []
        whens += [(day < month_add(m, 1), literal(month_key(m))) for m in window.year_months()]
        return case(*whens, else_=_NULL)
    if not any(d.name == "MONTH" for d in dims):
        return _NULL
    months = [month_add(window.start, i) for i in range(len(window.months()))]
    whens = [(day < window.start, literal(EARLIER))] if window.stock else []
    whens += [(day < month_add(m, 1), literal(month_key(m))) for m in months]
    return case(*whens, else_=_NULL)


async def _entries(reader: Reader, dims: list[Dim], window: Window, calendar: WorkingCalendar) -> dict[Key, int]:
    """Forms received, registers of sessions held and contacts made in the financial year, by
    setting, month and timeliness: entered by the end of the deadline's last working day
    (London), after it, or not yet. One statement; the deadlines are computed here per day."""
    days = [window.year_start + timedelta(days=i) for i in range((window.year_end - window.year_start).days)]
    allowed = sorted(set(WORKING_DAYS_ALLOWED.values()))
    forms = select(
        Form.setting_id.label("setting"),
        Form.received_on.label("day"),
        case(*[(Form.kind == kind, n) for kind, n in WORKING_DAYS_ALLOWED.items()]).label("allowed"),
        Form.entered_at.label("entered"),
    )
    registers = (
        select(
            Activity.setting_id,
            ActivitySession.date,
            literal(WORKING_DAYS_ALLOWED[Deadline.REGISTER]),
            ActivitySession.register_entered_at,
        )
        .join(Activity, Activity.id == ActivitySession.activity_id)
        .where(ActivitySession.date <= today())
    )
    contacts = select(
        Contact.setting_id, Contact.date, literal(WORKING_DAYS_ALLOWED[Deadline.HOME_VISIT]), Contact.entered_at
    )
    items = union_all(
        *[q.where(column >= window.year_start, column < window.year_end) for q, column in
          [(forms, Form.received_on), (registers, ActivitySession.date), (contacts, Contact.date)]]
    ).subquery()  # fmt: skip

    def cutoff(n: int) -> ColumnElement[Any]:
        """The instant an item received on its day is late from: midnight after its deadline."""
        return case(*[(items.c.day == day, literal(_midnight_after(calendar.add_working_days(day, n)), UtcDateTime()))
                      for day in days])  # fmt: skip

    late_from = case(*[(items.c.allowed == n, cutoff(n)) for n in allowed])
    timeliness = case(
        (items.c.entered.is_(None), literal("OUTSTANDING")),
        (items.c.entered < late_from, literal("ON_TIME")),
        else_=literal("LATE"),
    )
    month = case(*[(items.c.day < month_add(m, 1), literal(month_key(m))) for m in window.year_months()], else_=_NULL)
    by_timeliness = any(d.name == "TIMELINESS" for d in dims)
    keys = [items.c.setting, month.label("time"), (timeliness if by_timeliness else _NULL).label("timeliness")]
    inner = select(*keys).subquery()  # grouped outside: see _count
    rows = await reader.rows(select(*inner.c, func.count().label("n")).group_by(*inner.c))
    result: dict[Key, int] = {}
    for row in (row._mapping for row in rows):
        key: Key = (str(row["setting"]), row["time"], *([row["timeliness"]] if by_timeliness else []))
        result[key] = result.get(key, 0) + int(row["n"])
    return result


def _midnight_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=LONDON).astimezone(UTC)
