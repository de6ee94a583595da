"""The multi-run v5 endpoints of a load test, and latency injection on the v5 API."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from tools.simulator import Fault, Simulator

from .conftest import auth_headers, error_of
from .metrics_client import V5, call, multi, value

P95 = "histogram_quantile(0.95)"
# Finished soak runs with metrics: 1184-1200 without 1186 (expired), then 1201-1230 (1234 is running).
SOAK_WITH_METRICS = [i for i in range(1184, 1201) if i != 1186] + [1201, 1205, 1211, 1217, 1223, 1230]


def result_of(response: httpx.Response) -> list[dict[str, object]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "success" and body["data"]["resultType"] == "vector"
    result: list[dict[str, object]] = body["data"]["result"]
    return result


def run_ids(result: list[dict[str, object]]) -> list[int]:
    return [int(series["metric"]["test_run_id"]) for series in result]  # type: ignore[index]


def test_one_request_answers_for_every_run(sim: Simulator, client: httpx.Client) -> None:
    sim.clear_requests()
    result = result_of(multi(client, 501, P95, "http_req_duration"))
    assert sim.count("GET", r"/cloud/v5/load_tests/501/query_aggregate_k6\(.*\)") == len(sim.requests) == 1
    assert run_ids(result) == SOAK_WITH_METRICS
    for series in result:
        assert set(series["metric"]) == {"__name__", "test_run_id"}  # type: ignore[arg-type]
    per_run = {int(s["metric"]["test_run_id"]): float(s["values"][0][1]) for s in result}  # type: ignore[index]
    assert per_run[1211] == value(client, 1211, P95, "http_req_duration")
    assert per_run[1197] == value(client, 1197, P95, "http_req_duration")


def test_run_selection(client: httpx.Client) -> None:
    assert run_ids(result_of(multi(client, 501, P95, "http_req_duration", test_run_count=5))) == [
        1205,
        1211,
        1217,
        1223,
        1230,
    ]
    chosen = multi(client, 501, P95, "http_req_duration", test_run_ids=[1223, 1211, 1234, 1186])
    assert run_ids(result_of(chosen)) == [1211, 1223]  # 1234 is still running, 1186's metrics expired
    assert run_ids(result_of(multi(client, 510, "rate", "http_reqs"))) == []  # a test without runs


def test_grouping_keeps_runs_apart(client: httpx.Client) -> None:
    result = result_of(multi(client, 503, "ratio by (check)", "checks", test_run_ids=[1213, 1224]))
    pairs = {(s["metric"]["test_run_id"], s["metric"]["check"]) for s in result}  # type: ignore[index]
    assert pairs == {
        (run, check)
        for run in ("1213", "1224")
        for check in ("cart created", "payment accepted", "payment under 800ms")
    }
    peaks = result_of(multi(client, 503, "sum(max by (instance_id))", "vus"))
    assert {float(s["values"][0][1]) for s in peaks} == {400.0}  # type: ignore[index]
    assert result_of(multi(client, 503, "ratio", "http_reqs")) == []  # wrong method for the type: empty


def test_metrics_across_runs(client: httpx.Client) -> None:
    body = client.get(f"{V5}/load_tests/501/metrics").json()
    names = [entry["name"] for entry in body["value"]]
    assert names == sorted(set(names)) and "http_req_duration" in names and "checks" in names
    entry = next(entry for entry in body["value"] if entry["name"] == "http_req_duration")
    assert entry["type"] == "trend" and entry["test_run_id"] == 1230  # typed as in the latest run having it
    assert set(entry) == {"id", "name", "origin", "test_run_id", "type"}
    some = client.get(f"{V5}/load_tests/501/" + call("metrics", test_run_ids=[1184, 1185])).json()["value"]
    assert {e["test_run_id"] for e in some} == {1185}
    latest = client.get(f"{V5}/load_tests/501/" + call("metrics", test_run_count=2)).json()["value"]
    assert {e["test_run_id"] for e in latest} == {1230}
    browser = client.get(f"{V5}/load_tests/507/metrics").json()["value"]
    assert "browser_web_vital_lcp" in {entry["name"] for entry in browser}


def test_new_runs_join_once_finished(sim: Simulator, client: httpx.Client) -> None:
    before = run_ids(result_of(multi(client, 502, "rate", "http_reqs")))
    assert 1237 not in before  # queued
    sim.clock.advance(600)
    after = run_ids(result_of(multi(client, 502, "rate", "http_reqs")))
    assert after == [*before, 1237]


@pytest.mark.parametrize(
    ("arguments", "target"),
    [
        ("test_run_ids=[1211],test_run_count=2", "test_run_ids"),
        ("test_run_ids=[1202]", "test_run_ids"),  # a run of another test
        ("test_run_ids=[424242]", "test_run_ids"),
        ("test_run_ids=[]", "test_run_ids"),
        ("test_run_ids=1211", "test_run_ids"),
        ("test_run_count=0", "test_run_count"),
        ("test_run_count=2.5", "test_run_count"),
        ("test_run_count=100000", "test_run_count"),
        ("step=5", "step"),
    ],
)
def test_bad_run_choices_are_400(client: httpx.Client, arguments: str, target: str) -> None:
    path = f"{V5}/load_tests/501/query_aggregate_k6(query='rate',metric='http_reqs',{arguments})"
    assert error_of(client.get(path), 400)["target"] == target
    if target != "step":
        assert error_of(client.get(f"{V5}/load_tests/501/metrics({arguments})"), 400)["target"] == target


def test_unknown_load_test_and_missing_arguments(client: httpx.Client) -> None:
    error_of(multi(client, 9999, "rate", "http_reqs"), 404)
    error_of(client.get(f"{V5}/load_tests/9999/metrics"), 404)
    missing = client.get(f"{V5}/load_tests/501/query_aggregate_k6(metric='http_reqs')")
    assert error_of(missing, 400)["target"] == "query"


def test_a_50_ms_latency_on_every_v5_request(sim: Simulator, client: httpx.Client) -> None:
    # How benchmarks slow the v5 API down: one latency fault for every v5 path, forever.
    sim.faults.add(Fault(path=r"/cloud/v5/.*", kind="latency", delay=0.05, times=None))
    for path in (
        f"{V5}/test_runs/1223/metrics",
        f"{V5}/test_runs/1223/" + call("query_aggregate_k6", query=P95, metric="http_req_duration"),
        f"{V5}/load_tests/501/" + call("query_aggregate_k6", query=P95, metric="http_req_duration"),
    ):
        started = time.perf_counter()
        assert client.get(path).status_code == 200
        assert time.perf_counter() - started >= 0.05
    assert client.get("/cloud/v6/test_runs/1223").status_code == 200  # other paths are not matched
    assert len(sim.faults) == 1  # times=None: it stays armed


async def test_the_latency_is_per_request_so_parallel_requests_overlap(sim: Simulator, base_url: str) -> None:
    sim.faults.add(Fault(path=r"/cloud/v5/.*", kind="latency", delay=0.2, times=None))
    paths = [f"{V5}/test_runs/{run_id}/metrics" for run_id in (1201, 1205, 1211, 1223)]
    async with httpx.AsyncClient(base_url=base_url, headers=auth_headers(), timeout=10, verify=False) as http:
        started = time.perf_counter()
        responses = await asyncio.gather(*(http.get(path) for path in paths))
        elapsed = time.perf_counter() - started
    assert all(response.status_code == 200 for response in responses)
    assert 0.2 <= elapsed < 0.2 * len(paths)  # waited concurrently, not one after the other


def test_latency_over_the_control_api(anon: httpx.Client, client: httpx.Client) -> None:
    fault = {"path": "/cloud/v5/.*", "kind": "latency", "delay": 0.05, "times": None}
    assert anon.post("/_sim/faults", json=fault).status_code == 201
    started = time.perf_counter()
    assert client.get(f"{V5}/test_runs/1223/metrics").status_code == 200
    assert time.perf_counter() - started >= 0.05
