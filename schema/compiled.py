"""Compiled execution (issue 17): each validated query is planned once, then run by closures
specialised per selection set instead of graphql-core's general per-field machinery.

graphql-core spends 5.5-10 µs on each field of a large list: a Path, the field's definition
looked up by name, a GraphQLResolveInfo, the resolver through Strawberry's wrappers, an
awaitable check, then value completion by type dispatch. A plan does that dispatch once per
document (keyed by the operation node the parser cache keeps, and by the values of the
variables its @skip/@include read): for every response key of every selection set it knows
the field, how to read it and how to complete its type, and each selection set becomes one
generated Python function (schema/codegen.py) answering its fields in document order. Running it:

- reads an attribute directly (Strawberry's basic fields, the guard's attribute fields),
  calls a Strawberry resolver without arguments directly, not through Strawberry's wrapper,
  and builds a GraphQLResolveInfo (and Strawberry's Info) only for the resolvers that take one;
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
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from inspect import Parameter, signature
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    Undefined,
    VariableNode,
    get_argument_values,
    is_leaf_type,
    visit,
)
from graphql.execution.collect_fields import FieldDetailsList, collect_fields, collect_subfields
from graphql.language import Visitor
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.field import StrawberryField

from authz.guard import field_guard
from schema.codegen import Select, selection
from schema.fields import PRELOADED
from schema.steps import (
    ATTRIBUTE,
    RESOLVER,
    TYPENAME,
    Complete,
    Direct,
    Step,
    awaitable,
    leaf_completion,
    never_awaitable,
    new_tuple,
)

EXECUTION = "ESTART_EXECUTION"  # compiled (the default) | standard
DEFINITION = "strawberry-definition"
MAX_PLANS = 512

# How requests ran in this process: "compiled", or "standard: <why>" (tests/oracle.py reports it).
executions: Counter[str] = Counter()


class Unsupported(Exception):
    """The plan does not cover this operation; graphql-core runs it."""


@dataclass(slots=True)
class Plan:
    select: Select  # the root selection set's (schema/codegen.py)
    sources: list[str]  # the code of its selection sets, for inspection


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


class Planner:
    def __init__(self, executor: "CompiledExecutor") -> None:
        self.executor = executor
        self.schema = executor.schema
        self.sources: list[str] = []

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
        select = self.selection(root_type, grouped)
        return Plan(select, self.sources)

    @staticmethod
    def _field_names(grouped: dict[str, FieldDetailsList]) -> Iterable[str]:
        return (details[0].node.name.value for details in grouped.values())

    def selection(self, parent_type: GraphQLObjectType, grouped: dict[str, FieldDetailsList]) -> Select:
        """The function answering a selection set (schema/codegen.py), its source kept."""
        if parent_type.is_type_of is not None:
            raise Unsupported("is_type_of")
        steps = [self.step(parent_type, key, details) for key, details in grouped.items()]
        written = selection(parent_type.name, steps)
        self.sources.append(written.source)
        return written.select

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
        step.nullable = not isinstance(field_def.type, GraphQLNonNull)
        named = field_def.type.of_type if isinstance(field_def.type, GraphQLNonNull) else field_def.type
        if isinstance(named, GraphQLLeafType):
            step.leaf = named
            step.coerce = leaf_completion(named, None if step.nullable else not_null)
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
        parameters = list(signature(function).parameters.values())
        positional = (Parameter.POSITIONAL_ONLY, Parameter.POSITIONAL_OR_KEYWORD)
        if lead and len(names) == 1 and len(parameters) >= 2 and parameters[1].name == names[0]:
            if all(p.kind in positional for p in parameters[:2]):  # (self, root): both positionally
                lead, names = 2, ()
        metadata: Mapping[str, Any] = definition.metadata or {}
        step.preloaded = str(metadata.get(PRELOADED, ""))
        info_parameter = resolver.info_parameter
        if info_parameter is None:
            step.direct = Direct(function, lead, names)
            return
        make_info = strawberry_schema.config.info_class
        step.direct = Direct(function, lead, names, info_parameter.name, make_info, definition)

    def completer(self, return_type: GraphQLOutputType, step: Step, not_null: str) -> Complete:
        """graphql-core's complete_value for one type, decided once."""
        if isinstance(return_type, GraphQLNonNull):
            if isinstance(return_type.of_type, GraphQLObjectType):
                return object_completion(self.selection_for(return_type.of_type, step), not_null)
            if isinstance(return_type.of_type, GraphQLList):
                return self.list_completer(return_type.of_type, step, not_null, not_null)
            inner = self.completer(return_type.of_type, step, not_null)

            def complete_non_null(executor: "CompiledExecutor", path: Path, result: Any) -> Any:
                completed = inner(executor, path, result)
                if completed is None:
                    raise TypeError(not_null)
                return completed

            return complete_non_null
        if is_leaf_type(return_type):
            coerce = leaf_completion(return_type, None)
            return lambda _executor, _path, result: coerce(result)
        if isinstance(return_type, GraphQLList):
            return self.list_completer(return_type, step, not_null, None)
        if isinstance(return_type, GraphQLObjectType):
            return object_completion(self.selection_for(return_type, step), None)
        raise Unsupported(f"abstract type {return_type}")

    def list_completer(
        self, list_type: GraphQLList[Any], step: Step, not_null: str, list_not_null: str | None
    ) -> Complete:
        """complete_value for a list type, wrapped in a non-null one when `list_not_null` says
        what its null raises: one function, as a page has thousands of lists (its families'
        carers, their children)."""
        item_type = list_type.of_type
        named = item_type.of_type if isinstance(item_type, GraphQLNonNull) else item_type
        select = None
        if isinstance(named, GraphQLObjectType):  # complete_list answers its objects by `select`
            select = self.selection_for(named, step)
            item = object_completion(select, None if named is item_type else not_null)
        else:
            item = self.completer(item_type, step, not_null)

        def complete_list(executor: "CompiledExecutor", path: Path, result: Any) -> Any:
            completed = executor.complete_list(step, list_type, item_type, item, path, result, select)
            if completed is None and list_not_null is not None:
                raise TypeError(list_not_null)
            return completed

        return complete_list

    def selection_for(self, object_type: GraphQLObjectType, step: Step) -> Select:
        """The function of the selection set of a field of an object type."""
        sub, defer_usages, _ = collect_subfields(
            self.schema,
            self.executor.fragments,
            self.executor.variable_values,
            self.executor.operation,
            object_type,
            step.details,
            self.executor.hide_suggestions,
        )
        if defer_usages:
            raise Unsupported("defer")
        return self.selection(object_type, sub)


def object_completion(select: Select, not_null: str | None) -> Complete:
    """complete_value for an object type (wrapped in a non-null one when `not_null` says what a
    null raises): its selection set's function, called on a value."""

    def complete_object(executor: "CompiledExecutor", path: Path, result: Any) -> Any:
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            if not_null is not None:
                raise TypeError(not_null)
            return None
        return select(executor, result, path)

    return complete_object


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
            result = plan.select(self, self.root_value, None)
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

    # What the selection sets' code (schema/codegen.py) hands over, as graphql-core's
    # execute_fields and execute_field do it.

    def deny(self, step: Step, path: Path | None) -> None:
        """The guard's denial of a field, recorded at its path (authz.guard.Denials)."""
        self._denials.deny_at(new_tuple(Path, (path, step.key, step.parent_name)).as_list(), step.category)

    def call(self, step: Step, source: Any, path: Path | None, arguments: dict[str, Any] | None) -> Any:
        """A resolver called as graphql-core calls it, with its info (and its arguments)."""
        info = self.resolve_info(step, new_tuple(Path, (path, step.key, step.parent_name)))
        if arguments:
            return step.resolve(source, info, **arguments)
        return step.resolve(source, info)

    def complete_field(
        self, step: Step, path: Path | None, value: Any, results: dict[str, Any], waiting: list[str]
    ) -> None:
        """results[key]: a field's value completed, or an awaitable of it (its key put in
        `waiting`). An attribute's value is not awaited (graphql-core's would not be awaitable)."""
        key = step.key
        field_path = new_tuple(Path, (path, key, step.parent_name))
        if step.kind != ATTRIBUTE and value.__class__ not in never_awaitable and awaitable(self.is_awaitable, value):
            results[key] = self.complete_awaitable(step, field_path, value)
            waiting.append(key)
            return
        self.complete_later(step, field_path, self._complete(step, field_path, value), results, waiting)

    def complete_later(
        self, step: Step, field_path: Path, completed: Any, results: dict[str, Any], waiting: list[str]
    ) -> None:
        """results[key]: a field's completion, awaited when it is awaitable (its key put in `waiting`)."""
        if completed.__class__ not in never_awaitable and awaitable(self.is_awaitable, completed):
            results[step.key] = self.await_completed(step, field_path, completed)
            waiting.append(step.key)
        else:
            results[step.key] = completed

    def fail(
        self, error: Exception, step: Step, path: Path | None, results: dict[str, Any], waiting: list[str]
    ) -> None:
        """A field's error, located at its path; raised on (the object's awaited fields left to
        settle) when the field is non-null, as graphql-core propagates it to the nullable parent."""
        try:
            field_path = new_tuple(Path, (path, step.key, step.parent_name))
            self.handle_field_error(error, step.field_def.type, step.details, field_path)
        except Exception:
            if waiting:
                self.settle_in_background([results[key] for key in waiting])
            raise

    async def gather(self, results: dict[str, Any], waiting: list[str]) -> dict[str, Any]:
        """The object's results, its awaited fields in."""
        if len(waiting) == 1:
            results[waiting[0]] = await results[waiting[0]]
        else:
            awaited = await gather_with_cancel(*(results[key] for key in waiting))
            results.update(zip(waiting, awaited, strict=True))
        return results

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
        select: Select | None,
    ) -> Any:
        """graphql-core's complete_list_value and complete_iterable_value for a list; for a list
        of objects (`select`: their selection set's), an object is answered by it directly."""
        if result.__class__ is not list:
            if isinstance(result, Exception):
                raise result
            if result is None or result is Undefined:
                return None
            # anything else: graphql-core completes it
            info = self.build_resolve_info(step.field_def, step.nodes, step.parent_type, path)
            return self.complete_value(list_type, step.details, info, path, result, None)
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        append = completed_results.append
        waiting: list[int] = []
        try:
            for index, value in enumerate(result):
                item_path = new_tuple(Path, (path, index, None))
                if value.__class__ in never_awaitable:
                    is_object = select is not None and value is not None and value is not Undefined
                elif awaitable(is_awaitable, value):
                    append(self.complete_awaitable_item(step, item_type, item, item_path, value))
                    waiting.append(index)
                    continue
                else:
                    is_object = False
                try:
                    completed = select(self, value, item_path) if is_object else item(self, item_path, value)  # type: ignore[misc]
                    if completed.__class__ not in never_awaitable and awaitable(is_awaitable, completed):
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
