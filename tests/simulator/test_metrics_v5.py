"""The v5 query_aggregate_k6 endpoint."""

from __future__ import annotations

import httpx

from tools.simulator import Simulator

from .conftest import error_of


def aggregate(client: httpx.Client, run_id: int, query: str, metric: str) -> httpx.Response:
    return client.get(f"/cloud/v5/test_runs/{run_id}/query_aggregate_k6(query='{query}',metric='{metric}')")


def value(client: httpx.Client, run_id: int, query: str, metric: str) -> float:
    result = aggregate(client, run_id, query, metric).json()["data"]["result"]
    assert len(result) == 1
    return float(result[0]["values"][0][1])


def test_shape(client: httpx.Client) -> None:
    body = aggregate(client, 1210, "histogram_quantile(0.95)", "http_req_duration").json()
    assert body["status"] == "success" and body["data"]["resultType"] == "vector"
    (sample,) = body["data"]["result"]
    assert sample["metric"] == {"__name__": "http_req_duration", "test_run_id": "1210"}
    timestamp, text = sample["values"][0]
    assert isinstance(timestamp, int | float) and isinstance(text, str) and float(text) > 0


def test_values_are_deterministic_and_plausible(client: httpx.Client) -> None:
    p95 = value(client, 1210, "histogram_quantile(0.95)", "http_req_duration")
    p99 = value(client, 1210, "histogram_quantile(0.99)", "http_req_duration")
    assert 50 < p95 < p99 < 2000
    assert p95 == value(client, 1210, "histogram_quantile(0.95)", "http_req_duration")
    assert 0 <= value(client, 1210, "ratio", "http_req_failed") < 0.01
    assert value(client, 1210, "rate", "http_reqs") > 0


def test_failed_runs_look_worse(client: httpx.Client) -> None:
    passed, failed = 1212, 1213  # Payments Gateway Load (passed), Checkout Spike (failed)
    assert value(client, failed, "histogram_quantile(0.95)", "http_req_duration") > value(
        client, passed, "histogram_quantile(0.95)", "http_req_duration"
    )
    assert value(client, failed, "ratio", "http_req_failed") > value(client, passed, "ratio", "http_req_failed")


def test_checks_by_name(client: httpx.Client) -> None:
    result = aggregate(client, 1224, "ratio by (check)", "checks").json()["data"]["result"]
    names = [sample["metric"]["check"] for sample in result]
    assert names == ["cart created", "payment accepted", "payment under 800ms"]
    assert all(0 < float(sample["values"][0][1]) <= 1 for sample in result)


def test_query_must_fit_the_metric_type(client: httpx.Client) -> None:
    for query, metric in [
        ("rate", "http_req_duration"),
        ("histogram_quantile(0.95)", "http_reqs"),
        ("ratio", "http_reqs"),
        ("ratio by (check)", "http_req_failed"),
        ("rate", "no_such_metric"),
    ]:
        assert aggregate(client, 1210, query, metric).json()["data"]["result"] == [], (query, metric)


def test_runs_that_have_not_started_have_no_data(sim: Simulator, client: httpx.Client) -> None:
    assert aggregate(client, 1236, "rate", "http_reqs").json()["data"]["result"] == []
    sim.clock.advance(30)
    assert aggregate(client, 1236, "rate", "http_reqs").json()["data"]["result"] != []


def test_unknown_run_and_missing_arguments(client: httpx.Client) -> None:
    error_of(aggregate(client, 999999, "rate", "http_reqs"), 404)
    missing = client.get("/cloud/v5/test_runs/1210/query_aggregate_k6(metric='http_reqs')")
    assert error_of(missing, 400)["target"] == "query"
