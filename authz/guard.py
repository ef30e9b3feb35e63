"""The field guard: installed once on the executable schema, it reads each field's declared
category and answers a denied field with null plus a recorded denial.

A denial does not raise: raising a GraphQLError per denied cell measured ~2,000 denials ≈ 1 s.
The guard appends (path, category) to the request's denial list, and the schema turns that
list into FORBIDDEN errors after execution. It returns a plain value, never an awaitable
(Strawberry GHSA-pfvf-fwfp-25mp: an awaitable permission result was counted as allowed).

Every object type says how it is guarded (TypeKind), checked when the schema is built. A type
whose fields inherit their guard (a note, an address) is reached only through a guarded record
field, or through a root field (a mutation returning a note), which passes the payload guard: the
resolver returns a Payload naming the category and the caller's access, and the payload guard
decides after awaiting it, so a mutation returns only what the caller may read.
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from inspect import isawaitable
from operator import attrgetter
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_non_null_type,
)

from authz.categories import INHERITED, SHARED_CATEGORIES, Category, FieldCategory
from authz.grants import Access
from errors import Withheld

Resolver = Callable[..., Any]
Info = Any  # graphql.GraphQLResolveInfo; its generic parameters vary across graphql-core releases
Path = list[str | int]


@dataclass(slots=True)
class Denials:
    """Denied fields of one request, turned into FORBIDDEN errors after execution."""

    entries: list[tuple[Path, Category]] = field(default_factory=list)

    def deny(self, info: Info, category: Category) -> None:
        self.entries.append((info.path.as_list(), category))

    def deny_at(self, path: Path, category: Category) -> None:
        self.entries.append((path, category))


def readable(source: Any) -> Collection[Category]:
    """The categories the caller reads on a record: its access (its memoized grants in the
    family's scope, authz.grants.Access)."""
    return source.access.read  # type: ignore[no-any-return]


def allows(category: Category, source: Any) -> bool:
    """The guard's decision on one field of one record: the record's access reads the field's
    category."""
    return category in readable(source)


@dataclass(frozen=True, slots=True)
class FieldGuard:
    """What a guarded field's resolver does, for an executor that applies the same decision
    itself (schema/compiled.py): when `allows(category, source)`, read `attribute` or, when
    the field has a resolver of its own, call `resolve`; else deny at the field's path."""

    category: Category
    attribute: str | None
    resolve: Resolver | None


FIELD_GUARD = "__estart_field_guard__"


def field_guard(resolve: Resolver | None) -> FieldGuard | None:
    """The guard a field's resolver applies, if it is one the guard installed."""
    guard = getattr(resolve, FIELD_GUARD, None)
    return guard if isinstance(guard, FieldGuard) else None


class SchemaGuardError(TypeError):
    """The schema does not say how one of its types or fields is guarded: it does not build."""


class MissingCategoryError(SchemaGuardError):
    pass


class UnguardedTypeError(SchemaGuardError):
    pass


class GuardedFieldRequiresOptionalError(SchemaGuardError):
    """Like Strawberry's PermissionFailSilentlyRequiresOptionalError: a field that can be denied
    answers null, so it must be nullable or a denial would null its parent."""


class TypeKind(StrEnum):
    """How an object type is guarded; every type of the schema but the roots declares one."""

    RECORD = "record"  # every field declares a category (or INHERITED); the guard decides each
    PUBLIC = "public"  # holds no family data: whoever reaches it may read all of it
    ROOT_CHECKED = "root_checked"  # returned whole by root fields whose resolvers check the right


@dataclass(frozen=True, slots=True)
class Payload:
    """What a root field returns when its type inherits its guard (a note, an affiliation, a
    plan, a form): the value, the category it belongs to and the caller's access to its family.
    The payload guard shows it only if that category is readable, as a guarded field would."""

    value: Any
    category: Category
    access: Access


def install_guards(
    schema: GraphQLSchema,
    describe: Callable[[GraphQLField], tuple[FieldCategory | None, str | None]],
    kind_of: Callable[[GraphQLObjectType], TypeKind | None],
) -> int:
    """Guard every field of every record type and every root field returning a type that
    inherits its guard; fail closed on any object type of the schema (all reachable from Query
    and Mutation, and any other it holds) or record field that does not say how it is guarded,
    and on a deniable field that is not nullable.

    `describe(field)` returns the field's declared category and, when the field has no
    resolver of its own, the attribute to read; `kind_of(type)` the type's TypeKind. Returns
    the number of guarded fields.
    """
    roots = {t.name for t in (schema.query_type, schema.mutation_type, schema.subscription_type) if t is not None}
    types = {
        name: gql_type
        for name, gql_type in schema.type_map.items()
        if isinstance(gql_type, GraphQLObjectType) and not name.startswith("__")
    }
    abstract = [n for n, t in schema.type_map.items() if isinstance(t, GraphQLInterfaceType | GraphQLUnionType)]
    if abstract:  # a field returning one would reach object types by a path the walk below cannot see
        raise UnguardedTypeError(f"{', '.join(abstract)}: interfaces and unions are not guarded yet")
    kinds: dict[str, TypeKind] = {}
    inherited: set[str] = set()  # record types with fields that inherit the guard of the field reaching them
    categories: dict[tuple[str, str], FieldCategory] = {}
    for type_name, gql_type in types.items():
        if type_name in roots:
            continue
        kind = kind_of(gql_type)
        if kind is None:
            raise UnguardedTypeError(
                f"{type_name} does not say how it is guarded: declare it with @record (a data category on "
                f"every field), @public (it holds no family data) or @root_checked (the root fields returning "
                f"it check the caller's right) (schema/fields.py)"
            )
        kinds[type_name] = kind
        if kind is TypeKind.RECORD:
            for field_name, gql_field in gql_type.fields.items():
                categories[type_name, field_name] = _category(type_name, field_name, gql_field, describe)
                if categories[type_name, field_name] is INHERITED:
                    inherited.add(type_name)
    edges = [
        (gql_type, field_name, gql_field, target)
        for gql_type in types.values()
        for field_name, gql_field in gql_type.fields.items()
        if isinstance(target := get_named_type(gql_field.type), GraphQLObjectType)
    ]
    for parent, field_name, _, target in edges:
        reached_by = "root" if parent.name in roots else kinds[parent.name]
        # A root-checked type was checked whole by the root field returning it: what it holds too.
        if target.name in inherited and reached_by not in ("root", TypeKind.RECORD, TypeKind.ROOT_CHECKED):
            raise UnguardedTypeError(
                f"{target.name} inherits its guard, but {parent.name}.{field_name} ({reached_by}) is not "
                f"guarded: reach it only through a record field with a category (schema/fields.py)"
            )
        if kinds.get(target.name) is TypeKind.ROOT_CHECKED and reached_by is TypeKind.RECORD:
            raise UnguardedTypeError(
                f"{target.name} is checked by the root fields returning it, but record field "
                f"{parent.name}.{field_name} returns it to anyone who may read the record: make it a @record"
            )
    guarded = 0
    for parent, _, gql_field, target in edges:
        if parent.name in roots and target.name in inherited:
            gql_field.resolve = _guard_payload(gql_field.resolve)
            guarded += 1
    for (type_name, field_name), category in categories.items():
        if category is INHERITED:
            continue
        assert isinstance(category, Category)
        gql_field = types[type_name].fields[field_name]
        gql_field.resolve = _guard(category, gql_field.resolve, describe(gql_field)[1])
        guarded += 1
    return guarded


def _category(
    type_name: str,
    field_name: str,
    gql_field: GraphQLField,
    describe: Callable[[GraphQLField], tuple[FieldCategory | None, str | None]],
) -> FieldCategory:
    category, _ = describe(gql_field)
    if category is None:
        raise MissingCategoryError(
            f"{type_name}.{field_name} has no data category: declare it where the field "
            f"is defined, with field(Category.X) or field(INHERITED) (schema/fields.py)"
        )
    if isinstance(category, Category) and category not in SHARED_CATEGORIES and is_non_null_type(gql_field.type):
        raise GuardedFieldRequiresOptionalError(
            f"{type_name}.{field_name} is guarded by {category.name}, so a caller denied it gets null, but its "
            f"type {gql_field.type} is not nullable: make it optional (`X | None`, on the attribute or the "
            f"resolver's return type) so a denial nulls only this field"
        )
    return category


def _guard_payload(resolve: Resolver | None) -> Resolver:
    assert resolve is not None

    async def guard_payload(source: Any, info: Info, **kwargs: Any) -> Any:
        payload = resolve(source, info, **kwargs)
        if isawaitable(payload):
            payload = await payload
        if not isinstance(payload, Payload):  # fail closed: the resolver did not say whose data it is
            raise TypeError(f"{info.parent_type.name}.{info.field_name} must return an authz.guard.Payload")
        if payload.category in payload.access.read:
            return payload.value
        raise Withheld(payload.category.name, f"Not allowed to read {payload.category.name} data here")

    return guard_payload


def _guard(category: Category, resolve: Resolver | None, attribute: str | None) -> Resolver:
    if attribute is not None or resolve is None:
        assert attribute is not None
        read = attrgetter(attribute)

        def guard_attribute(source: Any, info: Info, **_: Any) -> Any:
            if allows(category, source):
                return read(source)
            info.context.denials.deny(info, category)
            return None

        setattr(guard_attribute, FIELD_GUARD, FieldGuard(category, attribute, None))
        return guard_attribute

    def guard_resolver(source: Any, info: Info, **kwargs: Any) -> Any:
        if allows(category, source):
            return resolve(source, info, **kwargs)
        info.context.denials.deny(info, category)
        return None

    setattr(guard_resolver, FIELD_GUARD, FieldGuard(category, None, resolve))
    return guard_resolver
