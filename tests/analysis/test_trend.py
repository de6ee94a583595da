from tools.analysis.trend import Direction, metric_trend


def test_creeping_latency_is_degrading_with_runs_until_breach():
    points = [(1200 + i, 300.0 + 10 * i) for i in range(10)]  # 300 → 390, +10 ms per run
    t = metric_trend("p95", points, limit=450.0)
    assert t is not None
    assert t.direction is Direction.DEGRADING
    assert t.runs_until_breach == 6  # (450 - 390) / 10
    assert not t.volatile and t.anomalies == []


def test_request_rate_falling_is_degrading_and_rising_improving():
    falling = metric_trend("request_rate", [(i, 100.0 - 5 * i) for i in range(6)])
    rising = metric_trend("request_rate", [(i, 100.0 + 5 * i) for i in range(6)])
    assert falling is not None and falling.direction is Direction.DEGRADING
    assert rising is not None and rising.direction is Direction.IMPROVING


def test_flat_series_with_one_spike_is_stable_with_an_anomaly():
    points = [(i, 300.0) for i in range(10)]
    points[5] = (5, 800.0)
    t = metric_trend("p95", points)
    assert t is not None and t.anomalies == [5]


def test_fewer_than_three_runs_is_no_trend():
    assert metric_trend("p95", [(1, 1.0), (2, 2.0)]) is None


def test_already_breached_has_no_countdown():
    t = metric_trend("p95", [(i, 500.0 + 50 * i) for i in range(4)], limit=450.0)
    assert t is not None and t.direction is Direction.DEGRADING and t.runs_until_breach is None
