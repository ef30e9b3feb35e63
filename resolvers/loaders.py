"""Per-request data loaders: one SQL statement per relation per query level, never per row."""

from collections import defaultdict
from collections.abc import Callable, Coroutine, Hashable, Iterable, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Row, select

from models import Affiliation, Carer, CarerChild, Child, ChildProtectionPlan, Family, Note, Setting, User
from resolvers.reader import Reader

K = TypeVar("K", bound=Hashable)
AnyRow = Row[Any]


def _grouped(keys: Sequence[K], rows: Iterable[AnyRow], key_of: Callable[[AnyRow], K]) -> list[list[AnyRow]]:
    groups: dict[K, list[AnyRow]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    return [groups.get(key, []) for key in keys]


def _by_key(keys: Sequence[K], rows: Iterable[AnyRow], key_of: Callable[[AnyRow], K]) -> list[AnyRow | None]:
    found = {key_of(row): row for row in rows}
    return [found.get(key) for key in keys]


def _loader(batch: Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]) -> DataLoader[Any, Any]:
    return DataLoader(batch_load_fn=batch)


class Loaders:
    """Built fresh for every request, so nothing read is ever reused across requests."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.setting = _loader(self._settings)
        self.family = _loader(self._families)
        self.affiliations = _loader(self._affiliations)
        self.carers = _loader(self._people_of(Carer))
        self.children = _loader(self._people_of(Child))
        self.relationships = _loader(self._relationships)
        self.open_cp_plan = _loader(self._open_cp_plans)
        self.notes = {kind: _loader(self._notes_of(kind)) for kind in ("family", "carer", "child")}

    async def _settings(self, ids: list[int]) -> list[AnyRow | None]:
        rows = await self.reader.rows(select(Setting.id, Setting.code, Setting.name).where(Setting.id.in_(ids)))
        return _by_key(ids, rows, lambda r: r.id)

    async def _families(self, ids: list[int]) -> list[AnyRow | None]:
        rows = await self.reader.rows(select(Family).where(Family.id.in_(ids)))
        return _by_key(ids, (r[0] for r in rows), lambda f: f.id)

    async def _affiliations(self, family_ids: list[int]) -> list[list[AnyRow]]:
        statement = select(Affiliation).where(Affiliation.family_id.in_(family_ids)).order_by(Affiliation.id)
        rows = await self.reader.rows(statement)
        return _grouped(family_ids, (r[0] for r in rows), lambda a: a.family_id)

    def _people_of(
        self, model: type[Carer] | type[Child]
    ) -> Callable[[list[int]], Coroutine[Any, Any, list[list[AnyRow]]]]:
        async def load(family_ids: list[int]) -> list[list[AnyRow]]:
            statement = select(model).where(model.family_id.in_(family_ids)).order_by(model.id)
            rows = await self.reader.rows(statement)
            return _grouped(family_ids, (r[0] for r in rows), lambda p: p.family_id)

        return load

    async def _relationships(self, carer_ids: list[int]) -> list[list[AnyRow]]:
        statement = (
            select(CarerChild.carer_id, CarerChild.relationship, Child)
            .join(Child, Child.id == CarerChild.child_id)
            .where(CarerChild.carer_id.in_(carer_ids))
            .order_by(CarerChild.id)
        )
        return _grouped(carer_ids, await self.reader.rows(statement), lambda r: r.carer_id)

    async def _open_cp_plans(self, child_ids: list[int]) -> list[AnyRow | None]:
        statement = select(ChildProtectionPlan).where(
            ChildProtectionPlan.child_id.in_(child_ids), ChildProtectionPlan.end_date.is_(None)
        )
        rows = await self.reader.rows(statement)
        return _by_key(child_ids, (r[0] for r in rows), lambda p: p.child_id)

    def _notes_of(
        self, subject_type: str
    ) -> Callable[[list[tuple[int, str]]], Coroutine[Any, Any, list[list[AnyRow]]]]:
        async def load(keys: list[tuple[int, str]]) -> list[list[AnyRow]]:
            statement = (
                select(Note, User.display_name.label("author_name"))
                .join(User, User.id == Note.author_id)
                .where(
                    Note.subject_type == subject_type,
                    Note.subject_id.in_({subject_id for subject_id, _ in keys}),
                    Note.kind.in_({kind for _, kind in keys}),
                )
                .order_by(Note.created_at, Note.id)
            )
            rows = await self.reader.rows(statement)
            return _grouped(keys, rows, lambda r: (r.Note.subject_id, r.Note.kind))

        return load
