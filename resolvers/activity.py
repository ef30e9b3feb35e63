"""Activities, their sessions and registers, and contacts with families (standards 5.5, 9).

An activity and its sessions are ACTIVITY data: shared across all settings, written only with
ACTIVITY write in the owning setting. A register entry (attendance) and a contact are SECONDARY
data of the attendee's family: entered only for a family whose scope holds the activity's
setting, and read only through a setting of that family's scope.
"""

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from authz.categories import Action, Category
from authz.fields import category_of
from authz.grants import Access, Grants
from authz.guard import Payload
from authz.scope import load_for_write, require, require_anywhere, shared_with
from errors import BadUserInput, Conflict, NotFound
from models import Activity, ActivitySession, Attendance, Carer, Child, Contact, Family
from models.base import utcnow
from resolvers import validation as v
from resolvers.batching import Loader
from resolvers.context import INSERT_EVENTS, Context
from resolvers.form import calendar_for
from resolvers.ids import decode_id, decode_key, encode_id
from resolvers.inputs import ActivityChanges, AttendanceData, NewActivity, NewContact
from resolvers.working_days import Deadline

MAX_REGISTER = 500  # entries of one recordAttendance
MAX_SESSIONS = 366  # dates of one addSessions
LAST_SESSION_DAY = date(9999, 11, 30)  # a register deadline (5 working days, holidays aside) still fits in a date
MAX_MINUTES = 24 * 60
AFFILIATION_REQUIRED = "AFFILIATION_REQUIRED"
T = TypeVar("T")
Day = date  # records below have a field named `date`

# column -> API field name; the order of the API's fields
ACTIVITY_FIELDS = {
    "description": "description",
    "provider": "provider",
    "project_leader": "projectLeader",
    "frequency": "frequency",
    "outcome_type": "outcomeType",
    "outcome": "outcome",
    "access_group": "accessGroup",
    "event_type": "eventType",
    "start_date": "startDate",
    "start_time": "startTime",
    "duration_minutes": "durationMinutes",
    "aims": "aims",
}
OPTIONAL = {"outcome", "event_type"}


# --- records -----------------------------------------------------------------------------------


def activity_access(grants: Grants, setting_id: int) -> Access:
    """ACTIVITY rights on the activities of one setting (the guard reads `read`)."""
    allowed = [Category.ACTIVITY] if grants.allows(Category.ACTIVITY, Action.READ, [setting_id]) else []
    writable = [Category.ACTIVITY] if grants.allows(Category.ACTIVITY, Action.WRITE, [setting_id]) else []
    return Access(read=frozenset(allowed), write=frozenset(writable), setting=setting_id)


@dataclass(slots=True)
class ActivityRecord:
    id: int
    version: int
    setting_id: int
    description: str
    provider: str
    project_leader: str
    frequency: str
    outcome_type: str
    outcome: str | None
    access_group: str
    event_type: str | None
    start_date: date
    start_time: time
    duration_minutes: int
    aims: str
    access: Access


def activity_record(row: Any, grants: Grants) -> ActivityRecord:
    return ActivityRecord(
        id=row.id,
        version=row.version,
        setting_id=row.setting_id,
        **{column: getattr(row, column) for column in ACTIVITY_FIELDS},
        access=activity_access(grants, row.setting_id),
    )


@dataclass(slots=True)
class ActivitySessionRecord:
    id: int
    activity_id: int
    setting_id: int
    date: Day
    start_time: time
    duration_minutes: int
    register_entered_at: datetime | None
    deadline: Day
    late: bool
    access: Access


def session_record(ctx: Context, row: Any, access: Access) -> ActivitySessionRecord:
    calendar = calendar_for(ctx.config.closure_days)
    deadline = calendar.deadline(Deadline.REGISTER, row.date)
    entered = row.register_entered_at
    done = None if entered is None else entered.astimezone(v.LONDON).date()
    late = done > deadline if done is not None else v.today() > deadline
    return ActivitySessionRecord(
        row.id, row.activity_id, access.setting or 0, row.date, row.start_time, row.duration_minutes, entered,
        deadline, late, access,
    )  # fmt: skip


@dataclass(slots=True)
class AttendanceRecord:
    person_id: str
    family_id: str
    first_name: str | None
    last_name: str | None
    attended: bool
    recorded_at: datetime
    session_id: int


def attendance_record(row: Any) -> AttendanceRecord:
    entry = row.Attendance
    return AttendanceRecord(
        encode_id(entry.person_type, entry.person_id), encode_id("Family", entry.family_id),
        row.first_name, row.last_name, entry.attended, entry.recorded_at, entry.session_id,
    )  # fmt: skip


@dataclass(slots=True)
class ContactRecord:
    id: int
    kind: str
    date: Day
    duration_minutes: int | None
    worker: str
    setting_id: int
    summary: str | None
    people_seen: list[str]
    entered_at: datetime
    deadline: Day
    late: bool


def contact_record(ctx: Context, row: Contact, worker: str) -> ContactRecord:
    calendar = calendar_for(ctx.config.closure_days)
    deadline = calendar.deadline(Deadline.HOME_VISIT, row.date)
    late = row.entered_at.astimezone(v.LONDON).date() > deadline
    seen = [encode_id(person["type"], person["id"]) for person in row.people_seen]
    return ContactRecord(
        row.id, row.kind, row.date, row.duration_minutes, worker, row.setting_id, row.summary, seen,
        row.entered_at, deadline, late,
    )  # fmt: skip


# --- reading -----------------------------------------------------------------------------------


async def _readable_activity(ctx: Context, activity_id: str, field: str = "id") -> Activity:
    """The activity an id names, if the caller may read it (NOT_FOUND otherwise); callers with
    no ACTIVITY read anywhere are FORBIDDEN before the lookup."""
    principal = require_anywhere(ctx.require_principal(), Category.ACTIVITY, Action.READ)
    key = decode_key(activity_id, "Activity")
    row = None if key is None else await ctx.reader.get(Activity, key)  # root fields may run concurrently
    if row is None or not principal.grants.allows(Category.ACTIVITY, Action.READ, [row.setting_id]):
        raise NotFound(f"{field}: no such activity")
    return row


async def get_activity(ctx: Context, activity_id: str) -> ActivityRecord:
    row = await _readable_activity(ctx, activity_id)
    return activity_record(row, ctx.require_principal().grants)


@dataclass(slots=True)
class ActivityPage:
    nodes: list[ActivityRecord]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


def _cursor(row: Any) -> str:
    return base64.urlsafe_b64encode(f"Activities:{row.start_date.isoformat()}:{row.id}".encode()).decode()


def _position(cursor: str) -> tuple[date, int]:
    try:
        kind, day, key = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if kind != "Activities" or not key.isdigit() or len(key) > 10:
            raise ValueError(kind)
        return date.fromisoformat(day), int(key)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput("after is not a cursor of this list", "after") from None


def runs_in(date_from: date | None, date_to: date | None) -> ColumnElement[bool] | None:
    """SQL predicate on activities: starting in [from, to], or with a session in it."""
    if date_from is None and date_to is None:
        return None
    starts, sessions = [], [ActivitySession.activity_id == Activity.id]
    if date_from is not None:
        starts.append(Activity.start_date >= date_from)
        sessions.append(ActivitySession.date >= date_from)
    if date_to is not None:
        starts.append(Activity.start_date <= date_to)
        sessions.append(ActivitySession.date <= date_to)
    return or_(and_(*starts), exists(select(ActivitySession.id).where(*sessions)))


async def list_activities(
    ctx: Context, setting_id: str | None, date_from: date | None, date_to: date | None, first: int, after: str | None
) -> ActivityPage:
    """A page of activities, newest (latest start date) first."""
    principal = require_anywhere(ctx.require_principal(), Category.ACTIVITY, Action.READ)
    if not 1 <= first <= ctx.config.max_page_size:
        raise BadUserInput(f"first must be between 1 and {ctx.config.max_page_size}", "first")
    if date_from is not None and date_to is not None and date_to < date_from:
        raise BadUserInput("to is before from", "to")
    conditions: list[ColumnElement[bool]] = []
    if setting_id is not None:
        setting = decode_key(setting_id, "Setting")
        if setting is None:
            raise BadUserInput("settingId: no such setting", "settingId")
        conditions.append(Activity.setting_id == setting)
    readable = principal.grants.settings_for(Category.ACTIVITY, Action.READ)
    if readable is not None:
        conditions.append(Activity.setting_id.in_(readable))
    period = runs_in(date_from, date_to)
    if period is not None:
        conditions.append(period)
    total = select(func.count()).select_from(Activity).where(*conditions).correlate(None).scalar_subquery()
    page = list(conditions)
    if after is not None:
        day, key = _position(after)
        page.append(or_(Activity.start_date < day, and_(Activity.start_date == day, Activity.id < key)))
    statement = (
        select(Activity, total.label("total_count"))
        .where(*page)
        .order_by(Activity.start_date.desc(), Activity.id.desc())
        .limit(first + 1)
    )
    rows = list(await ctx.reader.rows(statement))
    count = rows[0].total_count if rows else (await ctx.reader.rows(select(total)))[0][0]
    shown = [row.Activity for row in rows[:first]]
    for row in shown:
        ctx.loaders.activities.activity.prime(row.id, row)
    return ActivityPage(
        nodes=[activity_record(row, principal.grants) for row in shown],
        has_next_page=len(rows) > first,
        end_cursor=_cursor(shown[-1]) if shown else None,
        total_count=count,
    )


async def sessions_of(
    ctx: Context, activity: ActivityRecord, date_from: date | None, date_to: date | None
) -> list[ActivitySessionRecord]:
    rows = await ctx.loaders.activities.sessions.load(activity.id)
    return [
        session_record(ctx, row, activity.access)
        for row in rows
        if (date_from is None or row.date >= date_from) and (date_to is None or row.date <= date_to)
    ]


async def _loaded(loader: Loader[int, T | None], key: int) -> T:
    """The row a foreign key names (a session's activity, an entry's session), so never missing."""
    row = await loader.load(key)
    if row is None:
        raise NotFound()
    return row


async def activity_of(ctx: Context, session: ActivitySessionRecord) -> ActivityRecord:
    row = await _loaded(ctx.loaders.activities.activity, session.activity_id)
    return activity_record(row, ctx.require_principal().grants)


async def session_of(ctx: Context, session_id: int) -> ActivitySessionRecord:
    row = await _loaded(ctx.loaders.activities.session, session_id)
    activity = await _loaded(ctx.loaders.activities.activity, row.activity_id)
    return session_record(ctx, row, activity_access(ctx.require_principal().grants, activity.setting_id))


async def readable_entries(ctx: Context, rows: list[Any]) -> list[AttendanceRecord]:
    """Register entries of families whose scope the caller may read SECONDARY in: the scopes of
    every family named are read in one statement (loaders.family_access)."""
    if not rows:
        return []
    grants = ctx.require_principal().grants
    families = list(
        {
            row.Attendance.family_id: _FamilyRef(row.Attendance.family_id, row.registered_setting_id) for row in rows
        }.values()
    )
    access = dict(zip([f.id for f in families], await ctx.loaders.family_access(grants, families), strict=True))
    return [attendance_record(row) for row in rows if Category.SECONDARY in access[row.Attendance.family_id][0].read]


@dataclass(frozen=True, slots=True)
class _FamilyRef:
    id: int
    registered_setting_id: int


async def register_of(ctx: Context, session: ActivitySessionRecord) -> list[AttendanceRecord]:
    return await readable_entries(ctx, await ctx.loaders.activities.register.load(session.id))


async def attendance_of(
    ctx: Context, type_name: str, person_id: int, date_from: date | None, date_to: date | None
) -> list[AttendanceRecord]:
    """A person's register entries (the field is SECONDARY of their family: already decided)."""
    rows = await ctx.loaders.activities.attendance.load((type_name, person_id))
    return [
        attendance_record(row)
        for row in rows
        if (date_from is None or row.session_date >= date_from) and (date_to is None or row.session_date <= date_to)
    ]


async def contacts_of(ctx: Context, family_id: int) -> list[ContactRecord]:
    rows = await ctx.loaders.activities.contacts.load(family_id)
    return [contact_record(ctx, row.Contact, row.worker) for row in rows]


# --- writing activities --------------------------------------------------------------------------


async def _clean_activity(ctx: Context, given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for column, api_name in ACTIVITY_FIELDS.items():
        if column not in given:
            continue
        value = given[column]
        if value is None:
            if column not in OPTIONAL:
                raise BadUserInput(f"{api_name} cannot be empty", api_name)
            values[column] = None
            continue
        if column in ("description", "aims"):
            values[column] = v.clean_text(value, api_name, 4000)
        elif column in ("provider", "project_leader"):
            values[column] = v.clean_text(value, api_name, 200)
        elif column == "outcome":
            values[column] = v.clean_text(value, api_name, 4000, required=False) or None
        elif column in ("outcome_type", "access_group", "event_type"):
            values[column] = await v.active_code(ctx.session, column.upper(), value, api_name)
        elif column == "start_date":
            if value < v.EARLIEST:
                raise BadUserInput(f"startDate is before {v.EARLIEST.isoformat()}", api_name)
            values[column] = value
        elif column == "duration_minutes":
            if not 1 <= value <= MAX_MINUTES:
                raise BadUserInput(f"durationMinutes must be between 1 and {MAX_MINUTES}", api_name)
            values[column] = value
        elif column == "start_time":
            values[column] = value.replace(tzinfo=None, microsecond=0)
        else:
            values[column] = value
    return values


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | time | datetime) else value


def _audit_activity(
    ctx: Context, action: str, activity_id: int, setting: int, before: dict[str, Any], after: dict[str, Any]
) -> None:
    changes = {
        ACTIVITY_FIELDS[column]: {"before": _plain(before.get(column)), "after": _plain(value)}
        for column, value in after.items()
        if before.get(column) != value
    }
    if changes:
        ctx.audit.write(
            action, "Activity", activity_id, setting_id=setting, category=Category.ACTIVITY, changes=changes
        )


async def create_activity(ctx: Context, data: NewActivity) -> ActivityRecord:
    setting = await v.existing_setting(ctx.session, data["setting_id"], "settingId")
    principal = require(ctx.require_principal(), Category.ACTIVITY, Action.WRITE, [setting])
    values = await _clean_activity(ctx, {column: value for column, value in data.items() if column in ACTIVITY_FIELDS})
    activity = Activity(setting_id=setting, created_by_id=principal.user_id, **values)
    ctx.session.add(activity)
    await ctx.session.flush()
    _audit_activity(ctx, "activity.create", activity.id, setting, {}, values)
    await ctx.session.flush()  # atomic() commits, once the response is built
    return activity_record(activity, principal.grants)


async def _activity_for_write(ctx: Context, activity_id: str, field: str) -> Activity:
    row = await _readable_activity(ctx, activity_id, field)
    require(ctx.require_principal(), Category.ACTIVITY, Action.WRITE, [row.setting_id])
    return row


async def update_activity(
    ctx: Context, activity_id: str, expected_version: int, changes: ActivityChanges
) -> ActivityRecord:
    """Version-checked in one statement; `changes` holds only the fields the client gave."""
    given = {column: value for column, value in changes.items() if column in ACTIVITY_FIELDS}
    if not given:
        raise BadUserInput("give at least one field to change (description, …)", "input")
    activity = await _activity_for_write(ctx, activity_id, "id")
    values = await _clean_activity(ctx, given)
    stale = Conflict(f"The activity was changed since version {expected_version}; reload it", field="expectedVersion")
    if activity.version != expected_version:
        raise stale
    before = {column: getattr(activity, column) for column in values}
    result = await ctx.session.execute(
        update(Activity)
        .where(Activity.id == activity.id, Activity.version == expected_version)
        .values(version=Activity.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise stale
    _audit_activity(ctx, "activity.update", activity.id, activity.setting_id, before, values)
    await ctx.session.flush()  # atomic() commits, once the response is built
    await ctx.session.refresh(activity)
    return activity_record(activity, ctx.require_principal().grants)


async def add_sessions(ctx: Context, activity_id: str, dates: list[date]) -> list[ActivitySessionRecord]:
    """Sessions on `dates`, at the activity's start time and duration; a date the activity
    already has a session on, or before it starts, is refused."""
    activity = await _activity_for_write(ctx, activity_id, "activityId")
    if not 1 <= len(dates) <= MAX_SESSIONS:
        raise BadUserInput(f"dates: give 1 to {MAX_SESSIONS} dates", "dates")
    # Additions to one activity are serialised, so two at once cannot add the same date.
    await _lock(ctx, Activity, activity.id)
    taken = set(
        await ctx.session.scalars(select(ActivitySession.date).where(ActivitySession.activity_id == activity.id))
    )
    seen: set[date] = set()
    for index, day in enumerate(dates):
        field = f"dates[{index}]"
        if day < activity.start_date:
            raise BadUserInput(f"{field} is before the activity starts ({activity.start_date.isoformat()})", field)
        if day > LAST_SESSION_DAY:  # its register's deadline would fall past the calendar's end
            raise BadUserInput(f"{field} is after {LAST_SESSION_DAY.isoformat()}", field)
        if day in seen or day in taken:
            raise BadUserInput(f"{field}: the activity already has a session on {day.isoformat()}", field)
        seen.add(day)
    rows = [
        ActivitySession(
            activity_id=activity.id,
            date=day,
            start_time=activity.start_time,
            duration_minutes=activity.duration_minutes,
        )
        for day in sorted(dates)
    ]
    ctx.session.add_all(rows)
    await ctx.session.flush()
    ctx.audit.write(
        "activity.sessions.add", "Activity", activity.id, setting_id=activity.setting_id, category=Category.ACTIVITY,
        changes={"sessions": {"before": None, "after": ", ".join(day.isoformat() for day in sorted(dates))}},
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    access = activity_access(ctx.require_principal().grants, activity.setting_id)
    return [session_record(ctx, row, access) for row in rows]


# --- registers -----------------------------------------------------------------------------------


async def _lock(ctx: Context, model: type[Activity] | type[ActivitySession], key: int) -> None:
    """Serialise writes under one row until commit: an UPDATE that changes nothing takes the
    row's lock on PostgreSQL and, as the transaction's first write, the write lock on SQLite
    (where SELECT … FOR UPDATE locks nothing)."""
    await ctx.session.execute(
        update(model).where(model.id == key).values(id=model.id).execution_options(synchronize_session=False)
    )


def _decode_people(entries: list[AttendanceData]) -> list[tuple[str, int]]:
    people: list[tuple[str, int]] = []
    seen: set[tuple[str, int]] = set()
    for index, entry in enumerate(entries):
        field = f"entries[{index}].personId"
        decoded = decode_id(entry["person_id"], "Carer", "Child")
        if decoded is None:
            raise BadUserInput(f"{field}: no such carer or child", field)
        if decoded in seen:
            raise BadUserInput(f"{field}: this person is entered twice", field)
        seen.add(decoded)
        people.append(decoded)
    return people


async def _families_of(ctx: Context, people: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
    """The family of each person, one statement per kind of person given."""
    found: dict[tuple[str, int], int] = {}
    for type_name, model in (("Carer", Carer), ("Child", Child)):
        keys = [key for kind, key in people if kind == type_name]
        if keys:
            rows = await ctx.session.execute(select(model.id, model.family_id).where(model.id.in_(keys)))
            found.update({(type_name, row.id): row.family_id for row in rows})
    return found


def _describe(attended: bool | None, label: str) -> str | None:
    return None if attended is None else f"{'attended' if attended else 'absent'}: {label}"


async def record_attendance(ctx: Context, session_id: str, entries: list[AttendanceData]) -> ActivitySessionRecord:
    """Enter a session's register at once: all or nothing, in a number of statements that does
    not depend on the number of entries. Needs ACTIVITY and SECONDARY write in the activity's
    setting, and that setting in each attendee's family scope."""
    principal = require_anywhere(ctx.require_principal(), Category.ACTIVITY, Action.READ)
    key = decode_key(session_id, "ActivitySession")
    found = None
    if key is not None:
        found = (
            await ctx.session.execute(
                select(ActivitySession, Activity)
                .join(Activity, Activity.id == ActivitySession.activity_id)
                .where(ActivitySession.id == key)
            )
        ).first()
    if found is None or not principal.grants.allows(Category.ACTIVITY, Action.READ, [found.Activity.setting_id]):
        raise NotFound("sessionId: no such session")
    session, activity = found.ActivitySession, found.Activity
    setting = activity.setting_id
    for category in (Category.ACTIVITY, Category.SECONDARY):
        require(principal, category, Action.WRITE, [setting])
    if len(entries) > MAX_REGISTER:
        raise BadUserInput(f"entries: at most {MAX_REGISTER} in one register", "entries")
    people = _decode_people(entries)
    families = await _families_of(ctx, people)
    for index, person in enumerate(people):
        if person not in families:
            field = f"entries[{index}].personId"
            raise BadUserInput(f"{field}: no such carer or child", field)
    family_ids = set(families.values())
    in_scope = set()
    if family_ids:
        in_scope = set(
            await ctx.session.scalars(select(Family.id).where(Family.id.in_(family_ids), shared_with([setting])))
        )
    refused = [index for index, person in enumerate(people) if families[person] not in in_scope]
    if refused:
        field = f"entries[{refused[0]}].personId"
        error = BadUserInput(
            f"{field}: the family is neither registered with nor affiliated to the activity's setting; "
            "affiliate it, with the family's consent, first (nothing of the register was written)",
            field,
        )
        error.extensions.update(reason=AFFILIATION_REQUIRED, entries=refused)
        raise error
    # The first write: it marks the register entered (the first time) and serialises entries of
    # one session's register, so the entries read next are those this transaction replaces.
    now = utcnow()
    entered_at = await ctx.session.scalar(
        update(ActivitySession)
        .where(ActivitySession.id == session.id)
        .values(
            register_entered_at=func.coalesce(ActivitySession.register_entered_at, now),
            register_entered_by_id=func.coalesce(ActivitySession.register_entered_by_id, principal.user_id),
        )
        .returning(ActivitySession.register_entered_at)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(session, "register_entered_at", entered_at)  # known now: not a change to flush
    existing = {
        (row.person_type, row.person_id): row
        for row in await ctx.session.scalars(select(Attendance).where(Attendance.session_id == session.id))
    }
    label = f"{activity.description[:80]} on {session.date.isoformat()}"
    session_ref = encode_id("ActivitySession", session.id)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for (type_name, person_key), entry in zip(people, entries, strict=True):
        attended = bool(entry["attended"])
        family_id = families[(type_name, person_key)]
        previous = existing.get((type_name, person_key))
        if previous is not None and previous.attended == attended:
            continue  # re-entered unchanged: nothing to write
        values = {"attended": attended, "recorded_at": now, "recorded_by_id": principal.user_id}
        if previous is None:
            inserts.append(
                {
                    "session_id": session.id,
                    "family_id": family_id,
                    "person_type": type_name,
                    "person_id": person_key,
                    **values,
                }
            )
        else:
            updates.append({"id": previous.id, **values})
        before = None if previous is None else previous.attended
        events.append(
            ctx.audit.event(
                "attendance.record",
                type_name,
                person_key,
                family_id=family_id,
                setting_id=setting,
                category=Category.SECONDARY,
                changes={
                    "attendance": {
                        "before": _describe(before, label),
                        "after": _describe(attended, label),
                        "session": session_ref,
                    }
                },
            )
        )
    if inserts:
        await ctx.session.execute(insert(Attendance), inserts)
    if updates:
        await ctx.session.execute(update(Attendance), updates)
    events.append(
        ctx.audit.event(
            "register.record",
            "ActivitySession",
            session.id,
            setting_id=setting,
            category=Category.ACTIVITY,
            changes={"register": {"before": None, "after": f"entered: {label}"}},
        )
    )
    # One executemany, one statement: the ORM's bulk insert would split off the register's event,
    # whose family_id is None (it groups rows by the columns they give).
    await ctx.session.execute(INSERT_EVENTS, events)
    await ctx.session.flush()  # atomic() commits, once the response is built
    return session_record(ctx, session, activity_access(principal.grants, setting))


# --- contacts ------------------------------------------------------------------------------------


async def record_contact(ctx: Context, data: NewContact) -> Payload:
    """A home visit or other contact: SECONDARY write in a setting of the family's scope, which
    becomes the contact's setting."""
    principal = ctx.require_principal()
    target = await load_for_write(
        ctx.session, principal, Family, decode_key(data["family_id"], "Family"), Category.SECONDARY,
        "familyId: no such family",
    )  # fmt: skip
    family = target.row
    setting = target.acting_setting(Category.SECONDARY)
    day = v.past_date(data["date"], "date", v.today())
    minutes = data.get("duration_minutes")
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
        raise BadUserInput(f"durationMinutes must be between 1 and {MAX_MINUTES}", "durationMinutes")
    summary = data.get("summary")
    summary = None if summary is None else (v.clean_text(summary, "summary", 4000, required=False) or None)
    seen_ids = data["people_seen"]
    if len(seen_ids) > 40:
        raise BadUserInput("peopleSeen: at most 40 people", "peopleSeen")
    people = []
    for index, person_id in enumerate(seen_ids):
        decoded = decode_id(person_id, "Carer", "Child")
        if decoded is None:
            raise BadUserInput(f"peopleSeen[{index}]: not a carer or child of this family", f"peopleSeen[{index}]")
        people.append(decoded)
    members = await _families_of(ctx, people)
    for index, person in enumerate(people):
        if members.get(person) != family.id:
            raise BadUserInput(f"peopleSeen[{index}]: not a carer or child of this family", f"peopleSeen[{index}]")
    people = list(dict.fromkeys(people))
    contact = Contact(
        family_id=family.id, setting_id=setting, kind=data["kind"], date=day, duration_minutes=minutes,
        worker_id=principal.user_id, summary=summary, people_seen=[{"type": t, "id": k} for t, k in people],
        entered_at=utcnow(),
    )  # fmt: skip
    ctx.session.add(contact)
    await ctx.session.flush()
    ctx.audit.write(
        "contact.record", "Family", family.id, family_id=family.id, setting_id=setting, category=Category.SECONDARY,
        changes={"contact": {"before": None, "after": f"{data['kind']} on {day.isoformat()}"}},
    )  # fmt: skip
    await ctx.session.flush()  # atomic() commits, once the response is built
    record = contact_record(ctx, contact, principal.display_name)
    return Payload(record, category_of("Family", "contacts"), target.grants.access_for(target.scope))
