"""Run intelligence: is this run worse than the baseline (or the previous run, or any run), in one call."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from pydantic import Field

from tools.analysis.compare import Comparison, MetricDelta, Overall, Verdict, compare_figures
from tools.errors import InvalidInput
from tools.models import LoadTest, MetricQueryResponse, TestRun
from tools.operations.investigate import TEST_RUN
from tools.operations.test_runs import METRIC_QUERIES, aggregate_path, fetch_run, newest_first
from tools.outputs import Output
from tools.phrasing import Phrases, Say, Slot
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation

FIGURE_NAMES = {"p95": "p95", "p99": "p99", "rate": "request_rate", "failed": "error_rate", "checks": "check_rate"}
"""METRIC_QUERIES' keys → the figure names tools/analysis/compare.py judges by direction."""
UNITS = {"p95": " ms", "p99": " ms"}


class CompareInput(InputModel):
    test_run: int = TEST_RUN
    against: Annotated[
        int | Literal["baseline", "previous"] | None,
        Say(Slot.RUN, before=("with", "against", "to", "and", "vs", "versus", None), words=("baseline", "previous")),
    ] = Field(
        default=None,
        description="Run id, 'baseline' or 'previous' (default: the baseline if set, else previous).",
    )
    tolerance_pct: float = Field(default=10.0, ge=0, le=100, description="Changes within +/- this % are no change.")


class RunComparison(Output):
    test_run_id: int
    against_id: int
    against_kind: str  # baseline, previous or run
    same_test: bool
    overall: Overall
    tolerance_pct: float
    deltas: list[MetricDelta]

    def reference_label(self) -> str:
        """``baseline #1211``, ``previous #1229`` or ``run 1203``."""
        return f"{self.against_kind} #{self.against_id}" if self.against_kind != "run" else f"run {self.against_id}"

    def headline(self) -> str:
        """One line for a notification: ``p95 412 ms, +18% vs baseline #1220 — regression``."""
        ref = self.reference_label()
        p95 = next((d for d in self.deltas if d.metric == "p95"), None)
        if self.overall is Overall.NO_CHANGE:
            lead = f"p95 {p95.current:,.0f} ms, " if p95 is not None and p95.current is not None else ""
            return f"{lead}no significant change vs {ref}"
        wanted = {Overall.REGRESSION: {Verdict.WORSE}, Overall.IMPROVEMENT: {Verdict.BETTER}}
        kinds = wanted.get(self.overall, {Verdict.WORSE, Verdict.BETTER})
        worst = [d for d in self.deltas if d.verdict in kinds and d.change_pct is not None]
        if p95 is not None and p95 in worst:
            worst.remove(p95)
            worst.insert(0, p95)
        bits = []
        for d in worst[:2]:
            unit = UNITS.get(d.metric, "")
            value = "-" if d.current is None else f"{d.current:,.4g}{unit}"
            bits.append(f"{d.metric} {value}, {d.change_pct:+.0f}%")
        lead = "; ".join(bits) + " " if bits else ""
        return f"{lead}vs {ref} — {self.overall.value}"

    def text(self) -> str:
        ref = self.reference_label()
        lines = [f"Run {self.test_run_id} vs {ref}: {self.overall.value} (tolerance ±{self.tolerance_pct:g}%)"]
        if not self.same_test:
            lines.append("Note: the two runs belong to different load tests; the comparison may not mean much.")
        for d in self.deltas:
            unit = UNITS.get(d.metric, "")
            now = "-" if d.current is None else f"{d.current:.4g}{unit}"
            before = "-" if d.reference is None else f"{d.reference:.4g}{unit}"
            pct = "" if d.change_pct is None else f" ({d.change_pct:+.1f}%)"
            lines.append(f"- {d.metric}: {now} vs {before}{pct} — {d.verdict.value}")
        return "\n".join(lines)


async def _figures(ctx: OpContext, run_id: int) -> dict[str, float | None]:
    keys = list(METRIC_QUERIES)
    answers = await asyncio.gather(
        *(ctx.get(MetricQueryResponse, aggregate_path(run_id, *METRIC_QUERIES[k]), api="v5") for k in keys)
    )
    figures: dict[str, float | None] = {}
    for key, answer in zip(keys, answers, strict=True):
        values = [v for s in answer.data.result if (v := s.last_value) is not None]
        if key == "checks":
            figures[FIGURE_NAMES[key]] = round(sum(values) / len(values), 4) if values else None
        else:
            figures[FIGURE_NAMES[key]] = values[0] if values else None
    return figures


async def _previous(ctx: OpContext, run: TestRun) -> int:
    path = f"/cloud/v6/load_tests/{run.test_id}/test_runs"
    async for other, _ in newest_first(ctx, path, {}, can_order=True, window=50, state={}):
        if other.id != run.id and other.created < run.created and other.status == "completed":
            return other.id
    raise InvalidInput(f"Run {run.id} has no earlier completed run of the same test to compare with.")


async def _reference(ctx: OpContext, run: TestRun, against: int | str | None) -> tuple[int, str]:
    if isinstance(against, int):
        return against, "run"
    if against in (None, "baseline"):
        test = await ctx.get(LoadTest, f"/cloud/v6/load_tests/{run.test_id}")
        if test.baseline_test_run_id is not None and test.baseline_test_run_id != run.id:
            return test.baseline_test_run_id, "baseline"
        if against == "baseline":
            why = "is that run itself" if test.baseline_test_run_id == run.id else "is not set"
            raise InvalidInput(f"The baseline of '{test.name}' {why}; compare with 'previous' or a run id.")
    return await _previous(ctx, run), "previous"


@operation(
    name="compare_test_runs",
    title="Compare two runs",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    core=True,
    endpoints=[
        Endpoint("GET", "/cloud/v6/test_runs/{id}"),
        Endpoint("GET", "/cloud/v6/load_tests/{id}"),
        Endpoint("GET", "/cloud/v6/load_tests/{id}/test_runs"),
        Endpoint("GET", "/cloud/v5/test_runs/{id}/query_aggregate_k6", api="v5"),
    ],
    errors={404: "Test run not found (run {test_run} or the run to compare it with)."},
    phrases=Phrases(
        verbs=("compare", "diff", "is … worse", "is … better", "is … slower", "is … faster"),
        nouns=("baseline", "previous", "previous run", "run", "runs", "worse than", "slower than", "with", "against"),
        examples={
            "compare 1223 with 1211": {"test_run": 1223, "against": 1211},
            "is 1223 worse than the baseline?": {"test_run": 1223, "against": "baseline"},
        },
        template="compare {test_run} with {against}",
    ),
    description="""
    Compare a run's p95, p99, error, request and check rates with another run: values, % change, verdicts.
    """,
)
async def compare_test_runs(ctx: OpContext, args: CompareInput) -> RunComparison:
    if args.against == args.test_run:
        raise InvalidInput(f"Run {args.test_run} compared with itself says nothing; name another run.")
    run = await fetch_run(ctx, args.test_run)
    against_id, kind = await _reference(ctx, run, args.against)
    other = await fetch_run(ctx, against_id)  # a missing run fails here, before any metric query is sent
    current, reference = await asyncio.gather(_figures(ctx, run.id), _figures(ctx, against_id))
    result: Comparison = compare_figures(current, reference, args.tolerance_pct)
    return RunComparison(
        test_run_id=run.id,
        against_id=against_id,
        against_kind=kind,
        same_test=other.test_id == run.test_id,
        overall=result.overall,
        tolerance_pct=result.tolerance_pct,
        deltas=result.deltas,
    )
