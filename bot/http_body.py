"""Request bodies with a size limit, for every HTTP endpoint k6bot serves.

A body announced larger than the limit (``Content-Length``) is refused before a byte of it is read; a
streamed (chunked) body is counted as it arrives and refused as soon as it passes the limit. Either way
the caller answers 413 and k6bot never holds more than the limit in memory.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """The request's body is larger than the endpoint accepts."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")
        self.limit = limit


def announced_length(headers: Headers) -> int | None:
    """The ``Content-Length`` a client announced (None when absent or not a number)."""
    raw = headers.get("content-length")
    if raw is None:
        return None
    try:
        return max(0, int(raw.strip()))
    except ValueError:
        return None


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes; raises :class:`BodyTooLarge` beyond (without reading on)."""
    length = announced_length(request.headers)
    if length is not None and length > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def too_large_response(limit: int) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error": f"The request body is too large (at most {limit} bytes)."},
        status_code=413,
        headers={"Connection": "close"},
    )


class BodyLimit:
    """ASGI middleware: 413 for HTTP requests whose body is larger than ``limit`` (for apps k6bot mounts).

    The body is read here (bounded) and handed on whole, so the app never sees a cut-off stream it might
    answer with a 500.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await read_body(Request(scope, receive), self.limit)
        except BodyTooLarge:
            await too_large_response(self.limit)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: the disconnect, for streaming answers

        await self.app(scope, replay, send)
