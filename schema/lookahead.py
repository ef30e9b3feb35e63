"""Look-ahead: which fields a query asks for below the current one, so a resolver can read a
page's relations in one go. Fragments and inline fragments count; a field skipped by a
directive may be read needlessly, never missed.

Read from graphql-core's syntax tree of the (cached) document: Strawberry's `selected_fields`
converts the whole selection below the field, arguments and directives included, on every
request (~5% of a one-family request's CPU), where two levels of names are all that is needed."""

from collections.abc import Collection, Iterable, Iterator

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode, SelectionSetNode
from strawberry.types import Info


def _fields(
    selection_sets: Iterable[SelectionSetNode | None], fragments: dict[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    for selection_set in selection_sets:
        for selection in selection_set.selections if selection_set is not None else ():
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from _fields((selection.selection_set,), fragments)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value in fragments:
                yield from _fields((fragments[selection.name.value].selection_set,), fragments)


def _children(info: Info) -> tuple[list[FieldNode], dict[str, FragmentDefinitionNode]]:
    raw = info._raw_info
    return list(_fields((node.selection_set for node in raw.field_nodes), raw.fragments)), raw.fragments


def requested_below(info: Info, name: str, relations: Collection[str]) -> frozenset[str]:
    """Names of the fields selected under `name` in the current field's selection, and for each
    of `relations` among them the fields selected under it, as "relation.field" (carers.notes)."""
    children, fragments = _children(info)
    under = list(_fields((child.selection_set for child in children if child.name.value == name), fragments))
    return _with_nested(under, fragments, relations)


def requested_with(info: Info, relations: Collection[str]) -> frozenset[str]:
    """Names of the fields selected in the current field's selection, and for each of
    `relations` among them the fields selected under it, as "relation.field" (carers.notes)."""
    return _with_nested(*_children(info), relations)


def _with_nested(
    fields: list[FieldNode], fragments: dict[str, FragmentDefinitionNode], relations: Collection[str]
) -> frozenset[str]:
    nested = (
        f"{middle.name.value}.{inner.name.value}"
        for middle in fields
        if middle.name.value in relations
        for inner in _fields((middle.selection_set,), fragments)
    )
    return frozenset(field.name.value for field in fields) | frozenset(nested)
