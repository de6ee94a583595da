"""Control endpoints under ``/_sim/`` for driving the simulator from another process.

They need no authentication and are never recorded in the request log.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import invalid
from .faults import Fault
from .http_util import body_object, no_content, ok, path_id, sim_of
from .ops_load_tests import DEFAULT_SCRIPT
from .timeutil import iso
from .validation import get_int, get_str

PREFIX = "/_sim"


def _clock(request: Request) -> dict[str, Any]:
    sim = sim_of(request)
    return {"now": iso(sim.clock.now()), "speed": sim.clock.speed}


async def health(request: Request) -> Response:
    return ok({"status": "ok", **_clock(request)})


async def list_requests(request: Request) -> Response:
    return ok([item.to_dict() for item in sim_of(request).requests])


async def clear_requests(request: Request) -> Response:
    sim_of(request).clear_requests()
    return no_content()


async def add_fault(request: Request) -> Response:
    try:
        fault = Fault.from_dict(await body_object(request))
    except (TypeError, ValueError) as exc:
        raise invalid(f"Invalid fault: {exc}.") from exc
    sim_of(request).faults.add(fault)
    return ok(fault.to_dict(), 201)


async def list_faults(request: Request) -> Response:
    return ok([fault.to_dict() for fault in sim_of(request).faults.active()])


async def clear_faults(request: Request) -> Response:
    sim_of(request).faults.clear()
    return no_content()


async def advance_clock(request: Request) -> Response:
    seconds = _number(await body_object(request), "seconds")
    sim_of(request).clock.advance(seconds)
    return ok(_clock(request))


async def set_speed(request: Request) -> Response:
    speed = _number(await body_object(request), "speed")
    sim_of(request).clock.speed = speed
    return ok(_clock(request))


async def finish_run(request: Request) -> Response:
    body = await body_object(request, required=False)
    result = get_str(body, "result") or "passed"
    status = get_str(body, "status") or "completed"
    reason = get_str(body, "reason", nullable=True)
    return ok(sim_of(request).finish_run(path_id(request), result=result, status=status, reason=reason))


async def add_project(request: Request) -> Response:
    body = await body_object(request)
    name = get_str(body, "name", required=True)
    assert name is not None
    return ok(sim_of(request).add_project(name, is_default=bool(body.get("is_default", False))), 201)


async def add_load_test(request: Request) -> Response:
    body = await body_object(request)
    project_id = get_int(body, "project_id", required=True, nullable=False)
    name = get_str(body, "name", required=True)
    script = get_str(body, "script", nullable=True) if "script" in body else DEFAULT_SCRIPT
    outcome = get_str(body, "outcome") or "passed"
    assert project_id is not None and name is not None
    return ok(sim_of(request).add_load_test(project_id, name, script=script, outcome=outcome), 201)


async def add_runs(request: Request) -> Response:
    body = await body_object(request)
    count = get_int(body, "n", required=True, nullable=False, minimum=1)
    assert count is not None
    runs = sim_of(request).add_runs(
        path_id(request),
        count,
        status=get_str(body, "status") or "completed",
        result=get_str(body, "result") or "passed",
        reason=get_str(body, "reason", nullable=True),
    )
    return ok(runs, 201)


async def add_private_zone(request: Request) -> Response:
    body = await body_object(request)
    zone_id = get_int(body, "id", required=True, nullable=False, minimum=1)
    name = get_str(body, "name", required=True)
    k6_id = get_str(body, "k6_load_zone_id", required=True)
    image = get_str(body, "image") or "grafana/k6:latest"
    projects = body.get("project_ids", [])
    if not isinstance(projects, list) or not all(isinstance(p, int) and not isinstance(p, bool) for p in projects):
        raise invalid("'project_ids' must be a list of project ids.", "project_ids")
    assert zone_id is not None and name is not None and k6_id is not None
    zone = sim_of(request).add_private_zone(zone_id, name, k6_id, image, set(projects))
    return ok({"id": zone.id, "name": zone.name, "k6_load_zone_id": zone.k6_load_zone_id}, 201)


async def reset(request: Request) -> Response:
    body = await body_object(request, required=False)
    sim_of(request).reset(demo=bool(body.get("demo", True)))
    return ok({"status": "ok", **_clock(request)})


def _number(body: dict[str, Any], key: str) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise invalid(f"'{key}' must be a non-negative number.", key)
    return float(value)


routes = [
    Route(f"{PREFIX}/health", health, methods=["GET"]),
    Route(f"{PREFIX}/requests", list_requests, methods=["GET"]),
    Route(f"{PREFIX}/requests", clear_requests, methods=["DELETE"]),
    Route(f"{PREFIX}/faults", add_fault, methods=["POST"]),
    Route(f"{PREFIX}/faults", list_faults, methods=["GET"]),
    Route(f"{PREFIX}/faults", clear_faults, methods=["DELETE"]),
    Route(f"{PREFIX}/clock/advance", advance_clock, methods=["POST"]),
    Route(f"{PREFIX}/clock/speed", set_speed, methods=["POST"]),
    Route(f"{PREFIX}/test_runs/{{id:int}}/finish", finish_run, methods=["POST"]),
    Route(f"{PREFIX}/projects", add_project, methods=["POST"]),
    Route(f"{PREFIX}/load_tests", add_load_test, methods=["POST"]),
    Route(f"{PREFIX}/load_tests/{{id:int}}/runs", add_runs, methods=["POST"]),
    Route(f"{PREFIX}/load_zones", add_private_zone, methods=["POST"]),
    Route(f"{PREFIX}/reset", reset, methods=["POST"]),
]
