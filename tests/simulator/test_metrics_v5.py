"""The v5 metrics API of one run: metrics, labels, series, aggregate and range queries, over real HTTP."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import httpx
import pytest

from tools.simulator import Simulator
from tools.simulator.timeutil import iso, parse_iso
from tools.simulator.v5query import METHODS

from .conftest import V6, error_of
from .metrics_client import V5, aggregate, by_label, call, range_of, series_of, value

P95 = "histogram_quantile(0.95)"
SOAK, SPIKE, REFUNDS, BROWSER = 1223, 1224, 1229, 1210
A_METRIC_OF = {"trend": "http_req_duration", "counter": "http_reqs", "rate": "http_req_failed", "gauge": "vus"}


def test_metrics_list(client: httpx.Client) -> None:
    body = client.get(f"{V5}/test_runs/{SOAK}/metrics").json()
    entries = {entry["name"]: entry for entry in body["value"]}
    assert set(body) == {"value"}
    expected = {
        "http_req_duration": "trend",
        "http_req_waiting": "trend",
        "iteration_duration": "trend",
        "http_reqs": "counter",
        "iterations": "counter",
        "data_received": "counter",
        "http_req_failed": "rate",
        "checks": "rate",
        "vus": "gauge",
        "vus_max": "gauge",
        "load_generator_cpu_percent": "gauge",
    }
    assert {name: entries[name]["type"] for name in expected} == expected
    entry = entries["http_req_duration"]
    assert set(entry) == {"id", "name", "origin", "test_run_id", "type"}
    assert entry["origin"] == "builtin" and entry["test_run_id"] == SOAK and len(entry["id"]) == 36
    assert not any(name.startswith("browser_") for name in entries)
    browser = {entry["name"] for entry in client.get(f"{V5}/test_runs/{BROWSER}/metrics").json()["value"]}
    assert {"browser_web_vital_lcp", "browser_http_req_duration", "checks", "vus"} <= browser
    assert "http_req_duration" not in browser  # a browser test makes no k6/http requests


def test_custom_metrics_are_listed_and_queried(sim: Simulator, client: httpx.Client) -> None:
    script = """import http from 'k6/http';
import { Trend, Counter } from 'k6/metrics';
const cart = new Trend('cart_time', true);
const orders = new Counter('orders_placed');
export const options = { vus: 5, duration: '1m', thresholds: { cart_time: ['p(95)<50'] } };
export default function () { http.get('https://shop.test/'); cart.add(12); orders.add(1); }
"""
    test = sim.add_load_test(77, "Custom metrics", script=script)
    run_id = sim.add_runs(test["id"], 1)[0]["id"]
    entries = {entry["name"]: entry for entry in client.get(f"{V5}/test_runs/{run_id}/metrics").json()["value"]}
    assert (entries["cart_time"]["type"], entries["cart_time"]["origin"]) == ("trend", "custom")
    assert entries["orders_placed"]["type"] == "counter"
    p95 = value(client, run_id, P95, "cart_time")
    assert p95 is not None and 0 < p95 < 50  # the passed run is under its threshold on the custom metric
    assert (value(client, run_id, "increase", "orders_placed") or 0) > 0


def test_labels_and_label_values(client: httpx.Client) -> None:
    labels = client.get(f"{V5}/test_runs/{SOAK}/labels", params={"match[]": "http_req_duration"}).json()
    assert labels["status"] == "success"
    assert {"__name__", "test_run_id", "name", "url", "method", "status", "expected_response", "load_zone"} <= set(
        labels["data"]
    )
    assert "check" not in labels["data"] and "instance_id" not in labels["data"]
    everything = client.get(f"{V5}/test_runs/{SOAK}/labels").json()["data"]
    assert {"check", "instance_id"} <= set(everything)
    zones = client.get(f"{V5}/test_runs/{SOAK}/label/load_zone/values", params={"match[]": "http_reqs"}).json()
    assert zones == {"status": "success", "data": ["amazon:ie:dublin", "amazon:us:ashburn"]}
    checks = client.get(f"{V5}/test_runs/{SOAK}/label/check/values").json()["data"]
    assert checks == ["list has orders", "list status is 200", "order created"]
    names = client.get(f"{V5}/test_runs/{SOAK}/label/__name__/values").json()["data"]
    assert "http_req_duration" in names and names == sorted(names)
    statuses = client.get(
        f"{V5}/test_runs/{REFUNDS}/label/status/values", params={"match[]": 'http_reqs{expected_response="true"}'}
    ).json()["data"]
    assert statuses == ["200"]  # refunds answered 200 where the script's check wants 202


def test_series(client: httpx.Client) -> None:
    response = client.get(f"{V5}/test_runs/{SPIKE}/series", params={"match[]": 'checks{check=~"payment.*"}'})
    data = response.json()["data"]
    assert {series["check"] for series in data} == {"payment accepted", "payment under 800ms"}
    assert all(series["__name__"] == "checks" and series["test_run_id"] == str(SPIKE) for series in data)
    both = client.get(
        f"{V5}/test_runs/{SPIKE}/series", params=[("match[]", "vus"), ("match[]", 'http_reqs{name="pay"}')]
    ).json()["data"]
    assert {series["__name__"] for series in both} == {"vus", "http_reqs"}
    assert {series["status"] for series in both if series["__name__"] == "http_reqs"} == {"200", "503"}
    error = error_of(client.get(f"{V5}/test_runs/{SPIKE}/series"), 400)
    assert error["target"] == "match[]"
    error_of(client.get(f"{V5}/test_runs/{SPIKE}/series", params={"match[]": 'http_reqs{name="x"'}), 400)


def test_aggregate_shape(client: httpx.Client) -> None:
    response = aggregate(client, BROWSER, "histogram_quantile(0.75)", "browser_web_vital_lcp")
    body = response.json()
    assert body["status"] == "success" and body["data"]["resultType"] == "vector"
    (sample,) = body["data"]["result"]
    assert sample["metric"] == {"__name__": "browser_web_vital_lcp", "test_run_id": str(BROWSER)}
    timestamp, text = sample["values"][0]
    assert isinstance(timestamp, int | float) and isinstance(text, str) and float(text) > 0


def test_unencoded_arguments_work_too(client: httpx.Client) -> None:
    raw = client.get(f"{V5}/test_runs/{SOAK}/query_aggregate_k6(query='{P95}',metric='http_req_duration')")
    assert raw.status_code == 200
    assert float(raw.json()["data"]["result"][0]["values"][0][1]) == value(client, SOAK, P95, "http_req_duration")


def test_values_are_deterministic_and_plausible(client: httpx.Client) -> None:
    p50 = value(client, SOAK, "histogram_quantile(0.5)", "http_req_duration")
    p95 = value(client, SOAK, P95, "http_req_duration")
    p99 = value(client, SOAK, "histogram_quantile(0.99)", "http_req_duration")
    assert p50 is not None and p95 is not None and p99 is not None
    assert 50 < p50 < p95 < p99 < 2000
    assert p95 == value(client, SOAK, P95, "http_req_duration")
    assert 0 <= (value(client, SOAK, "ratio", "http_req_failed") or 0) < 0.01
    assert 20 < (value(client, SOAK, "rate", "http_reqs") or 0) < 200  # 50 VUs, ~1.3 s per iteration, 2 requests


def test_trend_methods(client: httpx.Client) -> None:
    def trend(method: str) -> float:
        found = value(client, SOAK, method, "http_req_duration")
        assert found is not None, method
        return found

    low, median, high = trend("histogram_min"), trend("histogram_quantile(0.5)"), trend("histogram_max")
    assert 0 < low < median < trend("histogram_avg") < trend(P95) < high
    assert trend("histogram_stddev") > 0
    assert trend("histogram_quantile(0)") <= low and trend("histogram_quantile(1)") >= high
    count = trend("histogram_count_increase")
    assert count == trend("histogram_count_value") == value(client, SOAK, "increase", "http_reqs")
    waiting = value(client, SOAK, P95, "http_req_waiting")
    assert waiting is not None and waiting < trend(P95)


def test_counter_methods(client: httpx.Client, sim: Simulator) -> None:
    seconds = sim.run(SOAK)["execution_duration"]
    increase = value(client, SOAK, "increase", "http_reqs")
    rate = value(client, SOAK, "rate", "http_reqs")
    assert increase is not None and rate is not None and increase == int(increase)
    assert rate == pytest.approx(increase / seconds, rel=0.01)
    assert value(client, SOAK, "value", "http_reqs") == increase
    assert value(client, SOAK, "cumrate", "http_reqs") == pytest.approx(rate, rel=0.01)
    spike_rate = value(client, SPIKE, "rate", "http_reqs") or 0
    assert (value(client, SPIKE, "max_rate(10)", "http_reqs") or 0) > spike_rate * 1.2  # the peak beats the mean
    assert (value(client, SOAK, "increase", "data_received") or 0) > increase * 1000


def test_rate_methods(client: httpx.Client) -> None:
    def rate(method: str) -> float:
        found = value(client, SPIKE, method, "http_req_failed")
        assert found is not None, method
        return found

    assert rate("increase_nz") + rate("increase_z") == rate("increase_total")
    assert rate("ratio") == pytest.approx(rate("increase_nz") / rate("increase_total"), rel=1e-3)
    assert rate("value_total") == rate("increase_total")
    assert rate("rate_nz") == pytest.approx(rate("rate_total") * rate("ratio"), rel=1e-3)
    assert rate("increase_total") == value(client, SPIKE, "increase", "http_reqs")
    passes = by_label(series_of(client, SPIKE, "increase_nz by (check)", "checks"), "check")
    totals = by_label(series_of(client, SPIKE, "increase_total by (check)", "checks"), "check")
    ratios = by_label(series_of(client, SPIKE, "ratio by (check)", "checks"), "check")
    for name, ratio in ratios.items():
        assert ratio == pytest.approx(passes[name] / totals[name], abs=1e-3)


def test_gauge_methods(sim: Simulator, client: httpx.Client) -> None:
    peak = value(client, SPIKE, "sum(max by (instance_id))", "vus")
    assert peak == 400
    assert value(client, SOAK, "sum(max by (instance_id))", "vus") == 50
    assert value(client, SPIKE, "max", "vus") == 200  # two load generators of 200 VUs: max of the pooled samples
    assert value(client, SPIKE, "sum(last by (instance_id))", "vus") == 0  # ramped down to 0 at the end
    assert value(client, SPIKE, "min", "vus") == 0  # ramped down to 0 VUs at the end
    avg = value(client, SPIKE, "sum(avg by (instance_id))", "vus")
    assert avg is not None and 100 < avg < 400
    last_time = value(client, SPIKE, "last_time", "vus")
    ended = parse_iso(sim.run(SPIKE)["status_history"][-2]["entered"])  # processing_metrics: running ended
    assert last_time == pytest.approx(ended.timestamp(), abs=1)
    cpu = value(client, SPIKE, "max", "load_generator_cpu_percent")
    assert cpu is not None and 0 < cpu <= 100


def test_selectors(client: httpx.Client) -> None:
    overall = value(client, SPIKE, P95, "http_req_duration") or 0
    pay = value(client, SPIKE, P95, 'http_req_duration{name="pay"}') or 0
    cart = value(client, SPIKE, P95, 'http_req_duration{name!="pay"}') or 0
    assert cart < overall < pay
    assert value(client, SPIKE, P95, 'http_req_duration{name=~"pa.*"}') == pay
    assert value(client, SPIKE, P95, 'http_req_duration{name!~"pa.*"}') == cart
    assert value(client, SPIKE, P95, 'http_req_duration{name=~"pa"}') is None  # anchored, as in Prometheus
    assert value(client, SPIKE, P95, 'http_req_duration{name="pay",method=~"GET|POST",status="200"}') is not None
    assert value(client, SPIKE, P95, 'http_req_duration{name="nobody"}') is None
    assert value(client, SPIKE, P95, '{__name__="http_req_duration",name="pay"}') == pay
    errors = value(client, SPIKE, "increase", 'http_reqs{expected_response="false"}') or 0
    assert errors == value(client, SPIKE, "increase_nz", "http_req_failed")


def test_grouping(client: httpx.Client) -> None:
    by_name = by_label(series_of(client, SPIKE, f"{P95} by (name)", "http_req_duration"), "name")
    assert set(by_name) == {"cart", "pay"}
    assert by_name["pay"] == value(client, SPIKE, P95, 'http_req_duration{name="pay"}')
    pairs = series_of(client, SPIKE, "increase by (name,status)", "http_reqs")
    keys = {(s["metric"]["name"], s["metric"]["status"]) for s in pairs}
    assert keys == {("cart", "201"), ("cart", "503"), ("pay", "200"), ("pay", "503")}
    assert all(set(s["metric"]) == {"__name__", "test_run_id", "name", "status"} for s in pairs)
    total = sum(float(s["values"][0][1]) for s in pairs)
    assert total == pytest.approx(value(client, SPIKE, "increase", "http_reqs") or 0, abs=len(pairs))
    zones = series_of(client, SOAK, "sum by (load_zone) (increase by (load_zone, status))", "http_reqs")
    assert {s["metric"]["load_zone"] for s in zones} == {"amazon:us:ashburn", "amazon:ie:dublin"}
    counted = series_of(client, SOAK, "count(max by (instance_id))", "vus")
    assert float(counted[0]["values"][0][1]) == 2  # one load generator per zone
    worst = value(client, SPIKE, f"max({P95} by (name))", "http_req_duration")
    assert worst == by_name["pay"]


@pytest.mark.parametrize("metric_type", list(A_METRIC_OF))
def test_a_method_of_another_type_gives_an_empty_result(client: httpx.Client, metric_type: str) -> None:
    metric = A_METRIC_OF[metric_type]
    for method_type, methods in METHODS.items():
        for method in methods:
            query = method + ("(0.5)" if method == "histogram_quantile" else "(10)" if method == "max_rate" else "")
            result = series_of(client, SOAK, query, metric)
            assert (result != []) == (method_type == metric_type), (query, metric)


def test_unknown_metrics_and_runs(client: httpx.Client) -> None:
    assert series_of(client, SOAK, "rate", "no_such_metric") == []
    error_of(aggregate(client, 999999, "rate", "http_reqs"), 404)
    error_of(client.get(f"{V5}/test_runs/999999/metrics"), 404)


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("query_aggregate_k6(metric='http_reqs')", "query"),
        ("query_aggregate_k6(query='rate')", "metric"),
        ("query_aggregate_k6(query='rate',metric='')", "metric"),
        ("query_aggregate_k6(query='bogus',metric='http_reqs')", "query"),
        ("query_aggregate_k6(query='histogram_quantile',metric='http_req_duration')", "query"),
        ("query_aggregate_k6(query='histogram_quantile(1.5)',metric='http_req_duration')", "query"),
        ("query_aggregate_k6(query='histogram_quantile(x)',metric='http_req_duration')", "query"),
        ("query_aggregate_k6(query='ratio(2)',metric='checks')", "query"),
        ("query_aggregate_k6(query='max_rate(0)',metric='http_reqs')", "query"),
        ("query_aggregate_k6(query='ratio by check',metric='checks')", "query"),
        ("query_aggregate_k6(query='sum(max by (instance_id)',metric='vus')", "query"),
        ("query_aggregate_k6(query='rate',metric='http_reqs{status=200}')", "metric"),
        ("query_aggregate_k6(query='rate',metric='http_reqs{status=\"200\"')", "metric"),
        ("query_aggregate_k6(query='rate',metric='http_reqs{status=~\"(\"}')", "metric"),
        ("query_aggregate_k6(query='rate',metric='http_reqs{status~\"2\"}')", "metric"),
        ("query_aggregate_k6(query='rate',metric='{}')", "metric"),
        ("query_aggregate_k6(query='rate,metric='http_reqs')", None),
        ("query_aggregate_k6(query='rate',metric='http_reqs',colour='red')", "colour"),
        ("query_aggregate_k6(query='rate',query='rate',metric='http_reqs')", "query"),
        ("query_aggregate_k6(query='rate',metric='http_reqs',start=yesterday)", "start"),
        ("query_aggregate_k6(query='rate',metric='http_reqs',nonsense)", None),
        ("query_range_k6(query='rate',metric='http_reqs',step=0)", "step"),
        ("query_range_k6(query='rate',metric='http_reqs',step=abc)", "step"),
        ("query_range_k6(query='rate',metric='http_reqs',test_run_ids=[1])", "test_run_ids"),
    ],
)
def test_malformed_arguments_are_400(client: httpx.Client, path: str, target: str | None) -> None:
    error = error_of(client.get(f"{V5}/test_runs/{SOAK}/{path}"), 400)
    assert error["code"] == "validation_error"
    assert error["target"] == target, error


def test_quoted_quotes_in_arguments(client: httpx.Client, sim: Simulator) -> None:
    script = """import http from 'k6/http';
export const options = { vus: 2, duration: '1m' };
export default function () { http.get('https://x.test/', { tags: { name: "o'brien" } }); }
"""
    run_id = sim.add_runs(sim.add_load_test(77, "Quotes", script=script)["id"], 1)[0]["id"]
    found = value(client, run_id, "increase", 'http_reqs{name="o\'brien"}')  # sent as o''brien
    assert found is not None and found > 0


def test_start_and_end_narrow_the_window(sim: Simulator, client: httpx.Client) -> None:
    running = parse_iso(sim.run(SPIKE)["status_history"][3]["entered"])
    whole = value(client, SPIKE, "increase", "http_reqs") or 0
    first_minute = value(
        client, SPIKE, "increase", "http_reqs", start=iso(running), end=iso(running + timedelta(seconds=60))
    )
    assert first_minute is not None and 0 < first_minute < whole / 10  # the ramp to 50 of 400 VUs
    later = value(client, SPIKE, "increase", "http_reqs", start=iso(running + timedelta(seconds=60)))
    assert later is not None and first_minute + later == pytest.approx(whole, abs=2)
    before = iso(running - timedelta(hours=1))
    assert value(client, SPIKE, "increase", "http_reqs", start=before, end=iso(running)) is None
    error = error_of(
        aggregate(client, SPIKE, "rate", "http_reqs", start=iso(running), end=iso(running - timedelta(seconds=1))),
        400,
    )
    assert error["target"] == "end"


def test_range_series_follow_the_load_profile(sim: Simulator, client: httpx.Client) -> None:
    (vus,) = range_of(client, SPIKE, "sum(max by (instance_id))", "vus", step=30)
    stamps = [point[0] for point in vus["values"]]
    levels = [float(point[1]) for point in vus["values"]]
    assert all(isinstance(text, str) for _, text in vus["values"])
    assert all(b - a == pytest.approx(30) for a, b in itertools.pairwise(stamps))
    running = parse_iso(sim.run(SPIKE)["status_history"][3]["entered"]).timestamp()
    assert stamps[0] == pytest.approx(running + 30, abs=0.01) and len(stamps) == 11  # 330 s / 30 s
    assert levels[1] == 50 and max(levels) == 400 and levels[-1] < 400  # ramp up, hold, ramp down
    (p95,) = range_of(client, SPIKE, P95, "http_req_duration", step=30)
    latency = [float(point[1]) for point in p95["values"]]
    assert max(latency[3:8]) > latency[0] * 1.3  # slower at the peak
    (failures,) = range_of(client, SPIKE, "ratio", "http_req_failed", step=30)
    errors = [float(point[1]) for point in failures["values"]]
    assert max(errors[3:8]) > errors[0]  # failures come with the load
    requests = range_of(client, SPIKE, "increase", "http_reqs", step=30)[0]
    summed = sum(float(point[1]) for point in requests["values"])
    assert summed == pytest.approx(value(client, SPIKE, "increase", "http_reqs") or 0, rel=0.01)


def test_range_defaults_grouping_and_limits(sim: Simulator, client: httpx.Client) -> None:
    default = range_of(client, SOAK, P95, "http_req_duration")
    assert 100 <= len(default[0]["values"]) <= 120  # 1800 s at a 15 s step
    grouped = range_of(client, SOAK, "increase by (name)", "http_reqs", step=60)
    assert len(grouped) == 2 and all(len(series["values"]) == 30 for series in grouped)
    (soak,) = range_of(client, SOAK, P95, "http_req_duration", step=300)
    drift = [float(point[1]) for point in soak["values"]]
    assert drift[-1] > drift[0]  # p95 drifts up over a soak run
    long_script = "export const options = { vus: 1, duration: '4h' };\nexport default function () {}\n"
    run_id = sim.add_runs(sim.add_load_test(77, "Long", script=long_script)["id"], 1)[0]["id"]
    path = call("query_range_k6", query="sum(max by (instance_id))", metric="vus", step=1)
    error = error_of(client.get(f"{V5}/test_runs/{run_id}/{path}"), 400)
    assert error["target"] == "step" and "11,000" in error["message"]
    assert range_of(client, run_id, "sum(max by (instance_id))", "vus", step=2)


def test_a_running_run_has_metrics_so_far(sim: Simulator, client: httpx.Client) -> None:
    run = sim.run(1234)
    assert run["status"] == "running"
    so_far = value(client, 1234, "increase", "http_reqs") or 0
    assert so_far > 0
    (series,) = range_of(client, 1234, "increase", "http_reqs", step=60)
    assert len(series["values"]) == 10  # ten minutes so far
    sim.clock.advance(300)
    assert (value(client, 1234, "increase", "http_reqs") or 0) > so_far * 1.3
    assert value(client, 1234, P95, "http_req_duration") is not None


@pytest.mark.parametrize("run_id", [1236, 1237, 1238])  # initializing, queued, created
def test_runs_that_have_not_started_have_no_metrics(client: httpx.Client, run_id: int) -> None:
    assert client.get(f"{V5}/test_runs/{run_id}/metrics").json() == {"value": []}
    assert series_of(client, run_id, "rate", "http_reqs") == []
    assert range_of(client, run_id, "rate", "http_reqs") == []
    assert client.get(f"{V5}/test_runs/{run_id}/labels").json() == {"status": "success", "data": []}


def test_metrics_arrive_once_the_run_runs(sim: Simulator, client: httpx.Client) -> None:
    assert series_of(client, 1236, "rate", "http_reqs") == []
    sim.clock.advance(60)
    assert series_of(client, 1236, "rate", "http_reqs") != []


def test_a_run_stopped_by_a_limit_never_ran(sim: Simulator, client: httpx.Client) -> None:
    sim.update_limits(77, {"vu_max_per_test": 10})
    run = sim.start_run(501)  # 50 VUs
    sim.clock.advance(3600)
    assert sim.run(run["id"])["status"] == "aborted"
    assert series_of(client, run["id"], "increase", "http_reqs") == []


def test_expired_metrics_answer_empty(sim: Simulator, client: httpx.Client) -> None:
    run = sim.run(1186)  # an old soak run nobody saved
    assert run["status"] == "completed" and parse_iso(run["retention_expiry"]) < sim.clock.now()
    assert client.get(f"{V5}/test_runs/1186/metrics").json() == {"value": []}
    assert series_of(client, 1186, P95, "http_req_duration") == []
    assert range_of(client, 1186, P95, "http_req_duration") == []
    assert client.get(f"{V5}/test_runs/1186/labels").json()["data"] == []
    assert client.get(f"{V5}/test_runs/1186/series", params={"match[]": "vus"}).json()["data"] == []
    assert error_of(client.post(f"{V6}/test_runs/1186/save"), 409)["message"] == "Test run has been deleted"
    assert series_of(client, 1185, P95, "http_req_duration") != []  # a saved neighbour keeps them


def test_metrics_expire_with_the_clock_unless_saved(sim: Simulator, client: httpx.Client) -> None:
    expiry: datetime = parse_iso(sim.run(1201)["retention_expiry"])
    assert series_of(client, 1201, "rate", "http_reqs") != []
    assert client.post(f"{V6}/test_runs/1205/save").status_code == 204
    sim.clock.advance((expiry - sim.clock.now()).total_seconds() + 6 * 86400)
    assert series_of(client, 1201, "rate", "http_reqs") == []
    assert series_of(client, 1205, "rate", "http_reqs") != []
