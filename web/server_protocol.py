"""Slow clients: uvicorn times out an idle keep-alive connection, but not one that sends a request
slowly (headers a byte at a time hold a connection forever). The protocols here give uvicorn's
HTTP parsers a deadline: a request (head and body) must arrive whole within so many seconds of
the connection opening or of the previous response; otherwise the connection is closed. Header
size stays bounded by the parser (h11's `h11_max_incomplete_event_size`, httptools' limits).

Two parsers, one rule: httptools (C, the faster) where it is installed, h11 otherwise.
`request_deadline_protocol(seconds)` is the class for one process; with several worker
processes uvicorn imports the protocol by name in each, so `protocol_path()` names one that
reads its deadline from the environment (ESTART_HTTP_REQUEST_TIMEOUT_SECONDS), as the workers'
`server:app_from_env` reads the rest of the configuration."""

import asyncio
import functools
import importlib.util
from typing import Any, Protocol, cast

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class _Connection(Protocol):
    """What the deadline needs of the uvicorn protocol it is mixed into (h11's or httptools')."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None: ...
    def on_response_complete(self) -> None: ...
    def connection_lost(self, exc: Exception | None) -> None: ...


def httptools_available() -> bool:
    return importlib.util.find_spec("httptools") is not None


class _Deadline:
    """The timer, armed when a connection opens and after each response, disarmed once a whole
    request is in (the parser's subclass says when) and when the connection closes; `seconds`
    comes from the concrete class. Put before a uvicorn protocol in the bases."""

    seconds: float = 0.0
    deadline: asyncio.TimerHandle | None = None
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport

    def _protocol(self) -> _Connection:
        """The uvicorn protocol next in the method resolution order."""
        return cast(_Connection, super())

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # asyncio.Protocol's signature
        self._protocol().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        self._protocol().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._protocol().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(self._seconds(), self._expire)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def _expire(self) -> None:
        self.deadline = None
        if self._waiting() and not self.transport.is_closing():
            self.transport.close()

    def _seconds(self) -> float:
        return self.seconds

    def _waiting(self) -> bool:
        """Still waiting for (the rest of) a request."""
        return True


class DeadlineH11Protocol(_Deadline, H11Protocol):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state in {h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR}:
            self._disarm()  # the whole request is in; the app's time is not the client's

    def _waiting(self) -> bool:
        return self.conn.their_state in {h11.IDLE, h11.SEND_BODY}


def _httptools_protocol() -> type[Any]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class DeadlineHttpToolsProtocol(_Deadline, HttpToolsProtocol):
        def on_message_complete(self) -> None:
            self._disarm()  # the whole request is in; the app's time is not the client's
            super().on_message_complete()

    return DeadlineHttpToolsProtocol


def request_deadline_protocol(seconds: float, parser: str = "auto") -> type[Any]:
    """The protocol class with a deadline of `seconds`: httptools' when `parser` is "httptools",
    or "auto" and it is installed; h11's otherwise."""
    use_httptools = parser == "httptools" or (parser == "auto" and httptools_available())
    base = _httptools_protocol() if use_httptools else DeadlineH11Protocol
    return type(base.__name__, (base,), {"seconds": seconds})


@functools.cache
def _environment_seconds() -> float:
    from config import AppConfig

    return AppConfig.from_env().http_request_timeout_seconds


class _FromEnvironment:
    def _seconds(self) -> float:
        return _environment_seconds()


class H11FromEnvironment(_FromEnvironment, DeadlineH11Protocol):
    pass


HttpToolsFromEnvironment: type[Any] | None = (
    type("HttpToolsFromEnvironment", (_FromEnvironment, _httptools_protocol()), {}) if httptools_available() else None
)


def protocol_path() -> str:
    """The import path of the protocol for worker processes (they import it by name)."""
    name = "HttpToolsFromEnvironment" if HttpToolsFromEnvironment is not None else "H11FromEnvironment"
    return f"web.server_protocol:{name}"
