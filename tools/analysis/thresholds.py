"""Every threshold of a run's script judged against measured values; unknown forms are 'not evaluated', never guessed."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel

from tools.k6scripts import Threshold


class ThresholdState(StrEnum):
    PASSED = "passed"
    CROSSED = "crossed"
    NO_OBSERVATIONS = "passed, no observations"  # k6 reports it passed; said so, because it watched nothing
    NOT_EVALUATED = "not evaluated"


class ThresholdVerdict(BaseModel):
    threshold: str  # as people write it: http_req_duration{name:login}: p(95)<500
    metric: str
    selector: str
    measured: float | None
    state: ThresholdState
    headroom_pct: float | None
    abort_on_fail: bool
    problem: str | None = None


def judge_thresholds(thresholds: tuple[Threshold, ...], measured: Mapping[str, float | None]) -> list[ThresholdVerdict]:
    """``measured`` by threshold label; a label missing from it (no query fits the metric's type) is not evaluated."""
    verdicts = []
    for t in thresholds:
        problem = t.problem
        if not t.parsed or t.label not in measured:
            state = ThresholdState.NOT_EVALUATED
            problem = problem or "no v5 query measures this aggregation for the metric's type"
            value, room = None, None
        else:
            result = t.evaluate(measured[t.label])
            value, room = result.measured, result.headroom_pct
            if result.passed is None:
                state = ThresholdState.NOT_EVALUATED
            elif not result.observed:
                state = ThresholdState.NO_OBSERVATIONS
            else:
                state = ThresholdState.PASSED if result.passed else ThresholdState.CROSSED
        verdicts.append(
            ThresholdVerdict(
                threshold=t.label,
                metric=t.metric,
                selector=t.selector,
                measured=value,
                state=state,
                headroom_pct=room,
                abort_on_fail=t.abort_on_fail,
                problem=problem,
            )
        )
    return verdicts


def crossed(verdicts: list[ThresholdVerdict]) -> list[ThresholdVerdict]:
    return [v for v in verdicts if v.state is ThresholdState.CROSSED]
