"""investigate_test_run over the simulator's demo data, via real HTTP."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TEST_STACK, TEST_TOKEN
from tests.simulator.conftest import auth_headers
from tests.simulator.metrics_client import value
from tools.analysis.aborts import AbortSide
from tools.analysis.thresholds import ThresholdState
from tools.errors import NotFound


async def test_1224_names_crossed_thresholds_and_failing_checks(toolbox, sim, sim_url):
    sim.clear_requests()
    result = await toolbox.execute("investigate_test_run", {"test_run": 1224})
    assert len(sim.requests) <= 15
    assert len(sim.requests) == result.requests
    assert result.requests <= 15
    states = {v.threshold: v.state for v in result.thresholds}
    assert states["http_req_duration{name:pay}: p(95)<700"] is ThresholdState.CROSSED
    assert states["http_req_failed: rate<0.02"] is ThresholdState.CROSSED
    assert states["checks: rate>0.98"] is ThresholdState.CROSSED
    assert states["http_req_duration: p(95)<800"] is ThresholdState.PASSED
    assert "payment accepted" in result.checks.failing
    assert result.side == "system-side"
    with httpx.Client(base_url=sim_url, headers=auth_headers(TEST_TOKEN, TEST_STACK)) as c:
        pay = value(c, 1224, "histogram_quantile(0.95)", 'http_req_duration{name="pay"}')
        p95 = value(c, 1224, "histogram_quantile(0.95)", "http_req_duration")
    measured = {v.threshold: v.measured for v in result.thresholds}
    assert measured["http_req_duration{name:pay}: p(95)<700"] == pay
    assert result.figures.p95_ms == p95
    assert "http_req_duration{name:pay}" in result.text()


async def test_1203_flags_the_zero_observation_threshold(toolbox):
    result = await toolbox.execute("investigate_test_run", {"test_run": 1203})
    empty = [v.threshold for v in result.thresholds if v.state is ThresholdState.NO_OBSERVATIONS]
    assert empty == ["http_req_duration{name:3ds-challenge}: p(95)<1500"]
    assert "no observations" in result.diagnosis


async def test_1228_platform_abort_is_not_the_script(toolbox):
    result = await toolbox.execute("investigate_test_run", {"test_run": 1228})
    assert result.abort is not None and result.abort.side is AbortSide.PLATFORM
    assert result.side == "platform-side"


async def test_unknown_run_is_a_clear_404(toolbox):
    with pytest.raises(NotFound) as caught:
        await toolbox.execute("investigate_test_run", {"test_run": 999999})
    assert "999999 not found" in str(caught.value)


async def test_one_mcp_call_gives_structured_content_and_text(toolbox):
    from bot.mcp import build_server
    from tests.mcp.conftest import connect, text_of

    async with connect(build_server(toolbox), "legacy") as client:
        result = await client.call_tool("investigate_test_run", {"test_run": 1224})
    assert not result.is_error, text_of(result)
    assert result.structured_content["side"] == "system-side"
    assert "http_req_duration{name:pay}: p(95)<700: crossed" in text_of(result)


async def test_a_running_run_is_said_so_and_analysed_so_far(toolbox):
    result = await toolbox.execute("investigate_test_run", {"test_run": 1234})
    assert result.status == "running" and result.abort is None
    assert result.diagnosis.startswith("The run is running: figures so far only.")
    assert result.thresholds  # the script's thresholds are listed even while it runs


async def test_1225_threshold_abort_is_the_script(toolbox):
    result = await toolbox.execute("investigate_test_run", {"test_run": 1225})
    assert result.abort is not None and result.abort.side is AbortSide.SCRIPT
    assert any(
        v.threshold == "http_req_failed: rate<0.05" and v.state is ThresholdState.CROSSED for v in result.thresholds
    )


async def test_a_finished_run_is_compared_with_the_baseline_like_compare_test_runs_does(toolbox, sim):
    sim.clear_requests()
    result = await toolbox.execute("investigate_test_run", {"test_run": 1223})
    assert result.requests == len(sim.requests) <= 15
    # one request per metric for both runs together: the multi-run endpoint; per run only the two breakdowns
    assert sim.count("GET", r"/cloud/v5/load_tests/501/query_aggregate_k6.*") == 6
    assert sim.count("GET", r"/cloud/v5/test_runs/\d+/query_aggregate_k6.*") == 2
    assert sim.count("GET", r"/cloud/v5/test_runs/1223/query_aggregate_k6.*by.{1,3}\(name.*") == 2
    versus = result.versus
    assert versus is not None and (versus.against_kind, versus.against_id) == ("baseline", 1211)
    comparison = await toolbox.execute("compare_test_runs", {"test_run": 1223})
    assert versus.overall == comparison.overall
    assert [d.model_dump() for d in versus.deltas] == [d.model_dump() for d in comparison.deltas]
    assert versus.script_changed is False
    assert f"Against baseline #1211: {versus.overall.value}" in result.diagnosis


async def test_a_run_from_before_the_script_change_says_the_script_changed_since(toolbox):
    result = await toolbox.execute("investigate_test_run", {"test_run": 1191})  # the script changes at 1192
    assert result.versus is not None and result.versus.against_id == 1211
    assert result.versus.script_changed is True
    assert "The script changed since." in result.diagnosis


async def test_a_running_run_is_not_compared_yet(toolbox, sim):
    sim.clear_requests()
    result = await toolbox.execute("investigate_test_run", {"test_run": 1234})
    assert result.versus is None and "figures so far" in result.diagnosis
    assert sim.count("GET", r"/cloud/v5/load_tests/.*") == 0


async def test_the_slowest_and_most_failing_requests_come_from_the_runs_own_series(toolbox, sim_url):
    result = await toolbox.execute("investigate_test_run", {"test_run": 1224})
    assert result.requests <= 15
    with httpx.Client(base_url=sim_url, headers=auth_headers(TEST_TOKEN, TEST_STACK)) as c:
        pay = value(c, 1224, "histogram_quantile(0.95)", 'http_req_duration{name="pay"}')
    assert [r.name for r in result.slowest_requests] == ["pay", "cart"]  # slowest first
    assert result.slowest_requests[0].p95_ms == pay
    top = result.failing_requests[0]
    assert (top.name, top.status) == ("pay", "503") and top.count > result.failing_requests[1].count
    assert "pay → 503" in result.text() and "Slowest requests (p95): pay" in result.text()


async def test_a_deleted_baseline_is_passed_over_for_the_previous_run_and_said(toolbox, sim):
    sim.delete_run(1211)  # the soak test still names it as its baseline
    previous = await toolbox.execute("compare_test_runs", {"test_run": 1223, "against": "previous"})
    sim.clear_requests()
    result = await toolbox.execute("investigate_test_run", {"test_run": 1223})
    assert result.requests == len(sim.requests) <= 15
    assert result.versus is not None
    assert (result.versus.against_kind, result.versus.against_id) == ("previous", previous.against_id)
    assert result.versus.deltas == previous.deltas
    assert "The baseline #1211 of 'Orders API Soak Test' no longer exists." in result.diagnosis
