"""Routes: load zones and the projects allowed to use the private ones."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http_util import body_object, ok, path_id, sim_of
from .validation import id_list

V6 = "/cloud/v6"


async def list_load_zones(request: Request) -> Response:
    return ok({"value": sim_of(request).list_load_zones(request.query_params.get("k6_load_zone_id"))})


async def get_allowed_projects(request: Request) -> Response:
    return ok({"value": sim_of(request).zone_allowed_projects(path_id(request))})


async def set_allowed_projects(request: Request) -> Response:
    sim = sim_of(request)
    sim.zone_allowed_projects(path_id(request))
    project_ids = id_list(await body_object(request))
    return ok({"value": sim.set_zone_allowed_projects(path_id(request), project_ids)})


routes = [
    Route(f"{V6}/load_zones", list_load_zones, methods=["GET"]),
    Route(f"{V6}/load_zones/{{id:int}}/allowed_projects", get_allowed_projects, methods=["GET"]),
    Route(f"{V6}/load_zones/{{id:int}}/allowed_projects", set_allowed_projects, methods=["PUT"]),
]
