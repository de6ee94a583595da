"""API errors and the error body every failing response carries.

Every error body is ``{"error": {"code", "message", "target", "details"}}`` (ErrorResponseApiModel).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

#: The error code used for each HTTP status when a handler does not pick a more specific one.
CODES_BY_STATUS: dict[int, str] = {
    400: "validation_error",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def code_for_status(status: int) -> str:
    """The default error code for an HTTP status."""
    return CODES_BY_STATUS.get(status, "error")


class ApiError(Exception):
    """An error answered to the client with ``status`` and an ErrorResponseApiModel body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        target: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or code_for_status(status)
        self.target = target
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        return error_body(self.code, self.message, target=self.target, details=self.details)

    def response(self) -> JSONResponse:
        """The error as a Starlette response."""
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


def error_body(
    code: str, message: str, *, target: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Build ``{"error": {...}}``; ``target`` and ``details`` are null unless meaningful."""
    return {"error": {"code": code, "message": message, "target": target, "details": details}}


def not_found(kind: str, ident: object) -> ApiError:
    """404 for an unknown resource id."""
    return ApiError(404, f"{kind} {ident} not found.")


def conflict(message: str, *, target: str | None = None) -> ApiError:
    """409 Conflict."""
    return ApiError(409, message, target=target)


def invalid(message: str, target: str | None = None) -> ApiError:
    """400 validation error aimed at ``target`` (a field, parameter or header name)."""
    return ApiError(400, message, target=target)
