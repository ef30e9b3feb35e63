"""Per-request data loaders: one SQL statement per relation per query level, never per row."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Row, Select, select

from authz.grants import Access, Grants
from authz.scope import access_of
from models import (
    Affiliation,
    AuditEvent,
    Carer,
    CarerChild,
    Child,
    ChildProtectionPlan,
    Family,
    Form,
    Note,
    Setting,
    SubjectCode,
    User,
)
from models.audit import READ_SUFFIX
from resolvers.activity_loaders import ActivityLoaders
from resolvers.reader import Reader
from resolvers.records import AffiliationRecord, PlanRecord, SettingRecord, affiliation_record, plan_record

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Key = TypeVar("Key", bound=Hashable, contravariant=True)
AnyRow = Row[Any]

# Many-to-one settings are joined into the statement of the rows that name them (families,
# affiliations, notes, search matches) and primed into the setting loader, so `setting { … }`
# costs no statement of its own.
SETTING_CODE, SETTING_NAME = "setting_code", "setting_name"


def with_setting(statement: Select[Any], setting_id: Any) -> Select[Any]:
    """`statement` with the code and name of the setting `setting_id` names."""
    return statement.add_columns(Setting.code.label(SETTING_CODE), Setting.name.label(SETTING_NAME)).join(
        Setting, Setting.id == setting_id
    )


def _grouped(keys: Sequence[K], rows: Iterable[V], key_of: Callable[[V], Hashable]) -> list[list[V]]:
    groups: dict[Hashable, list[V]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    return [groups.get(key, []) for key in keys]


def _by_key(keys: Sequence[K], rows: Iterable[V], key_of: Callable[[V], K]) -> list[V | None]:
    found = {key_of(row): row for row in rows}
    return [found.get(key) for key in keys]


class Loader(Protocol[Key, V]):
    """An aiodataloader DataLoader, as typed as its batch function (the package has no types)."""

    def load(self, key: Key) -> Awaitable[V]: ...
    def load_many(self, keys: Iterable[Key]) -> Awaitable[list[V]]: ...
    def prime(self, key: Key, value: V) -> object: ...


def _loader(batch: Callable[[list[K]], Coroutine[Any, Any, list[V]]]) -> Loader[K, V]:
    loader: Loader[K, V] = DataLoader(batch_load_fn=batch)
    return loader


class Loaders:
    """Built fresh for every request, so nothing read is ever reused across requests."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.setting = _loader(self._settings)
        self.family = _loader(self._families)
        self.affiliations = _loader(self._affiliations)
        self.carers = _loader(partial(self.read_people, Carer))
        self.children = _loader(partial(self.read_people, Child))
        self.relationships = _loader(self._relationships)
        self.open_cp_plan = _loader(self._open_cp_plans)
        self.all_cp_plans = _loader(self._all_cp_plans)
        self.history = _loader(self._history)
        self.forms = _loader(self._forms)
        self.codes = {kind: _loader(self._codes_of(kind)) for kind in ("family", "carer", "child")}
        self.notes = {kind: _loader(self._notes_of(kind)) for kind in ("family", "carer", "child")}
        self.activities = ActivityLoaders(reader)

    def prime_settings(self, rows: Iterable[AnyRow], attribute: str) -> None:
        """Seed the setting loader from rows read `with_setting` on their `attribute`."""
        seen: set[int] = set()
        for row in rows:
            setting_id = getattr(row, attribute)
            if setting_id not in seen:
                seen.add(setting_id)
                self.setting.prime(
                    setting_id, SettingRecord(setting_id, getattr(row, SETTING_CODE), getattr(row, SETTING_NAME))
                )

    async def family_access(
        self, grants: Grants, families: Sequence[Any]
    ) -> list[tuple[Access, list[AffiliationRecord]]]:
        """The caller's access to each family (rows with `id` and `registered_setting_id`) and
        the affiliations, revoked ones too, its scope was read from: one statement for all."""
        affiliations = await self.affiliations.load_many([family.id for family in families])
        return [
            (access_of(grants, family.registered_setting_id, affs), affs)
            for family, affs in zip(families, affiliations, strict=True)
        ]

    async def _settings(self, ids: list[int]) -> list[SettingRecord | None]:
        rows = await self.reader.rows(select(Setting.id, Setting.code, Setting.name).where(Setting.id.in_(ids)))
        return _by_key(ids, (SettingRecord(r.id, r.code, r.name) for r in rows), lambda r: r.id)

    async def _families(self, ids: list[int]) -> list[AnyRow | None]:
        statement = with_setting(select(Family.__table__), Family.registered_setting_id).where(Family.id.in_(ids))
        rows = await self.reader.rows(statement)
        self.prime_settings(rows, "registered_setting_id")
        return _by_key(ids, rows, lambda f: f.id)

    async def _affiliations(self, family_ids: list[int]) -> list[list[AffiliationRecord]]:
        statement = (
            with_setting(select(Affiliation.__table__), Affiliation.setting_id)
            .where(Affiliation.family_id.in_(family_ids))
            .order_by(Affiliation.id)
        )
        rows = await self.reader.rows(statement)
        self.prime_settings(rows, "setting_id")
        return _grouped(family_ids, map(affiliation_record, rows), lambda a: a.family_id)

    async def read_people(self, model: type[Carer] | type[Child], family_ids: list[int]) -> list[list[AnyRow]]:
        """The carers or children of each family, in one statement, past the loader's cache."""
        current = model.left_on.is_(None)  # a person who left is no longer among the family's people
        statement = select(model.__table__).where(model.family_id.in_(family_ids), current).order_by(model.id)
        rows = await self.reader.rows(statement)
        return _grouped(family_ids, rows, lambda p: p.family_id)

    async def _relationships(self, carer_ids: list[int]) -> list[list[AnyRow]]:
        statement = (
            select(CarerChild.carer_id, CarerChild.relationship, *Child.__table__.c)
            .join(Child, Child.id == CarerChild.child_id)
            .where(CarerChild.carer_id.in_(carer_ids), Child.left_on.is_(None))
            .order_by(CarerChild.id)
        )
        return _grouped(carer_ids, await self.reader.rows(statement), lambda r: r.carer_id)

    async def _open_cp_plans(self, child_ids: list[int]) -> list[PlanRecord | None]:
        statement = select(ChildProtectionPlan.__table__).where(
            ChildProtectionPlan.child_id.in_(child_ids), ChildProtectionPlan.end_date.is_(None)
        )
        rows = await self.reader.rows(statement)
        return _by_key(child_ids, map(plan_record, rows), lambda p: p.child_id)

    def _notes_of(
        self, subject_type: str
    ) -> Callable[[list[tuple[int, str]]], Coroutine[Any, Any, list[list[AnyRow]]]]:
        async def load(keys: list[tuple[int, str]]) -> list[list[AnyRow]]:
            statement = (
                with_setting(select(Note.__table__, User.display_name.label("author_name")), Note.setting_id)
                .join(User, User.id == Note.author_id)
                .where(
                    Note.subject_type == subject_type,
                    Note.subject_id.in_({subject_id for subject_id, _ in keys}),
                    Note.kind.in_({kind for _, kind in keys}),
                )
                .order_by(Note.created_at, Note.id)
            )
            rows = await self.reader.rows(statement)
            self.prime_settings(rows, "setting_id")
            return _grouped(keys, rows, lambda r: (r.subject_id, r.kind))

        return load

    async def _all_cp_plans(self, child_ids: list[int]) -> list[list[PlanRecord]]:
        statement = (
            select(ChildProtectionPlan.__table__)
            .where(ChildProtectionPlan.child_id.in_(child_ids))
            .order_by(ChildProtectionPlan.start_date, ChildProtectionPlan.id)
        )
        return _grouped(child_ids, map(plan_record, await self.reader.rows(statement)), lambda p: p.child_id)

    async def _history(self, keys: list[tuple[str, int]]) -> list[list[AnyRow]]:
        """Audit events of records, keyed by (record type, record id); administrative events
        (no category) and reads (`….read`, resolvers.context.Audit.read) are not part of a
        record's history: it shows changes, the audit log shows who read what."""
        statement = (
            select(AuditEvent, User.display_name)
            .outerjoin(User, User.id == AuditEvent.user_id)
            .where(
                AuditEvent.record_type.in_({record_type for record_type, _ in keys}),
                AuditEvent.record_id.in_({record_id for _, record_id in keys}),
                AuditEvent.category.is_not(None),
                AuditEvent.action.not_like(f"%{READ_SUFFIX}"),
            )
            .order_by(AuditEvent.at, AuditEvent.id)
        )
        rows = await self.reader.rows(statement)
        return _grouped(keys, rows, lambda r: (r.AuditEvent.record_type, r.AuditEvent.record_id))

    async def _forms(self, family_ids: list[int]) -> list[list[Form]]:
        statement = select(Form).where(Form.family_id.in_(family_ids)).order_by(Form.received_on, Form.id)
        forms: list[Form] = [row[0] for row in await self.reader.rows(statement)]
        return _grouped(family_ids, forms, lambda f: f.family_id)

    def _codes_of(self, subject_type: str) -> Callable[[list[tuple[int, str]]], Coroutine[Any, Any, list[list[str]]]]:
        """Codes set on subjects, keyed by (subject id, list name)."""

        async def load(keys: list[tuple[int, str]]) -> list[list[str]]:
            statement = (
                select(SubjectCode.subject_id, SubjectCode.list_name, SubjectCode.code)
                .where(
                    SubjectCode.subject_type == subject_type,
                    SubjectCode.subject_id.in_({subject_id for subject_id, _ in keys}),
                    SubjectCode.list_name.in_({list_name for _, list_name in keys}),
                )
                .order_by(SubjectCode.code)
            )
            rows = await self.reader.rows(statement)
            return [[r.code for r in group] for group in _grouped(keys, rows, lambda r: (r.subject_id, r.list_name))]

        return load
