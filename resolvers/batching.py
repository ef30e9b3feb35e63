"""What every per-request loader is made of: a DataLoader typed as its batch function, and the
batch function's answer, rows put back in the order of the keys asked for."""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from typing import Any, Protocol, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Row

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Key = TypeVar("Key", bound=Hashable, contravariant=True)
AnyRow = Row[Any]


class Loader(Protocol[Key, V]):
    """An aiodataloader DataLoader, as typed as its batch function (the package has no types)."""

    def load(self, key: Key) -> Awaitable[V]: ...
    def load_many(self, keys: Iterable[Key]) -> Awaitable[list[V]]: ...
    def prime(self, key: Key, value: V) -> object: ...


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
