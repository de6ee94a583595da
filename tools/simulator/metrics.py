"""The v5 metrics API answers, computed from a run's model (:mod:`tools.simulator.runmodel`).

Windows are seconds since the run started running, already clipped to the data the run has (a running run
has data up to now). Results follow Prometheus' shapes: a vector holds one ``[unix_ts, "value"]`` per
series (the window's end), a matrix a list of them; every series' ``metric`` holds ``__name__``,
``test_run_id`` and the ``by`` labels. A method that does not belong to the metric's type, an unknown
metric, or a selector matching nothing gives an empty result, as the real API does.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .runmodel import RunModel, Series, remember
from .v5query import Query, Selector

_NAMESPACE = uuid.UUID("5f1d2c2a-7c1b-4b5e-9a43-6b8f1d1e0a77")
Values = list[tuple[float, float]]


def metric_id(scope: str, name: str) -> str:
    """A stable metric id (UUID), as the API gives one to every metric."""
    return str(uuid.uuid5(_NAMESPACE, f"{scope}/{name}"))


def metric_list(model: RunModel, run_id: int, end: float) -> list[dict[str, Any]]:
    """``GET /test_runs/{id}/metrics`` entries: every metric with samples so far."""
    names = sorted({s.metric for s in model.series if model.exists(s, 0.0, end)})
    return [
        {
            "id": metric_id(f"run-{run_id}", name),
            "name": name,
            "origin": model.origins.get(name, "builtin"),
            "test_run_id": run_id,
            "type": model.types[name],
        }
        for name in names
    ]


def matching(model: RunModel, selector: Selector, a: float, b: float) -> list[Series]:
    """The series of ``selector``'s metric whose labels match and that have samples in the window."""
    return [
        series
        for series in model.series
        if series.metric == selector.metric and selector.matches(series.labels) and model.exists(series, a, b)
    ]


def full_labels(series: Series, run_id: int) -> dict[str, str]:
    """Every label of a series as the API shows it (empty values left out)."""
    labels = {"__name__": series.metric, "test_run_id": str(run_id)}
    labels.update({key: value for key, value in sorted(series.labels.items()) if value != ""})
    return labels


@dataclass(frozen=True)
class Scope:
    """Where a query runs: the run, its start (unix seconds), and whether its answers may be cached."""

    model: RunModel
    run_id: int
    origin: float
    final: bool


def aggregate(scope: Scope, selector: Selector, query: Query, a: float, b: float) -> list[dict[str, Any]]:
    """``query_aggregate_k6``: one value per series over ``[a, b]``, stamped with the window's end."""
    found = _evaluate(scope, selector, query, ((a, b),))
    return [
        {"metric": labels, "values": [[_timestamp(scope.origin + end), _format(value)]]}
        for labels, values in found
        for end, value in values
    ]


def range_query(
    scope: Scope, selector: Selector, query: Query, a: float, b: float, step: float
) -> list[dict[str, Any]]:
    """``query_range_k6``: one value per ``step`` seconds from ``a``, each over the step that ends there."""
    windows: list[tuple[float, float]] = []
    edge = a
    while edge < b - 1e-9:
        windows.append((edge, min(b, edge + step)))
        edge += step
    found = _evaluate(scope, selector, query, tuple(windows))
    return [
        {"metric": labels, "values": [[_timestamp(scope.origin + end), _format(value)] for end, value in values]}
        for labels, values in found
    ]


def _evaluate(
    scope: Scope, selector: Selector, query: Query, windows: tuple[tuple[float, float], ...]
) -> list[tuple[dict[str, str], Values]]:
    """``(labels, [(window end, value), ...])`` per output series, sorted by labels (cached for finished runs)."""
    key = (selector, query, windows)
    cached = scope.model.results.get(key) if scope.final else None
    if cached is None:
        cached = _compute(scope, selector, query, windows)
        if scope.final:
            remember(scope.model.results, key, cached)
    return cached


def _compute(
    scope: Scope, selector: Selector, query: Query, windows: tuple[tuple[float, float], ...]
) -> list[tuple[dict[str, str], Values]]:
    model, run_id = scope.model, scope.run_id
    kind = model.types.get(selector.metric)
    if kind is None or not query.fits(kind) or not windows:
        return []
    shift = scope.origin if query.method == "last_time" else 0.0  # last_time answers a moment
    span = (windows[0][0], windows[-1][1])
    groups: dict[tuple[str, ...], list[Series]] = {}
    for series in matching(model, selector, *span):
        key = tuple(series.labels.get(label, "") if label != "test_run_id" else str(run_id) for label in query.by)
        groups.setdefault(key, []).append(series)
    inner: dict[tuple[str, ...], Values] = {}
    for key, group in groups.items():
        values = [
            (end, value + shift)
            for start, end in windows
            if (value := model.measure(group, query.method, query.argument, start, end)) is not None
        ]
        if values:
            inner[key] = values
    if query.outer is None:
        results = [(dict(zip(query.by, key, strict=True)), values) for key, values in inner.items()]
    else:
        results = _outer(query, inner)
    labelled = [
        ({"__name__": selector.metric, "test_run_id": str(run_id), **_present(labels)}, values)
        for labels, values in results
    ]
    return sorted(labelled, key=lambda item: sorted(item[0].items()))


def _outer(query: Query, inner: dict[tuple[str, ...], Values]) -> list[tuple[dict[str, str], Values]]:
    """Cross-label aggregation of the inner results (``sum(max by (instance_id))``)."""
    reduce = _REDUCERS[query.outer or "sum"]
    buckets: dict[tuple[str, ...], dict[float, list[float]]] = {}
    for key, values in inner.items():
        labels = dict(zip(query.by, key, strict=True))
        outer_key = tuple(labels.get(label, "") for label in query.outer_by)
        per_end = buckets.setdefault(outer_key, {})
        for end, value in values:
            per_end.setdefault(end, []).append(value)
    return [
        (dict(zip(query.outer_by, key, strict=True)), [(end, reduce(vals)) for end, vals in sorted(per_end.items())])
        for key, per_end in buckets.items()
    ]


_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "sum": lambda values: math.fsum(values),
    "avg": lambda values: math.fsum(values) / len(values),
    "min": min,
    "max": max,
    "count": lambda values: float(len(values)),
}


def _present(labels: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in labels.items() if value != ""}


def _timestamp(moment: float) -> float | int:
    rounded = round(moment, 3)
    return int(rounded) if rounded.is_integer() else rounded


def _format(value: float) -> str:
    """Sample values are strings, as in Prometheus: 10 significant digits, whole numbers without a point."""
    rounded = float(f"{value:.10g}")
    return str(int(rounded)) if rounded.is_integer() and abs(rounded) < 1e15 else repr(rounded)
