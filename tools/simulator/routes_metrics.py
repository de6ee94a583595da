"""Routes: the v5 metrics API (OData-style arguments in parentheses, Prometheus-like answers).

Per run (``/cloud/v5/test_runs/{id}/``): ``metrics``, ``labels?match[]=``, ``label/{name}/values?match[]=``,
``series?match[]=``, ``query_aggregate_k6(query,metric[,start,end])``,
``query_range_k6(query,metric[,step,start,end])``. Per load test (``/cloud/v5/load_tests/{id}/``):
``metrics[(test_run_ids=[..]|test_run_count=n)]`` and ``query_aggregate_k6(query,metric[,test_run_ids|
test_run_count])``. Malformed arguments answer 400 with the usual error body (``target``: the argument).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .errors import invalid
from .http_util import ok, path_id, sim_of
from .v5query import bad_request, ids_argument, number_argument, parse_arguments, string_argument, time_argument

V5 = "/cloud/v5"
Arguments = dict[str, str | list[int]]


def _arguments(request: Request, allowed: tuple[str, ...]) -> Arguments:
    with bad_request():
        return parse_arguments(request.path_params.get("arguments", ""), allowed)


def _query_and_metric(args: Arguments) -> tuple[str, str]:
    with bad_request():
        query = string_argument(args, "query", required=True)
        metric = string_argument(args, "metric", required=True)
    assert query is not None and metric is not None
    return query, metric


async def run_metrics(request: Request) -> Response:
    return ok({"value": sim_of(request).run_metric_list(path_id(request))})


async def run_labels(request: Request) -> Response:
    matches = request.query_params.getlist("match[]")
    return ok({"status": "success", "data": sim_of(request).run_labels(path_id(request), matches)})


async def run_label_values(request: Request) -> Response:
    matches = request.query_params.getlist("match[]")
    label = request.path_params["name"]
    return ok({"status": "success", "data": sim_of(request).run_label_values(path_id(request), label, matches)})


async def run_series(request: Request) -> Response:
    matches = request.query_params.getlist("match[]")
    return ok({"status": "success", "data": sim_of(request).run_series(path_id(request), matches)})


async def query_aggregate(request: Request) -> Response:
    """``/cloud/v5/test_runs/{id}/query_aggregate_k6(query='...',metric='...')``."""
    args = _arguments(request, ("query", "metric", "start", "end"))
    query, metric = _query_and_metric(args)
    with bad_request():
        start, end = time_argument(args, "start"), time_argument(args, "end")
    result = sim_of(request).aggregate_metric(path_id(request), query, metric, start=start, end=end)
    return ok({"status": "success", "data": {"resultType": "vector", "result": result}})


async def query_range(request: Request) -> Response:
    """``/cloud/v5/test_runs/{id}/query_range_k6(query='...',metric='...',step=5)``."""
    args = _arguments(request, ("query", "metric", "step", "start", "end"))
    query, metric = _query_and_metric(args)
    with bad_request():
        step = number_argument(args, "step", minimum=1)
        start, end = time_argument(args, "start"), time_argument(args, "end")
    result = sim_of(request).range_metric(path_id(request), query, metric, step=step, start=start, end=end)
    return ok({"status": "success", "data": {"resultType": "matrix", "result": result}})


def _run_choice(args: Arguments) -> tuple[list[int] | None, int | None]:
    with bad_request():
        run_ids = ids_argument(args, "test_run_ids")
        count = number_argument(args, "test_run_count", minimum=1)
    if count is not None and not count.is_integer():
        raise invalid("test_run_count must be a whole number.", "test_run_count")
    return run_ids, None if count is None else int(count)


async def load_test_metrics(request: Request) -> Response:
    """``/cloud/v5/load_tests/{id}/metrics`` and ``.../metrics(test_run_ids=[...]|test_run_count=n)``."""
    run_ids, count = _run_choice(_arguments(request, ("test_run_ids", "test_run_count")))
    return ok({"value": sim_of(request).load_test_metric_list(path_id(request), run_ids=run_ids, count=count)})


async def load_test_aggregate(request: Request) -> Response:
    """``/cloud/v5/load_tests/{id}/query_aggregate_k6(query=...,metric=...,test_run_ids=[...])``."""
    args = _arguments(request, ("query", "metric", "test_run_ids", "test_run_count"))
    query, metric = _query_and_metric(args)
    run_ids, count = _run_choice(args)
    result = sim_of(request).load_test_aggregate(path_id(request), query, metric, run_ids=run_ids, count=count)
    return ok({"status": "success", "data": {"resultType": "vector", "result": result}})


routes = [
    Route(f"{V5}/test_runs/{{id:int}}/metrics", run_metrics, methods=["GET"]),
    Route(f"{V5}/test_runs/{{id:int}}/labels", run_labels, methods=["GET"]),
    Route(f"{V5}/test_runs/{{id:int}}/label/{{name}}/values", run_label_values, methods=["GET"]),
    Route(f"{V5}/test_runs/{{id:int}}/series", run_series, methods=["GET"]),
    Route(f"{V5}/test_runs/{{id:int}}/query_aggregate_k6({{arguments:path}})", query_aggregate, methods=["GET"]),
    Route(f"{V5}/test_runs/{{id:int}}/query_range_k6({{arguments:path}})", query_range, methods=["GET"]),
    Route(f"{V5}/load_tests/{{id:int}}/metrics", load_test_metrics, methods=["GET"]),
    Route(f"{V5}/load_tests/{{id:int}}/metrics({{arguments:path}})", load_test_metrics, methods=["GET"]),
    Route(f"{V5}/load_tests/{{id:int}}/query_aggregate_k6({{arguments:path}})", load_test_aggregate, methods=["GET"]),
]
