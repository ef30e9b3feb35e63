"""Compiled execution (issue 17): each validated query is planned once, then run by closures
specialised per selection set instead of graphql-core's general per-field machinery.

graphql-core spends 5.5-10 µs on each field of a large list: a Path, the field's definition
looked up by name, a GraphQLResolveInfo, the resolver through Strawberry's wrappers, an
awaitable check, then value completion by type dispatch. A plan does that dispatch once per
document (keyed by the operation node the parser cache keeps, and by the values of the
variables its @skip/@include read): for every response key of every selection set it knows
the field, how to read it and how to complete its type. Running it:

- reads an attribute directly (Strawberry's basic fields, the guard's attribute fields),
  calls a resolver that needs no `info` directly, and builds a GraphQLResolveInfo only for
  the resolvers that take one;
- applies the guard's decision inline (authz.guard.allows: the field's category among those
  authz.guard.readable gives for the record, read once per object) and records a denial at
  the field's path;
- completes leaves with a check of the value's class before graphql-core's coercion;
- keeps graphql-core's order of evaluation: fields in document order, awaitables gathered
  per object and per list as graphql-core gathers them, errors located and propagated to the
  nearest nullable parent as graphql-core does (its own handle_field_error), so the data,
  the errors and the denials come out identical, in the same order.

What a plan does not cover runs on graphql-core unchanged (`Unsupported`: mutations, whose
root fields run serially, subscriptions, introspection, middleware, abort signals, disabled
error propagation, fragment variables, abstract types); a value whose shape the plan does not
expect (a list that is not a list) is completed by graphql-core from that point down.
tests/oracle.py runs every query of the test suite through both and compares the answers.

ESTART_EXECUTION=standard turns the plans off (graphql-core for everything).
"""

import os
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, EnumMeta
from inspect import Parameter, signature
from types import GeneratorType
from typing import Any

from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLID,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    OperationType,
    Undefined,
    VariableNode,
    get_argument_values,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
    visit,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_fields, collect_subfields
from graphql.language import Visitor
from graphql.pyutils import Path, gather_with_cancel, inspect
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from authz.guard import field_guard, readable

EXECUTION = "ESTART_EXECUTION"  # compiled (the default) | standard
DEFINITION = "strawberry-definition"
MAX_PLANS = 512

# How requests ran in this process: "compiled", or "standard: <why>" (tests/oracle.py reports it).
executions: Counter[str] = Counter()


class Unsupported(Exception):
    """The plan does not cover this operation; graphql-core runs it."""


Complete = Callable[["CompiledExecutor", Path, Any], Any]
Coerce = Callable[[Any], Any]

ATTRIBUTE, RESOLVER, TYPENAME = 1, 2, 3

# graphql-core's Path is a NamedTuple, whose __new__ is a Python function: a large list makes
# tens of thousands of them, so they are made as the tuples they are.
new_tuple = tuple.__new__
# Values of these classes are never awaitable: checked before graphql-core's is_awaitable, and
# learned (`_awaitable`): a class whose instances hold no attributes of their own and that has
# no __await__ (slotted records), or an enum.
PLAIN: frozenset[type] = frozenset({str, int, float, bool, list, dict, type(None), date, datetime})
never_awaitable: set[type] = set(PLAIN)


def _awaitable(is_awaitable: Callable[[Any], bool], value: Any) -> bool:
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
    direct: Callable[[Any], Any] | None = None  # RESOLVER: called with the source alone
    self_root: Callable[[Any, Any], Any] | None = None  # RESOLVER: called as (self, root), both the source
    direct_info: Callable[[Any, Any], Any] | None = None  # RESOLVER: with the source and graphql-core's info
    arguments: dict[str, Any] | None = None  # literal arguments, coerced once; None: per request
    has_arguments: bool = False
    coerce: Coerce | None = None  # a leaf: its completion, which needs no path
    complete: Complete | None = None  # anything else
    typename: str = ""  # TYPENAME: the answer
    parent_name: str = ""
    info_head: tuple[Any, ...] = ()  # a GraphQLResolveInfo's fields before the path


@dataclass(slots=True)
class Plan:
    steps: list[Step]


# The executors ESTART_EXECUTION names; tests/oracle.py adds "oracle" (both, compared).
EXECUTORS: dict[str, type[StrawberryGraphQLCoreExecutionContext]] = {
    "standard": StrawberryGraphQLCoreExecutionContext,
}


default_mode = "compiled"  # when ESTART_EXECUTION is unset; tests/conftest.py makes it "oracle"


def execution_mode() -> str:
    return os.environ.get(EXECUTION) or default_mode


def execution_class() -> type[StrawberryGraphQLCoreExecutionContext]:
    """The executor the schema runs with, as ESTART_EXECUTION asks (default: compiled)."""
    mode = execution_mode()
    if mode not in EXECUTORS:
        raise ValueError(f"{EXECUTION} must be one of {', '.join(EXECUTORS)}, not {mode!r}")
    return EXECUTORS[mode]


# --- plans ---------------------------------------------------------------------------------------

_plans: "OrderedDict[tuple[Any, ...], tuple[Any, Plan | Unsupported]]" = OrderedDict()
_switches: dict[int, tuple[Any, tuple[str, ...]]] = {}  # operation -> variables its @skip/@include read


def _variables_in_directives(executor: "CompiledExecutor") -> tuple[str, ...]:
    """Names of the variables the @skip/@include of the operation and its fragments read."""
    key = id(executor.operation)
    known = _switches.get(key)
    if known is not None and known[0] is executor.operation:
        return known[1]
    names: set[str] = set()

    class Directives(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> None:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names.add(argument.value.name.value)

    for node in (executor.operation, *executor.fragment_definitions.values()):
        visit(node, Directives())
    found = tuple(sorted(names))
    if len(_switches) >= MAX_PLANS:
        _switches.clear()
    _switches[key] = (executor.operation, found)
    return found


def plan_for(executor: "CompiledExecutor") -> Plan:
    """The operation's plan, built on its first run; raises Unsupported when there is none."""
    coerced = executor.variable_values.coerced
    switches = tuple(repr(coerced.get(name)) for name in _variables_in_directives(executor))
    key = (id(executor.schema), id(executor.operation), switches)
    entry = _plans.get(key)
    if entry is not None and entry[0][0] is executor.schema and entry[0][1] is executor.operation:
        _plans.move_to_end(key)
        planned = entry[1]
    else:
        try:
            planned = Planner(executor).plan()
        except Unsupported as unsupported:
            planned = unsupported
        _plans[key] = ((executor.schema, executor.operation), planned)
        if len(_plans) > MAX_PLANS:
            _plans.popitem(last=False)
    if isinstance(planned, Unsupported):
        raise planned
    return planned


def planned(executor: "CompiledExecutor") -> Plan | None:
    """The operation's plan, or None when graphql-core runs it; counted in `executions`."""
    try:
        plan = plan_for(executor)
    except Unsupported as unsupported:
        executions[f"standard: {unsupported}"] += 1
        return None
    executions["compiled"] += 1
    return plan


FAST_LEAVES: dict[int, type] = {id(GraphQLString): str, id(GraphQLID): str, id(GraphQLBoolean): bool}
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _leaf(leaf_type: GraphQLLeafType, not_null: str | None) -> Coerce:
    """graphql-core's completion of a leaf (complete_value, complete_leaf_value), with the
    value's class checked first: a str for String and ID, an int in range for Int."""
    coerce_output = leaf_type.coerce_output_value
    exact = FAST_LEAVES.get(id(leaf_type))
    is_int = leaf_type is GraphQLInt
    members = _enum_names(leaf_type)

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


def _enum_names(leaf_type: GraphQLLeafType) -> tuple[type, dict[Any, str]] | None:
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


class Planner:
    def __init__(self, executor: "CompiledExecutor") -> None:
        self.executor = executor
        self.schema = executor.schema

    def plan(self) -> Plan:
        executor = self.executor
        operation = executor.operation
        if operation.operation is not OperationType.QUERY:
            raise Unsupported(operation.operation.value)
        if executor.middleware_manager is not None and executor.middleware_manager.middlewares:
            raise Unsupported("middleware")
        if executor.abort_signal is not None:
            raise Unsupported("abort signal")
        if not executor.error_propagation:
            raise Unsupported("error propagation disabled")
        if any(fragment.definition.variable_definitions for fragment in executor.fragments.values()):
            raise Unsupported("fragment variables")
        root_type = self.schema.query_type
        if root_type is None:
            raise Unsupported("no query type")
        grouped, defer_usages, _ = collect_fields(
            self.schema, executor.fragments, executor.variable_values, root_type, operation, executor.hide_suggestions
        )
        if defer_usages:
            raise Unsupported("defer")
        if any(name.startswith("__") and name != "__typename" for name in self._field_names(grouped)):
            raise Unsupported("introspection")
        return Plan(self.steps(root_type, grouped))

    @staticmethod
    def _field_names(grouped: dict[str, FieldDetailsList]) -> Iterable[str]:
        return (details[0].node.name.value for details in grouped.values())

    def steps(self, parent_type: GraphQLObjectType, grouped: dict[str, FieldDetailsList]) -> list[Step]:
        if parent_type.is_type_of is not None:
            raise Unsupported("is_type_of")
        return [self.step(parent_type, key, details) for key, details in grouped.items()]

    def step(self, parent_type: GraphQLObjectType, key: str, details: FieldDetailsList) -> Step:
        if any(detail.fragment_variable_values is not None or detail.defer_usage is not None for detail in details):
            raise Unsupported("fragment variables or defer")
        node = details[0].node
        name = node.name.value
        field_def = self.schema.get_field(parent_type, name)
        if field_def is None:
            raise Unsupported(f"unknown field {parent_type.name}.{name}")
        step = Step(key, RESOLVER, parent_type, field_def, details, [detail.node for detail in details])
        step.parent_name = parent_type.name
        step.info_head = (name, step.nodes, field_def.type, parent_type)
        if name == "__typename":
            step.kind, step.typename = TYPENAME, parent_type.name
            return step
        step.has_arguments = bool(field_def.args or node.arguments)
        if step.has_arguments:
            step.arguments = self._static_arguments(field_def, node)
        self._how_to_read(step)
        not_null = f"Cannot return null for non-nullable field {parent_type}.{name}."
        if is_leaf_type(field_def.type) or (is_non_null_type(field_def.type) and is_leaf_type(field_def.type.of_type)):
            if is_non_null_type(field_def.type):
                step.coerce = _leaf(field_def.type.of_type, not_null)
            else:
                step.coerce = _leaf(field_def.type, None)  # type: ignore[arg-type]
        else:
            step.complete = self.completer(field_def.type, step, not_null)
        return step

    def _static_arguments(self, field_def: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
        """The field's arguments coerced once, when no variable is among them."""
        found: list[bool] = []

        class Variables(Visitor):
            def enter_variable(self, *_: Any) -> None:
                found.append(True)

        for argument in node.arguments or ():
            visit(argument, Variables())
        if found:
            return None
        try:
            return get_argument_values(field_def, node, self.executor.variable_values, None, True)
        except Exception:
            return None

    def _how_to_read(self, step: Step) -> None:
        """An attribute, a resolver called with the source alone, or one called as graphql-core
        calls it; behind the guard's decision when the field is guarded."""
        resolve = step.field_def.resolve
        guard = field_guard(resolve)
        if guard is not None:
            step.category = guard.category
            if guard.attribute is not None:
                step.kind, step.attribute = ATTRIBUTE, guard.attribute
                return
            resolve = guard.resolve
        definition = (step.field_def.extensions or {}).get(DEFINITION)
        if getattr(resolve, "_is_default", False) and isinstance(definition, StrawberryField):
            if definition.default_resolver is getattr and not step.has_arguments:
                step.kind, step.attribute = ATTRIBUTE, definition.python_name
                return
        step.resolve = resolve or self.executor.field_resolver
        self._direct(definition, step)

    def _direct(self, definition: Any, step: Step) -> None:
        """A Strawberry resolver without arguments or field extensions, called as Strawberry
        calls it (strawberry.schema.schema_converter from_resolver and get_arguments: the source
        as self and as root/parent, Strawberry's Info when it asks for one) without the wrapper
        that converts arguments it does not have."""
        if not isinstance(definition, StrawberryField) or step.has_arguments:
            return
        resolver = definition.base_resolver
        if resolver is None or definition.extensions or definition.arguments or not callable(resolver.wrapped_func):
            return
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        converter = getattr(strawberry_schema, "schema_converter", None)
        if strawberry_schema is None or converter is None or converter._get_field_exception_handlers(definition):
            return  # Strawberry would route the resolver's exceptions to a handler
        function = resolver.wrapped_func
        names = tuple(dict.fromkeys(p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p))
        lead = 1 if resolver.self_parameter is not None else 0
        info_parameter = resolver.info_parameter
        parameters = list(signature(function).parameters.values())
        positional = (Parameter.POSITIONAL_ONLY, Parameter.POSITIONAL_OR_KEYWORD)
        if info_parameter is None and len(parameters) == lead + len(names) == 2 and lead:
            if all(p.kind in positional for p in parameters) and parameters[1].name == names[0]:
                step.self_root = function
                return
        if info_parameter is None:
            if lead and len(names) == 1:
                name = names[0]
                step.direct = lambda source: function(source, **{name: source})
            else:
                step.direct = lambda source: function(*(source,) * lead, **dict.fromkeys(names, source))
            return
        make_info, info_name = strawberry_schema.config.info_class, info_parameter.name

        def call(source: Any, raw_info: Any) -> Any:
            arguments = dict.fromkeys(names, source)
            arguments[info_name] = make_info(_raw_info=raw_info, _field=definition)
            return function(*(source,) * lead, **arguments)

        step.direct_info = call

    def completer(self, return_type: GraphQLOutputType, step: Step, not_null: str) -> Complete:
        """graphql-core's complete_value for one type, decided once."""
        if isinstance(return_type, GraphQLNonNull):
            inner = self.completer(return_type.of_type, step, not_null)

            def complete_non_null(executor: "CompiledExecutor", path: Path, result: Any) -> Any:
                completed = inner(executor, path, result)
                if completed is None:
                    raise TypeError(not_null)
                return completed

            return complete_non_null
        if is_leaf_type(return_type):
            coerce = _leaf(return_type, None)
            return lambda _executor, _path, result: coerce(result)
        if isinstance(return_type, GraphQLList):
            item_type = return_type.of_type
            item = self.completer(item_type, step, not_null)
            return lambda executor, path, result: executor.complete_list(
                step, return_type, item_type, item, path, result
            )
        if is_object_type(return_type):
            assert isinstance(return_type, GraphQLObjectType)
            sub, defer_usages, _ = collect_subfields(
                self.schema,
                self.executor.fragments,
                self.executor.variable_values,
                self.executor.operation,
                return_type,
                step.details,
                self.executor.hide_suggestions,
            )
            if defer_usages:
                raise Unsupported("defer")
            steps = self.steps(return_type, sub)

            def complete_object(executor: "CompiledExecutor", path: Path, result: Any) -> Any:
                if isinstance(result, Exception):
                    raise result
                if result is None or result is Undefined:
                    return None
                return executor.run_steps(steps, result, path)

            return complete_object
        raise Unsupported(f"abstract type {return_type}")


# --- execution -----------------------------------------------------------------------------------


class CompiledExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's graphql-core executor, running planned queries by their plan."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = planned(self) if serially is None else None
        if plan is None:
            return super().execute_operation(serially)
        return self.run_plan(plan)

    def run_plan(self, plan: Plan) -> Any:
        """graphql-core's execute_operation for a query, by the plan."""
        self._arguments: dict[int, dict[str, Any]] = {}
        self._info_layout: tuple[type, tuple[Any, ...]] | None = None
        self._denials: Any = getattr(self.context_value, "denials", None)
        try:
            result = self.run_steps(plan.steps, self.root_value, None)
            if self.is_awaitable(result):

                async def await_result() -> Any:
                    try:
                        data = await result
                    except GraphQLError as error:
                        self.collected_errors.add(error, None)
                        return self.build_response(None)
                    except Exception:
                        await self.cancel_incremental_work()
                        self.run_async_work_finished_hook()
                        raise
                    return self.build_response(data)

                return await_result()
            data = result
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.finish(self.build_response(None))
        return self.finish(self.build_response(data))

    def resolve_info(self, step: Step, path: Path) -> Any:
        """build_resolve_info, for a field of a large list: its fields after the path are the
        request's (the first one built tells them), so the others are made as the tuples they are."""
        layout = self._info_layout
        if layout is None:
            info = self.build_resolve_info(step.field_def, step.nodes, step.parent_type, path)
            if isinstance(info, tuple) and info[:5] == (*step.info_head, path):
                self._info_layout = (info.__class__, info[5:])
            return info
        return new_tuple(layout[0], (*step.info_head, path, *layout[1]))

    def arguments_of(self, step: Step) -> dict[str, Any]:
        if step.arguments is not None:
            return step.arguments
        known = self._arguments.get(id(step))
        if known is None:
            known = get_argument_values(
                step.field_def, step.details[0].node, self.variable_values, None, self.hide_suggestions
            )
            self._arguments[id(step)] = known
        return known

    def run_steps(self, steps: list[Step], source: Any, path: Path | None) -> Any:
        """graphql-core's execute_fields (with execute_field inlined) over a planned selection."""
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        waiting: list[str] = []
        reads: Any = None  # readable(source), once the first guarded field asks
        try:
            for step in steps:
                key = step.key
                kind = step.kind
                field_path = None
                try:
                    if kind == ATTRIBUTE:
                        category = step.category
                        if category is not None and reads is None:
                            reads = readable(source)
                        if category is None or category in reads:
                            result = getattr(source, step.attribute)
                        else:
                            field_path = new_tuple(Path, (path, key, step.parent_name))
                            self._denials.deny_at(field_path.as_list(), category)
                            result = None
                    elif kind == TYPENAME:
                        results[key] = step.typename
                        continue
                    else:
                        arguments = self.arguments_of(step) if step.has_arguments else None
                        category = step.category
                        if category is not None and reads is None:
                            reads = readable(source)
                        if category is not None and category not in reads:
                            field_path = new_tuple(Path, (path, key, step.parent_name))
                            self._denials.deny_at(field_path.as_list(), category)
                            result = None
                        elif step.self_root is not None:
                            result = step.self_root(source, source)
                        elif step.direct is not None:
                            result = step.direct(source)
                        else:
                            field_path = new_tuple(Path, (path, key, step.parent_name))
                            info = self.resolve_info(step, field_path)
                            if step.direct_info is not None:
                                result = step.direct_info(source, info)
                            elif arguments:
                                result = step.resolve(source, info, **arguments)
                            else:
                                result = step.resolve(source, info)
                        if result.__class__ not in never_awaitable and _awaitable(is_awaitable, result):
                            if field_path is None:
                                field_path = new_tuple(Path, (path, key, step.parent_name))
                            results[key] = self.complete_awaitable(step, field_path, result)
                            waiting.append(key)
                            continue
                    coerce = step.coerce
                    if coerce is not None:
                        results[key] = coerce(result)
                        continue
                    if field_path is None:
                        field_path = new_tuple(Path, (path, key, step.parent_name))
                    assert step.complete is not None
                    completed = step.complete(self, field_path, result)
                    if completed.__class__ not in never_awaitable and _awaitable(is_awaitable, completed):
                        results[key] = self.await_completed(step, field_path, completed)
                        waiting.append(key)
                    else:
                        results[key] = completed
                except Exception as raw_error:
                    if field_path is None:
                        field_path = new_tuple(Path, (path, key, step.parent_name))
                    self.handle_field_error(raw_error, step.field_def.type, step.details, field_path)
                    results[key] = None
        except Exception:
            if waiting:
                self.settle_in_background([results[key] for key in waiting])
            raise
        if not waiting:
            return results

        async def get_results() -> dict[str, Any]:
            if len(waiting) == 1:
                results[waiting[0]] = await results[waiting[0]]
            else:
                awaited = await gather_with_cancel(*(results[key] for key in waiting))
                results.update(zip(waiting, awaited, strict=True))
            return results

        return get_results()

    def _complete(self, step: Step, path: Path, result: Any) -> Any:
        if step.coerce is not None:
            return step.coerce(result)
        assert step.complete is not None
        return step.complete(self, path, result)

    async def complete_awaitable(self, step: Step, path: Path, result: Awaitable[Any]) -> Any:
        """graphql-core's complete_awaitable_value."""
        try:
            completed = self._complete(step, path, await result)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, step.field_def.type, step.details, path)
            completed = None
        return completed

    async def await_completed(self, step: Step, path: Path, completed: Awaitable[Any]) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, step.field_def.type, step.details, path)
            return None

    def complete_list(
        self,
        step: Step,
        list_type: GraphQLList[Any],
        item_type: GraphQLOutputType,
        item: Complete,
        path: Path,
        result: Any,
    ) -> Any:
        """graphql-core's complete_list_value and complete_iterable_value for a list."""
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            return None
        if result.__class__ is not list:  # anything else: graphql-core completes it
            info = self.build_resolve_info(step.field_def, step.nodes, step.parent_type, path)
            return self.complete_value(list_type, step.details, info, path, result, None)
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        append = completed_results.append
        waiting: list[int] = []
        try:
            for index, value in enumerate(result):
                item_path = new_tuple(Path, (path, index, None))
                if value.__class__ not in never_awaitable and _awaitable(is_awaitable, value):
                    append(self.complete_awaitable_item(step, item_type, item, item_path, value))
                    waiting.append(index)
                    continue
                try:
                    completed = item(self, item_path, value)
                    if completed.__class__ not in never_awaitable and _awaitable(is_awaitable, completed):
                        append(self.await_completed_item(step, item_type, item_path, completed))
                        waiting.append(index)
                    else:
                        append(completed)
                except Exception as raw_error:
                    self.handle_field_error(raw_error, item_type, step.details, item_path)
                    append(None)
        except Exception:
            if waiting:
                self.settle_in_background([completed_results[index] for index in waiting])
            raise
        if not waiting:
            return completed_results

        async def get_completed_results() -> list[Any]:
            if len(waiting) == 1:
                completed_results[waiting[0]] = await completed_results[waiting[0]]
            else:
                awaited = await gather_with_cancel(*(completed_results[index] for index in waiting))
                for index, value in zip(waiting, awaited, strict=True):
                    completed_results[index] = value
            return completed_results

        return get_completed_results()

    async def await_completed_item(
        self, step: Step, item_type: GraphQLOutputType, path: Path, completed: Awaitable[Any]
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, step.details, path)
            return None

    async def complete_awaitable_item(
        self, step: Step, item_type: GraphQLOutputType, item: Complete, path: Path, value: Awaitable[Any]
    ) -> Any:
        try:
            completed = item(self, path, await value)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, item_type, step.details, path)
            return None
        return completed


EXECUTORS["compiled"] = CompiledExecutor
