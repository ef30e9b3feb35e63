"""The GraphQL schema: Strawberry types, inputs and enums, one module per aggregate, each field's
data category declared beside it (fields.py); Query and Mutation (query.py, mutation.py); the
extensions (limits, error shaping); and here, assembly, which installs the guard on every record
field and on the root fields returning a type that inherits its guard. Runs no SQL and commits
nothing: each field hands typed inputs (resolvers/inputs.py) to a resolver and shows the record
it returns (resolvers/records.py and its like) under the GraphQL type it names."""

from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLField, GraphQLObjectType
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext
from strawberry.types.field import StrawberryField

from authz.categories import FieldCategory
from authz.guard import TypeKind, install_guards
from config import Limits
from schema.compiled import execution_class
from schema.extensions import AuthenticationGate, ErrorShaping, OperationFacts, shape_errors
from schema.fields import CATEGORY, kind_of
from schema.limits import query_limits
from schema.mutation import Mutation
from schema.query import Query
from web.tracing import OperationSpan

DEFINITION = "strawberry-definition"
DEFAULT_LIMITS = Limits()


class EstartSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        context = None if execution_context is None else execution_context.context
        shape_errors(errors, getattr(context, "request_id", "-"))


def _describe(gql_field: GraphQLField) -> tuple[FieldCategory | None, str | None]:
    definition = (gql_field.extensions or {}).get(DEFINITION)
    if not isinstance(definition, StrawberryField):
        return None, None
    category = definition.metadata.get(CATEGORY) if definition.metadata else None
    attribute = definition.python_name if definition.base_resolver is None else None
    return category, attribute


def _kind(gql_type: GraphQLObjectType) -> TypeKind | None:
    definition = (gql_type.extensions or {}).get(DEFINITION)
    origin = getattr(definition, "origin", None)
    return kind_of(origin) if isinstance(origin, type) else None


def build_schema(
    limits: Limits = DEFAULT_LIMITS, *, guards: bool = True, traced: bool = False, **kwargs: Any
) -> EstartSchema:
    """The service's schema, every record field guarded by its category, every other object
    type declared public or checked by its root fields (schema/fields.py).

    `guards=False` builds the same schema with no field guards installed: it answers every field
    to anyone logged in. It exists only so bench/ can measure what the guards cost. The server
    never passes it (server.py calls `build_schema(config.limits)`), and no setting, environment
    variable or request reaches this argument: only code that imports this function can ask."""
    schema = _assemble(limits, traced=traced, **kwargs)
    if not guards:
        return schema
    install_guards(schema._schema, _describe, _kind)
    return schema


def _assemble(limits: Limits = DEFAULT_LIMITS, *, traced: bool = False, **kwargs: Any) -> EstartSchema:
    """The schema's types and extensions, before any guard is installed (see build_schema);
    `traced`: a span for each operation (web/tracing.py, when OpenTelemetry is switched on)."""
    return EstartSchema(
        query=Query,
        mutation=Mutation,
        extensions=[
            *([OperationSpan] if traced else []),
            OperationFacts,
            AuthenticationGate,
            query_limits(limits),
            ErrorShaping,
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
        **{"execution_context_class": execution_class(), **kwargs},
    )


def printed_sdl() -> str:
    """The schema's SDL as `estart export-schema` prints it and schema.graphql holds it."""
    return build_schema().as_str() + "\n"
