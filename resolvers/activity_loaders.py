"""Per-request loaders of activities, sessions, registers and contacts: one statement per
relation per query level (resolvers/loaders.py keeps one of these as `loaders.activities`)."""

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import aliased

from models import Activity, ActivitySession, Attendance, Carer, Child, Contact, Family, User
from resolvers.batching import AnyRow, Loader, by_key, grouped, loader
from resolvers.reader import Reader


def register_statement() -> Select[Attendance, str, str, int]:
    """Attendance rows with the attendee's name and family registration (for its scope)."""
    carer, child = aliased(Carer), aliased(Child)
    return (
        select(
            Attendance,
            func.coalesce(carer.first_name, child.first_name).label("first_name"),
            func.coalesce(carer.last_name, child.last_name).label("last_name"),
            Family.registered_setting_id,
        )
        .join(Family, Family.id == Attendance.family_id)
        .outerjoin(carer, and_(Attendance.person_type == "Carer", carer.id == Attendance.person_id))
        .outerjoin(child, and_(Attendance.person_type == "Child", child.id == Attendance.person_id))
    )


class ActivityLoaders:
    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.activity: Loader[int, Activity | None] = loader(self._activities)
        self.session: Loader[int, ActivitySession | None] = loader(self._sessions)
        self.sessions: Loader[int, list[ActivitySession]] = loader(self._sessions_of)
        self.register: Loader[int, list[AnyRow]] = loader(self._registers)
        self.attendance: Loader[tuple[str, int], list[AnyRow]] = loader(self._attendance_of)
        self.contacts: Loader[int, list[AnyRow]] = loader(self._contacts_of)

    async def _activities(self, ids: list[int]) -> list[Activity | None]:
        rows = await self.reader.rows(select(Activity).where(Activity.id.in_(ids)))
        return by_key(ids, (r[0] for r in rows), lambda a: a.id)

    async def _sessions(self, ids: list[int]) -> list[ActivitySession | None]:
        rows = await self.reader.rows(select(ActivitySession).where(ActivitySession.id.in_(ids)))
        return by_key(ids, (r[0] for r in rows), lambda s: s.id)

    async def _sessions_of(self, activity_ids: list[int]) -> list[list[ActivitySession]]:
        statement = (
            select(ActivitySession)
            .where(ActivitySession.activity_id.in_(activity_ids))
            .order_by(ActivitySession.date, ActivitySession.id)
        )
        rows = await self.reader.rows(statement)
        return grouped(activity_ids, (r[0] for r in rows), lambda s: s.activity_id)

    async def _registers(self, session_ids: list[int]) -> list[list[AnyRow]]:
        statement = register_statement().where(Attendance.session_id.in_(session_ids)).order_by(Attendance.id)
        rows = await self.reader.rows(statement)
        return grouped(session_ids, rows, lambda r: r.Attendance.session_id)

    async def _attendance_of(self, keys: list[tuple[str, int]]) -> list[list[AnyRow]]:
        """A person's register entries, keyed by (Carer | Child, id), oldest session first."""
        statement = (
            register_statement()
            .add_columns(ActivitySession.date.label("session_date"))
            .join(ActivitySession, ActivitySession.id == Attendance.session_id)
            .where(
                Attendance.person_type.in_({t for t, _ in keys}),
                Attendance.person_id.in_({k for _, k in keys}),
            )
            .order_by(ActivitySession.date, Attendance.id)
        )
        rows = await self.reader.rows(statement)
        return grouped(keys, rows, lambda r: (r.Attendance.person_type, r.Attendance.person_id))

    async def _contacts_of(self, family_ids: list[int]) -> list[list[AnyRow]]:
        statement = (
            select(Contact, User.display_name.label("worker"))
            .join(User, User.id == Contact.worker_id)
            .where(Contact.family_id.in_(family_ids))
            .order_by(Contact.date.desc(), Contact.id.desc())
        )
        rows = await self.reader.rows(statement)
        return grouped(family_ids, rows, lambda r: r.Contact.family_id)
