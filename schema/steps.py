"""What a compiled plan knows of each field it answers (schema/compiled.py plans them,
schema/codegen.py writes their code): the Step, and the completion of leaf values."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, EnumMeta
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, inspect

if TYPE_CHECKING:
    from schema.compiled import CompiledExecutor

Complete = Callable[["CompiledExecutor", Path, Any], Any]
Coerce = Callable[[Any], Any]

ATTRIBUTE, RESOLVER, TYPENAME = 1, 2, 3

# graphql-core's Path is a NamedTuple, whose __new__ is a Python function: a large list makes
# tens of thousands of them, so they are made as the tuples they are.
new_tuple = tuple.__new__
# Values of these classes are never awaitable: checked before graphql-core's is_awaitable, and
# learned (`awaitable`): a class whose instances hold no attributes of their own and that has
# no __await__ (slotted records), or an enum.
PLAIN: frozenset[type] = frozenset({str, int, float, bool, list, dict, type(None), date, datetime})
never_awaitable: set[type] = set(PLAIN)


def awaitable(is_awaitable: Callable[[Any], bool], value: Any) -> bool:
    if is_awaitable(value):
        return True
    cls = value.__class__
    if not hasattr(cls, "__await__") and not issubclass(cls, GeneratorType):
        if cls.__dictoffset__ == 0 or issubclass(cls, Enum):
            never_awaitable.add(cls)
    return False


@dataclass(slots=True, eq=False)
class Step:
    """One response key of a selection set on one object type, and how to answer it."""

    key: str
    kind: int
    parent_type: GraphQLObjectType
    field_def: GraphQLField
    details: FieldDetailsList
    nodes: list[FieldNode]
    category: Any = None  # the guard's category when the field is guarded
    attribute: str = ""  # ATTRIBUTE: the attribute to read
    resolve: Any = None  # RESOLVER: the resolver (the guarded one's own, behind its guard)
    direct: "Direct | None" = None  # RESOLVER: a Strawberry resolver, called without Strawberry's wrapper
    preloaded: str = ""  # direct: the source's attribute answering for the resolver when not None (PRELOADED)
    arguments: dict[str, Any] | None = None  # literal arguments, coerced once; None: per request
    has_arguments: bool = False
    leaf: GraphQLLeafType | None = None  # a leaf: its type
    nullable: bool = True
    coerce: Coerce | None = None  # a leaf: its completion, which needs no path
    complete: Complete | None = None  # anything else
    typename: str = ""  # TYPENAME: the answer
    parent_name: str = ""
    info_head: tuple[Any, ...] = ()  # a GraphQLResolveInfo's fields before the path


@dataclass(frozen=True, slots=True)
class Direct:
    """How Strawberry calls a resolver that has no arguments: the source as its first
    `positional` arguments and as the keyword arguments `keywords` (self, root, parent), and
    Strawberry's Info (`make_info`: its class, from the raw info and `definition`) as `info`."""

    function: Callable[..., Any]
    positional: int
    keywords: tuple[str, ...]
    info: str | None = None
    make_info: Any = None
    definition: Any = None


FAST_LEAVES: dict[int, type] = {id(GraphQLString): str, id(GraphQLID): str, id(GraphQLBoolean): bool}
INT_MIN, INT_MAX = -(2**31), 2**31 - 1

# A date's isoformat() costs ~0.3 µs, a dict hit ~0.05 µs, and a page of 1,000 families has
# ~4,500 dates of birth, most of them seen before: remembered, bounded (~3 MB at most). Only
# dates: aware datetimes equal across time zones have different isoformats.
ISO_DATES_LIMIT = 2**15
iso_dates: dict[date, str] = {}


def iso_date(value: date) -> str:
    """value.isoformat() of a date (its class exactly date), remembered in iso_dates."""
    if len(iso_dates) >= ISO_DATES_LIMIT:
        iso_dates.clear()
    text = iso_dates[value] = value.isoformat()
    return text


def leaf_completion(leaf_type: GraphQLLeafType, not_null: str | None) -> Coerce:
    """graphql-core's completion of a leaf (complete_value, complete_leaf_value), with the
    value's class checked first: a str for String and ID, an int in range for Int."""
    coerce_output = leaf_type.coerce_output_value
    exact = FAST_LEAVES.get(id(leaf_type))
    is_int = leaf_type is GraphQLInt
    members = enum_names(leaf_type)

    def coerce(result: Any) -> Any:
        if result.__class__ is exact or (is_int and result.__class__ is int and INT_MIN <= result <= INT_MAX):
            return result
        if members and result.__class__ is members[0]:
            name = members[1].get(result)
            if name is not None:
                return name
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            if not_null is not None:
                raise TypeError(not_null)
            return None
        coerced = coerce_output(result)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(leaf_type)}.coerce_output_value({inspect(result)})` to return"
                f" non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    return coerce


def enum_names(leaf_type: GraphQLLeafType) -> tuple[type, dict[Any, str]] | None:
    """For a Strawberry enum, the names its coerce_output_value gives the members of the Python
    enum it wraps (the first GraphQL value with the member's value)."""
    wrapped = getattr(leaf_type, "wrapped_cls", None)
    if not isinstance(leaf_type, GraphQLEnumType) or not isinstance(wrapped, EnumMeta):
        return None
    names: dict[Any, str] = {}
    member: Any
    for member in wrapped:
        for name, value in leaf_type.values.items():
            if member.value == value.value:
                names[member] = name
                break
    return wrapped, names
