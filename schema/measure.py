"""How big a document is, in one pass linear in its size: the depth of its fields, its
aliases, an estimated cost, and the comparisons validation will make. Fragments count where
they are spread, so a limit cannot be dodged by moving selections into fragments (Strawberry
CVE-2026-47706 and -47707 were exactly that), yet each fragment is measured once, however its
spreads fan out (issue 10: a walk that expanded them took hours for a 1 KB document).
Undefined fragments and cycles are refused before any walk. Introspection counts too."""

import functools
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_list_type,
    is_object_type,
    is_union_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef

from config import Limits
from errors import Code

# Validation compares every two fields of one response name in a selection set, and what is
# below them (graphql-core's OverlappingFieldsCanBeMergedRule): quadratic, 2 to 7 µs a
# comparison; `{ me { id } }` written 1,000 times took it 1.2 s of CPU. A bound on the
# comparisons as Measurer._compare counts them (an upper bound, which queries that select
# each field once, directly or through fragments, stay far below).
MAX_FIELD_COMPARISONS = 10_000
# Mutations that hash a password with argon2 (about 50 ms and 19 MiB each, on purpose): one a
# request, however written (aliases, fragments), or 30 aliases would cost 30 hashes (issue 10).
PASSWORD_HASHING_FIELDS = frozenset({"login", "changePassword", "setPassword", "createUser", "approveUserRequest"})


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": Code.QUERY_TOO_COMPLEX})


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": Code.BAD_USER_INPUT})


@dataclass(slots=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0
    visits: int = 0  # nodes the check looked at: at most a few per token of the document
    comparisons: int = 0  # of fields by validation, at most (MAX_FIELD_COMPARISONS)


@dataclass(frozen=True, slots=True)
class _Size:
    """What a selection set adds where it is written: its depth in fields, its aliases, its
    cost for one item of the lists around it, and the fields it expands to (lists aside)."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    fields: int = 0
    hashing: int = 0  # password-hashing root fields (PASSWORD_HASHING_FIELDS)
    lists: frozenset[tuple[str, str]] = frozenset()  # the unpaged lists selected in it (_unpaged)


# response name -> [fields of that name in a selection set (fragments and inline fragments
# merged into it) weighted by the fields each expands to, the sum of those weights squared]
_Names = dict[str, list[int]]


META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef, "__typename": TypeNameMetaFieldDef}


def _spreads(selection_set: SelectionSetNode, measure: Measure) -> list[str]:
    """The fragments one definition spreads, without following them."""
    names, pending = [], [selection_set]
    while pending:
        for selection in pending.pop().selections:
            measure.visits += 1
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set is not None:
                pending.append(selection.selection_set)
    return names


def _fragment_order(fragments: dict[str, FragmentDefinitionNode], measure: Measure) -> list[str]:
    """Fragments in an order that puts each after those it spreads; an undefined fragment or a
    cycle is refused. Iterative, each spread followed once: linear in the document."""
    spreads = {name: _spreads(fragment.selection_set, measure) for name, fragment in fragments.items()}
    order: list[str] = []
    done: set[str] = set()
    for root in spreads:
        if root in done:
            continue
        path, on_path = [(root, iter(spreads[root]))], {root}
        while path:
            name, pending = path[-1]
            for spread in pending:
                if spread not in spreads:
                    raise bad_input(f"Unknown fragment '{spread}'.")
                if spread in on_path:
                    raise bad_input(f"Cannot spread fragment '{spread}' within itself.")
                if spread not in done:
                    path.append((spread, iter(spreads[spread])))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                done.add(name)
                order.append(name)
    return order


class Measurer:
    def __init__(self, limits: Limits, schema: GraphQLSchema, values: dict[str, Any], measure: Measure) -> None:
        self.limits = limits
        self.schema = schema
        self.values = values  # the variables of the operation to run, with their defaults
        self.measure = measure
        self.fragments: dict[str, tuple[_Size, _Names]] = {}

    def definition(self, node: OperationDefinitionNode | FragmentDefinitionNode, parent: Any) -> tuple[_Size, _Names]:
        self._directives(node)
        for variable in getattr(node, "variable_definitions", None) or ():
            self._directives(variable)
        names: _Names = {}
        size = self._selection_set(node.selection_set, parent, names)
        self._compare(names)
        return size, names

    def _directives(self, node: Any) -> None:
        if len(node.directives or ()) > self.limits.max_directives_per_field:
            raise too_complex(f"More than {self.limits.max_directives_per_field} directives on one field")

    def _selection_set(self, selection_set: SelectionSetNode, parent: Any, names: _Names | None = None) -> _Size:
        """Measure a selection set; `names` collects its fields by response name, an inline
        fragment's into its parent's, as validation merges them."""
        own = names is None
        names = {} if names is None else names
        depth = aliases = cost = fields = hashing = 0
        lists: frozenset[tuple[str, str]] = frozenset()
        for selection in selection_set.selections:
            self.measure.visits += 1
            self._directives(selection)
            if isinstance(selection, FieldNode):
                size = self._field(selection, parent)
                key = (selection.alias or selection.name).value
                _add(names, key, size.fields, size.fields**2)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = parent if condition is None else self.named_type(condition.name.value)
                size = self._selection_set(selection.selection_set, inner, names)
            else:
                assert isinstance(selection, FragmentSpreadNode)
                known = self.fragments.get(selection.name.value)
                if known is None:  # fragments are measured first, so this one is not defined
                    raise bad_input(f"Unknown fragment '{selection.name.value}'.")
                size = known[0]
                for key, (weight, squares) in known[1].items():  # a few dozen names at most: a type's fields
                    _add(names, key, weight, squares)
            depth = max(depth, size.depth)
            aliases += size.aliases
            cost += 1 + size.cost  # every selection counts, a spread or inline fragment too
            fields += size.fields
            hashing += size.hashing
            lists |= size.lists
        if own:
            self._compare(names)
        return self.checked(_Size(depth, aliases, cost, fields, hashing, lists))

    def _compare(self, names: _Names) -> None:
        """Count the comparisons validation makes in one selection set: two fields of one name
        compare at most every pair of the fields below them."""
        self.measure.comparisons += sum((weight * weight - squares) // 2 for weight, squares in names.values())
        if self.measure.comparisons > MAX_FIELD_COMPARISONS:
            raise too_complex("The query repeats fields too often: select each field once")

    def checked(self, size: _Size) -> _Size:
        limits = self.limits
        if size.depth > limits.max_depth:
            raise too_complex(f"The query is deeper than {limits.max_depth}")
        if size.aliases > limits.max_aliases:
            raise too_complex(f"More than {limits.max_aliases} aliases")
        if size.cost > limits.max_cost:
            raise too_complex(f"The query's estimated cost exceeds {limits.max_cost}")
        return size

    def named_type(self, name: str) -> Any:
        named = self.schema.get_type(name)
        if named is None:
            raise bad_input(f"Unknown type '{name}'.")
        return named

    def _field(self, node: FieldNode, parent: Any) -> _Size:
        """A field the schema defines (validation would refuse any other: refused here, a
        selection's names are a type's fields and so a few dozen at most)."""
        alias = 0 if node.alias is None else 1  # counted where written; lists are the cost's business
        definition = self._field_definition(parent, node.name.value)
        if definition is None:
            where = "here" if parent is None else f"on type '{parent.name}'"
            raise bad_input(f"Cannot query field '{node.name.value}' {where}.")
        hashing = int(node.name.value in PASSWORD_HASHING_FIELDS and parent is self.schema.mutation_type)
        if node.selection_set is None:
            return _Size(0, alias, 0, 1, hashing)
        inner = self._selection_set(node.selection_set, get_named_type(definition.type))
        items = self._items(node, definition, parent)
        cost = items * inner.cost
        lists = inner.lists
        unpaged = self._unpaged(node, definition, parent)
        if unpaged is not None:
            if unpaged in inner.lists:
                raise too_complex(
                    f"The query selects {'.'.join(unpaged)} within itself: its answer would multiply by the "
                    "list's length at every level; select it once"
                )
            lists = lists | {unpaged}
        if definition is SchemaMetaFieldDef:
            # The whole schema, whatever is selected of it: GraphiQL and code generators need one
            # a request; three or more are refused (25 aliased copies cost 0.9 s of CPU, issue 10).
            cost = max(cost, self.limits.max_cost // 3)
        return _Size(inner.depth + 1, alias + inner.aliases, cost, 1 + inner.fields, hashing, lists)

    @staticmethod
    def _field_definition(parent: Any, name: str) -> Any:
        meta = META_FIELDS.get(name)
        if meta is not None:
            return meta
        fields = getattr(parent, "fields", None)
        return None if fields is None else fields.get(name)

    @staticmethod
    def _unpaged(node: FieldNode, definition: Any, parent: Any) -> tuple[str, str] | None:
        """(type, field) of a list of records without a `first`, whose length no argument bounds
        (an activity's sessions, a register): the estimate assumes its length, so one selected
        within itself, through a back-reference (activity { sessions { activity { sessions } } }),
        would multiply the answer by its real length at every level: refused."""
        parent_name = getattr(parent, "name", "")
        if parent_name.startswith("__") or node.name.value == "nodes" or "first" in definition.args:
            return None
        return (parent_name, node.name.value) if is_list_type(get_nullable_type(definition.type)) else None

    def _items(self, node: FieldNode, definition: Any, parent: Any) -> int:
        """How many items a field multiplies what is below it by: its `first` (a page: as
        written, else its variable's value or default, else the argument's default), the
        longest such list of introspection, the assumed list size for any other list, 1 for a
        single object."""
        page = None if definition is None else definition.args.get("first")
        if page is not None:
            first = page.default_value if isinstance(page.default_value, int) else 1
            for argument in node.arguments or ():
                value = argument.value
                if argument.name.value != "first":
                    continue
                if isinstance(value, IntValueNode):
                    first = int(value.value)
                elif isinstance(value, VariableNode) and isinstance(self.values.get(value.name.value), int):
                    first = self.values[value.name.value]
            return max(1, first)
        if node.name.value == "nodes" or definition is None:  # a page's nodes: counted by its `first`
            return 1
        if not is_list_type(get_nullable_type(definition.type)):
            return 1
        introspected = introspection_lists(self.schema).get((getattr(parent, "name", ""), node.name.value))
        return self.limits.default_list_size if introspected is None else introspected


@functools.lru_cache(maxsize=8)
def introspection_lists(schema: GraphQLSchema) -> dict[tuple[str, str], int]:
    """The size each introspection list is costed at in this schema. Introspection runs in
    memory, but an assumed list size let 25 aliased copies of GraphiQL's query through at 0.9 s
    of CPU and 2.5 MB (issue 10). A type's lists are costed at their mean over every type, so
    `types { fields { args } }` costs what it returns — costing each at the longest made one
    GraphiQL query cost (types × the longest type), which grew past the limit with the schema;
    a single `__type` is bounded by the alias limit."""
    types = list(schema.type_map.values())
    with_fields = [t for t in types if is_object_type(t) or is_interface_type(t)]
    abstract = [t for t in types if is_interface_type(t) or is_union_type(t)]
    fields = [f for t in with_fields for f in t.fields.values()]
    arguments = sum(len(f.args) for f in fields)

    def mean(total: int, count: int) -> int:
        return -(-total // max(1, count))  # rounded up

    longest = {
        ("__Schema", "types"): len(types),
        ("__Schema", "directives"): len(schema.directives),
        ("__Type", "fields"): mean(len(fields), len(types)),
        ("__Type", "interfaces"): mean(sum(len(t.interfaces) for t in with_fields), len(types)),
        ("__Type", "possibleTypes"): mean(sum(len(schema.get_possible_types(t)) for t in abstract), len(types)),
        ("__Type", "enumValues"): mean(sum(len(t.values) for t in types if is_enum_type(t)), len(types)),
        ("__Type", "inputFields"): mean(sum(len(t.fields) for t in types if is_input_object_type(t)), len(types)),
        ("__Field", "args"): mean(arguments, len(fields)),
        ("__Directive", "args"): max((len(d.args) for d in schema.directives), default=0),
    }
    return {key: max(1, size) for key, size in longest.items()}


def _add(names: _Names, key: str, weight: int, squares: int) -> None:
    entry = names.setdefault(key, [0, 0])
    entry[0] += weight
    entry[1] += squares


def measure_document(
    limits: Limits, schema: GraphQLSchema, document: DocumentNode, values: dict[str, Any], measure: Measure
) -> Measure:
    """Measure every operation of the document (all are validated) and refuse what exceeds a
    limit; `values` are the variables pages are costed with."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            if definition.name.value in fragments:
                raise bad_input(f"There can be only one fragment named '{definition.name.value}'.")
            fragments[definition.name.value] = definition
    measurer = Measurer(limits, schema, values, measure)
    for name in _fragment_order(fragments, measure):
        fragment = fragments[name]
        measurer.fragments[name] = measurer.definition(
            fragment, measurer.named_type(fragment.type_condition.name.value)
        )
    for operation in document.definitions:
        if isinstance(operation, OperationDefinitionNode):
            size, _ = measurer.definition(operation, schema.get_root_type(operation.operation))
            if size.hashing > 1:
                raise too_complex(
                    "A request may run one of login, changePassword, setPassword, createUser and "
                    "approveUserRequest, once: each hashes a password, slowly on purpose. Send them one by one"
                )
            measure.depth = max(measure.depth, size.depth)
            measure.aliases += size.aliases
            measure.cost += size.cost
            measurer.checked(_Size(measure.depth, measure.aliases, measure.cost))
    return measure
