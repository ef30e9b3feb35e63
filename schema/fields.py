"""How a field declares its data category, next to the field itself, and how a type declares
how it is guarded:

    @record                    every field declares a category (or INHERITED)
    class Child:
        first_name: str | None = field(Category.PRIMARY)

    @public                    holds no family data: whoever reaches it may read all of it
    @root_checked              returned whole by root fields whose resolvers check the right

Resolvers return records (resolvers/records.py and the like), not these types: a resolver
method is annotated with the record it returns and names its GraphQL type with `graphql_type`,
which Strawberry prefers to the annotation:

    @guarded(Category.PRIMARY, graphql_type=list[Carer])
    def carers(self, root: FamilyRoot) -> list[PersonRecord]: ...

`resolved` and `mutation` are `@strawberry.field(...)` and `@strawberry.mutation(...)` for
resolvers, typed (Strawberry types the decorator with arguments as Any: strawberry#1929).

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
# A resolver's field whose answer the record may hold already (a page's preloaded relation):
# `preloaded="carers"` says the resolver returns `root.carers` when that is not None, so the
# compiled executor (schema/compiled.py) reads it without calling the resolver or making its Info.
PRELOADED = "estart.preloaded"
GUARD = "__estart_guard__"  # the TypeKind of a decorated class (its own, never inherited)

T = TypeVar("T", bound=type[Any])
Resolver = Callable[..., Any]
ResolverDecorator = Callable[[Resolver], StrawberryField]

__all__ = [
    "CATEGORY",
    "INHERITED",
    "PRELOADED",
    "Category",
    "field",
    "guarded",
    "mutation",
    "public",
    "record",
    "resolved",
    "root_checked",
]


def field(category: FieldCategory, **kwargs: Any) -> Any:
    """A strawberry field carrying its data category (for a resolver method: `guarded`)."""
    return strawberry.field(**_tagged(category, kwargs))


def guarded(category: FieldCategory, preloaded: str | None = None, **kwargs: Any) -> ResolverDecorator:
    """A resolver method's field carrying its data category: @guarded(Category.SECONDARY);
    `preloaded`: the record's attribute the resolver answers with when it is not None (PRELOADED)."""
    if preloaded is not None:
        kwargs = {**kwargs, "metadata": {**kwargs.get("metadata", {}), PRELOADED: preloaded}}
    return resolved(**_tagged(category, kwargs))


def _tagged(category: FieldCategory, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {**kwargs, "metadata": {**kwargs.get("metadata", {}), CATEGORY: category}}


def resolved(**kwargs: Any) -> ResolverDecorator:
    """`@strawberry.field(...)` for a resolver method (description, graphql_type, …)."""

    def wrap(resolver: Resolver) -> StrawberryField:
        return strawberry.field(resolver, **kwargs)

    return wrap


def mutation(**kwargs: Any) -> ResolverDecorator:
    """`@strawberry.mutation(...)` for a resolver method (description, graphql_type, …)."""

    def wrap(resolver: Resolver) -> StrawberryField:
        return strawberry.mutation(resolver, **kwargs)

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


@overload
@dataclass_transform(order_default=False, kw_only_default=True, field_specifiers=(strawberry.field, StrawberryField))
def public(cls: T) -> T: ...
@overload
def public(*, name: str | None = None, description: str | None = None) -> Callable[[T], T]: ...
def public(cls: T | None = None, *, name: str | None = None, description: str | None = None) -> Any:
    """A type holding no family data (reference data, pagination, the caller's own session or
    rights): any caller who reaches it may read all of it, so its fields have no guard."""
    if cls is None:
        return lambda c: _mark(c, TypeKind.PUBLIC, name=name, description=description)
    return _mark(cls, TypeKind.PUBLIC)


@overload
@dataclass_transform(order_default=False, kw_only_default=True, field_specifiers=(strawberry.field, StrawberryField))
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
