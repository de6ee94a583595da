"""Routes: load tests, their scripts, starting them, their runs, and options validation."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import ApiError, invalid
from .http_util import (
    body_object,
    no_content,
    ok,
    path_id,
    query_bool,
    query_datetime,
    script_response,
    sim_of,
)
from .ops_load_tests import LOAD_TEST_NAME_MAX
from .ops_runs import IDEMPOTENCY_HEADER
from .paging import SortKeys, list_params, paged_body
from .validation import get_int, get_str, reject_unknown, require_object

V6 = "/cloud/v6"
LOAD_TEST_SORT_KEYS: SortKeys = {
    "id": lambda t: t.id,
    "project_id": lambda t: t.project_id,
    "name": lambda t: t.name,
    "created": lambda t: t.created,
    "updated": lambda t: t.updated,
}
RUN_SORT_KEYS: SortKeys = {"created": lambda r: r.created}
MULTIPART = "multipart/form-data"


async def list_load_tests(request: Request) -> Response:
    return _load_test_page(request, None)


async def list_project_load_tests(request: Request) -> Response:
    return _load_test_page(request, path_id(request))


def _load_test_page(request: Request, project_id: int | None) -> Response:
    sim = sim_of(request)
    params = list_params(request, LOAD_TEST_SORT_KEYS)
    with sim.lock:
        tests = sim.find_load_tests(project_id, request.query_params.get("name"))
        return ok(paged_body(request, tests, params, sim.render_load_test, LOAD_TEST_SORT_KEYS))


async def create_load_test(request: Request) -> Response:
    sim = sim_of(request)
    project_id = path_id(request)
    sim.get_project(project_id)
    name, script, k6_version = await _create_form(request)
    return ok(sim.create_load_test(project_id, name, script, k6_version), 201)


async def _create_form(request: Request) -> tuple[str, bytes | None, int | None]:
    """``name``, ``script`` and ``k6_version`` of a CreateLoadTestApiModel form."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";", 1)[0].strip().lower() != MULTIPART:
        sent = f"'{content_type}'" if content_type.strip() else "no Content-Type"
        raise ApiError(
            400,
            f"The request body must be {MULTIPART} (CreateLoadTestApiModel) with the fields 'name', 'script' "
            f"and optionally 'k6_version'; got {sent}.",
            code="validation_error",
            target="Content-Type",
        )
    async with request.form() as form:
        fields: dict[str, Any] = {"name": form.get("name")} if "name" in form else {}
        script = form.get("script")
        data = await script.read() if isinstance(script, UploadFile) else script.encode() if script else None
        k6_version = form.get("k6_version")
    name = get_str(fields, "name", required=True, min_len=1, max_len=LOAD_TEST_NAME_MAX)
    assert name is not None
    return name, data, _form_int(k6_version, "k6_version")


def _form_int(value: object, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(str(value))
    except ValueError as exc:
        raise invalid(f"'{name}' must be an integer.", name) from exc


async def get_load_test(request: Request) -> Response:
    return ok(sim_of(request).load_test(path_id(request)))


async def update_load_test(request: Request) -> Response:
    sim = sim_of(request)
    sim.load_test(path_id(request))
    body = await body_object(request)
    reject_unknown(body, {"name", "baseline_test_run_id", "k6_version"})
    changes: dict[str, Any] = {}
    if "name" in body:
        changes["name"] = get_str(body, "name", min_len=1, max_len=LOAD_TEST_NAME_MAX)
    for key in ("baseline_test_run_id", "k6_version"):
        if key in body:
            changes[key] = get_int(body, key)
    sim.update_load_test(path_id(request), changes)
    return no_content()


async def delete_load_test(request: Request) -> Response:
    sim_of(request).delete_load_test(path_id(request))
    return no_content()


async def move_load_test(request: Request) -> Response:
    sim = sim_of(request)
    sim.load_test(path_id(request))
    body = await body_object(request)
    reject_unknown(body, {"project_id"})
    project_id = get_int(body, "project_id", required=True, nullable=False)
    assert project_id is not None
    sim.move_load_test(path_id(request), project_id)
    return no_content()


async def get_script(request: Request) -> Response:
    script, media_type = sim_of(request).test_script(path_id(request))
    return script_response(request, script, media_type)


async def put_script(request: Request) -> Response:
    sim = sim_of(request)
    sim.load_test(path_id(request))
    sim.set_test_script(path_id(request), await request.body())
    return no_content()


async def start_load_test(request: Request) -> Response:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    return ok(sim_of(request).start_run(path_id(request), idempotency_key=key))


async def list_test_runs_of_test(request: Request) -> Response:
    sim = sim_of(request)
    params = list_params(request, RUN_SORT_KEYS)
    after = query_datetime(request, "created_after")
    before = query_datetime(request, "created_before")
    starred = query_bool(request, "is_starred")
    with sim.lock:
        runs = sim.find_runs(path_id(request), created_after=after, created_before=before, is_starred=starred)
        return ok(paged_body(request, runs, params, sim.render_run, RUN_SORT_KEYS))


async def validate_options(request: Request) -> Response:
    body = await body_object(request)
    project_id = get_int(body, "project_id")
    if "options" not in body:
        raise invalid("The field 'options' is required.", "options")
    options = require_object(body["options"], "options")
    get_int(body, "k6_version")
    if body.get("k6_dependencies") is not None:
        require_object(body["k6_dependencies"], "k6_dependencies")
    is_local = body.get("is_local_execution", False)
    if not isinstance(is_local, bool):
        raise invalid("'is_local_execution' must be a boolean.", "is_local_execution")
    return ok(sim_of(request).validate_options(project_id, options, is_local_execution=is_local))


routes = [
    Route(f"{V6}/load_tests", list_load_tests, methods=["GET"]),
    Route(f"{V6}/projects/{{id:int}}/load_tests", list_project_load_tests, methods=["GET"]),
    Route(f"{V6}/projects/{{id:int}}/load_tests", create_load_test, methods=["POST"]),
    Route(f"{V6}/load_tests/{{id:int}}", get_load_test, methods=["GET"]),
    Route(f"{V6}/load_tests/{{id:int}}", update_load_test, methods=["PATCH"]),
    Route(f"{V6}/load_tests/{{id:int}}", delete_load_test, methods=["DELETE"]),
    Route(f"{V6}/load_tests/{{id:int}}/move", move_load_test, methods=["PUT"]),
    Route(f"{V6}/load_tests/{{id:int}}/script", get_script, methods=["GET"]),
    Route(f"{V6}/load_tests/{{id:int}}/script", put_script, methods=["PUT"]),
    Route(f"{V6}/load_tests/{{id:int}}/start", start_load_test, methods=["POST"]),
    Route(f"{V6}/load_tests/{{id:int}}/test_runs", list_test_runs_of_test, methods=["GET"]),
    Route(f"{V6}/validate_options", validate_options, methods=["POST"]),
]
