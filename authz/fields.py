"""The one table of field categories: (record type, python field name) -> the data category
declared beside the field in schema/ (`field(Category.X)`, schema/fields.py).

schema/ fills it as it declares each record type (`@record`); resolvers read it, so the audit
categories of a record's history and the write checks of a mutation follow the declaration
instead of restating it. Resolvers never import schema/: the table is the meeting point.
"""

from collections.abc import Iterable, Mapping

from authz.categories import Category, FieldCategory

_DECLARED: dict[tuple[str, str], FieldCategory] = {}


class UndeclaredFieldError(LookupError):
    """A resolver named a field that declares no category of its own."""


def declare(type_name: str, fields: Iterable[tuple[str, FieldCategory]]) -> None:
    """Record the categories the fields of record type `type_name` declare."""
    for field_name, category in fields:
        _DECLARED[(type_name, field_name)] = category


def category_of(type_name: str, field_name: str) -> Category:
    """The category `type_name.field_name` declares (python names: "Family", "general_note")."""
    category = _DECLARED.get((type_name, field_name))
    if not isinstance(category, Category):
        why = "it inherits its guard" if category is not None else "no record type declares it"
        raise UndeclaredFieldError(
            f"{type_name}.{field_name} declares no data category ({why}): name a field of a record type "
            f"that declares one with field(Category.X) (schema/fields.py)"
        )
    return category


def declared() -> Mapping[tuple[str, str], FieldCategory]:
    """The whole table, read-only (tests)."""
    return dict(_DECLARED)
