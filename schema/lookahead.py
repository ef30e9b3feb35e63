"""Look-ahead: which fields a query asks for below the current one, so a resolver can read a
page's relations in one go. Fragments and inline fragments count; a field skipped by a
directive may be read needlessly, never missed."""

from collections.abc import Collection, Iterable, Iterator

from strawberry.types import Info
from strawberry.types.nodes import SelectedField, Selection


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields(selection.selections)


def requested_under(info: Info, name: str) -> frozenset[str]:
    """Names of the fields selected under `name` in the current field's selection."""
    return frozenset(
        inner.name
        for current in _fields(info.selected_fields)
        for child in _fields(current.selections)
        if child.name == name
        for inner in _fields(child.selections)
    )


def requested_below(info: Info, name: str, relations: Collection[str]) -> frozenset[str]:
    """requested_under(info, name), and for each of `relations` among them the fields selected
    under it, as "relation.field" (carers.notes)."""
    own = requested_under(info, name)
    nested = (
        f"{middle.name}.{inner.name}"
        for current in _fields(info.selected_fields)
        for child in _fields(current.selections)
        if child.name == name
        for middle in _fields(child.selections)
        if middle.name in relations
        for inner in _fields(middle.selections)
    )
    return own | frozenset(nested)


def requested(info: Info) -> frozenset[str]:
    """Names of the fields selected in the current field's selection."""
    return frozenset(child.name for current in _fields(info.selected_fields) for child in _fields(current.selections))
