"""Acknowledgements first: the raw ASGI intake of ``POST /slack/events`` and the turn-taking of background work.

Slack gives an answer 3 seconds; k6bot acknowledges slash commands and button clicks with an empty 200 and answers
later through ``response_url`` and the Web API. With 50 commands at once on one event loop (and the parser thread
taking the interpreter lock), an acknowledgement used to wait behind the earlier commands' bolt middleware, parsing
and API calls. Two things keep it from waiting:

* :class:`SlackIntake` serves the endpoint as a bare ASGI app (no Starlette routing, middleware or request object):
  size, signature, shape, then the acknowledgement; bolt's request is only built after the answer has been sent.
* :class:`Priority`: background work asks for a *turn* (:meth:`Priority.turn`) before each CPU-heavy step (bolt's
  dispatch, parsing a text). Turns are handed out one per event-loop iteration, and none while a Slack request is
  being acknowledged — unless the oldest waiter has waited :data:`MAX_WAIT` seconds (sustained load must not
  starve the answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from starlette.types import Message, Receive, Scope, Send

MAX_WAIT = 1.0
"""Seconds background work waits at most for acknowledgements to finish before it takes its turn anyway (answers
go through response_url, valid for 30 minutes; only the acknowledgement has a 3-second deadline)."""
HOLD_OFF = 0.1
"""Seconds after the last acknowledgement before background work has a turn again: the requests of a burst
arrive some milliseconds apart, and a turn taken in such a gap (a parse holds the interpreter ~3-5 ms, a process
that keeps the CPU busy is scheduled later by the OS) delays the next acknowledgements. A lone command's answer
starts 0.1 s after its acknowledgement."""

__all__ = ["MAX_WAIT", "Disconnected", "Priority", "TooLarge", "ack_headers", "read_limited", "send_answer"]


class Priority:
    """Turns for background work, one per event-loop iteration, none while an acknowledgement is under way."""

    def __init__(
        self, *, max_wait: float = MAX_WAIT, hold_off: float = HOLD_OFF, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_wait = max_wait
        self.hold_off = hold_off
        self.clock = clock
        self.acknowledging_now = 0
        self._last_ack = float("-inf")
        self._waiting: deque[tuple[float, asyncio.Future[None]]] = deque()
        self._handle: asyncio.Handle | asyncio.TimerHandle | None = None

    @contextlib.contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Around the work of one acknowledgement: no turn is handed out until it (and every other) is done."""
        self.acknowledging_now += 1
        try:
            yield
        finally:
            self.acknowledging_now -= 1
            self._last_ack = self.clock()
            if self.acknowledging_now == 0 and self._waiting:
                self._schedule(self.hold_off)

    @property
    def waiting(self) -> int:
        """Background steps waiting for their turn."""
        return sum(1 for _, future in self._waiting if not future.done())

    async def turn(self) -> None:
        """Wait for this step's turn (at once when nothing is acknowledged, after one event-loop iteration)."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((self.clock(), future))
        if self._handle is None:
            self._schedule(0.0)
        await future

    def _schedule(self, delay: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        loop = asyncio.get_running_loop()
        self._handle = loop.call_soon(self._next) if delay <= 0 else loop.call_later(delay, self._next)

    def _next(self) -> None:
        self._handle = None
        while self._waiting and self._waiting[0][1].done():  # cancelled while waiting
            self._waiting.popleft()
        if not self._waiting:
            return
        since, future = self._waiting[0]
        now = self.clock()
        if now - since < self.max_wait:
            if self.acknowledging_now:  # until the last one is done (then hold_off), or max_wait
                self._schedule(self.max_wait - (now - since))
                return
            quiet = now - self._last_ack
            if quiet < self.hold_off:
                self._schedule(min(self.hold_off - quiet, self.max_wait - (now - since)))
                return
        self._waiting.popleft()
        future.set_result(None)
        if self._waiting:
            self._schedule(0.0)  # the next turn after the loop has looked at its sockets again


# --------------------------------------------------------------------------- raw ASGI helpers


class TooLarge(Exception):
    """The body is larger than the endpoint accepts."""


class Disconnected(Exception):
    """The client went away before its body arrived."""


def header(scope: Scope, name: bytes) -> str | None:
    """The first header ``name`` (lower case) of the request, decoded as latin-1."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def ack_headers(scope: Scope) -> dict[str, str]:
    """The request's headers as one ``name: value`` mapping (the first value of a repeated header)."""
    headers: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        headers.setdefault(bytes(key).decode("latin-1").lower(), bytes(value).decode("latin-1"))
    return headers


async def read_limited(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes (:class:`TooLarge` beyond, unread when announced larger)."""
    announced = header(scope, b"content-length")
    if announced is not None:
        with contextlib.suppress(ValueError):
            if int(announced.strip()) > limit:
                raise TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def send_answer(
    send: Send, status: int, body: bytes = b"", *, content_type: str | None = None, extra: tuple[Any, ...] = ()
) -> None:
    """A whole answer: status, ``Content-Length`` (and type), body."""
    headers = [(b"content-length", str(len(body)).encode("ascii"))]
    if content_type is not None:
        headers.append((b"content-type", content_type.encode("latin-1")))
    headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
