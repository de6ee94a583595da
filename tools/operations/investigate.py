"""Run intelligence: why a run failed, in one call (status, thresholds and checks layers kept apart)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import AliasChoices, Field

from tools.analysis.aborts import AbortCause, AbortSide, classify_abort
from tools.analysis.checks import ChecksLayer, checks_layer
from tools.analysis.compare import Comparison, MetricDelta, Overall, Verdict, compare_figures, verdict_line
from tools.analysis.thresholds import ThresholdState, ThresholdVerdict, crossed, judge_thresholds
from tools.k6scripts import read_script
from tools.models import MetricQueryResponse, TestRun
from tools.operations.common import NotABoolean
from tools.operations.test_runs import (
    FIGURE_NAMES,
    METRIC_QUERIES,
    aggregate_path,
    check_rate,
    multi_run_path,
    reference_run,
    run_path,
    run_script,
)
from tools.outputs import CheckResult, Output, RunMetrics, status_phrase
from tools.phrasing import Phrases
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation

MAX_REQUESTS = 15
TOP = 5
BREAKDOWNS: dict[str, tuple[str, str]] = {
    "slowest": ("histogram_quantile(0.95) by (name)", "http_req_duration"),
    "failing": ("increase by (name, status)", 'http_reqs{expected_response="false"}'),
}
"""The requests behind the figures: p95 by name, and failed requests counted by (name, status)."""
FIGURES: dict[str, tuple[str, str]] = {"p50": ("histogram_quantile(0.5)", "http_req_duration"), **METRIC_QUERIES}


TEST_RUN = Field(
    ge=1,
    description="Test run id.",
    validation_alias=AliasChoices("test_run", "test_run_id", "run_id", "id"),
)
TEST_RUN.metadata.append(NotABoolean)


class InvestigateInput(InputModel):
    test_run: int = TEST_RUN


class SlowRequest(Output):
    name: str  # the request's name tag (k6 sets it to the URL unless the script names it)
    p95_ms: float


class FailingRequest(Output):
    name: str
    status: str  # the HTTP status, "0" for a network error
    count: int


class KeyFigures(Output):
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    request_rate: float | None = None  # requests per second
    failed_ratio: float | None = None
    max_vus: int | None = None


class Versus(Output):
    """The run against its load test's baseline, or the previous completed run: compare_test_runs' verdicts."""

    against_id: int
    against_kind: str  # baseline or previous
    overall: Overall
    deltas: list[MetricDelta]
    script_changed: bool | None = None  # sha256 of the two bundled scripts; None when one could not be read
    tolerance_pct: float = 10.0
    note: str | None = None  # why the baseline was passed over (deleted)

    def headline(self) -> str:
        """The notification's line, as compare_test_runs says it: ``p95 474 ms, +19% vs baseline #1211 — …``."""
        comparison = Comparison(deltas=self.deltas, overall=self.overall, tolerance_pct=self.tolerance_pct)
        return verdict_line(comparison, self.against_id, self.against_kind)

    def sentence(self) -> str:
        worse = [d.metric for d in self.deltas if d.verdict is Verdict.WORSE]
        what = f" ({', '.join(worse)} worse)" if worse else ""
        script = {True: " The script changed since.", False: " Same script.", None: ""}[self.script_changed]
        passed_over = f"{self.note[0].upper()}{self.note[1:]}. " if self.note else ""
        return f"{passed_over}Against {self.against_kind} #{self.against_id}: {self.overall.value}{what}.{script}"


class Investigation(Output):
    test_run_id: int
    status: str
    result: str | None = None
    abort: AbortCause | None = None
    thresholds: list[ThresholdVerdict]
    checks: ChecksLayer
    figures: KeyFigures
    versus: Versus | None = None  # against the baseline (or the previous completed run); finished runs only
    slowest_requests: list[SlowRequest] = Field(default_factory=list)  # by p95, top 5
    failing_requests: list[FailingRequest] = Field(default_factory=list)  # by (name, status), most first, top 5
    script_problems: list[str] = Field(default_factory=list)
    side: str  # test-side, system-side, platform-side or none
    diagnosis: str
    requests: int

    def run_metrics(self) -> RunMetrics:
        """The headline figures ``get_test_run_metrics`` gives, from the same queries this investigation made."""
        return RunMetrics.of(
            self.test_run_id,
            p95_ms=self.figures.p95_ms,
            p99_ms=self.figures.p99_ms,
            rate=self.figures.request_rate,
            failed=self.figures.failed_ratio,
            checks=[CheckResult(name=c.check, pass_rate=c.pass_rate) for c in self.checks.checks],
        )

    def text(self) -> str:
        lines = [f"Run {self.test_run_id}: {status_phrase(self.status, self.result)}", self.diagnosis]
        for v in self.thresholds:
            value = "-" if v.measured is None else f"{v.measured:g}"
            lines.append(f"- {v.threshold}: {v.state.value} (measured {value})")
        for c in self.checks.checks:
            lines.append(f"- check '{c.check}': {c.pass_rate * 100:.1f}% pass")
        if self.slowest_requests:
            lines.append(
                "Slowest requests (p95): " + ", ".join(f"{r.name} {r.p95_ms:,.0f} ms" for r in self.slowest_requests)
            )
        if self.failing_requests:
            lines.append(
                "Most failing requests: "
                + ", ".join(f"{r.name} → {r.status} ×{r.count:,}" for r in self.failing_requests)
            )
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
        Endpoint("GET", "/cloud/v6/load_tests/{id}"),
        Endpoint("GET", "/cloud/v6/load_tests/{id}/test_runs"),
        Endpoint("GET", "/cloud/v5/test_runs/{id}/query_aggregate_k6", api="v5"),
        Endpoint("GET", "/cloud/v5/load_tests/{id}/query_aggregate_k6", api="v5"),
    ],
    errors={404: "Test run {test_run} not found."},
    phrases=Phrases(
        verbs=(
            "investigate",
            "why did",
            "why was",
            "why is",
            "why",
            "dig into",
            "look into",
            "root cause",
            "troubleshoot",
            "debug",
            "what happened in",
            "what caused",
            "what killed",
            "what made … fail",
            "what made … abort",
            "what broke",
            "what broke in",
            "what failed in",
            "explain",
            "diagnose",
            "analyse",
            "analyze",
            "what went wrong with",
            "what went wrong in",
            "what went wrong",
            "what's wrong with",
            "what thresholds",
            "which thresholds",
            "what thresholds failed on",
            "which thresholds failed on",
            "which thresholds did … cross",
            "which thresholds did … fail",
            "what is wrong with",
        ),
        nouns=(
            "fail",
            "failed",
            "run",
            "test run",
            "abort",
            "aborted",
            "error",
            "errored",
            "crash",
            "crashed",
            "break",
            "thresholds",
            "threshold",
            "failed thresholds",
            "thresholds failed",
            "red",
            "go red",
            "went red",
            "turn red",
            "turned red",
        ),
        examples={
            "why did 1224 fail": {"test_run": 1224},
            "investigate run 1225": {"test_run": 1225},
        },
        template="investigate {test_run}",
    ),
    description="""
    Why a run passed or failed: status, thresholds, check pass rates, abort cause, key figures, change against the
    baseline (or previous run), diagnosis.
    """,
)
async def investigate_test_run(ctx: OpContext, args: InvestigateInput) -> Investigation:
    run_id = args.test_run
    first: list[Any] = list(
        await asyncio.gather(
            ctx.get(TestRun, run_path(run_id)),
            run_script(ctx, run_id),
            return_exceptions=True,
        )
    )
    requests = len(first)
    if isinstance(first[0], BaseException):
        raise first[0]
    run: TestRun = first[0]
    problems: list[str] = []
    script_bytes: bytes | None = None
    if first[1] is None:
        thresholds: tuple = ()
        problems.append("the run's script is not available, so its thresholds cannot be judged")
        script = None
    elif isinstance(first[1], BaseException):
        raise first[1]
    else:
        script_bytes = first[1]
        script = read_script(script_bytes)
        thresholds = script.thresholds
        problems += list(script.problems)

    # The reference run: only a finished run is compared (the multi-run endpoint leaves unfinished runs out).
    reference: tuple[int, str] | None = None
    passed_over: str | None = None
    if run.is_finished:
        found = await reference_run(ctx, run)
        requests += found.requests
        reference = (found.id, found.kind) if found.id is not None else None
        passed_over = found.note

    keys = list(FIGURES)
    known_pairs = {FIGURES[k] for k in keys if k != "checks"}
    extra: dict[tuple[str, str], list[str]] = {}
    for t in thresholds:
        kind = script.metric_type(t.metric) if script else None
        query = t.v5_query(kind) if kind else None
        if query is None or (query.query, query.metric) in known_pairs:
            continue
        pair = (query.query, query.metric)
        budget = MAX_REQUESTS - requests - len(keys) - (1 if reference else 0)
        if pair in extra or len(extra) < budget:
            extra.setdefault(pair, []).append(t.label)
    figures_of = _figures_with(ctx, run, reference[0] if reference else None)
    left = MAX_REQUESTS - requests - len(keys) - (1 if reference else 0) - len(extra)
    breakdowns = list(BREAKDOWNS)[: max(0, left)]  # thresholds first; the slowest / failing requests if room is left
    gathered: list[Any] = await asyncio.gather(
        *(figures_of(FIGURES[k]) for k in keys),
        *(_query(ctx, run_id, q, m) for q, m in extra),
        *(_query(ctx, run_id, *BREAKDOWNS[b]) for b in breakdowns),
        *([run_script(ctx, reference[0])] if reference else []),
    )
    requests += len(gathered)
    answers: dict[str, Figures] = dict(zip(keys, gathered[: len(keys)], strict=True))
    extras = gathered[len(keys) : len(keys) + len(extra)]
    split: dict[str, MetricQueryResponse] = dict(
        zip(breakdowns, gathered[len(keys) + len(extra) : len(keys) + len(extra) + len(breakdowns)], strict=True)
    )
    reference_script = gathered[-1] if reference else None

    measured: dict[str, float | None] = {}
    for t in thresholds:
        kind = script.metric_type(t.metric) if script else None
        query = t.v5_query(kind) if kind else None
        if query is not None and (query.query, query.metric) in known_pairs:
            key = next(k for k in keys if FIGURES[k] == (query.query, query.metric))
            measured[t.label] = _one(answers[key][0])
    for pair, answer in zip(extra, extras, strict=True):
        for label in extra[pair]:
            measured[label] = _single(answer)
    verdicts = judge_thresholds(thresholds, measured)
    checks = checks_layer(answers["checks"][1], verdicts)
    abort = classify_abort(run.abort_extra) if run.status == "aborted" else None
    side, diagnosis = _diagnose(run, abort, verdicts, checks)
    versus = None
    if reference is not None:
        current = {FIGURE_NAMES[k]: _figure(k, answers[k][0], answers[k][1]) for k in METRIC_QUERIES}
        before = {FIGURE_NAMES[k]: _figure(k, answers[k][2], answers[k][3]) for k in METRIC_QUERIES}
        compared = compare_figures(current, before)
        changed = None
        if script_bytes is not None and isinstance(reference_script, bytes):
            changed = hashlib.sha256(script_bytes).digest() != hashlib.sha256(reference_script).digest()
        versus = Versus(
            against_id=reference[0],
            against_kind=reference[1],
            overall=compared.overall,
            deltas=compared.deltas,
            script_changed=changed,
            tolerance_pct=compared.tolerance_pct,
            note=passed_over,
        )
        diagnosis = diagnosis.rstrip().rstrip(".") + ". " + versus.sentence()
    return Investigation(
        test_run_id=run.id,
        status=run.status,
        result=run.result,
        abort=abort,
        thresholds=verdicts,
        checks=checks,
        figures=KeyFigures(
            p50_ms=_one(answers["p50"][0]),
            p95_ms=_one(answers["p95"][0]),
            p99_ms=_one(answers["p99"][0]),
            request_rate=_one(answers["rate"][0]),
            failed_ratio=_one(answers["failed"][0]),
            max_vus=run.max_vus,
        ),
        versus=versus,
        slowest_requests=_slowest(split.get("slowest")),
        failing_requests=_failing(split.get("failing")),
        script_problems=problems,
        side=side,
        diagnosis=diagnosis,
        requests=requests,
    )


def _slowest(answer: MetricQueryResponse | None) -> list[SlowRequest]:
    if answer is None:
        return []
    found = [
        SlowRequest(name=s.metric.get("name") or "(no name)", p95_ms=v)
        for s in answer.data.result
        if (v := s.last_value) is not None
    ]
    return sorted(found, key=lambda r: -r.p95_ms)[:TOP]


def _failing(answer: MetricQueryResponse | None) -> list[FailingRequest]:
    if answer is None:
        return []
    found = [
        FailingRequest(name=s.metric.get("name") or "(no name)", status=s.metric.get("status") or "-", count=int(v))
        for s in answer.data.result
        if (v := s.last_value) is not None and v > 0
    ]
    return sorted(found, key=lambda r: -r.count)[:TOP]


Figures = tuple[list[float], dict[str, float], list[float], dict[str, float]]
"""One query's answer for (the run, by check) and (the reference run, by check)."""


def _figures_with(
    ctx: OpContext, run: TestRun, reference: int | None
) -> Callable[[tuple[str, str]], Awaitable[Figures]]:
    """One request per query: the run alone (per-run endpoint), or the run and its reference together (the
    load test's multi-run endpoint, series labelled ``test_run_id``)."""

    async def one(pair: tuple[str, str]) -> Figures:
        if reference is None:
            answer = await _query(ctx, run.id, *pair)
            mine = [v for s in answer.data.result if (v := s.last_value) is not None]
            return mine, _by_check(answer.data.result), [], {}
        path = multi_run_path(run.test_id, *pair, [run.id, reference])
        answer = await ctx.get(MetricQueryResponse, path, api="v5")
        split: dict[str, list[Any]] = {str(run.id): [], str(reference): []}
        for series in answer.data.result:
            split.setdefault(str(series.metric.get("test_run_id")), []).append(series)
        own, other = split[str(run.id)], split[str(reference)]
        values = [[v for s in group if (v := s.last_value) is not None] for group in (own, other)]
        return values[0], _by_check(own), values[1], _by_check(other)

    return one


def _by_check(series: list[Any]) -> dict[str, float]:
    return {s.metric.get("check", "check"): v for s in series if (v := s.last_value) is not None}


def _one(values: list[float]) -> float | None:
    return values[0] if values else None


def _figure(key: str, values: list[float], by_check: dict[str, float]) -> float | None:
    """A figure as compare_test_runs states it (the check rate: the mean of the checks' pass rates)."""
    if key == "checks":
        return check_rate(list(by_check.values()) or values)
    return _one(values)
