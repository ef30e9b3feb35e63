"""The error vocabulary of API.md, mapped to `extensions.code` in one place."""

from typing import Any


class ServiceError(Exception):
    """An expected, coded outcome: shown to the client as is, never logged as a crash."""

    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(ServiceError):
    code = "UNAUTHENTICATED"


class Forbidden(ServiceError):
    code = "FORBIDDEN"

    def __init__(self, category: str | None = None, message: str = "Not allowed") -> None:
        if category is None:
            super().__init__(message)
        else:
            super().__init__(message, category=category)


class BadUserInput(ServiceError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        if field is None:
            super().__init__(message)
        else:
            super().__init__(message, field=field)


class NotFound(ServiceError):
    code = "NOT_FOUND"

    def __init__(self, message: str = "Not found") -> None:
        super().__init__(message)


class Conflict(ServiceError):
    code = "CONFLICT"


class QueryTooComplex(ServiceError):
    code = "QUERY_TOO_COMPLEX"
