"""get_load_test_trend over the simulator's demo data, via real HTTP: values are the simulator's own figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import TEST_STACK, TEST_TOKEN, make_settings
from tests.simulator.conftest import auth_headers
from tests.simulator.metrics_client import value
from tools.client import K6CloudClient
from tools.errors import K6BotError
from tools.operations.trend import LoadTestTrend
from tools.outputs import attachments_of
from tools.registry import Toolbox
from tools.simulator import Fault
from tools.simulator.demo import EXPIRED_RUN_ID, ORDERS_SOAK_TEST_ID, SOAK_P95
from tools.simulator.ops_load_tests import DEFAULT_SCRIPT

SOAK = ORDERS_SOAK_TEST_ID
MULTI_RUN = rf"/cloud/v5/load_tests/{SOAK}/query_aggregate_k6\(.*"
PER_RUN_V5 = r"/cloud/v5/test_runs/.*"
SCRIPTS = r"/cloud/v6/test_runs/\d+/script"
LAST_TEN = [1197, 1198, 1199, 1200, 1201, 1205, 1211, 1217, 1223, 1230]


async def test_last_ten_runs_one_request_per_metric_with_the_simulators_numbers(toolbox, sim, sim_url):
    sim.clear_requests()
    trend = await toolbox.execute("get_load_test_trend", {"load_test": SOAK})
    assert [p.test_run_id for p in trend.points] == LAST_TEN
    # 5 figures → 5 multi-run requests for 10 runs; nothing per run; the two ends' scripts only (same script)
    assert sim.count("GET", MULTI_RUN) == 5
    assert sim.count("GET", PER_RUN_V5) == 0
    assert sim.count("GET", SCRIPTS) == 2
    assert len(sim.requests) == 1 + 1 + 2 + 5  # the test (resolving it), one page of runs, 2 scripts, 5 metrics
    assert trend.unfinished_left_out == 1 and trend.unfinished_run_ids == [1234]
    assert trend.window.startswith("runs 1197–1230, ")
    assert f"{trend.window_start:%Y-%m-%d} → {trend.window_end:%Y-%m-%d}" in trend.window
    with httpx.Client(base_url=sim_url, headers=auth_headers(TEST_TOKEN, TEST_STACK)) as c:
        for point in (trend.points[0], trend.points[5], trend.points[-1]):
            run = point.test_run_id
            assert point.p95 == value(c, run, "histogram_quantile(0.95)", "http_req_duration")
            assert point.p99 == value(c, run, "histogram_quantile(0.99)", "http_req_duration")
            assert point.error_rate == value(c, run, "ratio", "http_req_failed")
            assert point.request_rate == value(c, run, "rate", "http_reqs")
    assert [p.result for p in trend.points if p.test_run_id == 1197] == ["failed"]
    assert len(trend.eras) == 1


async def test_creeping_p95_is_degrading_1197_an_anomaly_and_the_threshold_a_few_runs_away(toolbox):
    trend = await toolbox.execute("get_load_test_trend", {"load_test": SOAK, "runs": 10})
    p95 = next(t for t in trend.trends if t.metric == "p95")
    assert p95.direction == "degrading"  # computed without the 1197 regression, which would mask the creep
    assert p95.anomalies == [1197]
    assert p95.runs_until_breach is not None and 1 <= p95.runs_until_breach <= 6
    latest_p95 = trend.points[-1].p95
    assert latest_p95 == pytest.approx(SOAK_P95[1230], rel=0.15)
    limits = {t.threshold: t for t in trend.thresholds}
    assert set(limits) == {
        "http_req_duration: p(95)<500",
        "http_req_duration: p(99)<1000",
        "http_req_failed: rate<0.01",
    }
    room = limits["http_req_duration: p(95)<500"]
    assert room.latest == latest_p95
    assert room.headroom_pct == pytest.approx((500 - latest_p95) / 500 * 100)
    assert room.direction == "degrading" and room.runs_until_breach == p95.runs_until_breach
    text = trend.text()
    assert "p95: degrading" in text and "anomalies: 1197" in text and "headroom" in text
    assert "1 unfinished run(s) left out (1234)" in text
    assert trend.baseline_test_run_id == 1211 and "#1211 " in text and " (baseline)" in text


async def test_script_eras_are_found_by_bisection_and_the_trend_is_within_the_latest(toolbox, sim):
    sim.clear_requests()
    trend = await toolbox.execute("get_load_test_trend", {"load_test": SOAK, "runs": 25})
    ids = [p.test_run_id for p in trend.points]
    assert ids[0] == 1184 and ids[-1] == 1230 and EXPIRED_RUN_ID not in ids
    assert trend.without_metrics == [EXPIRED_RUN_ID]
    assert [(e.first_run_id, e.last_run_id) for e in trend.eras] == [(1184, 1191), (1192, 1230)]
    assert "1192" in trend.eras[1].name and trend.eras[0].script_sha256 != trend.eras[1].script_sha256
    assert trend.trend_era == 2 and "within era 2 (runs 1192–1230)" in trend.text()
    # 23 finished runs: still one request per metric, and scripts only at the bisection points
    assert sim.count("GET", MULTI_RUN) == 5
    assert sim.count("GET", SCRIPTS) <= 8
    p95 = next(t for t in trend.trends if t.metric == "p95")
    assert p95.anomalies == [1197]


async def test_since_a_date_takes_every_finished_run_created_since(toolbox):
    since = datetime.now(UTC) - timedelta(days=20)
    trend = await toolbox.execute("get_load_test_trend", {"load_test": SOAK, "since": since.isoformat()})
    assert [p.test_run_id for p in trend.points] == [1211, 1217, 1223, 1230]
    assert all(p.created >= since for p in trend.points)


async def test_fewer_than_three_runs_is_no_trend_and_says_why(toolbox):
    since = datetime.now(UTC) - timedelta(days=6)
    trend = await toolbox.execute("get_load_test_trend", {"load_test": SOAK, "since": since.isoformat()})
    assert [p.test_run_id for p in trend.points] == [1223, 1230]
    assert trend.trends == [] and all(t.direction is None for t in trend.thresholds)
    assert "No trend: 2 finished run(s) with metrics; at least 3 are needed." in trend.text()


async def test_bad_input_is_refused_and_sends_no_metric_query(toolbox, sim):
    sim.clear_requests()
    with pytest.raises(K6BotError, match="runs or since"):
        await toolbox.execute("get_load_test_trend", {"load_test": SOAK, "runs": 5, "since": "2026-01-01"})
    with pytest.raises(K6BotError):
        await toolbox.execute("get_load_test_trend", {"load_test": SOAK, "runs": 2})
    with pytest.raises(K6BotError):
        await toolbox.execute("get_load_test_trend", {"load_test": 987654})
    assert sim.count("GET", r"/cloud/v5/.*") == 0


async def test_a_tagged_threshold_costs_one_more_request_per_metric_and_is_the_simulators_value(toolbox, sim, sim_url):
    sim.clear_requests()
    trend = await toolbox.execute("get_load_test_trend", {"load_test": 503})
    # 5 figures + http_req_duration{name="pay"} p95 + checks rate: 7 requests whatever the number of runs
    assert sim.count("GET", r"/cloud/v5/load_tests/503/query_aggregate_k6\(.*") == 7
    assert sim.count("GET", PER_RUN_V5) == 0
    pay = next(t for t in trend.thresholds if t.threshold == "http_req_duration{name:pay}: p(95)<700")
    last = trend.points[-1].test_run_id
    with httpx.Client(base_url=sim_url, headers=auth_headers(TEST_TOKEN, TEST_STACK)) as c:
        assert pay.latest == value(c, last, "histogram_quantile(0.95)", 'http_req_duration{name="pay"}')
    assert pay.headroom_pct is not None and pay.headroom_pct < 0
    assert "(crossed)" in trend.text()


async def test_a_threshold_that_watches_nothing_says_so(toolbox):
    trend = await toolbox.execute("get_load_test_trend", {"load_test": 504})
    empty = next(t for t in trend.thresholds if "3ds-challenge" in t.threshold)
    assert empty.evaluated and empty.latest is None and empty.direction is None
    assert "3ds-challenge}: p(95)<1500: no observations in these runs" in trend.text()


async def test_a_test_without_finished_runs_has_no_trend_and_queries_no_metrics(toolbox, sim):
    test = sim.add_load_test(77, "Brand New Trend Test")
    sim.add_runs(test["id"], 1, status="running")
    sim.clear_requests()
    trend = await toolbox.execute("get_load_test_trend", {"load_test": test["id"]})
    assert trend.points == [] and trend.trends == [] and trend.unfinished_left_out == 1
    assert trend.window == "no finished runs with metrics"
    assert "No trend: 0 finished run(s)" in trend.text()
    assert sim.count("GET", r"/cloud/v5/.*") == 0 and sim.count("GET", SCRIPTS) == 0


class InFlight(httpx.AsyncBaseTransport):
    """The real HTTP transport, counting how many requests are out at once (speed figures are in bench/)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.now = self.peak = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.now -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_the_scripts_and_the_metrics_are_requested_together(sim, sim_url):
    sim.faults.add(Fault(kind="latency", delay=0.1, times=None))  # every request stays out long enough to overlap
    transport = InFlight()
    async with K6CloudClient(make_settings(sim_url), transport=transport) as client:
        trend = await Toolbox(client).execute("get_load_test_trend", {"load_test": SOAK})
    assert len(trend.points) == 10
    assert transport.peak == 2 + 5  # the window's two scripts and the five metrics at once


async def test_since_reads_at_most_the_latest_hundred_runs_and_says_so(toolbox, sim):
    test = sim.add_load_test(77, "Long History Test")
    sim.add_runs(test["id"], 102)
    sim.clear_requests()
    since = datetime.now(UTC) - timedelta(days=30)
    trend = await toolbox.execute("get_load_test_trend", {"load_test": test["id"], "since": since.isoformat()})
    assert len(trend.points) == 100
    assert f"Only the latest 100 finished runs since {since:%Y-%m-%d} are read." in trend.text()
    assert sim.count("GET", rf"/cloud/v5/load_tests/{test['id']}/query_aggregate_k6\(.*") == 5


async def test_the_trend_chart_is_a_png_and_the_text_has_a_sparkline(toolbox):
    trend = await toolbox.execute("get_load_test_trend", {"load_test": SOAK, "runs": 25})
    png = trend.chart()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (1000, 600)
    line = next(line for line in trend.text().splitlines() if line.startswith("p95 per run: "))
    assert "█" in line and "▁" in line


async def test_two_script_changes_make_three_eras_and_each_boundary_is_found(toolbox, sim):
    test = sim.add_load_test(77, "Thrice Changed Test", script=DEFAULT_SCRIPT + "// v1\n")
    ids = [r["id"] for r in sim.add_runs(test["id"], 5)]
    for version in ("v2", "v3"):
        sim.clock.advance(6 * 3600)  # the next batch is newer than the last one
        sim.set_test_script(test["id"], f"{DEFAULT_SCRIPT}// {version}\n".encode())
        ids += [r["id"] for r in sim.add_runs(test["id"], 4 if version == "v2" else 5)]
    sim.clear_requests()
    trend = await toolbox.execute("get_load_test_trend", {"load_test": test["id"], "runs": 14})
    assert [p.test_run_id for p in trend.points] == ids
    assert [(e.first_run_id, e.last_run_id, e.runs) for e in trend.eras] == [
        (ids[0], ids[4], 5),
        (ids[5], ids[8], 4),
        (ids[9], ids[13], 5),
    ]
    assert len({e.script_sha256 for e in trend.eras}) == 3
    assert trend.trend_era == 3 and all(p.era == 3 for p in trend.points[9:])
    assert sim.count("GET", SCRIPTS) < len(ids)  # only the bisection points, never every run's script


async def test_an_unavailable_script_starts_no_era_and_the_thresholds_come_from_the_newest_known(toolbox, sim):
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/test_runs/1230/script", status=404, times=None))
    trend = await toolbox.execute("get_load_test_trend", {"load_test": SOAK})
    assert len(trend.eras) == 1 and len(trend.points) == 10
    assert "the script of run 1230 is not available; thresholds are those of run 1197" in trend.text()
    assert {t.threshold for t in trend.thresholds} >= {"http_req_duration: p(95)<500"}
    assert next(t for t in trend.trends if t.metric == "p95").runs_until_breach is not None


async def test_no_script_at_all_leaves_the_thresholds_unjudged_and_says_so(toolbox, sim):
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/test_runs/\d+/script", status=404, times=None))
    trend = await toolbox.execute("get_load_test_trend", {"load_test": SOAK})
    assert trend.thresholds == [] and len(trend.points) == 10 and len(trend.eras) == 1
    assert "no threshold can be judged" in trend.text()
    assert next(t for t in trend.trends if t.metric == "p95").runs_until_breach is None


async def test_the_trend_carries_its_chart_as_a_png_attachment(toolbox: Toolbox) -> None:
    report = await toolbox.execute("get_load_test_trend", {"load_test": 501, "runs": 10})
    assert isinstance(report, LoadTestTrend)
    [png] = attachments_of(report)
    assert png.mime_type == "image/png" and png.data.startswith(b"\x89PNG\r\n\x1a\n") and len(png.data) > 10_000
    assert report.image == png.filename == "k6-trend-501.png"
    assert f"Chart attached: {png.filename}" in report.text()
    assert "attachments" not in report.model_dump()  # the bytes never enter the structured result
