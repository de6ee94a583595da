"""The ASGI application: all routes, JSON error handling, and the recording/fault/auth middleware."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import (
    routes_auth,
    routes_control,
    routes_labels,
    routes_legacy,
    routes_load_tests,
    routes_load_zones,
    routes_metrics,
    routes_projects,
    routes_schedules,
    routes_test_runs,
)
from .errors import ApiError, code_for_status, error_body
from .middleware import SimulatorMiddleware, internal_error_response

if TYPE_CHECKING:
    from .state import Simulator

log = logging.getLogger(__name__)


async def _api_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    """Router-level errors (no such endpoint, wrong method, unreadable form) as JSON error bodies."""
    assert isinstance(exc, HTTPException)
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        code, message = "unknown_endpoint", f"No API endpoint matches {where}."
    elif exc.status_code == 405:
        code, message = "method_not_allowed", f"The method is not allowed: {where}."
    else:
        code, message = code_for_status(exc.status_code), str(exc.detail)
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error in %s %s", request.method, request.url.path, exc_info=exc)
    return internal_error_response()


def build_app(sim: Simulator) -> SimulatorMiddleware:
    """The simulator's ASGI app serving ``sim``."""
    routes = [
        *routes_control.routes,
        *routes_auth.routes,
        *routes_projects.routes,
        *routes_load_tests.routes,
        *routes_test_runs.routes,
        *routes_schedules.routes,
        *routes_load_zones.routes,
        *routes_labels.routes,
        *routes_metrics.routes,
        *routes_legacy.routes,
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _unexpected_error,
        },
    )
    return SimulatorMiddleware(app, sim)
