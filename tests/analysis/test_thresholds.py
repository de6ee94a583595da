from tools.analysis.thresholds import ThresholdState, crossed, judge_thresholds
from tools.k6scripts import parse_thresholds

RAW = {
    "http_req_duration{name:pay}": ["p(95)<700"],
    "http_req_failed": ["rate<0.01"],
    "checks": ["rate>0.98"],
    "my_gauge": ["weird(3) ~ 9"],
}


def test_each_threshold_gets_its_own_state():
    ts = parse_thresholds(RAW)
    by_label = {t.metric: t.label for t in ts}
    measured = {
        by_label["http_req_duration"]: 812.0,
        by_label["http_req_failed"]: None,  # zero observations
        by_label["checks"]: 0.99,
    }
    verdicts = {v.metric: v for v in judge_thresholds(ts, measured)}
    assert verdicts["http_req_duration"].state is ThresholdState.CROSSED
    assert verdicts["http_req_duration"].selector == '{name="pay"}'
    assert verdicts["http_req_duration"].measured == 812.0
    assert verdicts["http_req_failed"].state is ThresholdState.NO_OBSERVATIONS
    assert verdicts["checks"].state is ThresholdState.PASSED
    assert verdicts["my_gauge"].state is ThresholdState.NOT_EVALUATED
    assert verdicts["my_gauge"].measured is None
    assert [v.metric for v in crossed(list(verdicts.values()))] == ["http_req_duration"]
