"""Routes: the legacy v2 runs API (same runs as v6, older JSON shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import invalid
from .http_util import ok, path_id, sim_of
from .legacy import legacy_run_json, select_fields
from .models import TestRun

if TYPE_CHECKING:
    from .state import Simulator


V2 = "/loadtests/v2"


def _legacy(sim: Simulator, run: TestRun, select: str | None = None) -> dict[str, object]:
    average = sim.aggregate_metric(run.id, "histogram_avg", "http_req_duration")
    load_time = float(average[0]["values"][0][1]) if average else None
    data = legacy_run_json(
        run, sim.clock.now(), sim.effective_stack_id, load_time, whole_seconds=sim.timestamps_in_whole_seconds
    )
    return select_fields(data, select)


async def start_test_run(request: Request) -> Response:
    sim = sim_of(request)
    with sim.lock:
        run = sim.start_run_record(path_id(request), None, None)
        return ok({"k6-run": _legacy(sim, run)})


async def get_run(request: Request) -> Response:
    sim = sim_of(request)
    with sim.lock:
        run = sim.run_record(path_id(request))
        return ok({"k6-run": _legacy(sim, run, request.query_params.get("$select"))})


async def list_runs(request: Request) -> Response:
    sim = sim_of(request)
    query = request.query_params
    test_id = _optional_int(query.get("test_id") or query.get("$test_id"), "test_id")
    ids = [_required_int(value, "ids[]") for value in query.getlist("ids[]")] or None
    select = query.get("$select")
    with sim.lock:
        runs = sim.find_runs(test_id, ids=ids)
        if query.get("public_id") is not None:
            runs = []  # simulated runs are never shared publicly
        return ok({"k6-runs": [_legacy(sim, run, select) for run in runs], "meta": {"count": len(runs)}})


async def stop_run(request: Request) -> Response:
    sim = sim_of(request)
    with sim.lock:
        sim.abort_run(path_id(request))
        return ok({"k6-run": _legacy(sim, sim.run_record(path_id(request)))})


def _optional_int(text: str | None, name: str) -> int | None:
    return None if text is None else _required_int(text, name)


def _required_int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise invalid(f"'{name}' must be an integer.", name) from exc


routes = [
    Route(f"{V2}/tests/{{id:int}}/start-testrun", start_test_run, methods=["POST"]),
    Route(f"{V2}/runs", list_runs, methods=["GET"]),
    Route(f"{V2}/runs/{{id:int}}", get_run, methods=["GET"]),
    Route(f"{V2}/runs/{{id:int}}/stop", stop_run, methods=["POST"]),
]
