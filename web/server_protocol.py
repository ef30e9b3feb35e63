"""Slow clients: uvicorn times out an idle keep-alive connection, but not one that sends a request
slowly (headers a byte at a time hold a connection forever). `request_deadline_protocol`
gives uvicorn's h11 protocol a deadline: a request (head and body) must arrive whole within so
many seconds of the connection opening or of the previous response; otherwise the connection
is closed. Header size stays bounded by h11 (uvicorn's `h11_max_incomplete_event_size`)."""

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


def request_deadline_protocol(seconds: float) -> type[H11Protocol]:
    class RequestDeadlineH11Protocol(H11Protocol):
        deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state in {h11.DONE, h11.MUST_CLOSE, h11.CLOSED, h11.ERROR}:
                self._disarm()  # the whole request is in; the app's time is not the client's

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self.deadline = self.loop.call_later(seconds, self._expire)

        def _disarm(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

        def _expire(self) -> None:
            self.deadline = None
            if self.conn.their_state in {h11.IDLE, h11.SEND_BODY} and not self.transport.is_closing():
                self.transport.close()

    return RequestDeadlineH11Protocol
