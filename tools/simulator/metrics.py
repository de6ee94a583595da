"""The v5 ``query_aggregate_k6`` endpoint's numbers: deterministic per run, plausible, outcome-aware."""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from .lifecycle import RunView
from .models import TestRun

METRIC_TYPES: dict[str, str] = {
    "http_req_duration": "trend",
    "http_req_waiting": "trend",
    "http_req_connecting": "trend",
    "http_req_tls_handshaking": "trend",
    "http_req_sending": "trend",
    "http_req_receiving": "trend",
    "http_req_blocked": "trend",
    "iteration_duration": "trend",
    "http_reqs": "counter",
    "iterations": "counter",
    "data_sent": "counter",
    "data_received": "counter",
    "http_req_failed": "rate",
    "checks": "rate",
    "vus": "gauge",
    "vus_max": "gauge",
}
_QUANTILE = re.compile(r"histogram_quantile\(\s*(0(?:\.\d+)?|1(?:\.0+)?)\s*\)")
_BY_LABEL = re.compile(r"ratio\s+by\s*\(\s*(\w+)\s*\)")
_ARGUMENT = re.compile(r"(\w+)\s*=\s*'([^']*)'")
_TREND_SHARE = {
    "http_req_duration": 1.0,
    "http_req_waiting": 0.92,
    "http_req_connecting": 0.02,
    "http_req_tls_handshaking": 0.03,
    "http_req_sending": 0.002,
    "http_req_receiving": 0.05,
    "http_req_blocked": 0.03,
}


def parse_arguments(text: str) -> dict[str, str]:
    """``query='rate',metric='http_reqs'`` → ``{"query": "rate", "metric": "http_reqs"}``."""
    return dict(_ARGUMENT.findall(text))


@dataclass(frozen=True)
class Profile:
    """The shape of a run's simulated results."""

    median_ms: float
    sigma: float
    failure_rate: float
    reqs_per_vu_s: float
    reqs_per_iteration: int


def profile(run: TestRun) -> Profile:
    rng = random.Random(run.id * 7919)
    bad = run.ending.result == "failed"
    broken = run.ending.result == "error" and run.ending.reason == "script_error"
    return Profile(
        median_ms=rng.uniform(380, 520) if bad else rng.uniform(95, 160),
        sigma=rng.uniform(0.55, 0.65) if bad else rng.uniform(0.4, 0.5),
        failure_rate=rng.uniform(0.15, 0.35)
        if broken
        else rng.uniform(0.03, 0.12)
        if bad
        else rng.uniform(0.001, 0.008),
        reqs_per_vu_s=rng.uniform(0.8, 1.6),
        reqs_per_iteration=rng.randint(2, 4),
    )


def aggregate(run: TestRun, state: RunView, query: str, metric: str) -> list[dict[str, Any]]:
    """Prometheus-style vector results for one query; empty when the query does not fit the metric."""
    if state.entered("running") is None or metric not in METRIC_TYPES:
        return []
    at = (state.ended or state.now).timestamp()
    labels = {"__name__": metric, "test_run_id": str(run.id)}
    by_label = _BY_LABEL.fullmatch(query.strip())
    if by_label:
        if metric != "checks" or by_label.group(1) != "check":
            return []
        return [_sample({**labels, "check": name}, at, ratio) for name, ratio in check_ratios(run).items()]
    value = _value(run, state, query.strip(), metric)
    return [] if value is None else [_sample(labels, at, value)]


def check_ratios(run: TestRun) -> dict[str, float]:
    """Pass ratio of each check."""
    rng = random.Random(run.id * 104729)
    bad = run.ending.result != "passed"
    ratios: dict[str, float] = {}
    for index, name in enumerate(run.info.check_names):
        if bad and index == len(run.info.check_names) - 1:
            ratios[name] = rng.uniform(0.7, 0.9)
        else:
            ratios[name] = rng.uniform(0.985, 1.0) if not bad else rng.uniform(0.9, 0.98)
    return ratios


def _value(run: TestRun, state: RunView, query: str, metric: str) -> float | None:
    kind = METRIC_TYPES[metric]
    shape = profile(run)
    if kind == "trend":
        return _trend_value(shape, metric, query)
    if kind == "rate":
        if query != "ratio":
            return None
        if metric == "checks":
            ratios = list(check_ratios(run).values())
            return sum(ratios) / len(ratios)
        return shape.failure_rate
    if kind == "counter":
        return _counter_value(run, state, shape, metric, query)
    return float(run.info.max_vus) if query in ("max", "value", "last") else None


def _trend_value(shape: Profile, metric: str, query: str) -> float | None:
    median = shape.median_ms * _TREND_SHARE.get(metric, 1.0)
    if metric == "iteration_duration":
        median = shape.median_ms * shape.reqs_per_iteration + 1000
    quantile = _QUANTILE.fullmatch(query)
    if quantile:
        q = min(max(float(quantile.group(1)), 0.0001), 0.9999)
        return median * math.exp(shape.sigma * NormalDist().inv_cdf(q))
    if query == "avg":
        return median * math.exp(shape.sigma**2 / 2)
    if query == "min":
        return median * 0.18
    if query == "max":
        return median * math.exp(shape.sigma * 3.7)
    return None


def _counter_value(run: TestRun, state: RunView, shape: Profile, metric: str, query: str) -> float | None:
    rate = run.info.max_vus * shape.reqs_per_vu_s
    if metric == "iterations":
        rate /= shape.reqs_per_iteration
    elif metric == "data_received":
        rate *= 18_500
    elif metric == "data_sent":
        rate *= 950
    if query == "rate":
        return rate
    if query == "increase":
        return float(round(rate * state.execution_s))
    return None


def _sample(labels: dict[str, str], at: float, value: float) -> dict[str, Any]:
    return {"metric": labels, "values": [[round(at, 3), _format(value)]]}


def _format(value: float) -> str:
    if value == int(value) and abs(value) >= 1:
        return str(int(value))
    return repr(round(value, 6))
