"""Routes: test runs."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .http_util import body_object, no_content, ok, path_id, query_datetime, script_response, sim_of
from .paging import list_params, paged_body
from .validation import get_str, reject_unknown

V6 = "/cloud/v6"


async def list_test_runs(request: Request) -> Response:
    sim = sim_of(request)
    params = list_params(request)
    after = query_datetime(request, "created_after")
    before = query_datetime(request, "created_before")
    with sim.lock:
        runs = sim.find_runs(created_after=after, created_before=before)
        if sim.runs_newest_first:
            runs.reverse()
        return ok(paged_body(request, runs, params, sim.render_run))


async def get_test_run(request: Request) -> Response:
    return ok(sim_of(request).run(path_id(request)))


async def update_test_run(request: Request) -> Response:
    sim = sim_of(request)
    sim.run(path_id(request))
    body = await body_object(request)
    reject_unknown(body, {"note"})
    note = get_str(body, "note", required=True)
    assert note is not None
    sim.set_run_note(path_id(request), note)
    return no_content()


async def delete_test_run(request: Request) -> Response:
    sim_of(request).delete_run(path_id(request))
    return no_content()


async def abort_test_run(request: Request) -> Response:
    sim_of(request).abort_run(path_id(request))
    return no_content()


async def save_test_run(request: Request) -> Response:
    sim_of(request).save_run(path_id(request))
    return no_content()


async def unsave_test_run(request: Request) -> Response:
    sim_of(request).unsave_run(path_id(request))
    return no_content()


async def star_test_run(request: Request) -> Response:
    sim_of(request).star_run(path_id(request), True)
    return no_content()


async def unstar_test_run(request: Request) -> Response:
    sim_of(request).star_run(path_id(request), False)
    return no_content()


async def get_distribution(request: Request) -> Response:
    return ok(sim_of(request).run_distribution(path_id(request)))


async def get_run_script(request: Request) -> Response:
    script, media_type = sim_of(request).run_script(path_id(request))
    return script_response(request, script, media_type)


routes = [
    Route(f"{V6}/test_runs", list_test_runs, methods=["GET"]),
    Route(f"{V6}/test_runs/{{id:int}}", get_test_run, methods=["GET"]),
    Route(f"{V6}/test_runs/{{id:int}}", update_test_run, methods=["PATCH"]),
    Route(f"{V6}/test_runs/{{id:int}}", delete_test_run, methods=["DELETE"]),
    Route(f"{V6}/test_runs/{{id:int}}/abort", abort_test_run, methods=["POST"]),
    Route(f"{V6}/test_runs/{{id:int}}/save", save_test_run, methods=["POST"]),
    Route(f"{V6}/test_runs/{{id:int}}/unsave", unsave_test_run, methods=["POST"]),
    Route(f"{V6}/test_runs/{{id:int}}/star", star_test_run, methods=["POST"]),
    Route(f"{V6}/test_runs/{{id:int}}/unstar", unstar_test_run, methods=["POST"]),
    Route(f"{V6}/test_runs/{{id:int}}/distribution", get_distribution, methods=["GET"]),
    Route(f"{V6}/test_runs/{{id:int}}/script", get_run_script, methods=["GET"]),
]
