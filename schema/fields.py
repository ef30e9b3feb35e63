"""How a field declares its data category, next to the field itself, and how a type declares
how it is guarded:

    @record                    every field declares a category (or INHERITED)
    class Child:
        first_name: str | None = field(Category.PRIMARY)

    @public                    holds no family data: whoever reaches it may read all of it
    @root_checked              returned whole by root fields whose resolvers check the right

The guard installed by schema.build_schema reads these declarations; an object type without one,
a record field without a category or a deniable field that is not nullable stops the schema from
building (fail closed). `@record` also enters its fields' categories in authz.fields, the table
resolvers read (audit categories, write checks), so a category is written only here.
"""

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

import strawberry
from strawberry.types.field import StrawberryField

from authz.categories import INHERITED, Category, FieldCategory
from authz.fields import declare
from authz.guard import TypeKind

CATEGORY = "estart.category"
GUARD = "__estart_guard__"  # the TypeKind of a decorated class (its own, never inherited)

T = TypeVar("T", bound=type[Any])

__all__ = ["CATEGORY", "INHERITED", "Category", "field", "public", "record", "root_checked"]


def field(category: FieldCategory, resolver: Any = None, **kwargs: Any) -> Any:
    """A strawberry field carrying its data category; usable as a decorator too."""
    metadata = {**kwargs.pop("metadata", {}), CATEGORY: category}
    if resolver is not None:
        return strawberry.field(resolver, metadata=metadata, **kwargs)
    return strawberry.field(metadata=metadata, **kwargs)


def guarded(category: FieldCategory, **kwargs: Any) -> Any:
    """Decorator form for resolver methods: @guarded(Category.SECONDARY)."""

    def wrap(resolver: Any) -> Any:
        return field(category, resolver, **kwargs)

    return wrap


def kind_of(cls: type[Any]) -> TypeKind | None:
    kind = vars(cls).get(GUARD)
    return kind if isinstance(kind, TypeKind) else None


def _mark(cls: T, kind: TypeKind, **kwargs: Any) -> T:
    decorated = strawberry.type(cls, **kwargs)
    setattr(decorated, GUARD, kind)
    return decorated


def record(cls: T) -> T:
    """A record type: every field must declare a category."""
    decorated = _mark(cls, TypeKind.RECORD)
    definition = decorated.__strawberry_definition__
    declare(
        definition.name,
        ((f.python_name, f.metadata[CATEGORY]) for f in definition.fields if CATEGORY in (f.metadata or {})),
    )
    return decorated


_TRANSFORM = {"order_default": False, "kw_only_default": True, "field_specifiers": (strawberry.field, StrawberryField)}


@overload
@dataclass_transform(**_TRANSFORM)
def public(cls: T) -> T: ...
@overload
def public(*, description: str | None = None) -> Callable[[T], T]: ...
def public(cls: T | None = None, *, description: str | None = None) -> Any:
    """A type holding no family data (reference data, pagination, the caller's own session or
    rights): any caller who reaches it may read all of it, so its fields have no guard."""
    if cls is None:
        return lambda c: _mark(c, TypeKind.PUBLIC, description=description)
    return _mark(cls, TypeKind.PUBLIC)


@overload
@dataclass_transform(**_TRANSFORM)
def root_checked(cls: T) -> T: ...
@overload
def root_checked(*, description: str | None = None) -> Callable[[T], T]: ...
def root_checked(cls: T | None = None, *, description: str | None = None) -> Any:
    """A type returned whole by root fields whose resolvers check the caller's right before
    they return it (administration: USER_ADMIN; reports: REPORTING). No record field may
    return it: whoever may read the record would read it unchecked."""
    if cls is None:
        return lambda c: _mark(c, TypeKind.ROOT_CHECKED, description=description)
    return _mark(cls, TypeKind.ROOT_CHECKED)
