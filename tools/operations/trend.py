"""Run intelligence: how a load test is trending over its last runs, in one call whose cost does not grow per run.

The metrics of the whole window come from the multi-run v5 endpoint — one request per metric, never one per
run — and the runs' scripts are fetched only where the script may have changed: the window's two ends, then
bisection between any two runs whose scripts differ (a segment whose ends run the same script is taken as one
era). Independent requests go out together.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, model_validator

from tools.analysis.compare import Better
from tools.analysis.trend import MIN_RUNS, Direction, MetricTrend, metric_trend
from tools.charts import draw, sparkline
from tools.errors import InvalidInput
from tools.k6scripts import Script, Threshold, read_script
from tools.models import ApiDateTime, LoadTest, MetricQueryResponse, TestRun
from tools.operations.common import LoadTestRef
from tools.operations.compare import FIGURE_NAMES, UNITS
from tools.operations.test_runs import METRIC_QUERIES, multi_run_path, newest_first, run_script
from tools.outputs import Attachment, Output
from tools.phrasing import SHOW, Phrases, Say, Slot
from tools.registry import Endpoint, InputModel, OpContext, Safety, operation

log = logging.getLogger("k6bot.tools.trend")

DEFAULT_RUNS = 10
MAX_RUNS = 100
THIN_HEADROOM_PCT = 25.0
"""Runs-until-breach is given only when the latest value is this close to the limit (in % of the limit)."""
MAX_THRESHOLD_QUERIES = 8
"""Thresholds on metrics the headline figures do not cover cost one request each (per metric, not per run)."""
FIGURES = {FIGURE_NAMES[k]: METRIC_QUERIES[k] for k in METRIC_QUERIES}
"""p95, p99, error_rate, request_rate, check_rate → (v5 query, metric)."""
FIGURE_UNITS = {**{FIGURE_NAMES[k]: u for k, u in UNITS.items()}, "request_rate": " req/s"}


class TrendInput(InputModel):
    load_test: LoadTestRef
    runs: Annotated[int | None, Say(Slot.COUNT)] = Field(
        default=None,
        ge=MIN_RUNS,
        le=MAX_RUNS,
        description=f"Latest finished runs to take (default {DEFAULT_RUNS}).",
    )
    since: Annotated[ApiDateTime | None, Say(Slot.SINCE)] = Field(
        default=None, description="Or: every finished run created at/after this (UTC if no zone)."
    )

    @model_validator(mode="after")
    def _one_window(self) -> TrendInput:
        if self.runs is not None and self.since is not None:
            raise ValueError("give either runs or since, not both")
        return self


class TrendPoint(BaseModel):
    test_run_id: int
    created: datetime
    status: str
    result: str | None = None
    era: int
    p95: float | None = None
    p99: float | None = None
    error_rate: float | None = None
    request_rate: float | None = None
    check_rate: float | None = None


class Era(BaseModel):
    number: int  # 1 = oldest in the window
    name: str
    script_sha256: str | None
    first_run_id: int
    last_run_id: int
    runs: int


class ThresholdTrend(BaseModel):
    threshold: str
    limit: float | None
    evaluated: bool = True  # False: no v5 query measures it (or over the query budget): never guessed
    latest: float | None = None
    headroom_pct: float | None = None
    direction: Direction | None = None
    runs_until_breach: int | None = None  # only for a degrading metric with thin headroom


class FigureTrend(MetricTrend):
    threshold: str | None = None  # the untagged threshold on this figure, whose countdown runs_until_breach is
    unit: str = ""
    latest: float | None = None


class LoadTestTrend(Output):
    load_test_id: int
    load_test_name: str
    baseline_test_run_id: int | None = None
    window: str
    first_run_id: int | None
    last_run_id: int | None
    window_start: datetime | None
    window_end: datetime | None
    points: list[TrendPoint]
    eras: list[Era]
    trend_era: int | None
    trends: list[FigureTrend]
    thresholds: list[ThresholdTrend]
    unfinished_left_out: int
    unfinished_run_ids: list[int]
    without_metrics: list[int]
    note: str | None = None
    script_problems: list[str] = Field(default_factory=list)  # of the latest run's script (its thresholds)
    image: str | None = None  # the trend chart's file name; the PNG itself travels as an attachment

    def text(self) -> str:
        lines = [f"{self.load_test_name} ({self.load_test_id}): {self.window}"]
        left = []
        if self.unfinished_left_out:
            ids = ", ".join(map(str, self.unfinished_run_ids))
            left.append(f"{self.unfinished_left_out} unfinished run(s) left out ({ids})")
        if self.without_metrics:
            left.append(f"no metrics any more for {', '.join(map(str, self.without_metrics))}")
        if left:
            lines.append("; ".join(left).capitalize() + ".")
        if len(self.eras) > 1:
            lines.append("Script eras: " + "; ".join(e.name for e in self.eras) + ".")
        if self.note:
            lines.append(self.note)
        if self.script_problems:
            lines.append("Thresholds: " + "; ".join(self.script_problems) + ".")
        p95 = [p.p95 for p in self.points if p.p95 is not None]
        if p95:
            lines.append(f"p95 per run: {sparkline(p95)} ({min(p95):.0f}–{max(p95):.0f} ms)")
        for t in self.trends:
            lines.append("- " + _trend_line(t))
        for h in self.thresholds:
            if not h.evaluated:
                lines.append(f"- threshold {h.threshold}: not evaluated")
                continue
            if h.latest is None:
                lines.append(f"- threshold {h.threshold}: no observations in these runs")
                continue
            latest = "-" if h.latest is None else f"{h.latest:.4g}"
            room = "" if h.headroom_pct is None else f", headroom {h.headroom_pct:.1f}%"
            room += " (crossed)" if h.headroom_pct is not None and h.headroom_pct < 0 else ""
            until = f", ~{h.runs_until_breach} run(s) until it breaches" if h.runs_until_breach else ""
            direction = f", {h.direction.value}" if h.direction else ""
            lines.append(f"- threshold {h.threshold}: latest {latest}{room}{direction}{until}")
        if self.image:
            lines.append(f"Chart attached: {self.image}")
        lines.append("Runs (oldest first):")
        for p in self.points:
            lines.append("  " + _point_line(p) + (" (baseline)" if p.test_run_id == self.baseline_test_run_id else ""))
        return "\n".join(lines)

    def chart(self) -> bytes:
        """The trend chart (PNG): p95 and error rate per run, each threshold on them, script changes marked."""
        from tools.charts import trend_chart

        limits = {t.threshold: t.limit for t in self.thresholds if t.limit is not None and _on_chart(t.threshold)}
        return trend_chart(
            f"{self.load_test_name}: {self.window}",
            [p.test_run_id for p in self.points],
            [p.p95 for p in self.points],
            [p.error_rate for p in self.points],
            limits,
            [e.first_run_id for e in self.eras[1:]],
        )


def _on_chart(label: str) -> bool:
    """The chart's panels are the untagged p95 latency and error rate: only their thresholds are drawn."""
    return label.startswith("http_req_duration: p(95)") or label.startswith("http_req_failed: rate")


def _fmt(value: float | None, unit: str = "", pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.2f}%" if pct else f"{value:.4g}{unit}"


def _trend_line(t: FigureTrend) -> str:
    aside = " without the anomalies" if t.anomalies else ""
    change = "" if t.change_pct is None else f" ({t.change_pct:+.1f}%, first half vs second half{aside})"
    extra = []
    if t.volatile:
        extra.append("volatile")
    if t.anomalies:
        extra.append(f"anomalies: {', '.join(map(str, t.anomalies))}")
    if t.runs_until_breach:
        extra.append(f"~{t.runs_until_breach} run(s) until {t.threshold} breaches")
    tail = f"; {'; '.join(extra)}" if extra else ""
    latest = _fmt(t.latest, t.unit, pct=t.metric in ("error_rate", "check_rate"))
    return f"{t.metric}: {t.direction.value}{change}, latest {latest}{tail}"


def _point_line(p: TrendPoint) -> str:
    outcome = p.result or p.status
    if p.status != "completed":
        outcome = f"{p.status}, {outcome}" if p.result else p.status
    return (
        f"#{p.test_run_id} {p.created:%Y-%m-%d} {outcome}: p95 {_fmt(p.p95, ' ms')}, p99 {_fmt(p.p99, ' ms')}, "
        f"errors {_fmt(p.error_rate, pct=True)}, {_fmt(p.request_rate)} req/s, checks {_fmt(p.check_rate, pct=True)}"
    )


# --------------------------------------------------------------------------- fetching


async def _window(ctx: OpContext, test_id: int, args: TrendInput) -> tuple[list[TestRun], list[int]]:
    """The window's finished runs (oldest first) and the unfinished runs that fall in it (left out)."""
    wanted = MAX_RUNS if args.since is not None else (args.runs or DEFAULT_RUNS)
    params: dict[str, Any] = {"created_after": args.since} if args.since is not None else {}
    path = f"/cloud/v6/load_tests/{test_id}/test_runs"
    finished: list[TestRun] = []
    unfinished: list[int] = []
    runs = newest_first(ctx, TestRun, path, params, can_order=True, window=min(1000, wanted * 2 + 5), state={})
    async for run, _ in runs:
        if run.is_finished:
            finished.append(run)
            if len(finished) >= wanted:
                break  # no page further than needed
        else:
            unfinished.append(run.id)
    await runs.aclose()
    return finished[::-1], unfinished


async def _per_run(ctx: OpContext, test_id: int, pair: tuple[str, str], run_ids: list[int]) -> dict[int, float]:
    """One request for every run of the window: the value per ``test_run_id`` (series by check are averaged)."""
    answer = await ctx.get(MetricQueryResponse, multi_run_path(test_id, *pair, run_ids), api="v5")
    values: dict[int, list[float]] = {}
    for series in answer.data.result:
        raw = series.metric.get("test_run_id")
        value = series.last_value
        if raw is None or value is None or not raw.isdigit():
            continue
        values.setdefault(int(raw), []).append(value)
    return {rid: round(sum(v) / len(v), 4) if len(v) > 1 else v[0] for rid, v in values.items()}


class _Scripts:
    """Scripts fetched so far, by run id; hashes found by bisection, each script fetched at most once."""

    def __init__(self, ctx: OpContext) -> None:
        self.ctx = ctx
        self.content: dict[int, bytes | None] = {}

    async def fetch(self, run_ids: list[int]) -> None:
        missing = [rid for rid in dict.fromkeys(run_ids) if rid not in self.content]
        for rid, data in zip(missing, await asyncio.gather(*(run_script(self.ctx, r) for r in missing)), strict=True):
            self.content[rid] = data

    def sha(self, run_id: int) -> str | None:
        data = self.content.get(run_id)
        return None if data is None else hashlib.sha256(data).hexdigest()

    def differ(self, a: int, b: int) -> bool:
        """Both scripts known and different (an unavailable script is taken as its neighbours')."""
        first, second = self.sha(a), self.sha(b)
        return first is not None and second is not None and first != second

    async def hashes(self, run_ids: list[int]) -> list[str | None]:
        """The script hash of every run: a segment whose two ends agree is taken as one script (no A→B→A);
        a run whose script is unavailable takes the hash of the run before it (or after it, at the start)."""
        if not run_ids:
            return []
        await self.fetch([run_ids[0], run_ids[-1]])
        segments = [(0, len(run_ids) - 1)]
        while True:
            split = [(a, b) for a, b in segments if b - a > 1 and self.differ(run_ids[a], run_ids[b])]
            if not split:
                break
            await self.fetch([run_ids[(a + b) // 2] for a, b in split])
            segments = [s for s in segments if s not in split]
            for a, b in split:
                segments += [(a, (a + b) // 2), ((a + b) // 2, b)]
        out: list[str | None] = [None] * len(run_ids)
        for a, b in segments:
            first, last = self.sha(run_ids[a]), self.sha(run_ids[b])
            if not self.differ(run_ids[a], run_ids[b]):
                out[a : b + 1] = [first or last] * (b - a + 1)
            else:  # neighbours
                out[a], out[b] = first, last
        known = [h for h in out if h is not None]
        previous = known[0] if known else None
        for index, sha in enumerate(out):
            out[index] = previous = sha or previous
        return out

    def newest_available(self, run_ids: list[int]) -> int | None:
        return next((rid for rid in reversed(run_ids) if self.content.get(rid) is not None), None)


def _eras(runs: list[TestRun], hashes: list[str | None]) -> tuple[list[Era], list[int]]:
    eras: list[Era] = []
    numbers: list[int] = []
    for run, sha in zip(runs, hashes, strict=True):
        if not eras or eras[-1].script_sha256 != sha:
            label = f"script {sha[:8]}" if sha else "script unavailable"
            note = f" — {run.note}" if run.note else ""
            eras.append(
                Era(
                    number=len(eras) + 1,
                    name=f"era {len(eras) + 1}: {label} from run {run.id}{note}",
                    script_sha256=sha,
                    first_run_id=run.id,
                    last_run_id=run.id,
                    runs=0,
                )
            )
        eras[-1].last_run_id = run.id
        eras[-1].runs += 1
        numbers.append(eras[-1].number)
    for era in eras:
        era.name += f" (runs {era.first_run_id}–{era.last_run_id})" if era.runs > 1 else f" (run {era.first_run_id})"
    return eras, numbers


def _thresholds(data: bytes | None) -> tuple[Script | None, list[Threshold]]:
    if data is None:
        return None, []
    script = read_script(data)
    return script, list(script.thresholds)


def _pair(script: Script, t: Threshold) -> tuple[str, str] | None:
    if not t.parsed:
        return None
    kind = script.metric_type(t.metric)
    query = t.v5_query(kind) if kind else None
    return None if query is None else (query.query, query.metric)


def _trend(
    name: str, points: list[tuple[int, float]], limit: float | None, better: Better | None = None
) -> MetricTrend | None:
    """Anomalies over every point; direction and runs-until-breach without them, so one regression hides no creep."""
    whole = metric_trend(name, points, limit, better=better)
    if whole is None or not whole.anomalies:
        return whole
    calm = metric_trend(name, [p for p in points if p[0] not in whole.anomalies], limit, better=better)
    return whole if calm is None else calm.model_copy(update={"anomalies": whole.anomalies})


# --------------------------------------------------------------------------- the operation


@operation(
    name="get_load_test_trend",
    title="Trend of a load test",
    group="runs",
    safety=Safety.READ,
    idempotent=True,
    endpoints=[
        Endpoint("GET", "/cloud/v6/load_tests/{id}"),
        Endpoint("GET", "/cloud/v6/load_tests/{id}/test_runs"),
        Endpoint("GET", "/cloud/v6/test_runs/{id}/script"),
        Endpoint("GET", "/cloud/v5/load_tests/{id}/query_aggregate_k6", api="v5"),
    ],
    errors={404: "Load test {load_test} not found."},
    phrases=Phrases(
        verbs=(
            *SHOW,
            "trend",
            "trend of",
            "is … getting worse",
            "is … getting better",
            "is … getting slower",
            "is … degrading",
            "how is … trending",
            "how are … trending",
            "how has … been trending",
            "how have … been trending",
            "how's … trending",
            "hows … trending",
            "how's … been trending",
            "hows … been trending",
            "how has … trended",
            "history of",
        ),
        nouns=(
            "trend",
            "trending",
            "over time",
            "over the last",
            "over",
            "runs",
            "history",
            "creeping",
            "degrading",
            "p95 trend",
            "p99 trend",
            "latency trend",
            "error rate trend",
            "response time trend",
        ),
        examples={
            "trend of orders soak": {"load_test": "orders soak"},
            "is orders soak getting worse over the last 10 runs?": {"load_test": "orders soak", "runs": 10},
        },
        template="trend of {load_test}",
    ),
    description="""
    How a load test trends over its recent finished runs: per-run p95, p99, error, request and check rates;
    direction, volatility, anomalies, threshold headroom, runs until breach, script eras.
    """,
)
async def get_load_test_trend(ctx: OpContext, args: TrendInput) -> LoadTestTrend:
    resolved = ctx.resolved.get("load_test")  # resolving the reference read the test already
    test_id = resolved.id if isinstance(resolved, LoadTest) else args.load_test
    if not isinstance(test_id, int):
        raise InvalidInput(f"Name the load test by its id or name; {test_id!r} is neither.")
    runs, unfinished = await _window(ctx, test_id, args)
    capped = args.since is not None and len(runs) >= MAX_RUNS
    test = resolved if isinstance(resolved, LoadTest) else await ctx.get(LoadTest, f"/cloud/v6/load_tests/{test_id}")
    run_ids = [r.id for r in runs]
    scripts = _Scripts(ctx)
    base = list(FIGURES)
    figure_answers: list[dict[int, float]] = [{} for _ in base]
    hashes: list[str | None] = []
    if run_ids:
        # The metrics of every run, and meanwhile the window's two scripts (then bisection where they differ).
        hashes, figure_answers = await asyncio.gather(
            scripts.hashes(run_ids),
            asyncio.gather(*(_per_run(ctx, test_id, FIGURES[name], run_ids) for name in base)),
        )
    source = scripts.newest_available(run_ids)  # the latest run's script, unless it is unavailable
    script, thresholds = _thresholds(scripts.content.get(source) if source else None)
    problems = list(script.problems) if script else []
    if run_ids and source != run_ids[-1]:
        problems.append(
            f"the script of run {run_ids[-1]} is not available; "
            + (f"thresholds are those of run {source}" if source else "no threshold can be judged")
        )
    figures = dict(zip(base, figure_answers, strict=True))
    pairs: dict[str, tuple[str, str] | None] = {t.label: _pair(script, t) for t in thresholds} if script else {}
    known = {FIGURES[name]: figures[name] for name in base}
    extra = list(dict.fromkeys(p for p in pairs.values() if p is not None and p not in known))
    extra = extra[:MAX_THRESHOLD_QUERIES]
    if extra:
        for pair, answer in zip(
            extra, await asyncio.gather(*(_per_run(ctx, test_id, p, run_ids) for p in extra)), strict=True
        ):
            known[pair] = answer

    with_metrics = {rid for answer in known.values() for rid in answer}
    without = [rid for rid in run_ids if rid not in with_metrics]
    kept_runs = [r for r in runs if r.id in with_metrics]
    kept_hashes = [h for r, h in zip(runs, hashes, strict=True) if r.id in with_metrics]
    eras, numbers = _eras(kept_runs, kept_hashes)
    points = [
        TrendPoint(
            test_run_id=r.id,
            created=r.created,
            status=r.status,
            result=r.result,
            era=era,
            **{name: figures[name].get(r.id) for name in base},
        )
        for r, era in zip(kept_runs, numbers, strict=True)
    ]
    latest_era = eras[-1].number if eras else None
    current = [p for p in points if p.era == latest_era]
    note = f"Only the latest {MAX_RUNS} finished runs since {args.since:%Y-%m-%d} are read." if capped else None
    if len(current) < MIN_RUNS:
        have = f"{len(current)} finished run(s) with metrics" + (" in the latest script era" if len(eras) > 1 else "")
        note = " ".join(filter(None, [note, f"No trend: {have}; at least {MIN_RUNS} are needed."]))
    elif len(eras) > 1:
        within = (
            f"Trends are computed within era {latest_era} (runs {current[0].test_run_id}–{current[-1].test_run_id})."
        )
        note = " ".join(filter(None, [note, within]))

    current_ids = [p.test_run_id for p in current]
    threshold_trends: list[ThresholdTrend] = []
    countdowns: dict[tuple[str, str], tuple[str, int | None]] = {}  # a headline figure's untagged threshold
    for t in thresholds:
        measured = pairs.get(t.label)
        if measured is None or measured not in known:
            threshold_trends.append(ThresholdTrend(threshold=t.label, limit=t.limit, evaluated=False))
            continue
        values = known[measured]
        series = [(rid, values[rid]) for rid in current_ids if rid in values]
        latest = series[-1][1] if series else None
        room = t.evaluate(latest).headroom_pct if latest is not None else None
        better = Better.HIGHER if t.operator in (">", ">=") else Better.LOWER
        found = _trend(t.label, series, t.limit, better=better)
        thin = room is not None and room <= THIN_HEADROOM_PCT
        until = found.runs_until_breach if found and thin else None
        threshold_trends.append(
            ThresholdTrend(
                threshold=t.label,
                limit=t.limit,
                latest=latest,
                headroom_pct=room,
                direction=found.direction if found else None,
                runs_until_breach=until,
            )
        )
        if not t.tags and measured in FIGURES.values():
            countdowns.setdefault(measured, (t.label, until))
    trends: list[FigureTrend] = []
    for name in base:
        series = [(p.test_run_id, v) for p in current if (v := getattr(p, name)) is not None]
        found = _trend(name, series, None)
        if found is not None:
            label, until = countdowns.get(FIGURES[name], (None, None))
            trends.append(
                FigureTrend(
                    **found.model_dump(exclude={"runs_until_breach"}),
                    runs_until_breach=until,
                    threshold=label,
                    unit=FIGURE_UNITS.get(name, ""),
                    latest=series[-1][1],
                )
            )
    first, last = (points[0], points[-1]) if points else (None, None)
    if first and last:
        window = (
            f"runs {first.test_run_id}–{last.test_run_id}, {first.created:%Y-%m-%d} → {last.created:%Y-%m-%d} "
            f"({len(points)} finished run(s))"
        )
    else:
        window = "no finished runs with metrics" + (f" since {args.since:%Y-%m-%d}" if args.since else "")
    report = LoadTestTrend(
        load_test_id=test.id,
        load_test_name=test.name,
        baseline_test_run_id=test.baseline_test_run_id,
        window=window,
        first_run_id=first.test_run_id if first else None,
        last_run_id=last.test_run_id if last else None,
        window_start=first.created if first else None,
        window_end=last.created if last else None,
        points=points,
        eras=eras,
        trend_era=latest_era,
        trends=trends,
        thresholds=threshold_trends,
        unfinished_left_out=len(unfinished),
        unfinished_run_ids=unfinished,
        without_metrics=without,
        note=note,
        script_problems=problems,
    )
    if len(points) >= 2:  # a picture of the window: p95 and errors per run, thresholds, script changes
        try:
            png = await draw(report.chart)
        except Exception:  # the figures are still worth reading when drawing fails
            log.exception("Could not draw the trend chart of load test %s", test.id)
        else:
            report.image = f"k6-trend-{test.id}.png"
            report.attach(Attachment(filename=report.image, mime_type="image/png", data=png, title=report.window))
    return report
