"""The outermost ASGI layer: request recording, fault injection, authentication, last-resort 500s."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import check_auth
from .errors import code_for_status, error_body
from .faults import MALFORMED_BODY, Fault
from .recording import RecordedRequest

if TYPE_CHECKING:
    from .state import Simulator

CONTROL_PREFIX = "/_sim"
log = logging.getLogger(__name__)


def is_control_path(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


class SimulatorMiddleware:
    """Wraps the Starlette app; every request passes through here.

    It hands the simulator to the routes in the request state, so ``sim`` can be swapped while serving.
    """

    def __init__(self, app: ASGIApp, sim: Simulator) -> None:
        self.app = app
        self.sim = sim

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sim = self.sim  # one simulator for the whole request, even if it is swapped meanwhile
        scope = {**scope, "state": {**scope.get("state", {}), "sim": sim}}
        if is_control_path(scope["path"]):
            await guarded(self.app, scope, receive, send)
            return
        body = await _read_body(receive)
        exchange = Exchange(sim, scope, body, send)
        fault = sim.faults.take(scope["method"], scope["path"])
        replay = _replaying(body, receive)
        if fault is None or (fault.kind == "latency" and not fault.after):
            if fault is not None:
                await asyncio.sleep(fault.delay)
            await exchange.dispatch(self.app, replay, exchange.send)
        elif fault.after:
            await exchange.dispatch_then_fault(self.app, replay, fault)
        else:
            await asyncio.sleep(fault.delay)
            await exchange.inject(fault)


class Exchange:
    """One request/response pair; records the request when its response starts."""

    def __init__(self, sim: Simulator, scope: Scope, body: bytes, send: Send) -> None:
        self.sim = sim
        self.scope = scope
        self.body = body
        self._send = send
        self.headers = _headers(scope)
        self.at = sim.clock.now()

    def record(self, status: int) -> None:
        redacted = {k: (_redact(v) if k == "authorization" else v) for k, v in self.headers.items()}
        query = dict(parse_qsl(self.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
        self.sim.record_request(
            RecordedRequest(self.scope["method"], self.scope["path"], query, redacted, self.body, status, self.at)
        )

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.record(int(message["status"]))
        await self._send(message)

    async def dispatch(self, app: ASGIApp, receive: Receive, send: Send) -> None:
        """Authenticate, then let the app answer (a JSON 500 if it crashes before answering)."""
        error = check_auth(self.sim, self.scope["path"], self.headers)
        if error is not None:
            await _respond(error.response(), self.scope, send)
            return
        await guarded(app, self.scope, receive, send)

    async def dispatch_then_fault(self, app: ASGIApp, receive: Receive, fault: Fault) -> None:
        """Process the request for real, then delay, replace or lose its response."""
        captured: list[Message] = []

        async def capture(message: Message) -> None:
            captured.append(message)

        await self.dispatch(app, receive, capture)
        await asyncio.sleep(fault.delay)
        if fault.kind == "latency":
            for message in captured:
                await self.send(message)
        else:
            await self.inject(fault)

    async def inject(self, fault: Fault) -> None:
        if fault.kind == "drop":
            self.record(0)
            await drop_connection(self._send)
        elif fault.kind == "malformed":
            await _respond(malformed_response(), self.scope, self.send)
        else:
            await _respond(fault_response(fault), self.scope, self.send)


async def guarded(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run the app; an exception before the response started becomes a JSON 500 error body."""
    started = False

    async def tracking_send(message: Message) -> None:
        nonlocal started
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, receive, tracking_send)
    except Exception:
        if started:
            log.debug("handler failed after answering %s %s", scope["method"], scope["path"], exc_info=True)
            return
        log.exception("unexpected error in %s %s", scope["method"], scope["path"])
        await _respond(internal_error_response(), scope, tracking_send)


def internal_error_response() -> JSONResponse:
    return JSONResponse(
        error_body("internal_error", "The simulator hit an unexpected error while handling the request."),
        status_code=500,
    )


def malformed_response() -> Response:
    """A 200 whose body claims to be JSON and is not (a ``malformed`` fault)."""
    return Response(MALFORMED_BODY, status_code=200, media_type="application/json")


def fault_response(fault: Fault) -> Response:
    """The response an injected status fault answers with."""
    headers = {"Retry-After": _retry_after(fault.retry_after)} if fault.retry_after is not None else {}
    if fault.status == 204 or fault.status < 200:
        return Response(status_code=fault.status, headers=headers)
    body = fault.body or error_body(code_for_status(fault.status), f"Injected fault: HTTP {fault.status}.")
    return JSONResponse(body, status_code=fault.status, headers=headers)


async def drop_connection(send: Send) -> None:
    """Close the client connection without a response (the client sees a transport error).

    ``send`` is uvicorn's bound ``RequestResponseCycle.send``; its cycle holds the transport. Without one,
    fall back to starting a response and breaking it off, which clients also see as a protocol error.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"64")]})
        raise ConnectionAbortedError("fault injection: connection dropped")
    transport.close()
    for _ in range(20):  # let uvicorn notice the closed connection so it does not try to answer
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)


def _redact(authorization: str) -> str:
    """Hide the credentials but keep the scheme (``Bearer <redacted>``) so tests can check it."""
    scheme, _, credentials = authorization.partition(" ")
    return f"{scheme} <redacted>" if credentials else "<redacted>"


def _retry_after(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _headers(scope: Scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    """A receive callable that yields the already-read body once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _respond(response: Response, scope: Scope, send: Send) -> None:
    async def no_receive() -> Message:
        return {"type": "http.disconnect"}

    await response(scope, no_receive, send)
