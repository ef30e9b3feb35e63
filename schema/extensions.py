"""Execution hooks: who may run what, and how errors are shaped for clients."""

import logging
from collections.abc import AsyncIterator, Iterator

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType
from strawberry.extensions import SchemaExtension

from resolvers.context import Context
from resolvers.errors import ServiceError

logger = logging.getLogger("estart.graphql")

PUBLIC_FIELDS = {"login", "__typename"}


class AuthenticationGate(SchemaExtension):
    """A caller without a valid token may run `login` and nothing else, not even validation
    of another document (its messages would describe the schema)."""

    def on_validate(self) -> Iterator[None]:
        context: Context = self.execution_context.context
        if context.principal is None and not self._is_login_only():
            raise GraphQLError("Log in first", extensions={"code": "UNAUTHENTICATED"})
        yield

    def _is_login_only(self) -> bool:
        document = self.execution_context.graphql_document
        if document is None:
            return False
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                return False
            if definition.operation is not OperationType.MUTATION:
                return False
            for selection in definition.selection_set.selections:
                if not isinstance(selection, FieldNode) or selection.name.value not in PUBLIC_FIELDS:
                    return False
        return True


class ErrorShaping(SchemaExtension):
    """Adds the request's field denials as FORBIDDEN errors, gives every error a code, masks
    unexpected failures as INTERNAL with the request id the server log carries, and flushes
    the audit events of reads."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        await self.execution_context.context.audit.flush_reads()

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None:
            return
        context: Context = self.execution_context.context
        errors = [self._shaped(error, context) for error in result.errors or ()]
        errors.extend(
            GraphQLError(
                f"Not allowed to read {category.name} data here",
                path=path,
                extensions={"code": "FORBIDDEN", "category": category.name},
            )
            for path, category in context.denials.entries
        )
        result.errors = errors or None

    @staticmethod
    def _shaped(error: GraphQLError, context: Context) -> GraphQLError:
        if "code" in (error.extensions or {}):
            return error
        if error.original_error is None:  # a document that does not parse or validate
            error.extensions = {"code": "BAD_USER_INPUT"}
            return error
        return GraphQLError(
            "Internal error",
            path=error.path,
            extensions={"code": "INTERNAL", "requestId": context.request_id},
        )


def log_unexpected(errors: list[GraphQLError], request_id: str) -> None:
    """Only unexpected failures are logged with a traceback; denials and coded errors are
    normal outcomes."""
    for error in errors:
        original = error.original_error
        if original is None or isinstance(original, ServiceError) or "code" in (error.extensions or {}):
            continue
        logger.error("request %s failed at %s", request_id, error.path, exc_info=original)
