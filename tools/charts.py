"""PNG charts of a run (from the v5 ``query_range_k6`` series) and of a load test's trend, plus text sparklines.

matplotlib is imported inside the drawing functions only (Agg backend), so ``import tools`` stays light.
Charts are 1000x600 px: readable at Slack's preview size.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

Point = tuple[float, float]
"""``(unix seconds, value)``."""

RUN_CHART_QUERIES: dict[str, tuple[str, str]] = {
    "p95": ("histogram_quantile(0.95)", "http_req_duration"),
    "rate": ("rate", "http_reqs"),
    "failed": ("ratio", "http_req_failed"),
    "vus": ("sum(max by (instance_id))", "vus"),
}
"""The four series of a run chart: v5 query and metric each."""

PANELS: tuple[tuple[str, str, str], ...] = (
    ("p95", "p95 http_req_duration", "ms"),
    ("rate", "Request rate", "req/s"),
    ("failed", "Failed requests", "%"),
    ("vus", "VUs", "VUs"),
)
SIZE_INCHES = (10.0, 6.0)
DPI = 100
SPARKS = "▁▂▃▄▅▆▇█"
_DRAWING = threading.Lock()
"""pyplot's state is global: one drawing at a time, in a worker thread so the event loop keeps serving."""


async def draw(render: Callable[[], bytes]) -> bytes:
    """Run a chart function off the event loop, one at a time."""

    def locked() -> bytes:
        with _DRAWING:
            return render()

    return await asyncio.to_thread(locked)


def range_path(test_run_id: int, query: str, metric: str) -> str:
    return f"/cloud/v5/test_runs/{test_run_id}/query_range_k6(query='{query}',metric='{metric}')"


def points_of(values: Sequence[Sequence[Any]]) -> list[Point]:
    """A Prometheus matrix series' ``[[ts, "value"], ...]`` as floats, skipping what is not a number."""
    points: list[Point] = []
    for entry in values:
        if len(entry) < 2:
            continue
        try:
            points.append((float(entry[0]), float(entry[1])))
        except (TypeError, ValueError):
            continue
    return points


def sparkline(values: Sequence[float], width: int = 40) -> str:
    """``[1, 5, 3]`` → ``"▁█▄"``; at most ``width`` characters (averaging neighbours); empty for no values."""
    if not values:
        return ""
    if len(values) > width:
        size = len(values) / width
        values = [
            sum(chunk) / len(chunk)
            for i in range(width)
            if (chunk := values[round(i * size) : max(round((i + 1) * size), round(i * size) + 1)])
        ]
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return SPARKS[0] * len(values)
    top = len(SPARKS) - 1
    return "".join(SPARKS[round((v - low) / (high - low) * top)] for v in values)


def _figure(rows: int) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(rows, 1, figsize=SIZE_INCHES, dpi=DPI, sharex=True, squeeze=False)
    return figure, [row[0] for row in axes]


def _png(figure: Any) -> bytes:
    from matplotlib import pyplot

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    pyplot.close(figure)
    return buffer.getvalue()


def literal(text: str) -> str:
    """Text drawn as it is: ``$`` would start matplotlib mathtext (a test named "cost $5 $\\frac" must not fail)."""
    return text.replace("$", r"\$")


def run_chart(test_run_id: int, series: Mapping[str, Sequence[Point]], title: str | None = None) -> bytes:
    """A PNG of p95 latency, request rate, failed-request rate and VUs over a run (``series`` keyed as
    :data:`RUN_CHART_QUERIES`; a missing or empty series is drawn as "no data")."""
    figure, axes = _figure(2)
    pairs = [(axes[0], PANELS[0], PANELS[3]), (axes[1], PANELS[1], PANELS[2])]
    start = min((p[0] for values in series.values() for p in values[:1]), default=0.0)
    colours = ("tab:blue", "tab:orange")
    for axis, left, right in pairs:
        for index, ((key, label, unit), target) in enumerate(((left, axis), (right, None))):
            drawn = target if target is not None else axis.twinx()
            points = list(series.get(key) or [])
            scale = 100.0 if key == "failed" else 1.0
            xs = [(t - start) / 60 for t, _ in points]
            ys = [v * scale for _, v in points]
            colour = colours[index]
            if points:
                drawn.plot(xs, ys, color=colour, linewidth=2, label=label)
                if key == "vus":
                    drawn.fill_between(xs, ys, color=colour, alpha=0.15)
            else:
                drawn.text(0.5, 0.5 - 0.15 * index, f"{label}: no data", transform=axis.transAxes, ha="center")
            drawn.set_ylabel(f"{label} ({unit})", color=colour, fontsize=11)
            drawn.tick_params(axis="y", colors=colour, labelsize=10)
            drawn.set_ylim(bottom=0)
        axis.grid(True, alpha=0.3)
    axes[-1].set_xlabel("minutes since start", fontsize=11)
    figure.suptitle(literal(title or f"Test run {test_run_id}"), fontsize=14, fontweight="bold")
    figure.tight_layout()
    return _png(figure)


def trend_chart(
    title: str,
    run_ids: Sequence[int],
    p95_ms: Sequence[float | None],
    error_ratio: Sequence[float | None],
    thresholds: Mapping[str, float],
    era_starts: Sequence[int],
) -> bytes:
    """A PNG of p95 and error rate per run across a window: one point per run (labelled by id), each threshold
    a dashed line on its panel (keys naming ``p95``/``duration`` go to latency, others to errors, ratios in 0–1),
    and a vertical line where a new script era starts (``era_starts``: run ids)."""
    if not (len(run_ids) == len(p95_ms) == len(error_ratio)):
        raise ValueError("run_ids, p95_ms and error_ratio must have the same length.")
    figure, (latency, errors) = _figure(2)
    xs = list(range(len(run_ids)))

    def line(axis: Any, values: Sequence[float | None], scale: float, colour: str, label: str) -> None:
        kept = [(x, v * scale) for x, v in zip(xs, values, strict=True) if v is not None]
        if kept:
            axis.plot([x for x, _ in kept], [v for _, v in kept], marker="o", color=colour, linewidth=2, label=label)
        else:
            axis.text(0.5, 0.5, f"{label}: no data", transform=axis.transAxes, ha="center")
        axis.set_ylabel(label, fontsize=11)
        axis.grid(True, alpha=0.3)
        axis.set_ylim(bottom=0)

    line(latency, p95_ms, 1.0, "tab:blue", "p95 (ms)")
    line(errors, error_ratio, 100.0, "tab:red", "errors (%)")
    for name, value in thresholds.items():
        on_latency = any(word in name.lower() for word in ("p95", "p(95", "duration", "latency"))
        axis, shown = (latency, value) if on_latency else (errors, value * 100)
        axis.axhline(shown, color="grey", linestyle="--", linewidth=1.5, label=literal(f"threshold {name}"))
    positions = {run_id: index for index, run_id in enumerate(run_ids)}
    for era in era_starts:
        if era in positions and positions[era] > 0:
            for axis in (latency, errors):
                axis.axvline(positions[era] - 0.5, color="purple", linestyle=":", linewidth=2)
            latency.annotate("script changed", (positions[era] - 0.5, 1.0), xycoords=("data", "axes fraction"),
                             ha="left", va="top", color="purple", fontsize=10)  # fmt: skip
    for axis in (latency, errors):
        if axis.get_legend_handles_labels()[0]:
            axis.legend(loc="upper left", fontsize=9)
    errors.set_xticks(xs)
    errors.set_xticklabels([str(r) for r in run_ids], rotation=45 if len(run_ids) > 12 else 0, fontsize=9)
    errors.set_xlabel("test run", fontsize=11)
    figure.suptitle(literal(title), fontsize=14, fontweight="bold")
    figure.tight_layout()
    return _png(figure)


def when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%H:%M:%S")
