"""Helpers shared by the route modules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .errors import ApiError, invalid
from .validation import parse_bool_text, parse_datetime_value, parse_json_object

if TYPE_CHECKING:
    from .state import Simulator

_SCRIPT_ALTERNATIVES = {
    "text/javascript": ("text/javascript", "application/javascript", "text/plain", "text/*"),
    "application/x-tar": ("application/x-tar", "application/octet-stream", "application/*"),
}


def sim_of(request: Request) -> Simulator:
    """The simulator serving this request."""
    sim: Simulator = request.state.sim
    return sim


def path_id(request: Request, name: str = "id") -> int:
    value: int = request.path_params[name]
    return value


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def no_content() -> Response:
    return Response(status_code=204)


async def body_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The request's JSON object body (400 when missing or malformed)."""
    return parse_json_object(await request.body(), required=required)


def query_datetime(request: Request, name: str) -> Any:
    value = request.query_params.get(name)
    return None if value is None else parse_datetime_value(value, name)


def query_bool(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    return None if value is None else parse_bool_text(value, name)


def query_str(request: Request, name: str, max_len: int | None = None) -> str | None:
    value = request.query_params.get(name)
    if value is not None and max_len is not None and len(value) > max_len:
        raise invalid(f"'{name}' must be at most {max_len} characters long.", name)
    return value


def accepts(accept_header: str | None, media_type: str) -> bool:
    """Whether an ``Accept`` header allows a script of ``media_type`` (missing or ``*/*`` allows all)."""
    if not accept_header or not accept_header.strip():
        return True
    allowed = ("*/*", *_SCRIPT_ALTERNATIVES.get(media_type, (media_type,)))
    for item in accept_header.split(","):
        media, *params = (part.strip() for part in item.split(";"))
        if media.lower() in allowed and not any(p.replace(" ", "") in ("q=0", "q=0.0") for p in params):
            return True
    return False


def script_response(request: Request, script: bytes, media_type: str) -> Response:
    """A script download, honouring ``Accept`` (406 when the script's type cannot satisfy it)."""
    accept = request.headers.get("accept")
    if not accepts(accept, media_type):
        raise ApiError(
            406,
            f"The script is {media_type}, which cannot satisfy the Accept header '{accept}'.",
            target="Accept",
        )
    return Response(script, media_type=media_type)
