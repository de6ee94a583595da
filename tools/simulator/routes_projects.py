"""Routes: projects, project limits, and the private load zones a project may use."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import invalid
from .http_util import body_object, no_content, ok, path_id, query_str, sim_of
from .ops_projects import LIMIT_FIELDS, PROJECT_NAME_MAX
from .paging import SortKeys, list_params, paged_body
from .validation import get_int, get_str, id_list, reject_unknown

V6 = "/cloud/v6"
PROJECT_SORT_KEYS: SortKeys = {"created": lambda p: p.created, "name": lambda p: p.name}
MAX_PROJECT_IDS_FILTER = 30


async def list_projects(request: Request) -> Response:
    sim = sim_of(request)
    params = list_params(request, PROJECT_SORT_KEYS)
    name = query_str(request, "name", PROJECT_NAME_MAX)
    search = query_str(request, "name_search", PROJECT_NAME_MAX)
    with sim.lock:
        projects = sim.find_projects(name, search)
        return ok(paged_body(request, projects, params, sim.project_json, PROJECT_SORT_KEYS))


async def create_project(request: Request) -> Response:
    body = await body_object(request)
    name = get_str(body, "name", required=True, min_len=1, max_len=PROJECT_NAME_MAX)
    assert name is not None
    return ok(sim_of(request).add_project(name), 201)


async def get_project(request: Request) -> Response:
    return ok(sim_of(request).get_project(path_id(request)))


async def update_project(request: Request) -> Response:
    sim = sim_of(request)
    sim.get_project(path_id(request))
    body = await body_object(request)
    reject_unknown(body, {"name"})
    name = get_str(body, "name", required=True, min_len=1, max_len=PROJECT_NAME_MAX)
    assert name is not None
    sim.rename_project(path_id(request), name)
    return no_content()


async def delete_project(request: Request) -> Response:
    sim_of(request).delete_project(path_id(request))
    return no_content()


async def get_limits(request: Request) -> Response:
    return ok(sim_of(request).get_limits(path_id(request)))


async def update_limits(request: Request) -> Response:
    sim = sim_of(request)
    sim.get_limits(path_id(request))
    body = await body_object(request)
    reject_unknown(body, set(LIMIT_FIELDS))
    changes = {key: get_int(body, key, minimum=1) for key in LIMIT_FIELDS if key in body}
    sim.update_limits(path_id(request), changes)
    return no_content()


async def list_project_limits(request: Request) -> Response:
    params = list_params(request)
    project_ids = _project_id_filter(request.query_params.get("project_id_in"))
    limits = sim_of(request).find_limits(project_ids)
    return ok(paged_body(request, limits, params, lambda item: item))


async def get_allowed_zones(request: Request) -> Response:
    return ok({"value": sim_of(request).project_allowed_zones(path_id(request))})


async def set_allowed_zones(request: Request) -> Response:
    sim = sim_of(request)
    sim.project_allowed_zones(path_id(request))
    zone_ids = id_list(await body_object(request))
    return ok({"value": sim.set_project_allowed_zones(path_id(request), zone_ids)})


def _project_id_filter(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError as exc:
        raise invalid("project_id_in must be a comma-separated list of project ids.", "project_id_in") from exc
    if len(ids) > MAX_PROJECT_IDS_FILTER:
        raise invalid(f"project_id_in may list at most {MAX_PROJECT_IDS_FILTER} ids.", "project_id_in")
    return ids


routes = [
    Route(f"{V6}/projects", list_projects, methods=["GET"]),
    Route(f"{V6}/projects", create_project, methods=["POST"]),
    Route(f"{V6}/projects/{{id:int}}", get_project, methods=["GET"]),
    Route(f"{V6}/projects/{{id:int}}", update_project, methods=["PATCH"]),
    Route(f"{V6}/projects/{{id:int}}", delete_project, methods=["DELETE"]),
    Route(f"{V6}/projects/{{id:int}}/limits", get_limits, methods=["GET"]),
    Route(f"{V6}/projects/{{id:int}}/limits", update_limits, methods=["PATCH"]),
    Route(f"{V6}/project-limits", list_project_limits, methods=["GET"]),
    Route(f"{V6}/projects/{{id:int}}/allowed_load_zones", get_allowed_zones, methods=["GET"]),
    Route(f"{V6}/projects/{{id:int}}/allowed_load_zones", set_allowed_zones, methods=["PUT"]),
]
