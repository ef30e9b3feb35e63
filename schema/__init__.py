"""Schema assembly: types, extensions, and the field guard installed on every record field."""

from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLField
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.types import ExecutionContext
from strawberry.types.field import StrawberryField

from authz.categories import FieldCategory
from authz.guard import install_guards
from schema.extensions import AuthenticationGate, ErrorShaping, log_unexpected
from schema.fields import CATEGORY, RECORD_TYPES
from schema.mutation import Mutation
from schema.query import Query

DEFINITION = "strawberry-definition"


class EstartSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        context = None if execution_context is None else execution_context.context
        log_unexpected(errors, getattr(context, "request_id", "-"))


def _describe(gql_field: GraphQLField) -> tuple[FieldCategory | None, str | None]:
    definition = (gql_field.extensions or {}).get(DEFINITION)
    if not isinstance(definition, StrawberryField):
        return None, None
    category = definition.metadata.get(CATEGORY) if definition.metadata else None
    attribute = definition.python_name if definition.base_resolver is None else None
    return category, attribute


def build_schema(**kwargs: Any) -> EstartSchema:
    """The service's schema, every record field guarded by its category."""
    schema = _assemble(**kwargs)
    record_names = [cls.__strawberry_definition__.name for cls in RECORD_TYPES]
    install_guards(schema._schema, record_names, _describe)
    return schema


def _assemble(**kwargs: Any) -> EstartSchema:
    """The same schema with no field guards. Only bench/ calls this, to measure what the
    guards cost; no configuration or client input can reach it."""
    return EstartSchema(
        query=Query,
        mutation=Mutation,
        extensions=[
            AuthenticationGate,
            ErrorShaping,
            lambda: ParserCache(maxsize=512),
            lambda: ValidationCache(maxsize=512),
        ],
        **kwargs,
    )
