"""Routes: schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import invalid
from .http_util import body_object, no_content, ok, path_id, sim_of
from .paging import list_params, paged_body
from .recurrence import FREQUENCIES, WEEKDAYS, CronError, parse_cron, time_zone
from .timeutil import iso
from .validation import get_int, get_str, parse_datetime_value, require_object

V6 = "/cloud/v6"


async def get_test_schedule(request: Request) -> Response:
    return ok(sim_of(request).test_schedule(path_id(request)))


async def set_test_schedule(request: Request) -> Response:
    sim = sim_of(request)
    sim.load_test(path_id(request))
    starts, rule, cron = parse_schedule_request(await body_object(request))
    return ok(sim.set_test_schedule(path_id(request), starts, rule, cron))


async def list_schedules(request: Request) -> Response:
    sim = sim_of(request)
    params = list_params(request)
    with sim.lock:
        return ok(paged_body(request, sim.find_schedules(), params, sim.schedule_json))


async def get_schedule(request: Request) -> Response:
    return ok(sim_of(request).get_schedule(path_id(request)))


async def delete_schedule(request: Request) -> Response:
    sim_of(request).delete_schedule(path_id(request))
    return no_content()


async def activate_schedule(request: Request) -> Response:
    sim_of(request).activate_schedule(path_id(request))
    return no_content()


async def deactivate_schedule(request: Request) -> Response:
    sim_of(request).deactivate_schedule(path_id(request))
    return no_content()


def parse_schedule_request(
    body: dict[str, Any],
) -> tuple[datetime, dict[str, Any] | None, dict[str, str] | None]:
    """Validate a CreateScheduleRequest into ``(starts, recurrence_rule, cron)``."""
    if "starts" not in body:
        raise invalid("The field 'starts' is required.", "starts")
    starts = parse_datetime_value(body["starts"], "starts")
    rule_raw, cron_raw = body.get("recurrence_rule"), body.get("cron")
    if rule_raw is not None and cron_raw is not None:
        raise invalid("Set either 'recurrence_rule' or 'cron', not both.", "recurrence_rule")
    rule = _recurrence_rule(require_object(rule_raw, "recurrence_rule")) if rule_raw is not None else None
    cron = _cron(require_object(cron_raw, "cron")) if cron_raw is not None else None
    return starts, rule, cron


def _recurrence_rule(raw: dict[str, Any]) -> dict[str, Any]:
    frequency = raw.get("frequency")
    if frequency not in FREQUENCIES:
        raise invalid(f"'frequency' must be one of {', '.join(FREQUENCIES)}.", "recurrence_rule.frequency")
    interval = get_int(raw, "interval", minimum=1, target="recurrence_rule.interval") or 1
    count = get_int(raw, "count", minimum=1, target="recurrence_rule.count")
    byday = raw.get("byday")
    if byday is not None and (not isinstance(byday, list) or any(day not in WEEKDAYS for day in byday)):
        raise invalid(f"'byday' must be a list of {', '.join(WEEKDAYS)}.", "recurrence_rule.byday")
    until = raw.get("until")
    until_text = iso(parse_datetime_value(until, "recurrence_rule.until")) if until is not None else None
    if until_text is not None and count is not None:
        raise invalid("Set either 'until' or 'count', not both.", "recurrence_rule.count")
    return {"frequency": frequency, "interval": interval, "byday": byday, "until": until_text, "count": count}


def _cron(raw: dict[str, Any]) -> dict[str, str]:
    expression = get_str(raw, "schedule", required=True, max_len=256, target="cron.schedule")
    zone = get_str(raw, "time_zone", required=True, max_len=128, target="cron.time_zone")
    assert expression is not None and zone is not None
    try:
        parse_cron(expression)
    except CronError as exc:
        raise invalid(f"Invalid cron expression: {exc}.", "cron.schedule") from exc
    try:
        time_zone(zone)
    except CronError as exc:
        raise invalid(f"Invalid time zone: {exc}.", "cron.time_zone") from exc
    return {"schedule": expression, "time_zone": zone}


routes = [
    Route(f"{V6}/load_tests/{{id:int}}/schedule", get_test_schedule, methods=["GET"]),
    Route(f"{V6}/load_tests/{{id:int}}/schedule", set_test_schedule, methods=["POST"]),
    Route(f"{V6}/schedules", list_schedules, methods=["GET"]),
    Route(f"{V6}/schedules/{{id:int}}", get_schedule, methods=["GET"]),
    Route(f"{V6}/schedules/{{id:int}}", delete_schedule, methods=["DELETE"]),
    Route(f"{V6}/schedules/{{id:int}}/activate", activate_schedule, methods=["POST"]),
    Route(f"{V6}/schedules/{{id:int}}/deactivate", deactivate_schedule, methods=["POST"]),
]
