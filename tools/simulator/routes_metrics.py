"""Route: the v5 ``query_aggregate_k6`` metric aggregate."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import invalid
from .http_util import ok, path_id, sim_of
from .metrics import parse_arguments


async def query_aggregate(request: Request) -> Response:
    """``/cloud/v5/test_runs/{id}/query_aggregate_k6(query='...',metric='...')``."""
    arguments = parse_arguments(request.path_params["arguments"])
    for name in ("query", "metric"):
        if not arguments.get(name):
            raise invalid(f"The '{name}' argument is required, e.g. {name}='...'.", name)
    result = sim_of(request).aggregate_metric(path_id(request), arguments["query"], arguments["metric"])
    return ok({"status": "success", "data": {"resultType": "vector", "result": result}})


routes = [
    Route(
        "/cloud/v5/test_runs/{id:int}/query_aggregate_k6({arguments:path})",
        query_aggregate,
        methods=["GET"],
    )
]
