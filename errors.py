"""The error vocabulary of API.md: every `extensions.code` the service sends is a `Code`, and
every expected failure a resolver raises is a `ServiceError` carrying one."""

from enum import StrEnum
from typing import Any


class Code(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    RATE_LIMITED = "RATE_LIMITED"
    TIMEOUT = "TIMEOUT"
    UNAVAILABLE = "UNAVAILABLE"
    INTERNAL = "INTERNAL"


# extensions.reason of the FORBIDDEN answer to a session whose password an administrator set.
PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"


class ServiceError(Exception):
    """An expected, coded outcome: shown to the client as is, never logged as a crash."""

    code = Code.INTERNAL

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code.value, **extensions}


class Unauthenticated(ServiceError):
    code = Code.UNAUTHENTICATED


class Forbidden(ServiceError):
    code = Code.FORBIDDEN

    def __init__(self, category: str | None = None, message: str = "Not allowed") -> None:
        if category is None:
            super().__init__(message)
        else:
            super().__init__(message, category=category)


class Withheld(Forbidden):
    """A mutation made its write, but returns data the caller may not read (authz.guard.Payload):
    FORBIDDEN for the result, not a refused write."""


class BadUserInput(ServiceError):
    code = Code.BAD_USER_INPUT

    def __init__(self, message: str, field: str | None = None) -> None:
        if field is None:
            super().__init__(message)
        else:
            super().__init__(message, field=field)


class NotFound(ServiceError):
    code = Code.NOT_FOUND

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(message)


class Conflict(ServiceError):
    code = Code.CONFLICT


class QueryTooComplex(ServiceError):
    code = Code.QUERY_TOO_COMPLEX
