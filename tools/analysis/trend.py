"""Trend of one metric across runs (issue 9, get_load_test_trend): direction, volatility, anomalies, runs to breach."""

from __future__ import annotations

import math
import statistics
from enum import StrEnum

from pydantic import BaseModel

from tools.analysis.compare import DIRECTIONS, Better

MIN_RUNS = 3
CHANGE_PCT = 10.0  # first half vs second half beyond this is a trend
VOLATILE_CV = 0.25  # stddev above this share of the mean is volatile
ANOMALY_SIGMA = 2.0


class Direction(StrEnum):
    DEGRADING = "degrading"
    IMPROVING = "improving"
    STABLE = "stable"


class MetricTrend(BaseModel):
    metric: str
    direction: Direction
    change_pct: float | None
    volatile: bool
    anomalies: list[int]  # run ids
    runs_until_breach: int | None


def metric_trend(
    metric: str, points: list[tuple[int, float]], limit: float | None = None, *, better: Better | None = None
) -> MetricTrend | None:
    """``points`` are (run id, value) oldest first; None when there are too few runs to call a trend.

    ``better`` says which way is good for a metric :data:`DIRECTIONS` does not know (e.g. a threshold's metric).
    """
    if len(points) < MIN_RUNS:
        return None
    values = [v for _, v in points]
    half = len(values) // 2
    first, second = statistics.fmean(values[:half]), statistics.fmean(values[-half:])
    pct = None if first == 0 else (second - first) / abs(first) * 100
    better = better or DIRECTIONS.get(metric, Better.LOWER)
    if pct is None or abs(pct) <= CHANGE_PCT:
        direction = Direction.STABLE
    else:
        direction = Direction.DEGRADING if (pct > 0) == (better is Better.LOWER) else Direction.IMPROVING
    mean = statistics.fmean(values)
    sd = statistics.pstdev(values)
    volatile = mean != 0 and sd > VOLATILE_CV * abs(mean)
    anomalies = [rid for rid, v in points if sd > 0 and abs(v - mean) > ANOMALY_SIGMA * sd]
    return MetricTrend(
        metric=metric,
        direction=direction,
        change_pct=pct,
        volatile=volatile,
        anomalies=anomalies,
        runs_until_breach=_runs_until_breach(values, limit, better) if direction is Direction.DEGRADING else None,
    )


def _runs_until_breach(values: list[float], limit: float | None, better: Better) -> int | None:
    """Least-squares slope per run extrapolated to the limit: rough, and only for a metric still inside it."""
    if limit is None:
        return None
    n = len(values)
    xs = range(n)
    x_mean, y_mean = (n - 1) / 2, statistics.fmean(values)
    denom = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, values, strict=True)) / denom
    last = values[-1]
    gap = (limit - last) if better is Better.LOWER else (last - limit)
    towards = slope if better is Better.LOWER else -slope
    if gap <= 0 or towards <= 0:
        return None
    return max(1, math.ceil(gap / towards))
