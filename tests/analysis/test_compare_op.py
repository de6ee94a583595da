"""compare_test_runs over the simulator's demo data, via real HTTP: values are the simulator's own figures."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TEST_STACK, TEST_TOKEN
from tests.simulator.conftest import auth_headers
from tests.simulator.metrics_client import value
from tools.errors import InvalidInput, NotFound


async def test_1223_against_the_baseline_is_a_p95_regression_with_the_simulators_numbers(toolbox, sim, sim_url):
    sim.clear_requests()
    result = await toolbox.execute("compare_test_runs", {"test_run": 1223, "against": "baseline"})
    sent = len(sim.requests)
    assert (result.against_id, result.against_kind, result.same_test) == (1211, "baseline", True)
    assert result.overall == "regression"
    deltas = {d.metric: d for d in result.deltas}
    with httpx.Client(base_url=sim_url, headers=auth_headers(TEST_TOKEN, TEST_STACK)) as c:
        now = value(c, 1223, "histogram_quantile(0.95)", "http_req_duration")
        before = value(c, 1211, "histogram_quantile(0.95)", "http_req_duration")
    assert (deltas["p95"].current, deltas["p95"].reference) == (now, before)
    assert deltas["p95"].change_pct == pytest.approx((now - before) / before * 100)
    assert deltas["p95"].verdict == "worse"
    assert "baseline #1211: regression" in result.text()
    # the run, the test (for its baseline), the other run, and 5 figures of each run
    assert sent == 1 + 1 + 1 + 2 * 5


async def test_default_is_the_baseline_and_a_wider_tolerance_hides_a_12_percent_change(toolbox):
    result = await toolbox.execute("compare_test_runs", {"test_run": 1223, "tolerance_pct": 20})
    assert result.against_kind == "baseline" and result.overall != "regression"


async def test_previous_is_the_latest_earlier_completed_run_of_the_same_test(toolbox):
    result = await toolbox.execute("compare_test_runs", {"test_run": 1230, "against": "previous"})
    assert result.against_kind == "previous" and result.against_id == 1223


async def test_runs_of_different_tests_are_compared_but_said_to_differ(toolbox):
    result = await toolbox.execute("compare_test_runs", {"test_run": 1223, "against": 1224})
    assert result.same_test is False
    assert "different load tests" in result.text()


async def test_bad_comparisons_are_refused_and_send_no_metric_query(toolbox, sim):
    with pytest.raises(InvalidInput, match="compared with itself"):
        await toolbox.execute("compare_test_runs", {"test_run": 1223, "against": 1223})
    sim.clear_requests()
    with pytest.raises(NotFound):
        await toolbox.execute("compare_test_runs", {"test_run": 1223, "against": 987654})
    assert not [r for r in sim.requests if "/cloud/v5/" in r.path]


async def test_a_deleted_baseline_is_passed_over_for_the_previous_run_and_said(toolbox, sim):
    sim.delete_run(1211)  # the soak test still names it as its baseline
    result = await toolbox.execute("compare_test_runs", {"test_run": 1223})
    previous = await toolbox.execute("compare_test_runs", {"test_run": 1223, "against": "previous"})
    assert (result.against_kind, result.against_id) == ("previous", previous.against_id)
    assert result.deltas == previous.deltas
    assert "the baseline #1211 of 'Orders API Soak Test' no longer exists" in result.text()


async def test_asking_for_a_deleted_baseline_is_refused_and_sends_no_metric_query(toolbox, sim):
    sim.delete_run(1211)
    sim.clear_requests()
    with pytest.raises(InvalidInput, match=r"baseline #1211 .* no longer exists; compare with 'previous'"):
        await toolbox.execute("compare_test_runs", {"test_run": 1223, "against": "baseline"})
    assert not [r for r in sim.requests if "/cloud/v5/" in r.path]
