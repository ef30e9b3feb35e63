"""The HTTP edge of /graphql: what a request must look like before GraphQL sees it, and the
headers every response carries.

- POST bodies are JSON only: form-encoded and multipart bodies are what a cross-site form can
  send without a preflight, so refusing them closes CSRF by simple forms.
- A body is read up to a size limit, never further, and a JSON array (batched operations) is
  refused: one request, one operation, one set of limits.
- The body is parsed once, here, with its nesting bounded; the view takes the parsed request from
  the scope (`parsed_request`), so no second parser can recurse into a deep body.
- Responses are not cached, not sniffed and not framed.
- Each bearer token and each client address may send so many requests a minute (429).
"""

import logging
from collections.abc import Callable
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.sessions import token_hash
from errors import Code
from web.per_minute import PerMinute

logger = logging.getLogger("estart.transport")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]


# Nesting of a request body: the envelope, the variables, an input and its lists and objects
# need about six levels; orjson alone would accept 1024, which Python's json and recursive
# walkers of the values cannot follow (issue 10: a RecursionError and a 500).
MAX_JSON_DEPTH = 32
PARSED_REQUEST = "graphql_request"  # the scope state key of the parsed body


def _error(status: int, code: Code, message: str) -> tuple[int, bytes]:
    return status, orjson.dumps({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]})


async def send_error(send: Send, status: int, code: Code, message: str) -> None:
    await respond(send, *_error(status, code, message))


def parsed_request(scope: Scope) -> dict[str, Any] | None:
    """The GraphQL request GraphQLRequestGuard read and checked, if it did."""
    request = scope.get("state", {}).get(PARSED_REQUEST)
    return request if isinstance(request, dict) else None


def _nested_deeper_than(value: object, limit: int) -> bool:
    pending = [(value, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _envelope_problem(request: object) -> str | None:
    """What is wrong with a GraphQL request body's shape, if anything."""
    if not isinstance(request, dict):
        return "The body must be a JSON object with a query"
    if not isinstance(request.get("query"), str) or not request["query"].strip():
        return "query must be a non-empty string"
    for name, kind in (("variables", dict), ("operationName", str), ("extensions", dict)):
        if request.get(name) is not None and not isinstance(request[name], kind):
            return f"{name} must be {'an object' if kind is dict else 'a string'}"
    return None


class GraphQLRequestGuard:
    """Checks content type, size and shape of GraphQL POST bodies before the view reads them."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            if scope.get("type") == "http" and b"query=" in scope.get("query_string", b""):
                await self._reject(send, *_error(400, Code.BAD_USER_INPUT, "Send GraphQL operations by POST"))
                return
            await self.app(scope, receive, send)  # GraphiQL's page, when enabled
            return
        headers = Headers(scope=scope)
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            await self._reject(send, *_error(415, Code.BAD_USER_INPUT, "Send GraphQL requests as application/json"))
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await self._reject(send, *_error(413, Code.QUERY_TOO_COMPLEX, "The request body is too large"))
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body_bytes:
                await self._reject(send, *_error(413, Code.QUERY_TOO_COMPLEX, "The request body is too large"))
                return
        try:
            request = orjson.loads(body)  # no Python recursion; it refuses depth beyond 1024 itself
        except orjson.JSONDecodeError:
            await self._reject(send, *_error(400, Code.BAD_USER_INPUT, "The body is not valid JSON"))
            return
        if _nested_deeper_than(request, MAX_JSON_DEPTH):
            too_deep = f"The body is nested deeper than {MAX_JSON_DEPTH} levels"
            await self._reject(send, *_error(400, Code.BAD_USER_INPUT, too_deep))
            return
        if isinstance(request, list):
            await self._reject(send, *_error(400, Code.BAD_USER_INPUT, "Batched operations are not accepted"))
            return
        problem = _envelope_problem(request)
        if problem is not None:
            await self._reject(send, *_error(400, Code.BAD_USER_INPUT, problem))
            return
        scope.setdefault("state", {})[PARSED_REQUEST] = request
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(send: Send, status: int, body: bytes) -> None:
        await respond(send, status, body)


async def respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimit:
    """GraphQL requests a minute per bearer token and per client address, in this process.

    Counted per calendar minute, before the body is read or the token looked up, so a flood
    costs a dictionary lookup per request. A token is keyed by its hash, never held as such."""

    def __init__(self, app: ASGIApp, per_token: int, per_address: int, address_of: Callable[[Scope], str]) -> None:
        self.app = app
        self.limits = {"token": per_token, "address": per_address}
        self.address_of = address_of
        self.counts = PerMinute()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        keys = [("address", self.address_of(scope))]
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            keys.append(("token", token_hash(token.strip())))
        for key in keys:
            count = self.counts.add(key)
            if count > self.limits[key[0]]:
                if count == self.limits[key[0]] + 1:  # once a minute per key, not per refused request
                    logger.warning("excess_rate_limit_exceeded %s (%d a minute)", key[0], self.limits[key[0]])
                retry_after = str(self.counts.seconds_left()).encode()
                status, body = _error(429, Code.RATE_LIMITED, "Too many requests; try again later")
                await respond(send, status, body, [(b"retry-after", retry_after)])
                return
        await self.app(scope, receive, send)
