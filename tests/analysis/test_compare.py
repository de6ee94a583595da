import pytest

from tools.analysis.compare import Overall, Verdict, compare_figures, compare_metric


def test_latency_up_beyond_tolerance_is_worse():
    d = compare_metric("p95", 412.0, 349.0, 10.0)
    assert d.verdict is Verdict.WORSE
    assert d.change == pytest.approx(63.0)
    assert d.change_pct == pytest.approx(63 / 349 * 100)


def test_request_rate_down_is_worse_and_up_is_better():
    assert compare_metric("request_rate", 80.0, 100.0, 10.0).verdict is Verdict.WORSE
    assert compare_metric("request_rate", 120.0, 100.0, 10.0).verdict is Verdict.BETTER
    assert compare_metric("check_rate", 0.5, 0.99, 10.0).verdict is Verdict.WORSE


def test_within_tolerance_is_same_and_tolerance_is_an_input():
    assert compare_metric("p95", 105.0, 100.0, 10.0).verdict is Verdict.SAME
    assert compare_metric("p95", 105.0, 100.0, 2.0).verdict is Verdict.WORSE


def test_missing_or_unknown_metric_is_not_judged():
    assert compare_metric("p95", None, 100.0, 10.0).verdict is Verdict.UNKNOWN
    assert compare_metric("vus_max", 50.0, 10.0, 10.0).verdict is Verdict.UNKNOWN


def test_errors_from_zero_count_as_worse():
    d = compare_metric("error_rate", 0.02, 0.0, 10.0)
    assert d.verdict is Verdict.WORSE and d.change_pct is None


def test_overall_verdicts():
    assert (
        compare_figures({"p95": 500.0, "request_rate": 200.0}, {"p95": 300.0, "request_rate": 100.0}).overall
        is Overall.REGRESSION
    )
    assert compare_figures({"p95": 200.0}, {"p95": 300.0}).overall is Overall.IMPROVEMENT
    assert compare_figures({"p95": 301.0}, {"p95": 300.0}).overall is Overall.NO_CHANGE
    assert compare_figures({"p95": None}, {}).overall is Overall.UNKNOWN


def test_negative_tolerance_is_refused():
    with pytest.raises(ValueError, match="tolerance"):
        compare_figures({"p95": 1.0}, {"p95": 1.0}, tolerance_pct=-1)


def test_verdict_line_reads_like_the_issue():
    from tools.analysis.compare import verdict_line

    worse = compare_figures({"p95": 412.0}, {"p95": 349.0})
    assert verdict_line(worse, 1220, "baseline") == "p95 412 ms, +18% vs baseline #1220 — regression"
    same = compare_figures({"p95": 350.0}, {"p95": 349.0})
    assert verdict_line(same, 1229, "previous") == "no significant change vs previous #1229"
    assert verdict_line(compare_figures({}, {}), 7, "previous") == "not comparable with previous #7 (figures missing)"
