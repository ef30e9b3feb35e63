"""What every per-request loader is made of: a DataLoader typed as its batch function, the
setting joined into the rows naming one, and the batch function's answer, rows put back in the
order of the keys asked for."""

from asyncio import Future
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from operator import attrgetter, itemgetter
from typing import Any, Protocol, TypeAlias, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Row, Select

from models import Setting

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Key = TypeVar("Key", bound=Hashable, contravariant=True)
AnyRow = Row[Any]
# A value read already, or the loader's future of it: a resolver returning it makes no
# awaitable (a coroutine and a task per row in a list) for what the request has in hand.
Known: TypeAlias = V | Awaitable[V]


class Loader(Protocol[Key, V]):
    """An aiodataloader DataLoader, as typed as its batch function (the package has no types)."""

    def load(self, key: Key) -> "Future[V]": ...
    def load_many(self, keys: Iterable[Key]) -> Awaitable[list[V]]: ...
    def prime(self, key: Key, value: V) -> object: ...


# Many-to-one settings are joined into the statement of the rows that name them (families,
# affiliations, notes, search matches) and primed into the setting loader, so `setting { … }`
# costs no statement of its own.
SETTING_CODE, SETTING_NAME = "setting_code", "setting_name"


def with_setting(statement: Select[Any], setting_id: Any) -> Select[Any]:
    """`statement` with the code and name of the setting `setting_id` names."""
    return statement.add_columns(Setting.code.label(SETTING_CODE), Setting.name.label(SETTING_NAME)).join(
        Setting, Setting.id == setting_id
    )


def loader(batch: Callable[[list[K]], Coroutine[Any, Any, list[V]]]) -> Loader[K, V]:
    made: Loader[K, V] = DataLoader(batch_load_fn=batch)
    return made


def grouped(keys: Sequence[K], rows: Iterable[V], key_of: Callable[[V], Hashable]) -> list[list[V]]:
    """For each key, the rows whose key it is (none: an empty list)."""
    groups: dict[Hashable, list[V]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    return [groups.get(key, []) for key in keys]


def by_key(keys: Sequence[K], rows: Iterable[V], key_of: Callable[[V], K]) -> list[V | None]:
    """For each key, the row whose key it is, or None."""
    found = {key_of(row): row for row in rows}
    return [found.get(key) for key in keys]


def column(rows: Sequence[Any], name: str) -> Callable[[Any], Any]:
    """A reader of one column of rows of one statement, by position (a Row's attribute costs
    ~0.5 µs); of anything else (ORM objects), by attribute."""
    return itemgetter(rows[0]._fields.index(name)) if rows and isinstance(rows[0], Row) else attrgetter(name)


class Prefixed:
    """A row's columns named `prefix` + name, as attributes named name: the rows of a relation
    read joined into another's (a family's affiliations), for the builders of its own rows."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: AnyRow, prefix: str) -> None:
        self._row = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


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
