"""Issue 12's workloads: a session's register entered with `recordAttendance` and read back in
the same request (r), and a page of activities with their sessions (p), each with its floor:
hand-written SQLAlchemy Core, nested in Python, orjson, as bench/floor.py does.

(r) Each implementation enters its own session's register (seed.py: "Bench register 1..8",
one per implementation and size, all on one date, so the answers are equal) with the same
people, flipping `attended` on every call, so every call rewrites every entry and writes one
audit event per entry; the registers start empty (reset here), so the first call inserts. The
answer reads the register back (`register` of the session), as a centre's screen does after
entering it. (r-small) is the same with fewer people: the statements must not change.

(p) `activities(first: 50)` newest first, each activity with its sessions (deadline and lateness
from the working-day engine), as bench-manager (ACTIVITY read everywhere). (p-small) a page
of 10: the statements must not change.

Below N = 1,000 (the smoke run) the registers shrink to the people the setting has.
"""

import base64
import itertools
from collections import defaultdict
from datetime import date, datetime
from typing import Any

import orjson
from sqlalchemy import BindParameter, Table, bindparam, delete, func, insert, literal, select, union_all, update

from authz.categories import Action, Category
from authz.scope import scope_of, shared_with
from bench import seed as seeding
from bench.apps import Setup
from bench.floor import AUDIT, A, C, F, Floor, K, S, _setting
from bench.records import GRAPHQL_IMPLS, IMPLS
from bench.workloads import Call, Workload, graphql_call
from config import AppConfig
from models import Activity, ActivitySession, Attendance
from models.base import utcnow
from resolvers import validation as v
from resolvers.form import calendar_for
from resolvers.ids import encode_id
from resolvers.working_days import Deadline

ACT: Table = Activity.__table__  # type: ignore[assignment]
SES: Table = ActivitySession.__table__  # type: ignore[assignment]
ATT: Table = Attendance.__table__  # type: ignore[assignment]

REGISTER = 200  # people on the register of (r)
REGISTER_SMALL = 20  # (r-small)
PAGE, PAGE_SMALL = 50, 10  # activities in (p) and (p-small)

_SESSION_FIELDS = "id date startTime durationMinutes registerEnteredAt deadline late"
ACTIVITIES_QUERY = f"""query Activities($first: Int!) {{
  activities(first: $first) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    nodes {{
      id version setting {{ id code name }}
      description provider projectLeader frequency outcomeType outcome accessGroup eventType
      startDate startTime durationMinutes aims
      sessions {{ {_SESSION_FIELDS} }}
    }}
  }}
}}"""
# The session's id is left out: each implementation writes a session of its own (on one date).
REGISTER_MUTATION = """mutation Register($session: ID!, $entries: [AttendanceInput!]!) {
  recordAttendance(sessionId: $session, entries: $entries) {
    date deadline late
    register { personId familyId firstName lastName attended }
  }
}"""


SESSION = (
    select(SES.c.id, SES.c.date, SES.c.register_entered_at, ACT.c.setting_id, ACT.c.description)
    .join(ACT, ACT.c.id == SES.c.activity_id)
    .where(SES.c.id == bindparam("session"))
)
IDS: BindParameter[list[int]] = bindparam("ids", expanding=True)
FAMILIES_OF_PEOPLE = union_all(
    select(literal("Carer").label("kind"), C.c.id, C.c.family_id).where(
        C.c.id.in_(bindparam("carers", expanding=True))
    ),
    select(literal("Child").label("kind"), K.c.id, K.c.family_id).where(
        K.c.id.in_(bindparam("children", expanding=True))
    ),
)
ENTERED = (
    update(SES)
    .where(SES.c.id == bindparam("session"))
    .values(
        register_entered_at=func.coalesce(SES.c.register_entered_at, bindparam("now")),
        register_entered_by_id=func.coalesce(SES.c.register_entered_by_id, bindparam("user")),
    )
    .returning(SES.c.register_entered_at)
)
EXISTING = select(ATT.c.id, ATT.c.person_type, ATT.c.person_id, ATT.c.attended).where(
    ATT.c.session_id == bindparam("session")
)
REWRITE = (
    update(ATT)
    .where(ATT.c.id == bindparam("entry"))
    .values(attended=bindparam("attended"), recorded_at=bindparam("recorded_at"), recorded_by_id=bindparam("by"))
)
_carer, _child = C.alias("carer"), K.alias("child")
REGISTER_OF_SESSION = (
    select(
        ATT.c.person_type,
        ATT.c.person_id,
        ATT.c.family_id,
        ATT.c.attended,
        func.coalesce(_carer.c.first_name, _child.c.first_name).label("first_name"),
        func.coalesce(_carer.c.last_name, _child.c.last_name).label("last_name"),
        F.c.registered_setting_id,
    )
    .join(F, F.c.id == ATT.c.family_id)
    .outerjoin(_carer, (ATT.c.person_type == "Carer") & (_carer.c.id == ATT.c.person_id))
    .outerjoin(_child, (ATT.c.person_type == "Child") & (_child.c.id == ATT.c.person_id))
    .where(ATT.c.session_id == bindparam("session"))
    .order_by(ATT.c.id)
)
AFFILIATIONS_OF = select(A.c.family_id, A.c.setting_id, A.c.revoked_at).where(A.c.family_id.in_(IDS))
ACTIVITY_COLUMNS = (
    "id", "version", "setting_id", "description", "provider", "project_leader", "frequency", "outcome_type",
    "outcome", "access_group", "event_type", "start_date", "start_time", "duration_minutes", "aims",
)  # fmt: skip
SESSIONS_OF = (
    select(SES.c.id, SES.c.activity_id, SES.c.date, SES.c.start_time, SES.c.duration_minutes, SES.c.register_entered_at)
    .where(SES.c.activity_id.in_(IDS))
    .order_by(SES.c.date, SES.c.id)
)


class ActivityFloor:
    """Hand-written answers to (r) and (p) on the floor's engine."""

    def __init__(self, floor: Floor) -> None:
        self.floor = floor
        self.calendar = calendar_for(AppConfig().closure_days)

    def _due(self, day: date, entered: datetime | None) -> tuple[date, bool]:
        """A register's deadline from the working-day engine, and whether it is late."""
        deadline = self.calendar.deadline(Deadline.REGISTER, day)
        return deadline, (entered.astimezone(v.LONDON).date() if entered is not None else v.today()) > deadline

    def _session(self, row: Any) -> dict[str, Any]:
        deadline, late = self._due(row.date, row.register_entered_at)
        return {
            "id": encode_id("ActivitySession", row.id),
            "date": row.date,
            "startTime": row.start_time,
            "durationMinutes": row.duration_minutes,
            "registerEnteredAt": row.register_entered_at,
            "deadline": deadline,
            "late": late,
        }

    async def record(self, token: str, session_key: int, entries: list[tuple[str, int, bool]]) -> bytes:
        """recordAttendance: the whole register in one transaction, and the register read back."""
        async with self.floor.engine.connect() as connection:
            principal = await self.floor.principal(connection, token)
            session = (await connection.execute(SESSION, {"session": session_key})).one()
            setting = session.setting_id
            for category in (Category.ACTIVITY, Category.SECONDARY):
                assert principal.grants.allows(category, Action.WRITE, [setting])
            people = {
                (row.kind, row.id): row.family_id
                for row in await connection.execute(
                    FAMILIES_OF_PEOPLE,
                    {
                        "carers": [key for kind, key, _ in entries if kind == "Carer"],
                        "children": [key for kind, key, _ in entries if kind == "Child"],
                    },
                )
            }
            families = set(people.values())
            in_scope = set(
                (await connection.execute(select(F.c.id).where(F.c.id.in_(families), shared_with([setting])))).scalars()
            )
            assert len(people) == len(entries) and in_scope == families, "the bench enters people in scope only"
            now = utcnow()
            params = {"session": session_key, "now": now, "user": principal.user_id}
            entered_at = (await connection.execute(ENTERED, params)).scalar_one()
            existing = {
                (r.person_type, r.person_id): r for r in await connection.execute(EXISTING, {"session": session_key})
            }
            label = f"{session.description[:80]} on {session.date.isoformat()}"
            reference = encode_id("ActivitySession", session_key)
            inserts, rewrites, events = [], [], []
            for kind, key, attended in entries:
                previous = existing.get((kind, key))
                if previous is not None and previous.attended == attended:
                    continue
                if previous is None:
                    inserts.append(
                        {"session_id": session_key, "family_id": people[(kind, key)], "person_type": kind,
                         "person_id": key, "attended": attended, "recorded_at": now,
                         "recorded_by_id": principal.user_id}
                    )  # fmt: skip
                else:
                    rewrites.append({"entry": previous.id, "attended": attended, "recorded_at": now,
                                     "by": principal.user_id})  # fmt: skip
                before = None if previous is None else _said(previous.attended, label)
                events.append(
                    _event(principal.user_id, setting, "attendance.record", Category.SECONDARY, kind, key,
                           people[(kind, key)],
                           {"attendance": {"before": before, "after": _said(attended, label), "session": reference}})
                )  # fmt: skip
            if inserts:
                await connection.execute(insert(ATT), inserts)
            if rewrites:
                await connection.execute(REWRITE, rewrites)
            events.append(
                _event(principal.user_id, setting, "register.record", Category.ACTIVITY, "ActivitySession",
                       session_key, None, {"register": {"before": None, "after": f"entered: {label}"}})
            )  # fmt: skip
            await connection.execute(insert(AUDIT), events)
            rows = (await connection.execute(REGISTER_OF_SESSION, {"session": session_key})).all()
            fids = sorted({row.family_id for row in rows})
            affiliations: dict[int, list[Any]] = defaultdict(list)
            if fids:
                for a in await connection.execute(AFFILIATIONS_OF, {"ids": fids}):
                    affiliations[a.family_id].append(a)
            await connection.commit()
        grants = principal.grants
        readable = {
            row.family_id
            for row in rows
            if Category.SECONDARY
            in grants.access_for(scope_of(row.registered_setting_id, affiliations[row.family_id])).read
        }
        deadline, late = self._due(session.date, entered_at)
        return orjson.dumps(
            {
                "data": {
                    "recordAttendance": {
                        "date": session.date,
                        "deadline": deadline,
                        "late": late,
                        "register": [
                            {
                                "personId": encode_id(row.person_type, row.person_id),
                                "familyId": encode_id("Family", row.family_id),
                                "firstName": row.first_name,
                                "lastName": row.last_name,
                                "attended": row.attended,
                            }
                            for row in rows
                            if row.family_id in readable
                        ],
                    }
                }
            }
        )

    async def activities(self, token: str, first: int) -> bytes:
        """A page of activities, newest first, with their sessions and settings."""
        async with self.floor.engine.connect() as connection:
            principal = await self.floor.principal(connection, token)
            readable = principal.grants.settings_for(Category.ACTIVITY, Action.READ)
            conditions = [] if readable is None else [ACT.c.setting_id.in_(readable)]
            total = select(func.count()).select_from(ACT).where(*conditions).scalar_subquery()
            page = (
                await connection.execute(
                    select(
                        *(ACT.c[name] for name in ACTIVITY_COLUMNS),
                        S.c.code,
                        S.c.name.label("setting_name"),
                        total.label("total"),
                    )
                    .join(S, S.c.id == ACT.c.setting_id)
                    .where(*conditions)
                    .order_by(ACT.c.start_date.desc(), ACT.c.id.desc())
                    .limit(first + 1)
                )
            ).all()
            shown = page[:first]
            sessions: dict[int, list[dict[str, Any]]] = defaultdict(list)
            if shown:
                for row in await connection.execute(SESSIONS_OF, {"ids": [a.id for a in shown]}):
                    sessions[row.activity_id].append(self._session(row))
        nodes = [
            {
                "id": encode_id("Activity", a.id),
                "version": a.version,
                "setting": _setting(a.setting_id, a.code, a.setting_name),
                "description": a.description,
                "provider": a.provider,
                "projectLeader": a.project_leader,
                "frequency": a.frequency,
                "outcomeType": a.outcome_type,
                "outcome": a.outcome,
                "accessGroup": a.access_group,
                "eventType": a.event_type,
                "startDate": a.start_date,
                "startTime": a.start_time,
                "durationMinutes": a.duration_minutes,
                "aims": a.aims,
                "sessions": sessions.get(a.id, []),
            }
            for a in shown
        ]
        end = None
        if shown:
            last = shown[-1]
            end = base64.urlsafe_b64encode(f"Activities:{last.start_date.isoformat()}:{last.id}".encode()).decode()
        total_count = page[0].total if page else 0
        return orjson.dumps(
            {
                "data": {
                    "activities": {
                        "totalCount": total_count,
                        "pageInfo": {"hasNextPage": len(page) > first, "endCursor": end},
                        "nodes": nodes,
                    }
                }
            }
        )


def _said(attended: bool, label: str) -> str:
    return f"{'attended' if attended else 'absent'}: {label}"


def _event(
    user: int, setting: int, action: str, category: Category, record_type: str, record_id: int,
    family: int | None, changes: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    return {
        "at": utcnow(), "user_id": user, "setting_id": setting, "action": action, "category": category.name,
        "record_type": record_type, "record_id": record_id, "family_id": family, "changes": changes,
    }  # fmt: skip


async def _register_sessions(s: Setup) -> list[int]:
    """The registers workload's sessions, emptied so that every run starts alike."""
    async with s.floor.engine.begin() as connection:
        keys = list(
            (
                await connection.execute(
                    select(SES.c.id)
                    .join(ACT, ACT.c.id == SES.c.activity_id)
                    .where(ACT.c.description.like("Bench register %"))
                    .order_by(ACT.c.id)
                )
            ).scalars()
        )
        await connection.execute(delete(ATT).where(ATT.c.session_id.in_(keys)))
        await connection.execute(
            update(SES).where(SES.c.id.in_(keys)).values(register_entered_at=None, register_entered_by_id=None)
        )
    assert len(keys) == seeding.REGISTER_SESSIONS, f"seeded {len(keys)} register sessions"
    return keys


async def _attendees(s: Setup, limit: int) -> list[tuple[str, int]]:
    """People of families in the register setting's scope, by family."""
    people = union_all(
        *(
            select(literal(kind).label("kind"), table.c.id, table.c.family_id)
            .join(F, F.c.id == table.c.family_id)
            .where(shared_with([seeding.REGISTER_SETTING]))
            for kind, table in (("Carer", C), ("Child", K))
        )
    ).subquery()
    async with s.floor.engine.connect() as connection:
        rows = await connection.execute(
            select(people.c.kind, people.c.id).order_by(people.c.family_id, people.c.kind, people.c.id).limit(limit)
        )
        return [(row.kind, row.id) for row in rows]


async def workloads(s: Setup) -> list[Workload]:
    manager = s.tokens["manager"]
    floor = ActivityFloor(s.floor)
    sessions = iter(await _register_sessions(s))
    people = await _attendees(s, REGISTER)
    small = people[: max(1, min(REGISTER_SMALL, len(people) // 4))]
    same = {"authz-off": "floor", "standard": "floor", "service": "floor"}
    found = []
    for key, register in (("r", people), ("r-small", small)):
        calls: dict[str, Call] = {}
        for impl in IMPLS:
            calls[impl] = _register_call(s, floor, impl, next(sessions), register, manager)
        found.append(
            Workload(key, f"({key}) register of {len(register)} entered, read back", len(register), calls, same)
        )
    for key, first in (("p", PAGE), ("p-small", PAGE_SMALL)):
        found.append(
            Workload(key, f"({key}) {first} activities with sessions", first,
                     {"floor": _page_call(floor, manager, first),
                      **{impl: graphql_call(s, impl, ACTIVITIES_QUERY, {"first": first}, manager)
                         for impl in GRAPHQL_IMPLS}}, same)
        )  # fmt: skip
    return found


def _page_call(floor: ActivityFloor, token: str, first: int) -> Call:
    return lambda: floor.activities(token, first)


def _register_call(
    s: Setup, floor: ActivityFloor, impl: str, session: int, people: list[tuple[str, int]], token: str
) -> Call:
    """Each call enters the whole register with `attended` flipped from the call before."""
    flips = itertools.cycle((True, False))

    async def call() -> bytes:
        attended = next(flips)
        if impl == "floor":
            return await floor.record(token, session, [(kind, key, attended) for kind, key in people])
        entries = [{"personId": encode_id(kind, key), "attended": attended} for kind, key in people]
        variables = {"session": encode_id("ActivitySession", session), "entries": entries}
        return await s.impls[impl].request(REGISTER_MUTATION, variables, token)

    return call
