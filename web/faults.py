"""Whatever fails, the client gets API.md's JSON envelope with a code and a request id.

`FaultBarrier` sits inside the security headers and around the host check and every route. It gives each request
its id (`scope["state"]["request_id"]`, also sent as `X-Request-Id`) and turns an exception that
escaped the app (the database failing while a request is authenticated, a commit that fails)
into:
- `UNAVAILABLE`, HTTP 503 with `Retry-After`, when the database did not answer, refused writes
  or a lock wait ran out (`models.db.unavailable`): nothing was written, the client may retry;
  except when the connection broke during COMMIT, said with `"outcome": "UNKNOWN"`;
- otherwise `INTERNAL`, HTTP 500 with the request id, logged with its traceback, and
  `Connection: close`, since the app is in a state nobody planned for.
A framework's own plain-text error (an unknown path or host, a wrong method) is sent as the
same envelope. If the response had already started, nothing can be said any more: the exception propagates and
the server aborts the connection, which the client sees as a failed request, never a success.
"""

import logging
import uuid

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from errors import Code
from models.db import CommitUncertain, loggable, unavailable

logger = logging.getLogger("estart.faults")

PLAIN_STATUS_CODES = {404: Code.NOT_FOUND, 429: Code.RATE_LIMITED, 503: Code.UNAVAILABLE}
PLAIN_MESSAGES = {
    400: "The request was refused",
    404: "Not found",
    405: "Method not allowed",
    503: "The service is unavailable; try again shortly",
}
UNCERTAIN_MESSAGE = (
    "The database did not confirm the write: it may or may not have been applied. "
    "Retry with the same Idempotency-Key to find out"
)
UNAVAILABLE_MESSAGE = "The database is unavailable; nothing was written. Try again shortly"


def envelope(code: Code, message: str, request_id: str, **extensions: str) -> bytes:
    error = {"message": message, "extensions": {"code": code.value, "requestId": request_id, **extensions}}
    return orjson.dumps({"data": None, "errors": [error]})


def request_id_of(scope: Scope) -> str:
    state = scope.setdefault("state", {})
    if "request_id" not in state:
        state["request_id"] = uuid.uuid4().hex[:16]
    return str(state["request_id"])


class FaultBarrier:
    def __init__(self, app: ASGIApp, retry_after_seconds: int = 2) -> None:
        self.app = app
        self.retry_after = str(retry_after_seconds).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        started = completed = False
        plain_error: Message | None = None  # a framework's text/plain error, to be sent as JSON

        async def send_tracked(message: Message) -> None:
            nonlocal started, completed, plain_error
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                completed = True
            if message["type"] == "http.response.start":
                started = True
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
                content_type = dict(message["headers"]).get(b"content-type", b"")
                if message["status"] >= 400 and not content_type.startswith(b"application/json"):
                    plain_error = message  # Starlette's 404 and 405, the host check's 400...
                    return
            elif plain_error is not None:
                if message.get("more_body", False):
                    return
                status = plain_error["status"]
                code = PLAIN_STATUS_CODES.get(status, Code.INTERNAL if status >= 500 else Code.BAD_USER_INPUT)
                body = envelope(code, PLAIN_MESSAGES.get(status, "The request was refused"), request_id)
                headers = [
                    (name, value)
                    for name, value in plain_error["headers"]
                    if name.lower() not in {b"content-type", b"content-length"}
                ]
                await self._respond(send, status, body, headers)
                return
            await send(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:
            if completed:  # the client has its whole answer; the connection stays usable
                logger.error("request %s failed after its response was sent", request_id, exc_info=loggable(exc))
                return
            if started:
                logger.error("request %s failed after its response started", request_id, exc_info=loggable(exc))
                raise
            if isinstance(exc, CommitUncertain):
                logger.warning("request %s: the database did not confirm a commit", request_id)
                body = envelope(Code.UNAVAILABLE, UNCERTAIN_MESSAGE, request_id, outcome="UNKNOWN")
                await self._respond(send_tracked, 503, body, [(b"retry-after", self.retry_after)])
            elif unavailable(exc):
                logger.warning("request %s: database unavailable (%s)", request_id, type(exc).__name__)
                body = envelope(Code.UNAVAILABLE, UNAVAILABLE_MESSAGE, request_id)
                await self._respond(send_tracked, 503, body, [(b"retry-after", self.retry_after)])
            else:
                logger.error("request %s failed", request_id, exc_info=loggable(exc))
                body = envelope(Code.INTERNAL, "Internal error", request_id)
                await self._respond(send_tracked, 500, body, [(b"connection", b"close")])

    @staticmethod
    async def _respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
