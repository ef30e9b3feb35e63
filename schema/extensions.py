"""Execution hooks: who may run what, and how errors are shaped for clients."""

import logging
import re
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from graphql import (
    FieldNode,
    GraphQLError,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    VariableDefinitionNode,
    VariableNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType as StrawberryOperation

from auth.authenticator import LOCKED
from errors import PASSWORD_CHANGE_REQUIRED, Code, ServiceError, Withheld
from models.db import loggable, unavailable
from resolvers.context import Context
from resolvers.transaction import PENDING as PENDING_WRITES
from web.observe import request_facts

logger = logging.getLogger("estart.graphql")

SETTING_FIELDS = {"id": None, "code": None, "name": None, "__typename": None}
ROLE_FIELDS = {"role": None, "setting": SETTING_FIELDS, "__typename": None}
USER_FIELDS = {"id": None, "username": None, "displayName": None, "roles": ROLE_FIELDS, "__typename": None}
SESSION_FIELDS = {"token": None, "expiresAt": None, "user": USER_FIELDS, "mustChangePassword": None, "__typename": None}
# What a session whose password an administrator set may run until it is changed.
PASSWORD_CHANGE_FIELDS = {"changePassword", "logout", "me", "__typename"}
PUBLIC_SELECTION: dict[str, Any] = {"login": SESSION_FIELDS, "__typename": None}
LOGIN_ARGUMENTS = {"username", "password"}
SUGGESTION = re.compile(r"\s*Did you mean .*\?$")
# graphql-core quotes the value it refused ("String cannot represent a non string value: [...]",
# "Expected value of type 'String!', found 123"); a password may be that value, so it is cut.
QUOTED_VALUE = re.compile(r"(cannot represent [^:;]*value): [^;]*|(got invalid value) [^;]*|(\b[Ff]ound):? [^;]*")


def without_values(message: str) -> str:
    return QUOTED_VALUE.sub(lambda match: match[1] or match[2] or f"{match[3]} another value", message)


VARIABLE_VALUE = "Variable '$"  # graphql-core's coercion of variable values, before execution
STATEMENT_CANCELLED = "57014"  # PostgreSQL's query_canceled: statement_timeout ran out


class AuthenticationGate(SchemaExtension):
    """A caller without a valid token may run `login` and nothing else, not even validation
    of another document (its messages would describe the schema)."""

    def on_validate(self) -> Iterator[None]:
        context: Context = self.execution_context.context
        if context.principal is None and not self._is_login_only():
            raise GraphQLError(
                "Log in first", extensions={"code": Code.UNAUTHENTICATED, **context.refusal_extensions()}
            )
        if context.principal is not None and context.principal.must_change_password and not self._changes_password():
            raise GraphQLError(
                "Change your password first (changePassword)",
                extensions={"code": Code.FORBIDDEN, "reason": PASSWORD_CHANGE_REQUIRED},
            )
        yield

    def _changes_password(self) -> bool:
        """Every operation selects only root fields a session must still reach to change its
        password; no fragment can add others."""
        document = self.execution_context.graphql_document
        return document is not None and all(
            isinstance(definition, OperationDefinitionNode)
            and all(
                isinstance(selection, FieldNode) and selection.name.value in PASSWORD_CHANGE_FIELDS
                for selection in definition.selection_set.selections
            )
            for definition in document.definitions
        )

    def _is_login_only(self) -> bool:
        document = self.execution_context.graphql_document
        if document is None:
            return False
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                return False
            if definition.operation is not OperationType.MUTATION or definition.directives:
                return False
            if not all(_string_variable(variable) for variable in definition.variable_definitions or ()):
                return False
            if not _only(definition.selection_set, PUBLIC_SELECTION):
                return False
        return True


def _string_variable(variable: VariableDefinitionNode) -> bool:
    """`$name: String` or `$name: String!`, nothing more: a variable's type, default value or
    directives would otherwise be validated, and the messages name types and fields."""
    named = variable.type.type if isinstance(variable.type, NonNullTypeNode) else variable.type
    return (
        isinstance(named, NamedTypeNode)
        and named.name.value == "String"
        and variable.default_value is None
        and not variable.directives
    )


def _only(selection_set: SelectionSetNode | None, allowed: dict[str, Any]) -> bool:
    """The selection names only allowed fields, with no fragments, directives or arguments but
    login's two strings: what an anonymous caller may write is fixed, so validation messages
    cannot be used to probe the schema."""
    if selection_set is None:
        return True
    for selection in selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.name.value not in allowed or selection.directives:
            return False
        arguments = selection.arguments or ()
        allowed_arguments = LOGIN_ARGUMENTS if selection.name.value == "login" else set()
        if any(
            argument.name.value not in allowed_arguments
            or not isinstance(argument.value, StringValueNode | VariableNode)
            for argument in arguments
        ):
            return False
        inner = allowed[selection.name.value]
        if (inner is None) != (selection.selection_set is None) or not _only(selection.selection_set, inner or {}):
            return False
    return True


# (user, mutation) -> minute of the last audited denial: at most one event a minute each, with
# the number of denials since, so a flood of refused writes cannot fill the audit table.
_denials_seen: dict[tuple[int, str], tuple[int, int]] = {}
DENIALS_REMEMBERED = 10_000


def audit_denied_mutations(context: Context, errors: Iterable[GraphQLError]) -> None:
    principal = context.principal
    if principal is None:
        return
    minute = int(time.time() // 60)
    for error in errors:
        if (error.extensions or {}).get("code") != Code.FORBIDDEN or not error.path or len(error.path) != 1:
            continue
        if isinstance(error.original_error, Withheld):  # the write was made; only its result is withheld
            continue
        key = (principal.user_id, str(error.path[0]))
        last_minute, count = _denials_seen.get(key, (None, 0))
        if last_minute == minute:
            _denials_seen[key] = (minute, count + 1)
            continue
        if len(_denials_seen) >= DENIALS_REMEMBERED:
            _denials_seen.clear()
        _denials_seen[key] = (minute, 0)
        category = (error.extensions or {}).get("category")
        changes = {"mutation": key[1], "category": category, "denied_since_last": count + 1}
        context.audit.read("mutation.denied", "Mutation", None, changes=changes)


class ErrorShaping(SchemaExtension):
    """Adds the request's field denials as FORBIDDEN errors after execution, and flushes the
    audit events of reads."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        context: Context = self.execution_context.context
        result = self.execution_context.result
        if self.execution_context.operation_type is StrawberryOperation.MUTATION and result is not None:
            audit_denied_mutations(context, result.errors or ())
        await context.audit.flush_reads(commit=not context.session.info.get(PENDING_WRITES))

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None:
            return
        context: Context = self.execution_context.context
        errors = list(result.errors or ())
        errors.extend(
            GraphQLError(
                f"Not allowed to read {category.name} data here",
                path=path,
                extensions={"code": Code.FORBIDDEN, "category": category.name},
            )
            for path, category in context.denials.entries
        )
        result.errors = errors or None


def shape_errors(errors: list[GraphQLError], request_id: str) -> None:
    """Give every error a code, in place, once the server has logged it: parse and validation
    errors are BAD_USER_INPUT (or QUERY_TOO_COMPLEX for the parser's token limit) without
    "Did you mean" suggestions, which would rebuild a hidden schema name by name (graphql-js
    #2247); an unexpected failure becomes INTERNAL with the request id the log carries and no
    detail. Only unexpected failures are logged, with their traceback: denials and coded errors
    are normal outcomes."""
    for error in errors:
        if "code" in (error.extensions or {}):
            continue
        original = error.original_error
        if original is None or (error.path is None and error.message.startswith(VARIABLE_VALUE)):
            # the request itself is at fault (parse, validation, variable values): no resolver ran
            error.message = without_values(SUGGESTION.sub("", error.message))
            too_big = error.message.startswith("Syntax Error: Document contains more than")
            error.extensions = {"code": Code.QUERY_TOO_COMPLEX if too_big else "BAD_USER_INPUT"}
        elif getattr(getattr(original, "orig", None), "sqlstate", None) == STATEMENT_CANCELLED:
            logger.warning("request %s: a statement at %s ran past statement_timeout", request_id, error.path)
            error.message = "The request took too long and was cancelled"
            error.locations = None
            error.extensions = {"code": Code.TIMEOUT, "requestId": request_id}
        elif not isinstance(original, ServiceError) and unavailable(original):
            # the whole answer becomes UNAVAILABLE (HTTP 503) in resolvers/transaction.finish
            logger.warning(
                "request %s: database unavailable at %s (%s)", request_id, error.path, type(original).__name__
            )
            error.message = "The database is unavailable; nothing was written. Try again shortly"
            error.locations = None
            error.extensions = {"code": Code.UNAVAILABLE, "requestId": request_id}
        elif not isinstance(original, ServiceError):
            logger.error("request %s failed at %s", request_id, error.path, exc_info=loggable(original))
            error.message = "Internal error"
            error.locations = None
            error.extensions = {"code": Code.INTERNAL, "requestId": request_id}


class OperationFacts(SchemaExtension):
    """Tells the request log and the metrics (web/observe.py) who ran what and how it ended:
    the user id, the operation's name and type, the first error code, the FORBIDDEN count by
    category, a refused login. Listed first, so that it sees the errors ErrorShaping adds."""

    def on_operation(self) -> Iterator[None]:
        yield
        facts = request_facts()
        if facts is None:
            return
        execution = self.execution_context
        context: Context = execution.context
        facts["user_id"] = None if context.principal is None else context.principal.user_id
        facts["operation"] = execution.operation_name
        try:
            facts["operation_type"] = execution.operation_type.value
        except RuntimeError:  # the document did not parse
            facts["operation_type"] = "invalid"
        errors = list((execution.result.errors if execution.result else None) or ())
        codes = [str((error.extensions or {}).get("code", Code.INTERNAL)) for error in errors]
        facts["outcome"] = codes[0] if codes else "OK"
        denied: dict[str, int] = {}
        for error in errors:
            extensions = error.extensions or {}
            if extensions.get("code") == Code.FORBIDDEN:
                category = str(extensions.get("category", "NONE"))
                denied[category] = denied.get(category, 0) + 1
            elif extensions.get("code") == Code.UNAUTHENTICATED and error.path == ["login"]:
                facts["login_refused"] = "locked" if error.message == LOCKED else "bad_credentials"
        facts["denials"] = sum(denied.values())
        facts["denied_categories"] = denied
