"""tools.analysis judges a demo run's thresholds over real HTTP the way the demo story says they went."""

from __future__ import annotations

import httpx

from tools.analysis.thresholds import ThresholdState, crossed, judge_thresholds
from tools.k6scripts import read_script

from .conftest import V6
from .metrics_client import V5, value


def measure(client: httpx.Client, run_id: int) -> list:
    script = read_script(client.get(f"{V6}/test_runs/{run_id}/script").content)
    types = {m["name"]: m["type"] for m in client.get(f"{V5}/test_runs/{run_id}/metrics").json()["value"]}
    measured: dict[str, float | None] = {}
    for t in script.thresholds:
        kind = types.get(t.metric) or script.metric_type(t.metric)
        query = t.v5_query(kind) if kind else None
        if query is not None:
            measured[t.label] = value(client, run_id, query.query, query.metric)
    return judge_thresholds(script.thresholds, measured)


def test_checkout_spike_1224_crosses_pay_p95_failed_and_checks(sim, client: httpx.Client) -> None:
    verdicts = measure(client, 1224)
    names = {v.threshold for v in crossed(verdicts)}
    assert "http_req_duration{name:pay}: p(95)<700" in names
    assert any(n.startswith("http_req_failed") for n in names)
    assert "checks: rate>0.98" in names
    for v in crossed(verdicts):
        assert v.measured is not None and v.headroom_pct is not None and v.headroom_pct < 0


def test_zero_observation_threshold_is_flagged(sim, client: httpx.Client) -> None:
    states = {v.state for v in measure(client, 1203)}
    assert ThresholdState.NO_OBSERVATIONS in states
    assert ThresholdState.CROSSED not in states


def figures(client: httpx.Client, run_id: int) -> dict[str, float | None]:
    return {
        "p95": value(client, run_id, "histogram_quantile(0.95)", "http_req_duration"),
        "error_rate": value(client, run_id, "ratio", "http_req_failed"),
    }


def test_regression_1197_against_the_baseline_1211(sim, client: httpx.Client) -> None:
    from tools.analysis.compare import Overall, Verdict, compare_figures, verdict_line

    current, baseline = figures(client, 1197), figures(client, 1211)
    assert current["p95"] is not None and baseline["p95"] is not None
    result = compare_figures(current, baseline)
    assert result.overall is Overall.REGRESSION
    p95 = next(d for d in result.deltas if d.metric == "p95")
    assert p95.verdict is Verdict.WORSE
    assert p95.change_pct == (current["p95"] - baseline["p95"]) / baseline["p95"] * 100
    assert verdict_line(result, 1211, "baseline").endswith("vs baseline #1211 — regression")
    assert compare_figures(baseline, baseline).overall is Overall.NO_CHANGE
