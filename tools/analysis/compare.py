"""Direction-aware comparison of two runs' key figures (issue 9, compare_test_runs)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel


class Better(StrEnum):
    """Which way a metric moves when things improve."""

    LOWER = "lower"  # latency, errors
    HIGHER = "higher"  # request rate, check pass rate


# Known key figures and their good direction; anything else is reported but never judged.
DIRECTIONS: dict[str, Better] = {
    "p50": Better.LOWER,
    "p95": Better.LOWER,
    "p99": Better.LOWER,
    "error_rate": Better.LOWER,
    "request_rate": Better.HIGHER,
    "check_rate": Better.HIGHER,
}


class Verdict(StrEnum):
    WORSE = "worse"
    BETTER = "better"
    SAME = "same"
    UNKNOWN = "unknown"


class Overall(StrEnum):
    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    NO_CHANGE = "no significant change"
    UNKNOWN = "not comparable"


class MetricDelta(BaseModel):
    metric: str
    current: float | None
    reference: float | None
    change: float | None
    change_pct: float | None
    verdict: Verdict


class Comparison(BaseModel):
    deltas: list[MetricDelta]
    overall: Overall
    tolerance_pct: float


def compare_metric(name: str, current: float | None, reference: float | None, tolerance_pct: float) -> MetricDelta:
    """One metric: a change within ±tolerance is 'same'; a missing side or unknown direction is 'unknown'."""
    if current is None or reference is None:
        return MetricDelta(
            metric=name, current=current, reference=reference, change=None, change_pct=None, verdict=Verdict.UNKNOWN
        )
    change = current - reference
    if reference == 0:
        # No relative change from zero; any rise from nothing counts as beyond tolerance.
        pct = None
        beyond = change != 0
    else:
        pct = change / abs(reference) * 100
        beyond = abs(pct) > tolerance_pct
    direction = DIRECTIONS.get(name)
    if direction is None:
        verdict = Verdict.UNKNOWN
    elif not beyond:
        verdict = Verdict.SAME
    else:
        went_up = change > 0
        verdict = Verdict.BETTER if went_up == (direction is Better.HIGHER) else Verdict.WORSE
    return MetricDelta(
        metric=name, current=current, reference=reference, change=change, change_pct=pct, verdict=verdict
    )


def compare_figures(
    current: dict[str, float | None], reference: dict[str, float | None], tolerance_pct: float = 10.0
) -> Comparison:
    """Compare every metric either run has; any worse metric makes the whole a regression."""
    if tolerance_pct < 0:
        raise ValueError("tolerance must be 0 % or more")
    names = list(dict.fromkeys([*current, *reference]))
    deltas = [compare_metric(n, current.get(n), reference.get(n), tolerance_pct) for n in names]
    verdicts = {d.verdict for d in deltas}
    if Verdict.WORSE in verdicts:
        overall = Overall.REGRESSION
    elif Verdict.BETTER in verdicts:
        overall = Overall.IMPROVEMENT
    elif Verdict.SAME in verdicts:
        overall = Overall.NO_CHANGE
    else:
        overall = Overall.UNKNOWN
    return Comparison(deltas=deltas, overall=overall, tolerance_pct=tolerance_pct)


def verdict_line(comparison: Comparison, reference_id: int, reference_kind: str) -> str:
    """The one line a run-finished notification carries, e.g. 'p95 412 ms, +18% vs baseline #1220 — regression'."""
    ref = f"{reference_kind} #{reference_id}"
    if comparison.overall is Overall.NO_CHANGE:
        return f"no significant change vs {ref}"
    if comparison.overall is Overall.UNKNOWN:
        return f"not comparable with {ref} (figures missing)"
    wanted = Verdict.WORSE if comparison.overall is Overall.REGRESSION else Verdict.BETTER
    moved = [d for d in comparison.deltas if d.verdict is wanted and d.current is not None and d.change_pct is not None]
    lead = next((d for d in moved if d.metric == "p95"), moved[0] if moved else None)  # p95 first, if it moved
    if lead is None or lead.current is None or lead.change_pct is None:
        return f"{comparison.overall.value} vs {ref}"
    return f"{lead.metric} {_shown(lead.metric, lead.current)}, {lead.change_pct:+.0f}% vs {ref} — {comparison.overall.value}"


def _shown(metric: str, value: float) -> str:
    if metric in ("p95", "p99"):
        return f"{value:,.0f} ms"
    if metric in ("error_rate", "check_rate"):
        return f"{value * 100:.2f}%"
    if metric == "request_rate":
        return f"{value:,.1f} req/s"
    return f"{value:.4g}"
