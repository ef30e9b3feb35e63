"""The code of a planned selection set (issue 17): one Python function per selection set of a
plan, written and compiled once when the plan is built, that answers the set's fields in
document order with each field's read, guard decision and usual leaf completion written out.

It replaces a loop over the set's Steps that dispatched on each step's kind, looked its
attributes up and called a completion per leaf: on a page of 1,000 families without secondary
fields (~35,000 fields) that loop was ~70% of the request's CPU (cProfile). Written out, a
field of a record costs an attribute read, a set-membership test and a class check.

A function reads (`executor`, `source`, `path`: the object's) and returns the object's
results, or an awaitable of them when a field is awaited. What its lines do not cover
inline it hands to the executor (schema/compiled.py), which does it as graphql-core does:

- `executor.deny(step, path)`: records the guard's denial at the field's path; None
- `executor.call(step, source, path, arguments)`: a resolver that takes arguments, or that
  Strawberry's wrapper calls
- `executor.complete_field(step, path, value, results, waiting)`: an awaitable, or a leaf of a
  class the inline check does not expect; sets results[key]
- `executor.complete_later(step, path, completed, results, waiting)`: an object or a list whose
  completion is awaitable
- `executor.fail(error, step, path, results, waiting)`: a field's error, located and
  propagated to the nearest nullable parent; None
- `executor.gather(results, waiting)`: the object's results once its awaited fields are in

Each function keeps its source (`Selection.source`; a plan's are `Plan.sources`), which is
what a traceback's `<plan: select_Type>` line numbers index.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from keyword import iskeyword
from typing import Any

from graphql import GraphQLInt, GraphQLLeafType
from graphql.pyutils import Path

from authz.guard import readable
from schema.steps import (
    ATTRIBUTE,
    FAST_LEAVES,
    INT_MAX,
    INT_MIN,
    TYPENAME,
    Step,
    enum_names,
    iso_date,
    iso_dates,
    never_awaitable,
    new_tuple,
)

Select = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True, slots=True)
class Selection:
    select: Select
    source: str


def selection(type_name: str, steps: list[Step]) -> Selection:
    """The function answering `steps`, the selection set of an object of type `type_name`."""
    writer = Writer()
    name = f"select_{type_name}"
    lines = [
        f"def {name}(executor, source, path):",
        f'    """{type_name} {{ {" ".join(step.key for step in steps)} }}"""',
        "    results = {}",
        "    waiting = []",
    ]
    guarded = [step for step in steps if step.category is not None]
    if len(guarded) > 1:
        lines.append("    reads = None")
    for index, step in enumerate(steps):
        first_guarded = bool(guarded) and step is guarded[0]
        lines += writer.field(index, step, first_guarded)
    lines += [
        "    if not waiting:",
        "        return results",
        "    return executor.gather(results, waiting)",
    ]
    source = "\n".join(lines) + "\n"
    namespace = writer.namespace
    # The text is the planner's own: GraphQL names (validated by the parser), literals by repr,
    # and the values it calls held in `namespace`, never spelled into the source.
    exec(compile(source, f"<plan: {name}>", "exec"), namespace)
    select: Select = namespace[name]
    return Selection(select, source)


class Writer:
    """The lines of one selection set's fields, and the names they read (`namespace`)."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            "readable": readable,
            "new_tuple": new_tuple,
            "Path": Path,
            "never_awaitable": never_awaitable,
        }

    def name(self, prefix: str, index: int, value: Any) -> str:
        """A global of the function, holding `value`."""
        name = f"{prefix}_{index}"
        self.namespace[name] = value
        return name

    def field(self, index: int, step: Step, first_guarded: bool) -> list[str]:
        """The lines answering one field, in a try of its own: its arguments, then the guard's
        decision (`readable` read at the first guarded field and, if that failed, again at the
        next, as the loop it replaces did), then the read and the completion."""
        key = repr(step.key)
        if step.kind == TYPENAME:
            return [f"    results[{key}] = {step.typename!r}"]
        step_name = self.name("step", index, step)
        lines = [f"    # {step.key}: {describe(step)}", "    try:"]
        body = [] if not step.has_arguments else [f"arguments = executor.arguments_of({step_name})"]
        answer = [*self.read_lines(index, step), *self.complete(index, step)]
        if step.leaf is None or (step.direct is not None and step.direct.info is not None):
            answer.insert(0, f"field_path = new_tuple(Path, (path, {key}, {step.parent_name!r}))")
        if step.category is None:
            body += answer
        else:
            denied = f"executor.deny({step_name}, path)"
            body += [
                "reads = readable(source)" if first_guarded else "if reads is None: reads = readable(source)",
                f"if {self.name('category', index, step.category)} in reads:",
                *indent(answer),
                "else:",
                f"    results[{key}] = {denied}"
                if step.nullable
                else f"    executor.complete_field({step_name}, path, {denied}, results, waiting)",
            ]
        lines += indent(body, 2)
        lines += [
            "    except Exception as error:",
            f"        results[{key}] = executor.fail(error, {step_name}, path, results, waiting)",
        ]
        return lines

    def read_lines(self, index: int, step: Step) -> list[str]:
        """Lines setting `value`: the record's preloaded attribute when it holds the answer (the
        resolver would return it), else the read."""
        if not step.preloaded:
            return [f"value = {self.read(index, step)}"]
        return [
            f"value = {self.read_attribute(step.preloaded)}",
            "if value is None:",
            f"    value = {self.read(index, step)}",
        ]

    @staticmethod
    def read_attribute(attribute: str) -> str:
        if attribute.isidentifier() and not iskeyword(attribute) and not attribute.startswith("__"):
            return f"source.{attribute}"
        return f"getattr(source, {attribute!r})"

    def read(self, index: int, step: Step) -> str:
        """The expression reading the field's value from `source`."""
        if step.kind == ATTRIBUTE:
            return self.read_attribute(step.attribute)
        direct = step.direct
        if direct is not None:
            arguments = ["source"] * direct.positional + [f"{name}=source" for name in direct.keywords]
            if direct.info is not None:
                make_info = self.name("info", index, direct.make_info)
                field = self.name("field", index, direct.definition)
                raw_info = f"executor.resolve_info(step_{index}, field_path)"
                arguments.append(f"{direct.info}={make_info}(_raw_info={raw_info}, _field={field})")
            return f"{self.name('resolve', index, direct.function)}({', '.join(arguments)})"
        return f"executor.call(step_{index}, source, path, {'arguments' if step.has_arguments else 'None'})"

    def complete(self, index: int, step: Step) -> list[str]:
        """Lines setting results[key] from `value`: the usual classes of a leaf inline, and
        anything else as the executor completes it (an attribute's leaf by its completion:
        an attribute is not awaited, as graphql-core would not find it awaitable)."""
        key = repr(step.key)
        if step.leaf is None:
            return self.complete_object(index, step)
        if step.kind == ATTRIBUTE:
            slow = f"results[{key}] = {self.name('coerce', index, step.coerce)}(value)"
        else:
            slow = f"executor.complete_field(step_{index}, path, value, results, waiting)"
        fast = self.fast_leaf(index, step.leaf)
        if fast is None:
            return [slow]
        condition, expression = fast
        lines = [f"if {condition}:", f"    results[{key}] = {expression}"]
        if step.nullable:
            lines += ["elif value is None:", f"    results[{key}] = None"]
        return [*lines, "else:", f"    {slow}"]

    def complete_object(self, index: int, step: Step) -> list[str]:
        """Lines setting results[key] from `value`, an object or a list: by the field's
        completion when the value is not awaitable, as the executor's complete_field does."""
        key = repr(step.key)
        completed = [
            f"completed = {self.name('complete', index, step.complete)}(executor, field_path, value)",
            "if completed.__class__ in never_awaitable:",
            f"    results[{key}] = completed",
            "else:",
            f"    executor.complete_later(step_{index}, field_path, completed, results, waiting)",
        ]
        if step.kind == ATTRIBUTE:
            return completed
        return [
            "if value.__class__ in never_awaitable:",
            *indent(completed),
            "else:",
            f"    executor.complete_field(step_{index}, path, value, results, waiting)",
        ]

    def fast_leaf(self, index: int, leaf_type: GraphQLLeafType) -> tuple[str, str] | None:
        """(condition, expression): for a value of the class the leaf type usually gets, its
        completion, as graphql-core's would give it (steps.leaf_completion checks the same)."""
        exact = FAST_LEAVES.get(id(leaf_type))
        if exact is not None:
            return f"value.__class__ is {exact.__name__}", "value"
        if leaf_type is GraphQLInt:
            return f"value.__class__ is int and {INT_MIN} <= value <= {INT_MAX}", "value"
        members = enum_names(leaf_type)
        if members is not None:
            enum, names = self.name("enum", index, members[0]), self.name("names", index, members[1])
            return f"value.__class__ is {enum} and value in {names}", f"{names}[value]"
        if is_isoformat(leaf_type):  # a date's remembered (steps.iso_dates: never empty)
            self.namespace.update(date=date, datetime=datetime, iso_dates=iso_dates, iso_date=iso_date)
            return (
                "value.__class__ is date or value.__class__ is datetime",
                "(iso_dates.get(value) or iso_date(value)) if value.__class__ is date else value.isoformat()",
            )
        return None


def is_isoformat(leaf_type: GraphQLLeafType) -> bool:
    """Whether the scalar's output is the value's isoformat() (Strawberry's Date and DateTime)."""
    return repr(getattr(leaf_type, "coerce_output_value", None)) == "operator.methodcaller('isoformat')"


def describe(step: Step) -> str:
    """What a field's comment in the generated source says of it."""
    if step.kind == ATTRIBUTE:
        how = f"attribute {step.attribute}"
    else:
        function = step.resolve if step.direct is None else step.direct.function
        how = f"resolver {getattr(function, '__qualname__', function)}"
    guard = "" if step.category is None else f", guarded: {step.category}"
    return f"{step.parent_name}.{step.info_head[0]}, {how}{guard}"


def indent(lines: list[str], levels: int = 1) -> list[str]:
    return [" " * 4 * levels + line for line in lines]
