"""Authentication of API requests: tokens, ``X-Stack-Id`` and ``X-Stack-Url``."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .errors import ApiError

if TYPE_CHECKING:
    from .state import Simulator

AUTH_PATH = "/cloud/v6/auth"
CLOUD_PREFIX = "/cloud/"
LEGACY_PREFIX = "/loadtests/"


def check_auth(sim: Simulator, path: str, headers: dict[str, str]) -> ApiError | None:
    """The error an API request gets for its credentials, or None when they are acceptable."""
    if path == AUTH_PATH:
        return _token_error(sim, headers, ("bearer",)) or _stack_url_error(sim, headers)
    if path.startswith(CLOUD_PREFIX):
        return _token_error(sim, headers, ("bearer",)) or _stack_id_error(sim, headers)
    if path.startswith(LEGACY_PREFIX):
        return _token_error(sim, headers, ("token",))
    return None


def _token_error(sim: Simulator, headers: dict[str, str], schemes: tuple[str, ...]) -> ApiError | None:
    value = headers.get("authorization", "").strip()
    if not value:
        return ApiError(401, "Authentication credentials were not provided.")
    scheme, _, token = value.partition(" ")
    if scheme.lower() not in schemes:
        expected = " or ".join(f"{s.capitalize()} <token>" for s in schemes)
        if schemes == ("token",):
            return ApiError(
                401,
                f"Invalid authentication scheme '{scheme}': the legacy API uses the Token scheme; "
                f"send 'Authorization: {expected}'.",
            )
        return ApiError(401, f"Invalid authentication scheme; send 'Authorization: {expected}'.")
    token = token.strip()
    if not token:
        return ApiError(401, "The API token is empty.")
    if sim.token is not None and token != sim.token:
        return ApiError(401, "Invalid token.")
    return None


def _stack_id_error(sim: Simulator, headers: dict[str, str]) -> ApiError | None:
    raw = headers.get("x-stack-id")
    if raw is None or not raw.strip():
        return ApiError(400, "The X-Stack-Id header is required.", code="validation_error", target="X-Stack-Id")
    try:
        stack_id = int(raw.strip())
    except ValueError:
        return ApiError(400, "X-Stack-Id must be an integer stack id.", target="X-Stack-Id")
    if sim.stack_id is not None and stack_id != sim.stack_id:
        return ApiError(403, f"The token does not grant access to stack {stack_id}.", target="X-Stack-Id")
    return None


def _stack_url_error(sim: Simulator, headers: dict[str, str]) -> ApiError | None:
    url = headers.get("x-stack-url", "").strip()
    if not url:
        return ApiError(400, "The X-Stack-Url header is required.", target="X-Stack-Url")
    if not url.lower().startswith(("https://", "http://")) or _origin(url) is None:
        return ApiError(400, "X-Stack-Url must be the URL of a Grafana stack.", target="X-Stack-Url")
    if sim.stack_id is not None and _origin(url) != _origin(sim.stack_url):
        return ApiError(403, f"The token does not grant access to the stack at {url}.", target="X-Stack-Url")
    return None


def _origin(url: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of a URL, case-insensitive with default ports dropped; None when unparsable."""
    try:
        parts = urlsplit(url.strip().rstrip("/"))
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    if port == {"https": 443, "http": 80}.get(scheme):
        port = None
    return scheme, parts.hostname.lower(), port
