"""Run intelligence: is this run worse than the baseline (or the previous run, or any run), in one call."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from pydantic import Field

from tools.analysis.compare import Comparison, MetricDelta, Overall, compare_figures, verdict_line
from tools.errors import InvalidInput
from tools.models import MetricQueryResponse, TestRun
from tools.operations.investigate import TEST_RUN
from tools.operations.test_runs import (
    FIGURE_NAMES,
    METRIC_QUERIES,
    Reference,
    aggregate_path,
    check_rate,
    fetch_run,
    previous_completed_run,
    reference_run,
)
from tools.outputs import Output
from tools.phrasing import Phrases, Say, Slot
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation

UNITS = {"p95": " ms", "p99": " ms"}


class CompareInput(InputModel):
    test_run: int = TEST_RUN
    against: Annotated[
        int | Literal["baseline", "previous"] | None,
        Say(Slot.RUN, before=("with", "against", "to", "and", "vs", "versus", None), words=("baseline", "previous")),
    ] = Field(
        default=None,
        description="Default: the baseline if set, else previous.",
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
    note: str | None = None  # why the baseline was passed over (deleted)

    def reference_label(self) -> str:
        """``baseline #1211``, ``previous #1229`` or ``run 1203``."""
        return f"{self.against_kind} #{self.against_id}" if self.against_kind != "run" else f"run {self.against_id}"

    def headline(self) -> str:
        """One line for a notification: ``p95 412 ms, +18% vs baseline #1220 — regression``."""
        comparison = Comparison(deltas=self.deltas, overall=self.overall, tolerance_pct=self.tolerance_pct)
        return verdict_line(comparison, self.against_id, self.against_kind)

    def text(self) -> str:
        ref = self.reference_label()
        lines = [f"Run {self.test_run_id} vs {ref}: {self.overall.value} (tolerance ±{self.tolerance_pct:g}%)"]
        if self.note:
            lines.append(f"Note: {self.note}, so this is the previous completed run.")
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
            figures[FIGURE_NAMES[key]] = check_rate(values)
        else:
            figures[FIGURE_NAMES[key]] = values[0] if values else None
    return figures


async def _reference(ctx: OpContext, run: TestRun, against: int | str | None) -> tuple[int, str, str | None]:
    if isinstance(against, int):
        return against, "run", None
    if against == "previous":
        found = Reference(await previous_completed_run(ctx, run), "previous", None, 1)
    else:
        found = await reference_run(ctx, run, insist=against == "baseline")
    if found.id is None:
        raise InvalidInput(f"Run {run.id} has no earlier completed run of the same test to compare with.")
    return found.id, found.kind, found.note


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
        verbs=(
            "compare",
            "diff",
            "is … worse",
            "is … better",
            "is … slower",
            "is … faster",
            "how does … compare",
            "how did … compare",
            "stack up against",
            "compared to",
            "compared with",
            "did … regress",
            "has … regressed",
            "did … improve",
            "has … improved",
            "regressed",
        ),
        nouns=(
            "baseline",
            "previous",
            "previous run",
            "run",
            "runs",
            "worse than",
            "slower than",
            "faster than",
            "better than",
            "or worse than",
            "or better than",
            "or slower than",
            "or faster than",
            "better or",
            "worse or",
            "faster or",
            "slower or",
            "with",
            "against",
            "vs",
            "versus",
            "compared to",
            "compared with",
            "difference between",
            "comparison",
        ),
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
    against_id, kind, note = await _reference(ctx, run, args.against)
    same_test = True  # the baseline and the previous run are runs of the same test, and were read to be chosen
    if kind == "run":
        other = await fetch_run(ctx, against_id)  # a missing run fails here, before any metric query is sent
        same_test = other.test_id == run.test_id
    current, reference = await asyncio.gather(_figures(ctx, run.id), _figures(ctx, against_id))
    result: Comparison = compare_figures(current, reference, args.tolerance_pct)
    return RunComparison(
        test_run_id=run.id,
        against_id=against_id,
        against_kind=kind,
        same_test=same_test,
        overall=result.overall,
        tolerance_pct=result.tolerance_pct,
        deltas=result.deltas,
        note=note,
    )
