"""Route: ``GET /cloud/v6/auth`` (token check and stack URL → stack id)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http_util import ok, sim_of


async def authenticate(request: Request) -> Response:
    """Credentials were checked by the middleware; answer the stack and its default project."""
    sim = sim_of(request)
    return ok({"stack_id": sim.effective_stack_id, "default_project_id": sim.default_project_id()})


routes = [Route("/cloud/v6/auth", authenticate, methods=["GET"])]
