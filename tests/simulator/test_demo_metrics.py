"""The demo's metric history: results, thresholds and checks agree, and the story of demo.py is there.

Everything is read the way the run analysis reads it: the run over v6, the script it executed over
``GET /cloud/v6/test_runs/{id}/script``, its thresholds through tools.k6scripts, their values over v5.
"""

from __future__ import annotations

import itertools
import statistics
from typing import Any

import httpx

from tools.k6scripts import Script, Threshold, read_script
from tools.simulator import Simulator
from tools.simulator.demo import EXPIRED_RUN_ID, HISTORY, ORDERS_SOAK_TEST_ID
from tools.simulator.runmodel import solved_model
from tools.simulator.scripts import analyze_script

from .conftest import START, V6
from .metrics_client import V5, by_label, multi, series_of, value

P95 = "histogram_quantile(0.95)"


def script_of(client: httpx.Client, run_id: int) -> Script:
    response = client.get(f"{V6}/test_runs/{run_id}/script")
    assert response.status_code == 200
    return read_script(response.content)


def metric_types(client: httpx.Client, run_id: int) -> dict[str, str]:
    return {entry["name"]: entry["type"] for entry in client.get(f"{V5}/test_runs/{run_id}/metrics").json()["value"]}


def judged(client: httpx.Client, run_id: int) -> list[tuple[Threshold, bool, float | None]]:
    """Every threshold of the run's script: (threshold, passed, measured) — measured over v5."""
    script = script_of(client, run_id)
    types = metric_types(client, run_id)
    found = []
    for threshold in script.thresholds:
        kind = types.get(threshold.metric) or script.metric_type(threshold.metric)
        assert kind is not None, threshold
        query = threshold.v5_query(kind)
        assert query is not None, threshold
        measured = value(client, run_id, query.query, query.metric)
        verdict = threshold.evaluate(measured)
        assert verdict.passed is not None
        found.append((threshold, verdict.passed, measured))
    return found


def finished_with_metrics(sim: Simulator, client: httpx.Client) -> list[dict[str, Any]]:
    runs = [sim.run(run.id) for run in sim.find_runs()]
    return [
        run
        for run in runs
        if run["status"] in ("completed", "aborted")
        and client.get(f"{V5}/test_runs/{run['id']}/metrics").json()["value"]
    ]


def test_every_demo_run_agrees_with_its_thresholds(sim: Simulator, client: httpx.Client) -> None:
    runs = finished_with_metrics(sim, client)
    assert len(runs) >= 45
    for run in runs:
        verdicts = judged(client, run["id"])
        crossed = [threshold.label for threshold, passed, _ in verdicts if not passed]
        if run["result"] == "passed" or run["result"] == "error":
            assert crossed == [], (run["id"], crossed)
        else:
            message = run["result_details"]["message"] or ""
            assert crossed, run["id"]
            if message.startswith("Thresholds have been crossed: "):
                assert message.removeprefix("Thresholds have been crossed: ") in crossed, (run["id"], message)
            else:  # aborted by an abortOnFail threshold
                assert any(t.abort_on_fail and not passed for t, passed, _ in verdicts), run["id"]


def test_checks_fail_with_the_requests_they_check(sim: Simulator, client: httpx.Client) -> None:
    """A check on a response fails at least as often as that request fails (a failed response fails it)."""
    compared = 0
    for run in finished_with_metrics(sim, client):
        ratios = by_label(series_of(client, run["id"], "ratio by (check)", "checks"), "check")
        if not ratios:
            continue
        overall = value(client, run["id"], "ratio", "checks")
        assert overall is not None and min(ratios.values()) - 1e-9 <= overall <= max(ratios.values()) + 1e-9
        failed = by_label(series_of(client, run["id"], "ratio by (name)", "http_req_failed"), "name")
        for request in analyze_script(client.get(f"{V6}/test_runs/{run['id']}/script").content).requests:
            for check in request.checks:
                if request.name in failed and "ms" not in check:
                    assert 1 - ratios[check] >= failed[request.name] - 1e-6, (run["id"], check)
                    compared += 1
    assert compared > 50


def test_the_soak_test_history(sim: Simulator, client: httpx.Client) -> None:
    result = multi(client, ORDERS_SOAK_TEST_ID, P95, "http_req_duration").json()["data"]["result"]
    p95 = {int(s["metric"]["test_run_id"]): float(s["values"][0][1]) for s in result}
    assert len(p95) >= 20
    finished = [run for run in sim.list_runs(ORDERS_SOAK_TEST_ID) if run["status"] in ("completed", "aborted")]
    assert len(finished) >= 20
    # creeping up towards the 500 ms threshold, the regression aside
    steady = [p95[run_id] for run_id in sorted(p95) if run_id != 1197]
    half = len(steady) // 2
    assert statistics.mean(steady[half:]) > statistics.mean(steady[:half]) * 1.2
    assert steady[-1] > 440 and max(steady) < 500 and min(steady) > 200
    rises = sum(1 for a, b in itertools.pairwise(steady) if b > a)
    assert rises >= len(steady) * 0.8
    # one clear regression
    others = statistics.mean(steady), statistics.stdev(steady)
    assert p95[1197] > others[0] + 3 * others[1]
    assert sim.run(1197)["result"] == "failed"
    # the latest completed run has little headroom left against p(95)<500
    assert 0 < (500 - p95[1223]) / 500 < 0.15


def test_the_script_change_is_a_different_script_hash(sim: Simulator, client: httpx.Client) -> None:
    hashes = {run_id: script_of(client, run_id).sha256 for run_id in (1184, 1191, 1192, 1197, 1211, 1223, 1234)}
    assert hashes[1184] == hashes[1191] != hashes[1192]
    assert hashes[1192] == hashes[1197] == hashes[1211] == hashes[1223] == hashes[1234]
    current = client.get(f"{V6}/load_tests/{ORDERS_SOAK_TEST_ID}/script").content
    assert read_script(current).sha256 == hashes[1234]
    old, new = script_of(client, 1191), script_of(client, 1192)
    assert (old.options["vus"], new.options["vus"]) == (40, 50)
    assert [t.label for t in old.thresholds] == [t.label for t in new.thresholds]
    old_checks = set(by_label(series_of(client, 1191, "ratio by (check)", "checks"), "check"))
    new_checks = set(by_label(series_of(client, 1192, "ratio by (check)", "checks"), "check"))
    assert new_checks - old_checks == {"list has orders"}


def test_the_baseline_is_a_real_earlier_run(sim: Simulator, client: httpx.Client) -> None:
    baseline = sim.load_test(ORDERS_SOAK_TEST_ID)["baseline_test_run_id"]
    run = sim.run(baseline)
    assert baseline == 1211 and run["test_id"] == ORDERS_SOAK_TEST_ID and run["result"] == "passed"
    assert run["retention_expiry"] is None  # saved
    assert (value(client, 1223, P95, "http_req_duration") or 0) > (
        value(client, 1211, P95, "http_req_duration") or 0
    ) * 1.1


def test_the_regression_run(client: httpx.Client) -> None:
    crossed = {t.label for t, passed, _ in judged(client, 1197) if not passed}
    assert crossed == {"http_req_duration: p(95)<500", "http_req_duration: p(99)<1000", "http_req_failed: rate<0.01"}
    by_name = by_label(series_of(client, 1197, f"{P95} by (name)", "http_req_duration"), "name")
    slowest = max(by_name, key=by_name.__getitem__)
    assert slowest.endswith("/api/orders?limit=20")  # the orders list lost its index


def test_checks_fail_while_the_run_passes(sim: Simulator, client: httpx.Client) -> None:
    run = sim.run(1229)
    assert run["result"] == "passed"
    assert not [t for t in script_of(client, 1229).thresholds if t.metric == "checks"]
    checks = by_label(series_of(client, 1229, "ratio by (check)", "checks"), "check")
    assert checks["refund accepted"] < 0.1
    passes = by_label(series_of(client, 1229, "increase_nz by (check)", "checks"), "check")
    fails = by_label(series_of(client, 1229, "increase_z by (check)", "checks"), "check")
    assert fails["refund accepted"] > passes["refund accepted"] * 10
    assert (value(client, 1229, "ratio", "http_req_failed") or 0) < 0.01  # 200 is no failed request


def test_a_crossed_threshold_on_a_tagged_sub_metric(sim: Simulator, client: httpx.Client) -> None:
    run = sim.run(1224)
    assert run["result_details"]["message"] == "Thresholds have been crossed: http_req_duration{name:pay}: p(95)<700"
    verdicts = {t.label: (passed, measured) for t, passed, measured in judged(client, 1224)}
    assert verdicts["http_req_duration{name:pay}: p(95)<700"][0] is False
    assert verdicts["http_req_duration: p(95)<800"][0] is True  # overall fine, the pay step is not
    assert verdicts["checks: rate>0.98"][0] is False and verdicts["http_req_failed: rate<0.02"][0] is False
    failing = by_label(series_of(client, 1224, "ratio by (check)", "checks"), "check")
    assert min(failing, key=failing.__getitem__) == "payment accepted"
    errors = by_label(series_of(client, 1224, "increase by (name)", 'http_reqs{status="503"}'), "name")
    assert errors["pay"] > errors.get("cart", 0) * 5


def test_a_zero_observation_threshold(sim: Simulator, client: httpx.Client) -> None:
    for run_id in (1203, 1212, 1222):
        (ghost,) = [t for t in script_of(client, run_id).thresholds if t.tags]
        assert ghost.tags == {"name": "3ds-challenge"}
        assert value(client, run_id, P95, ghost.metric_selector) is None
        verdict = ghost.evaluate(None)
        assert verdict.passed and not verdict.observed
        assert sim.run(run_id)["result"] == "passed"


def test_platform_aborts(sim: Simulator, client: httpx.Client) -> None:
    lifetime = sim.run(1228)
    statuses = [phase["type"] for phase in lifetime["status_history"]]
    assert statuses[-2:] == ["processing_metrics", "aborted"] and lifetime["result"] == "error"
    extra = lifetime["status_details"]["extra"]
    assert extra["code"] is not None and extra["by_user"] is None and "maximum lifetime" in extra["message"]
    assert all(passed for _, passed, _ in judged(client, 1228))  # not the script's fault
    assert lifetime["execution_duration"] >= 600  # it ran to the end
    generator = sim.run(1215)
    assert generator["status_details"]["extra"]["by_user"] is None and generator["result"] == "error"
    assert (value(client, 1215, "max", "load_generator_cpu_percent") or 0) >= 95


def test_threshold_aborts_crossed_their_abort_threshold(client: httpx.Client) -> None:
    for run_id in (1206, 1225):
        (abort,) = [(t, passed) for t, passed, _ in judged(client, run_id) if t.abort_on_fail]
        assert abort[0].label == "http_req_failed: rate<0.05" and abort[1] is False


def test_the_expired_run_is_in_the_history_without_metrics(client: httpx.Client) -> None:
    assert EXPIRED_RUN_ID == 1186
    assert client.get(f"{V6}/test_runs/1186").json()["result"] == "passed"
    assert client.get(f"{V5}/test_runs/1186/metrics").json()["value"] == []


def test_metrics_are_deterministic() -> None:
    def figures() -> list[object]:
        solved_model.cache_clear()  # build every model again
        sim = Simulator(speed=0, start=START)
        found: list[object] = []
        for demo in HISTORY:
            for query, metric in ((f"{P95} by (name)", "http_req_duration"), ("ratio by (check)", "checks")):
                found.append(sim.aggregate_metric(demo.id, query, metric))
            found.append(sim.range_metric(demo.id, "increase", "http_reqs"))
        return found

    assert figures() == figures()
