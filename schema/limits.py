"""Resource limits checked before any resolver runs (and before validation, whose own cost
grows with the document): the document's measure (schema/measure.py: depth, aliases, directives,
an estimated cost, validation's comparisons), the strings and lists of inputs, and each user's
estimated cost a minute."""

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    IntValueNode,
    OperationDefinitionNode,
    StringValueNode,
)
from strawberry.extensions import SchemaExtension

from config import Limits
from errors import Code
from schema.measure import Measure, bad_input, measure_document
from web.per_minute import PerMinute

MAX_LIST_ITEMS = 1000  # items of one list in the variables: no input needs more than a page of them
MEASURES_KEPT = 512  # documents whose measure is kept, as many as the parser and validation caches keep


def _costed_with(variables: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What of the variables a document's measure depends on: the integers that size pages,
    and which variables were given at all (an absent one takes its default)."""
    return tuple(sorted((name, value if isinstance(value, int) else ...) for name, value in variables.items()))


def operation_to_run(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation a request runs: the one named, or the only one (the spec's GetOperation)."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        for operation in operations:
            if operation.name is not None and operation.name.value == name:
                return operation
        raise bad_input("operationName names no operation of the document")
    if len(operations) != 1:
        raise bad_input(
            "Name the operation to run (operationName): the document holds several"
            if operations
            else "The document holds no operation"
        )
    return operations[0]


def _variable_values(operation: OperationDefinitionNode | None, variables: dict[str, Any]) -> dict[str, Any]:
    """The variables as the operation will see them: a value given, else its default."""
    values = dict(variables)
    for definition in (operation.variable_definitions if operation else None) or ():
        name, default = definition.variable.name.value, definition.default_value
        if name not in values and isinstance(default, IntValueNode):
            values[name] = int(default.value)
    return values


def _check_variables(variables: dict[str, Any], limits: Limits) -> None:
    """Every string of the variables checked, every list bounded; iterative, so however deep
    the JSON (the transport bounds it too) this cannot exhaust the stack."""
    pending: list[Any] = [variables]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            _check_string(value, limits)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            if len(value) > MAX_LIST_ITEMS:
                raise bad_input(f"A list input holds more than {MAX_LIST_ITEMS} items")
            pending.extend(value)


def _check_string(text: str, limits: Limits) -> None:
    """Every string input, in variables or written in the document: bounded, and free of NUL,
    which PostgreSQL refuses in text (an argument reaching SQL unchecked would fail there)."""
    if len(text) > limits.max_string_length:
        raise bad_input(f"A string input is longer than {limits.max_string_length} characters")
    if "\x00" in text:
        raise bad_input("A string input contains a NUL character")


def check_limits(
    limits: Limits,
    schema: GraphQLSchema,
    document: DocumentNode,
    variables: dict[str, Any],
    operation_name: str | None = None,
    measure: Measure | None = None,
) -> Measure:
    """Measure every operation of the document (all are validated), costing pages with the
    variables of the one to run; refuse what exceeds a limit."""
    measure = Measure() if measure is None else measure
    _check_variables(variables, limits)
    try:
        running: OperationDefinitionNode | None = operation_to_run(document, operation_name)
    except GraphQLError:  # refused at parsing already; when called alone, the first
        running = next((d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None)
    _check_switches(switch_variables(document), variables)
    measure_document(limits, schema, document, _variable_values(running, variables), measure)
    _check_literal_strings(document, limits)
    return measure


def switch_variables(document: DocumentNode) -> frozenset[str]:
    """The variables an @skip or @include of the document reads."""
    from graphql import visit
    from graphql.language import DirectiveNode, VariableNode, Visitor

    names: set[str] = set()

    class Switches(Visitor):
        def enter_directive(self, node: DirectiveNode, *_: Any) -> None:
            if node.name.value in ("skip", "include"):
                names.update(a.value.name.value for a in node.arguments or () if isinstance(a.value, VariableNode))

    visit(document, Switches())
    return frozenset(names)


def _check_switches(names: frozenset[str], variables: dict[str, Any]) -> None:
    """A variable given null where @skip/@include reads it is refused before anything runs:
    graphql-core finds it only while completing the field above the directive, after that
    field's resolver ran (a mutation's write included), and answered INTERNAL (found by probing)."""
    for name in names:
        if name in variables and variables[name] is None:
            raise bad_input(f"Variable '${name}' of @skip or @include must be true or false, not null")


def _check_literal_strings(document: DocumentNode, limits: Limits) -> None:
    from graphql import visit
    from graphql.language import Visitor

    class Strings(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            _check_string(node.value, limits)

    visit(document, Strings())


def query_limits(limits: Limits) -> type[SchemaExtension]:
    spent = PerMinute()  # estimated cost of each user's requests this minute; a refused one costs nothing
    # A document passed is measured once (per operation and page sizes): its measure does not
    # change between requests, only the variables' strings and lists, checked every time.
    measured: OrderedDict[tuple[Any, ...], tuple[DocumentNode, Measure, frozenset[str]]] = OrderedDict()

    def measure_of(
        schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any], name: str | None
    ) -> Measure:
        key = (id(schema), id(document), name, _costed_with(variables))
        known = measured.get(key)
        if known is not None and known[0] is document:
            _check_variables(variables, limits)
            _check_switches(known[2], variables)
            measured.move_to_end(key)
            return known[1]
        measure = check_limits(limits, schema, document, variables, name)
        measured[key] = (document, measure, switch_variables(document))
        if len(measured) > MEASURES_KEPT:
            measured.popitem(last=False)
        return measure

    class QueryLimits(SchemaExtension):
        def on_operation(self) -> Iterator[None]:
            # The parser itself stops at max_tokens, so an enormous document is never built.
            self.execution_context.parse_options["max_tokens"] = limits.max_tokens
            yield

        def on_parse(self) -> Iterator[None]:
            yield
            # Strawberry runs the first operation when none is named, and answers an unknown
            # name with an uncoded HTTP 400: the spec asks for a request error, coded here.
            document = self.execution_context.graphql_document
            if document is not None:
                operation_to_run(document, self._operation_name())

        def on_validate(self) -> Iterator[None]:
            document = self.execution_context.graphql_document
            if document is not None:
                measure = measure_of(
                    self.execution_context.schema._schema,
                    document,
                    self.execution_context.variables or {},
                    self._operation_name(),
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

        def _operation_name(self) -> str | None:
            context = self.execution_context
            return getattr(context, "_provided_operation_name", context.operation_name)

    return QueryLimits
