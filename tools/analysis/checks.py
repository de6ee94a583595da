"""The checks layer, kept apart from status and thresholds: a run can pass while its checks fail."""

from __future__ import annotations

from pydantic import BaseModel

from tools.analysis.thresholds import ThresholdVerdict


class CheckRate(BaseModel):
    check: str
    pass_rate: float


class ChecksLayer(BaseModel):
    checks: list[CheckRate]  # worst first
    failing: list[str]  # checks that did not pass every time
    watched: bool  # a threshold on `checks` exists
    note: str | None


def checks_layer(rates: dict[str, float], thresholds: list[ThresholdVerdict]) -> ChecksLayer:
    """``rates`` is ``ratio by (check)`` of the ``checks`` metric; says plainly when failing checks decide nothing."""
    ordered = sorted((CheckRate(check=c, pass_rate=r) for c, r in rates.items()), key=lambda c: c.pass_rate)
    failing = [c.check for c in ordered if c.pass_rate < 1.0]
    watched = any(t.metric == "checks" for t in thresholds)
    note = None
    if failing and not watched:
        note = "checks failed but no threshold watches `checks`, so they did not affect the result"
    return ChecksLayer(checks=ordered, failing=failing, watched=watched, note=note)
