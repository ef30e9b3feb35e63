"""Resource limits checked before any resolver runs (and before validation, whose own cost
grows with the document): depth, aliases, directives per field, an estimated cost, and the
length of string inputs. Fragments and inline fragments are expanded where they are spread,
so a limit cannot be dodged by moving selections into fragments (Strawberry CVE-2026-47706
and -47707 were exactly that); a fragment cycle stops the walk. Introspection counts too."""

from collections.abc import Iterator
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
    StringValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension

from config import Limits
from errors import Code
from web.per_minute import PerMinute


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": Code.QUERY_TOO_COMPLEX})


@dataclass(slots=True)
class Measure:
    depth: int = 0
    aliases: int = 0
    cost: int = 0


META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef, "__typename": TypeNameMetaFieldDef}


class _Walker:
    def __init__(
        self,
        limits: Limits,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.limits = limits
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.measure = Measure()

    def walk(
        self, selection_set: SelectionSetNode, parent: Any, depth: int, multiplier: int, seen: frozenset[str]
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self._field(selection, parent, depth, multiplier, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = parent if condition is None else self.schema.get_type(condition.name.value)
                self.walk(selection.selection_set, inner, depth, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:  # a cycle is reported by validation
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    self.walk(fragment.selection_set, inner, depth, multiplier, seen | {name})

    def _field_definition(self, parent: Any, name: str) -> Any:
        meta = META_FIELDS.get(name)
        if meta is not None:
            return meta
        fields = getattr(parent, "fields", None)
        return None if fields is None else fields.get(name)

    def _field(self, node: FieldNode, parent: Any, depth: int, multiplier: int, seen: frozenset[str]) -> None:
        limits, measure = self.limits, self.measure
        if node.alias is not None:  # counted where written (fragments expanded); lists are the cost's business
            measure.aliases += 1
            if measure.aliases > limits.max_aliases:
                raise too_complex(f"More than {limits.max_aliases} aliases")
        if len(node.directives or ()) > limits.max_directives_per_field:
            raise too_complex(f"More than {limits.max_directives_per_field} directives on one field")
        measure.cost += multiplier
        if measure.cost > limits.max_cost:
            raise too_complex(f"The query's estimated cost exceeds {limits.max_cost}")
        if node.selection_set is None:
            return
        depth += 1
        if depth > limits.max_depth:
            raise too_complex(f"The query is deeper than {limits.max_depth}")
        measure.depth = max(measure.depth, depth)
        definition = self._field_definition(parent, node.name.value)
        field_type = None if definition is None else definition.type
        inner = None if field_type is None else get_named_type(field_type)
        self.walk(node.selection_set, inner, depth, multiplier * self._size(node, definition), seen)

    def _size(self, node: FieldNode, definition: Any) -> int:
        """How many items a field multiplies what is below it by: its `first` (a page: as
        written, else from its variable, else the argument's default), the assumed list size
        for any other list, 1 for a single object."""
        page = None if definition is None else definition.args.get("first")
        if page is not None:
            first = page.default_value if isinstance(page.default_value, int) else 1
            for argument in node.arguments or ():
                if argument.name.value != "first":
                    continue
                value = argument.value
                if isinstance(value, IntValueNode):
                    first = int(value.value)
                elif isinstance(value, VariableNode) and isinstance(self.variables.get(value.name.value), int):
                    first = self.variables[value.name.value]
            return max(1, first)
        if node.name.value == "nodes" or definition is None:  # a page's nodes: counted by its `first`
            return 1
        return self.limits.default_list_size if is_list_type(get_nullable_type(definition.type)) else 1


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _check_string(text: str, limits: Limits) -> None:
    """Every string input, in variables or written in the document: bounded, and free of NUL,
    which PostgreSQL refuses in text (an argument reaching SQL unchecked would fail there)."""
    if len(text) > limits.max_string_length:
        raise GraphQLError(
            f"A string input is longer than {limits.max_string_length} characters",
            extensions={"code": Code.BAD_USER_INPUT},
        )
    if "\x00" in text:
        raise GraphQLError("A string input contains a NUL character", extensions={"code": Code.BAD_USER_INPUT})


def check_limits(limits: Limits, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> Measure:
    for text in _strings(variables):
        _check_string(text, limits)
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    walker = _Walker(limits, schema, fragments, variables)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            walker.walk(definition.selection_set, root, 0, 1, frozenset())
    _check_literal_strings(document, limits)
    return walker.measure


def _check_literal_strings(document: DocumentNode, limits: Limits) -> None:
    from graphql import visit
    from graphql.language import Visitor

    class Strings(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            _check_string(node.value, limits)

    visit(document, Strings())


def query_limits(limits: Limits) -> type[SchemaExtension]:
    spent = PerMinute()  # estimated cost of each user's requests this minute; a refused one costs nothing

    class QueryLimits(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            # The parser itself stops at max_tokens, so an enormous document is never built.
            self.execution_context.parse_options["max_tokens"] = limits.max_tokens
            yield

        def on_validate(self) -> Iterator[None]:
            document = self.execution_context.graphql_document
            operations = [d for d in getattr(document, "definitions", ()) if isinstance(d, OperationDefinitionNode)]
            # Strawberry falls back to the first operation when none is named; the spec asks for an error.
            named = getattr(self.execution_context, "_provided_operation_name", self.execution_context.operation_name)
            if len(operations) > 1 and not named:
                raise GraphQLError(
                    "Name the operation to run (operationName): the document holds several",
                    extensions={"code": Code.BAD_USER_INPUT},
                )
            if document is not None:
                measure = check_limits(
                    limits, self.execution_context.schema._schema, document, self.execution_context.variables or {}
                )
                principal = getattr(self.execution_context.context, "principal", None)
                if principal is not None:
                    if spent.total(principal.user_id) + measure.cost > limits.max_cost_per_minute:
                        raise GraphQLError(
                            "Your requests of the last minute cost too much; try again in a minute",
                            extensions={"code": Code.RATE_LIMITED},
                        )
                    spent.add(principal.user_id, measure.cost)
            yield

    return QueryLimits
