"""Pictures: a run's chart (p95 latency, request rate, failed requests and VUs over the run) as a PNG attachment,
with a short text summary and a sparkline per series for front-ends that only show text."""

from __future__ import annotations

import asyncio
import logging

from pydantic import Field

from tools.charts import PANELS, RUN_CHART_QUERIES, Point, draw, points_of, range_path, run_chart, sparkline
from tools.models import FINAL_STATUSES, MetricQueryResponse
from tools.operations.investigate import TEST_RUN
from tools.operations.test_runs import fetch_run
from tools.outputs import Attachment, Output, status_phrase
from tools.phrasing import SHOW, Phrases
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation

log = logging.getLogger("k6bot.charts")
"""pyplot keeps global state: one chart is drawn at a time (drawing runs in a worker thread)."""
_SCALE = {"failed": 100.0}
"""Series stored as 0–1 ratios and shown as %."""


class ChartInput(InputModel):
    test_run: int = TEST_RUN


class SeriesSummary(Output):
    name: str = Field(description="p95, rate, failed or vus.")
    label: str
    unit: str
    points: int
    min: float | None = None
    max: float | None = None
    last: float | None = None
    sparkline: str = ""

    def line(self) -> str:
        if not self.points:
            return f"- {self.label}: no data"

        def num(value: float | None) -> str:
            return "-" if value is None else f"{value:.4g}"

        spread = f"{num(self.min)}–{num(self.max)} {self.unit}, last {num(self.last)}"
        return f"- {self.label}: {spread}  {self.sparkline}"


class RunChart(Output):
    """A run's chart: the PNG travels as an attachment; these fields say what it shows."""

    test_run_id: int
    test_id: int
    test_name: str | None = None
    status: str
    result: str | None = None
    series: list[SeriesSummary]
    has_data: bool
    note: str | None = None
    image: str | None = Field(default=None, description="File name of the attached PNG.")

    def text(self) -> str:
        name = self.test_name or f"test {self.test_id}"
        lines = [f"Chart of test run {self.test_run_id} ({name}, {status_phrase(self.status, self.result)}):"]
        if self.note:
            lines.append(self.note)
        lines += [s.line() for s in self.series]
        if self.image:
            lines.append(f"Chart attached: {self.image}")
        return "\n".join(lines)


def _summary(key: str, label: str, unit: str, points: list[Point]) -> SeriesSummary:
    scale = _SCALE.get(key, 1.0)
    values = [v * scale for _, v in points]
    return SeriesSummary(
        name=key,
        label=label,
        unit=unit,
        points=len(values),
        min=min(values) if values else None,
        max=max(values) if values else None,
        last=values[-1] if values else None,
        sparkline=sparkline(values),
    )


@operation(
    name="chart_test_run",
    title="Chart a test run",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[
        Endpoint("GET", "/cloud/v6/test_runs/{id}"),
        Endpoint("GET", "/cloud/v5/test_runs/{id}/query_range_k6", api="v5"),
    ],
    errors={404: "Test run {test_run} not found."},
    phrases=Phrases(
        verbs=(
            "chart",
            "graph",
            "plot",
            "draw",
            "make a chart of",
            "make a graph of",
            "make a chart for",
            "make a graph for",
            "draw a chart of",
            "draw a chart for",
            "visualize",
            "visualise",
            *SHOW,
        ),
        nouns=("chart", "graph", "picture", "run", "test run"),
        examples={
            "chart run 1224": {"test_run": 1224},
            "graph of 1225": {"test_run": 1225},
        },
        template="chart {test_run}",
    ),
    description="""
    A PNG chart of a run's p95 latency, request rate, failed requests and VUs over time.
    """,
)
async def chart_test_run(ctx: OpContext, args: ChartInput) -> RunChart:
    run = await fetch_run(ctx, args.test_run)  # a missing run fails here, before any metric query is sent
    keys = list(RUN_CHART_QUERIES)
    answers = await asyncio.gather(
        *(ctx.get(MetricQueryResponse, range_path(run.id, *RUN_CHART_QUERIES[k]), api="v5") for k in keys)
    )
    series: dict[str, list[Point]] = {}
    for key, answer in zip(keys, answers, strict=True):
        result = answer.data.result
        series[key] = points_of(result[0].values) if result else []
    name = await ctx.catalog.display_name(run.test_id)
    has_data = any(series.values())
    note = None
    if not has_data:
        note = (
            "No metrics yet: the run has not produced any data so far."
            if run.status not in FINAL_STATUSES
            else "This run has no metrics (none were recorded, or they are past the retention period): nothing to draw."
        )
    elif run.status not in FINAL_STATUSES:
        note = "The run is still going: the chart shows what exists so far."
    chart = RunChart(
        test_run_id=run.id,
        test_id=run.test_id,
        test_name=name,
        status=run.status,
        result=run.result,
        series=[_summary(key, label, unit, series.get(key, [])) for key, label, unit in PANELS],
        has_data=has_data,
        note=note,
    )
    if has_data:
        title = f"Test run {run.id}" + (f" — {name}" if name else "")
        try:
            png = await draw(lambda: run_chart(run.id, series, title=title))
        except Exception:  # the figures are still worth reading when drawing fails
            log.exception("Could not draw the chart of run %s", run.id)
            chart.note = "The chart could not be drawn (the details are in k6bot's log); the figures are below."
            return chart
        chart.image = f"k6-run-{run.id}.png"
        chart.attach(Attachment(filename=chart.image, mime_type="image/png", data=png, title=title))
    return chart
