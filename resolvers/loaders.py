"""Per-request data loaders: one SQL statement per relation per query level, never per row."""

from asyncio import Future
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from functools import cached_property, partial
from operator import attrgetter, itemgetter
from typing import Any, Protocol, TypeAlias, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import BindParameter, Row, Select, bindparam, select

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
from resolvers.among import among_ids
from resolvers.reader import Reader
from resolvers.records import AffiliationRecord, PlanRecord, SettingRecord, affiliation_record, plan_record

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Key = TypeVar("Key", bound=Hashable, contravariant=True)
AnyRow = Row[Any]
# A value read already, or the loader's future of it: a resolver returning it makes no
# awaitable (a coroutine and a task per row in a list) for what the request has in hand.
Known: TypeAlias = V | Awaitable[V]

# Many-to-one settings are joined into the statement of the rows that name them (families,
# affiliations, notes, search matches) and primed into the setting loader, so `setting { … }`
# costs no statement of its own.
SETTING_CODE, SETTING_NAME = "setting_code", "setting_name"


def with_setting(statement: Select[Any], setting_id: Any) -> Select[Any]:
    """`statement` with the code and name of the setting `setting_id` names."""
    return statement.add_columns(Setting.code.label(SETTING_CODE), Setting.name.label(SETTING_NAME)).join(
        Setting, Setting.id == setting_id
    )


# The hot reads are built once, here, with their keys as bound parameters: a statement object
# built per request costs its construction and its cache key (~0.5 ms each) on every request;
# one built once keeps its cache key, so a request only binds the keys.
KINDS: BindParameter[list[str]] = bindparam("kinds", expanding=True)
SETTINGS_BY_ID = select(Setting.id, Setting.code, Setting.name).where(among_ids(Setting.id))
FAMILIES_BY_ID = with_setting(select(Family.__table__), Family.registered_setting_id).where(among_ids(Family.id))
AFFILIATIONS_OF_FAMILIES = (
    with_setting(select(Affiliation.__table__), Affiliation.setting_id)
    .where(among_ids(Affiliation.family_id))
    .order_by(Affiliation.id)
)
# a person who left is no longer among the family's people
PEOPLE_OF_FAMILIES = {
    model: select(model.__table__).where(among_ids(model.family_id), model.left_on.is_(None)).order_by(model.id)
    for model in (Carer, Child)
}
RELATIONSHIPS_OF_CARERS = (
    select(CarerChild.carer_id, CarerChild.relationship, *Child.__table__.c)
    .join(Child, Child.id == CarerChild.child_id)
    .where(among_ids(CarerChild.carer_id), Child.left_on.is_(None))
    .order_by(CarerChild.id)
)
OPEN_CP_PLANS_OF_CHILDREN = select(ChildProtectionPlan.__table__).where(
    among_ids(ChildProtectionPlan.child_id), ChildProtectionPlan.end_date.is_(None)
)
FORMS_OF_FAMILIES = select(Form.__table__).where(among_ids(Form.family_id)).order_by(Form.received_on, Form.id)
NOTES_OF_SUBJECTS = (
    with_setting(select(Note.__table__, User.display_name.label("author_name")), Note.setting_id)
    .join(User, User.id == Note.author_id)
    .where(Note.subject_type.in_(bindparam("types", expanding=True)), among_ids(Note.subject_id), Note.kind.in_(KINDS))
    .order_by(Note.created_at, Note.id)
)


def _grouped(keys: Sequence[K], rows: Iterable[V], key_of: Callable[[V], Hashable]) -> list[list[V]]:
    groups: dict[Hashable, list[V]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    return [groups.get(key, []) for key in keys]


def _by_key(keys: Sequence[K], rows: Iterable[V], key_of: Callable[[V], K]) -> list[V | None]:
    found = {key_of(row): row for row in rows}
    return [found.get(key) for key in keys]


def column(rows: Sequence[AnyRow], name: str) -> Callable[[AnyRow], Any]:
    """A reader of one column of rows of one statement, by position (a Row's attribute costs ~0.5 µs)."""
    return itemgetter(rows[0]._fields.index(name)) if rows else attrgetter(name)


class Loader(Protocol[Key, V]):
    """An aiodataloader DataLoader, as typed as its batch function (the package has no types)."""

    def load(self, key: Key) -> "Future[V]": ...
    def load_many(self, keys: Iterable[Key]) -> Awaitable[list[V]]: ...
    def prime(self, key: Key, value: V) -> object: ...


def known(future: "Future[V]") -> Known[V]:
    """The future's value when it has one, else the future, awaited by graphql-core."""
    if future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    return future


async def loaded(futures: "list[Future[V]]") -> list[V]:
    """The values of a loader's futures: what DataLoader.load_many gathers (a callback and a
    wake-up per future), awaiting only the ones not resolved yet, which one batch resolves."""
    for future in futures:
        if not future.done():
            await future
    return [future.result() for future in futures]


def _loader(batch: Callable[[list[K]], Coroutine[Any, Any, list[V]]]) -> Loader[K, V]:
    loader: Loader[K, V] = DataLoader(batch_load_fn=batch)
    return loader


class Loaders:
    """Built fresh for every request, so nothing read is ever reused across requests."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        # carers and children read past their loaders (a page's: resolvers.family.preload), by
        # family: the loaders answer from them, so a later `family(id)` of the request reads no more
        self.people_read: dict[type, dict[int, list[AnyRow]]] = {Carer: {}, Child: {}}

    # Each loader is made when a request first needs it: most requests need few of them.
    @cached_property
    def setting(self) -> Loader[int, SettingRecord | None]:
        return _loader(self._settings)

    @cached_property
    def family(self) -> Loader[int, AnyRow | None]:
        return _loader(self._families)

    @cached_property
    def affiliations(self) -> Loader[int, list[AffiliationRecord]]:
        return _loader(self._affiliations)

    @cached_property
    def carers(self) -> Loader[int, list[AnyRow]]:
        return _loader(partial(self._people, Carer))

    @cached_property
    def children(self) -> Loader[int, list[AnyRow]]:
        return _loader(partial(self._people, Child))

    @cached_property
    def relationships(self) -> Loader[int, list[AnyRow]]:
        return _loader(self._relationships)

    @cached_property
    def open_cp_plan(self) -> Loader[int, PlanRecord | None]:
        return _loader(self._open_cp_plans)

    @cached_property
    def all_cp_plans(self) -> Loader[int, list[PlanRecord]]:
        return _loader(self._all_cp_plans)

    @cached_property
    def history(self) -> Loader[tuple[str, int], list[AnyRow]]:
        return _loader(self._history)

    @cached_property
    def forms(self) -> Loader[int, list[AnyRow]]:
        return _loader(self._forms)

    @cached_property
    def codes(self) -> dict[str, Loader[tuple[int, str], list[str]]]:
        return {kind: _loader(self._codes_of(kind)) for kind in ("family", "carer", "child")}

    @cached_property
    def notes(self) -> Loader[tuple[str, int, str], list[AnyRow]]:
        return _loader(self._notes)

    @cached_property
    def activities(self) -> ActivityLoaders:
        return ActivityLoaders(self.reader)

    def setting_of(self, setting_id: int) -> Known[SettingRecord | None]:
        """The setting, at once when this request read it already (the rows naming it prime
        it: families, affiliations, notes), else the loader's future of it."""
        return known(self.setting.load(setting_id))

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
        affiliations = await loaded([self.affiliations.load(family.id) for family in families])
        return [
            (access_of(grants, family.registered_setting_id, affs), affs)
            for family, affs in zip(families, affiliations, strict=True)
        ]

    async def _settings(self, ids: list[int]) -> list[SettingRecord | None]:
        rows = await self.reader.table_rows(SETTINGS_BY_ID, {"ids": ids})
        return _by_key(ids, (SettingRecord(r.id, r.code, r.name) for r in rows), lambda r: r.id)

    async def _families(self, ids: list[int]) -> list[AnyRow | None]:
        rows = await self.reader.table_rows(FAMILIES_BY_ID, {"ids": ids})
        self.prime_settings(rows, "registered_setting_id")
        return _by_key(ids, rows, lambda f: f.id)

    async def _affiliations(self, family_ids: list[int]) -> list[list[AffiliationRecord]]:
        rows = await self.reader.table_rows(AFFILIATIONS_OF_FAMILIES, {"ids": family_ids})
        self.prime_settings(rows, "setting_id")
        return _grouped(family_ids, map(affiliation_record, rows), lambda a: a.family_id)

    async def read_people(self, model: type[Carer] | type[Child], family_ids: list[int]) -> list[list[AnyRow]]:
        """The carers or children of each family, in one statement, past the loader's cache
        (kept in `people_read` for it)."""
        rows = await self.reader.table_rows(PEOPLE_OF_FAMILIES[model], {"ids": family_ids})
        groups = _grouped(family_ids, rows, column(rows, "family_id"))
        self.people_read[model].update(zip(family_ids, groups, strict=True))
        return groups

    async def _people(self, model: type[Carer] | type[Child], family_ids: list[int]) -> list[list[AnyRow]]:
        """The loader's batch: the people read already, else read now."""
        known = self.people_read[model]
        missing = [family_id for family_id in family_ids if family_id not in known]
        if missing:
            await self.read_people(model, missing)
        return [known[family_id] for family_id in family_ids]

    async def _relationships(self, carer_ids: list[int]) -> list[list[AnyRow]]:
        rows = await self.reader.table_rows(RELATIONSHIPS_OF_CARERS, {"ids": carer_ids})
        return _grouped(carer_ids, rows, lambda r: r.carer_id)

    async def _open_cp_plans(self, child_ids: list[int]) -> list[PlanRecord | None]:
        rows = await self.reader.table_rows(OPEN_CP_PLANS_OF_CHILDREN, {"ids": child_ids})
        return _by_key(child_ids, map(plan_record, rows), lambda p: p.child_id)

    async def _notes(self, keys: list[tuple[str, int, str]]) -> list[list[AnyRow]]:
        """Notes of subjects of every type, keyed by (subject type, subject id, kind): the
        carers' and the children's of one query level in one statement."""
        params = {
            "types": sorted({subject_type for subject_type, _, _ in keys}),
            "ids": sorted({subject_id for _, subject_id, _ in keys}),
            "kinds": sorted({kind for _, _, kind in keys}),
        }
        rows = await self.reader.table_rows(NOTES_OF_SUBJECTS, params)
        self.prime_settings(rows, "setting_id")
        return _grouped(keys, rows, lambda r: (r.subject_type, r.subject_id, r.kind))

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

    async def _forms(self, family_ids: list[int]) -> list[list[AnyRow]]:
        rows = await self.reader.table_rows(FORMS_OF_FAMILIES, {"ids": family_ids})
        return _grouped(family_ids, rows, lambda f: f.family_id)

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
