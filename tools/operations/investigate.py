"""Run intelligence: why a run failed, in one call (status, thresholds and checks layers kept apart)."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import AliasChoices, Field

from tools.analysis.aborts import AbortCause, AbortSide, classify_abort
from tools.analysis.checks import ChecksLayer, checks_layer
from tools.analysis.thresholds import ThresholdState, ThresholdVerdict, crossed, judge_thresholds
from tools.errors import NotFound
from tools.k6scripts import read_script
from tools.models import MetricQueryResponse, TestRun
from tools.operations.common import NotABoolean
from tools.operations.test_runs import METRIC_QUERIES, aggregate_path, run_path
from tools.outputs import Output, status_phrase
from tools.phrasing import Phrases
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation

MAX_REQUESTS = 15
FIGURES: dict[str, tuple[str, str]] = {"p50": ("histogram_quantile(0.5)", "http_req_duration"), **METRIC_QUERIES}


TEST_RUN = Field(
    ge=1,
    description="Test run id.",
    validation_alias=AliasChoices("test_run", "test_run_id", "run_id", "id"),
)
TEST_RUN.metadata.append(NotABoolean)


class InvestigateInput(InputModel):
    test_run: int = TEST_RUN


class KeyFigures(Output):
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    request_rate: float | None = None  # requests per second
    failed_ratio: float | None = None
    max_vus: int | None = None


class Investigation(Output):
    test_run_id: int
    status: str
    result: str | None = None
    abort: AbortCause | None = None
    thresholds: list[ThresholdVerdict]
    checks: ChecksLayer
    figures: KeyFigures
    script_problems: list[str] = Field(default_factory=list)
    side: str  # test-side, system-side, platform-side or none
    diagnosis: str
    requests: int

    def text(self) -> str:
        lines = [f"Run {self.test_run_id}: {status_phrase(self.status, self.result)}", self.diagnosis]
        for v in self.thresholds:
            value = "-" if v.measured is None else f"{v.measured:g}"
            lines.append(f"- {v.threshold}: {v.state.value} (measured {value})")
        for c in self.checks.checks:
            lines.append(f"- check '{c.check}': {c.pass_rate * 100:.1f}% pass")
        return "\n".join(lines)


async def _query(ctx: OpContext, run_id: int, query: str, metric: str) -> MetricQueryResponse:
    return await ctx.get(MetricQueryResponse, aggregate_path(run_id, query, metric), api="v5")


def _single(answer: MetricQueryResponse) -> float | None:
    return answer.data.result[0].last_value if answer.data.result else None


def _diagnose(
    run: TestRun, abort: AbortCause | None, verdicts: list[ThresholdVerdict], checks: ChecksLayer
) -> tuple[str, str]:
    bad = crossed(verdicts)
    empty = [v.threshold for v in verdicts if v.state is ThresholdState.NO_OBSERVATIONS]
    tail = f" Threshold(s) {', '.join(empty)} saw no observations (reported passed, watching nothing)." if empty else ""
    if not run.is_finished:
        return "none", f"The run is {run.status.replace('_', ' ')}: figures so far only.{tail}"
    if abort is not None and abort.side is AbortSide.PLATFORM:
        return "platform-side", f"The run was {abort.explanation} ({abort.message or 'no message'}).{tail}"
    if abort is not None and abort.side is AbortSide.USER:
        return "none", f"The run was {abort.explanation}.{tail}"
    if abort is not None and abort.side is AbortSide.SCRIPT and not bad:
        return "test-side", f"The run was {abort.explanation}: {abort.message or 'no message'}.{tail}"
    if bad:
        names = "; ".join(f"{v.threshold} (measured {v.measured:g})" for v in bad if v.measured is not None)
        failing = f" Failing checks: {', '.join(checks.failing)}." if checks.failing else ""
        return "system-side", f"The system under test missed its targets: crossed {names}.{failing}{tail}"
    if checks.failing:
        return (
            "system-side",
            f"No threshold crossed, but checks failed: {', '.join(checks.failing)}. {checks.note or ''}{tail}".strip(),
        )
    return "none", f"Nothing points to a problem: every threshold passed and every check passed.{tail}"


@operation(
    name="investigate_test_run",
    title="Investigate a test run",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    core=True,
    endpoints=[
        Endpoint("GET", "/cloud/v6/test_runs/{id}"),
        Endpoint("GET", "/cloud/v6/test_runs/{id}/script"),
        Endpoint("GET", "/cloud/v5/test_runs/{id}/query_aggregate_k6", api="v5"),
    ],
    errors={404: "Test run {test_run} not found."},
    phrases=Phrases(
        verbs=(
            "investigate",
            "why did",
            "why was",
            "explain",
            "diagnose",
            "analyse",
            "analyze",
            "what went wrong with",
            "what went wrong in",
            "what went wrong",
            "what's wrong with",
            "what is wrong with",
        ),
        nouns=("fail", "failed", "run", "test run", "abort", "aborted"),
        examples={
            "why did 1224 fail": {"test_run": 1224},
            "investigate run 1225": {"test_run": 1225},
        },
        template="investigate {test_run}",
    ),
    description="""
    Why a run passed or failed: status, thresholds, check pass rates, abort cause, key figures, a diagnosis.
    """,
)
async def investigate_test_run(ctx: OpContext, args: InvestigateInput) -> Investigation:
    run_id = args.test_run
    keys = list(FIGURES)
    first: list[Any] = await asyncio.gather(
        ctx.get(TestRun, run_path(run_id)),
        ctx.send("GET", run_path(run_id, "/script"), idempotent=True, accept="text/javascript, application/x-tar"),
        *(_query(ctx, run_id, *FIGURES[k]) for k in keys),
        return_exceptions=True,
    )
    requests = len(first)
    if isinstance(first[0], BaseException):
        raise first[0]
    run: TestRun = first[0]
    for item in first[2:]:
        if isinstance(item, BaseException):
            raise item
    answers: dict[str, MetricQueryResponse] = dict(zip(keys, first[2:], strict=True))
    problems: list[str] = []
    if isinstance(first[1], NotFound):
        thresholds: tuple = ()
        problems.append("the run's script is not available, so its thresholds cannot be judged")
        script = None
    elif isinstance(first[1], BaseException):
        raise first[1]
    else:
        script = read_script(first[1].content)
        thresholds = script.thresholds
        problems += list(script.problems)
    known = {FIGURES[k]: _single(answers[k]) for k in keys if k != "checks"}
    measured: dict[str, float | None] = {}
    wanted: dict[tuple[str, str], list[str]] = {}
    for t in thresholds:
        kind = script.metric_type(t.metric) if script else None
        query = t.v5_query(kind) if kind else None
        if query is None:
            continue
        pair = (query.query, query.metric)
        if pair in known:
            measured[t.label] = known[pair]
        elif pair in wanted or requests + len(wanted) < MAX_REQUESTS:
            wanted.setdefault(pair, []).append(t.label)
    pairs = list(wanted)
    more = await asyncio.gather(*(_query(ctx, run_id, q, m) for q, m in pairs))
    requests += len(pairs)
    for pair, answer in zip(pairs, more, strict=True):
        for label in wanted[pair]:
            measured[label] = _single(answer)
    verdicts = judge_thresholds(thresholds, measured)
    rates = {
        s.metric.get("check", "check"): v for s in answers["checks"].data.result if (v := s.last_value) is not None
    }
    checks = checks_layer(rates, verdicts)
    abort = classify_abort(run.abort_extra) if run.status == "aborted" else None
    side, diagnosis = _diagnose(run, abort, verdicts, checks)
    return Investigation(
        test_run_id=run.id,
        status=run.status,
        result=run.result,
        abort=abort,
        thresholds=verdicts,
        checks=checks,
        figures=KeyFigures(
            p50_ms=_single(answers["p50"]),
            p95_ms=_single(answers["p95"]),
            p99_ms=_single(answers["p99"]),
            request_rate=_single(answers["rate"]),
            failed_ratio=_single(answers["failed"]),
            max_vus=run.max_vus,
        ),
        script_problems=problems,
        side=side,
        diagnosis=diagnosis,
        requests=requests,
    )
