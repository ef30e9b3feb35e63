"""Per-request data loaders: one SQL statement per relation per query level, never per row; and
the household of families (resolvers/household.py), one statement for all their relations a
query asks for, primed into the loaders."""

from collections.abc import Callable, Collection, Coroutine, Sequence
from functools import cached_property, partial
from typing import Any

from sqlalchemy import select

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
from models.keys import in_keys
from resolvers.activity_loaders import ActivityLoaders
from resolvers.batching import (
    SETTING_CODE,
    SETTING_NAME,
    AnyRow,
    Known,
    Loader,
    Prefixed,
    by_key,
    column,
    grouped,
    known,
    loader,
    with_setting,
)
from resolvers.household import (
    AFFILIATION,
    AFFILIATION_PREFIX,
    CARER,
    CHILD,
    FAMILY,
    NOTE,
    PLAN,
    PLAN_PREFIX,
    RELATIONSHIP,
    household,
    parts_of,
)
from resolvers.reader import Reader
from resolvers.records import (
    AffiliationRecord,
    PlanRecord,
    SettingRecord,
    affiliation_record,
    plan_record,
)

# The hot reads are built once, here, with their keys as bound parameters: a statement object
# built per request costs its construction and its cache key (~0.5 ms each) on every request;
# one built once keeps its cache key, so a request only binds the keys. The keys are one array
# on PostgreSQL (models/keys.py): the statement's text does not change with their number.
SETTINGS_BY_ID = select(Setting.id, Setting.code, Setting.name).where(in_keys(Setting.id, "ids"))
AFFILIATIONS_OF_FAMILIES = (
    with_setting(select(Affiliation.__table__), Affiliation.setting_id)
    .where(in_keys(Affiliation.family_id, "ids"))
    .order_by(Affiliation.id)
)
RELATIONSHIPS_OF_CARERS = (
    select(CarerChild.carer_id, CarerChild.relationship, *Child.__table__.c)
    .join(Child, Child.id == CarerChild.child_id)
    .where(in_keys(CarerChild.carer_id, "ids"), Child.left_on.is_(None))
    .order_by(CarerChild.id)
)
OPEN_CP_PLANS_OF_CHILDREN = select(ChildProtectionPlan.__table__).where(
    in_keys(ChildProtectionPlan.child_id, "ids"), ChildProtectionPlan.end_date.is_(None)
)
FORMS_OF_FAMILIES = select(Form.__table__).where(in_keys(Form.family_id, "ids")).order_by(Form.received_on, Form.id)
NOTES_OF_SUBJECTS = (
    with_setting(select(Note.__table__, User.display_name.label("author_name")), Note.setting_id)
    .join(User, User.id == Note.author_id)
    .where(in_keys(Note.subject_type, "types"), in_keys(Note.subject_id, "ids"), in_keys(Note.kind, "kinds"))
    .order_by(Note.created_at, Note.id)
)


class Loaders:
    """Built fresh for every request, so nothing read is ever reused across requests."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        # carers and children read past their loaders (a page's: resolvers.family.preload), by
        # family: the loaders answer from them, so a later `family(id)` of the request reads no more
        self.people_read: dict[type, dict[int, list[AnyRow]]] = {Carer: {}, Child: {}}
        # families' affiliations read (by their loader, family_access or with a household), by family
        self.affiliations_read: dict[int, list[AffiliationRecord]] = {}

    # Each loader is made when a request first needs it: most requests need few of them.
    @cached_property
    def setting(self) -> Loader[int, SettingRecord | None]:
        return loader(self._settings)

    @cached_property
    def affiliations(self) -> Loader[int, list[AffiliationRecord]]:
        return loader(self._affiliations)

    @cached_property
    def carers(self) -> Loader[int, list[AnyRow]]:
        return loader(partial(self._people, Carer))

    @cached_property
    def children(self) -> Loader[int, list[AnyRow]]:
        return loader(partial(self._people, Child))

    @cached_property
    def relationships(self) -> Loader[int, list[AnyRow]]:
        return loader(self._relationships)

    @cached_property
    def open_cp_plan(self) -> Loader[int, PlanRecord | None]:
        return loader(self._open_cp_plans)

    @cached_property
    def all_cp_plans(self) -> Loader[int, list[PlanRecord]]:
        return loader(self._all_cp_plans)

    @cached_property
    def history(self) -> Loader[tuple[str, int], list[AnyRow]]:
        return loader(self._history)

    @cached_property
    def forms(self) -> Loader[int, list[AnyRow]]:
        return loader(self._forms)

    @cached_property
    def codes(self) -> dict[str, Loader[tuple[int, str], list[str]]]:
        return {kind: loader(self._codes_of(kind)) for kind in ("family", "carer", "child")}

    @cached_property
    def notes(self) -> Loader[tuple[str, int, str], list[AnyRow]]:
        return loader(self._notes)

    @cached_property
    def activities(self) -> ActivityLoaders:
        return ActivityLoaders(self.reader)

    def setting_of(self, setting_id: int) -> Known[SettingRecord | None]:
        """The setting, at once when this request read it already (the rows naming it prime
        it: families, affiliations, notes), else the loader's future of it."""
        return known(self.setting.load(setting_id))

    def prime_settings(self, rows: Sequence[Any], attribute: str) -> None:
        """Seed the setting loader from rows read `with_setting` on their `attribute`."""
        seen: set[int] = set()
        for row, setting_id in zip(rows, map(column(rows, attribute), rows), strict=True):
            if setting_id not in seen:
                seen.add(setting_id)
                self.setting.prime(
                    setting_id, SettingRecord(setting_id, getattr(row, SETTING_CODE), getattr(row, SETTING_NAME))
                )

    async def family_access(
        self, grants: Grants, families: Sequence[Any]
    ) -> list[tuple[Access, list[AffiliationRecord]]]:
        """The caller's access to each family (rows with `id` and `registered_setting_id`) and
        the affiliations, revoked ones too, its scope was read from: one statement for those
        not read yet, by the loader's batch without the loader (a future per family, ~2 µs)."""
        affiliations = await self._affiliations(list(map(column(families, "id"), families)))
        settings = map(column(families, "registered_setting_id"), families)
        # most families have no affiliation: their scope is their setting, their access its own
        alone: dict[int, Access] = {}
        found = []
        for setting_id, affs in zip(settings, affiliations, strict=True):
            access = None if affs else alone.get(setting_id)
            if access is None:
                access = access_of(grants, setting_id, affs)
                if not affs:
                    alone[setting_id] = access
            found.append((access, affs))
        return found

    async def _settings(self, ids: list[int]) -> list[SettingRecord | None]:
        rows = await self.reader.rows(SETTINGS_BY_ID, {"ids": ids})
        return by_key(ids, (SettingRecord(r.id, r.code, r.name) for r in rows), lambda r: r.id)

    async def _affiliations(self, family_ids: list[int]) -> list[list[AffiliationRecord]]:
        """The loader's batch: the affiliations read already, else read now."""
        read = self.affiliations_read
        missing = [family_id for family_id in family_ids if family_id not in read]
        if missing:
            rows = await self.reader.rows(AFFILIATIONS_OF_FAMILIES, {"ids": missing})
            self.prime_settings(rows, "setting_id")
            groups = grouped(missing, map(affiliation_record, rows), lambda a: a.family_id)
            read.update(zip(missing, groups, strict=True))
        return [read[family_id] for family_id in family_ids]

    async def read_household(
        self, parts: frozenset[str], family_ids: list[int], notes: Collection[tuple[str, str]] = ()
    ) -> dict[type, list[list[AnyRow]]]:
        """The `parts` of the families' households (resolvers/household.py), with the notes of
        `notes` (subject type, kind) when any, in one statement, past the loaders' caches, which
        they are kept in (`people_read`) or primed into: for Family, a group of the family (none
        if there is none) per id; for Carer and Child, a group of people per family."""
        params: dict[str, Any] = {"ids": family_ids}
        if notes:
            parts |= {NOTE}
            params |= {"types": sorted({t for t, _ in notes}), "kinds": sorted({kind for _, kind in notes})}
        rows = parts_of(await self.reader.rows(household(parts), params), parts)
        found: dict[type, list[list[AnyRow]]] = {}
        if FAMILY in parts:
            self.prime_settings(rows[FAMILY], "registered_setting_id")
            found[Family] = grouped(family_ids, rows[FAMILY], column(rows[FAMILY], "id"))
        if AFFILIATION in parts:
            self._prime_affiliations(family_ids, rows[AFFILIATION])
        for model in (Carer, Child):
            if model.__name__ in parts:
                people = rows[model.__name__]
                found[model] = grouped(family_ids, people, column(people, "family_id"))
                self.people_read[model].update(zip(family_ids, found[model], strict=True))
        if RELATIONSHIP in parts:
            self._prime_relationships(rows[CARER], rows[RELATIONSHIP])
        if PLAN in parts:
            self._prime_plans(rows[CHILD])
        if notes:
            subjects: dict[str, Sequence[Any]] = {
                "family": family_ids,
                "carer": rows.get(CARER, []),
                "child": rows.get(CHILD, []),
            }
            self._prime_notes(subjects, notes, rows[NOTE])
        return found

    def _prime_affiliations(self, family_ids: list[int], rows: Sequence[AnyRow]) -> None:
        """Every affiliation of the families, revoked ones too (their scope: authz.scope)."""
        affiliations = [Prefixed(row, AFFILIATION_PREFIX) for row in rows]
        self.prime_settings(affiliations, "setting_id")
        records = map(affiliation_record, affiliations)
        read = self.affiliations_read
        for family_id, group in zip(family_ids, grouped(family_ids, records, lambda a: a.family_id), strict=True):
            read.setdefault(family_id, group)  # as a loader primes: what was read first stays

    def _prime_plans(self, children: Sequence[AnyRow]) -> None:
        for child in children:
            plan = Prefixed(child, PLAN_PREFIX)
            self.open_cp_plan.prime(child.id, None if plan.id is None else plan_record(plan))

    def _prime_relationships(self, carers: Sequence[AnyRow], links: Sequence[AnyRow]) -> None:
        carer_ids = [carer.id for carer in carers]
        for carer_id, group in zip(carer_ids, grouped(carer_ids, links, column(links, "carer_id")), strict=True):
            self.relationships.prime(carer_id, group)

    def _prime_notes(
        self, subjects: dict[str, Sequence[Any]], notes: Collection[tuple[str, str]], rows: Sequence[AnyRow]
    ) -> None:
        """Prime the notes loader with every (subject type, id, kind) of `notes` for the
        `subjects` read (ids, or rows with an id), none or some."""
        keys = [
            (subject_type, subject if isinstance(subject, int) else subject.id, kind)
            for subject_type, kind in notes
            for subject in subjects[subject_type]
        ]
        self.prime_settings(rows, "setting_id")
        for key, group in zip(keys, grouped(keys, rows, lambda r: (r.subject_type, r.subject_id, r.kind)), strict=True):
            self.notes.prime(key, group)

    async def _people(self, model: type[Carer] | type[Child], family_ids: list[int]) -> list[list[AnyRow]]:
        """The loader's batch: the people read already, else read now."""
        known = self.people_read[model]
        missing = [family_id for family_id in family_ids if family_id not in known]
        if missing:
            await self.read_household(frozenset({model.__name__}), missing)
        return [known[family_id] for family_id in family_ids]

    async def _relationships(self, carer_ids: list[int]) -> list[list[AnyRow]]:
        rows = await self.reader.rows(RELATIONSHIPS_OF_CARERS, {"ids": carer_ids})
        return grouped(carer_ids, rows, lambda r: r.carer_id)

    async def _open_cp_plans(self, child_ids: list[int]) -> list[PlanRecord | None]:
        rows = await self.reader.rows(OPEN_CP_PLANS_OF_CHILDREN, {"ids": child_ids})
        return by_key(child_ids, map(plan_record, rows), lambda p: p.child_id)

    async def _notes(self, keys: list[tuple[str, int, str]]) -> list[list[AnyRow]]:
        """Notes of subjects of every type, keyed by (subject type, subject id, kind): the
        carers' and the children's of one query level in one statement."""
        params = {
            "types": sorted({subject_type for subject_type, _, _ in keys}),
            "ids": sorted({subject_id for _, subject_id, _ in keys}),
            "kinds": sorted({kind for _, _, kind in keys}),
        }
        rows = await self.reader.rows(NOTES_OF_SUBJECTS, params)
        self.prime_settings(rows, "setting_id")
        return grouped(keys, rows, lambda r: (r.subject_type, r.subject_id, r.kind))

    async def _all_cp_plans(self, child_ids: list[int]) -> list[list[PlanRecord]]:
        statement = (
            select(ChildProtectionPlan.__table__)
            .where(ChildProtectionPlan.child_id.in_(child_ids))
            .order_by(ChildProtectionPlan.start_date, ChildProtectionPlan.id)
        )
        return grouped(child_ids, map(plan_record, await self.reader.rows(statement)), lambda p: p.child_id)

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
        return grouped(keys, rows, lambda r: (r.AuditEvent.record_type, r.AuditEvent.record_id))

    async def _forms(self, family_ids: list[int]) -> list[list[AnyRow]]:
        rows = await self.reader.rows(FORMS_OF_FAMILIES, {"ids": family_ids})
        return grouped(family_ids, rows, lambda f: f.family_id)

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
            return [[r.code for r in group] for group in grouped(keys, rows, lambda r: (r.subject_id, r.list_name))]

        return load
