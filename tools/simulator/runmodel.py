"""A run's simulated measurements: every metric series its script produces, and how to measure them.

The model of a run is built from its script (requests, checks, VU curve, thresholds, custom metrics), its
ending and its :class:`~tools.simulator.models.RunStory`, deterministically (seeded by run id, and by test
id for what belongs to the test, so the same request has a similar latency run after run). Then it is
*solved*: values are adjusted until the run's thresholds agree with its result — a passed (or errored) run
is under every threshold, a failed run crosses the thresholds it crosses (the story's ``crossed``, else its
first threshold that can be crossed; for a threshold abort the ``abortOnFail`` one). Other thresholds of a
failed run keep their natural values.

Time is in seconds since the run started running. Events follow the VU curve (more VUs, more requests),
latency grows with load and drifts over the run, failures concentrate where the load is highest. Models are
cached per run facts (:class:`RunFacts`), so an aggregate over a finished run is computed once.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tools.k6scripts import BUILTIN_METRICS, Threshold, compare

from .models import Ending, RunStory, TestRun, pairs
from .scripts import RequestSpec, ScriptInfo, analyze_script, curve_at

PIECES = 12  # sub-windows an aggregate is computed over (latency and failures vary within a run)
CACHE_LIMIT = 4096  # entries a model keeps per cache (windows of a running run change with every poll)
GENERATOR_VUS = 300  # VUs one load generator instance runs
BAD_LATENCY = 1.3  # failed responses are slower (timeouts, retries behind the proxy)
MIN_EVENTS = 0.5  # a series with fewer expected samples in a window has none there
CUMULATIVE = ("value", "cumrate", "value_nz", "value_z", "value_total", "histogram_count_value")
HTTP_TIMINGS = {
    "http_req_duration": 1.0,
    "http_req_waiting": 0.9,
    "http_req_receiving": 0.045,
    "http_req_sending": 0.006,
    "http_req_blocked": 0.02,
    "http_req_connecting": 0.012,
    "http_req_tls_handshaking": 0.018,
}
PAGE_VITALS = {"browser_web_vital_lcp": 1.0, "browser_web_vital_fcp": 0.55, "browser_web_vital_ttfb": 0.2}
RESOURCES_PER_PAGE = 24
_SQRT2 = math.sqrt(2.0)
_LATENCY_IN_NAME = re.compile(r"(\d+(?:\.\d+)?)\s*ms\b")


@dataclass
class Cell:
    """A value several series share, which solving the model may scale (a latency, a failure share)."""

    value: float


@dataclass
class Flow:
    """A stream of events: ``rate`` per VU-second times ``count``; ``bad`` of them fail (more at high load)."""

    rate: float
    count: Cell
    bad: Cell
    power: float = 0.0


@dataclass
class Series:
    """One metric series (one label set). Which fields matter depends on ``kind``.

    trend: ``part`` of the flow's events (all/ok/bad), lognormal values ``median`` × ``latency`` × load, with
    ``sigma``; counter: events × ``per_event``; rate: events, of which ``nonzero`` (none/all/good/bad) count as
    non-zero; gauge: ``gauge`` (vus/vus_max/cpu/memory/const) × ``share``, around ``level``.
    """

    metric: str
    kind: str
    labels: dict[str, str]
    flow: Flow | None = None
    part: str = "all"
    median: float = 0.0
    sigma: float = 0.0
    latency: Cell | None = None
    per_event: float = 1.0
    nonzero: str = "none"
    gauge: str = ""
    share: float = 1.0
    level: float = 0.0


@dataclass(frozen=True)
class Piece:
    """A sub-window: its VU-seconds, VU share (0..1) and latency factor (load × drift) at its middle."""

    start: float
    end: float
    vu_seconds: float
    load: float
    latency: float


@dataclass(frozen=True)
class RunFacts:
    """Everything a run's model depends on (the cache key)."""

    run_id: int
    test_id: int
    script: bytes
    ending: Ending
    planned_s: float
    story: RunStory | None


@dataclass
class RunModel:
    """The series of one run and how to measure them over a window of seconds since the run started."""

    facts: RunFacts
    info: ScriptInfo
    curve: tuple[tuple[float, float], ...]
    max_vus: float
    load_growth: float
    drift: float
    series: list[Series] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    norms: dict[float, float] = field(default_factory=dict)
    results: dict[Any, Any] = field(default_factory=dict)
    _pieces: dict[tuple[float, float, int], list[Piece]] = field(default_factory=dict)

    @property
    def planned_s(self) -> float:
        return self.facts.planned_s

    def of_metric(self, metric: str) -> list[Series]:
        return [series for series in self.series if series.metric == metric]

    # -- time

    def vus_at(self, t: float) -> float:
        return curve_at(self.curve, t)

    def pieces(self, a: float, b: float, n: int | None = None) -> list[Piece]:
        """``[a, b]`` cut in ``n`` pieces (default: as fine as a twelfth of the run, at least one)."""
        if n is None:
            n = max(1, min(PIECES, math.ceil(PIECES * (b - a) / max(self.planned_s, 1.0) - 1e-9)))
        key = (round(a, 6), round(b, 6), n)
        cached = self._pieces.get(key)
        if cached is not None:
            return cached
        pieces: list[Piece] = []
        width = (b - a) / n if b > a else 0.0
        for index in range(n if width > 0 else 0):
            start, end = a + index * width, a + (index + 1) * width
            middle = (start + end) / 2
            load = self.vus_at(middle) / self.max_vus
            factor = (1 + self.load_growth * load * load) * (1 + self.drift * middle / max(self.planned_s, 1.0))
            pieces.append(Piece(start, end, vu_seconds(self.curve, start, end), load, factor))
        remember(self._pieces, key, pieces)
        return pieces

    # -- events

    def bad_share(self, flow: Flow, piece: Piece) -> float:
        if flow.power == 0:
            return min(1.0, flow.bad.value)
        norm = self.norms.setdefault(flow.power, self._norm(flow.power))
        return min(1.0, flow.bad.value * (piece.load**flow.power) / norm)

    def events(self, series: Series, piece: Piece) -> float:
        flow = series.flow
        if flow is None:
            return 0.0
        total = flow.rate * flow.count.value * piece.vu_seconds
        if series.part == "all":
            return total
        bad = self.bad_share(flow, piece)
        return total * (bad if series.part == "bad" else 1 - bad)

    def nonzero_share(self, series: Series, piece: Piece) -> float:
        if series.nonzero == "all":
            return 1.0
        if series.nonzero == "none" or series.flow is None:
            return 0.0
        bad = self.bad_share(series.flow, piece)
        return bad if series.nonzero == "bad" else 1 - bad

    def exists(self, series: Series, a: float, b: float) -> bool:
        """Whether the series has samples in the window."""
        if b <= a:
            return False
        if series.kind == "gauge":
            return True
        return sum(self.events(series, piece) for piece in self.pieces(a, b)) >= MIN_EVENTS

    def _norm(self, power: float) -> float:
        """Mean of load**power over the planned run, weighted by VU-seconds (so ``bad`` is the run's share)."""
        pieces = self.pieces(0.0, self.planned_s, 96)
        total = sum(piece.vu_seconds for piece in pieces)
        weighted = sum(piece.vu_seconds * piece.load**power for piece in pieces)
        return weighted / total if total > 0 and weighted > 0 else 1.0

    # -- measuring one group of series

    def measure(self, group: list[Series], method: str, argument: float | None, a: float, b: float) -> float | None:
        """The value of ``method`` over the pooled samples of ``group`` in ``[a, b]`` (None: no samples)."""
        start = 0.0 if method in CUMULATIVE else a
        group = [series for series in group if self.exists(series, start, b)]
        if not group:
            return None
        kind = group[0].kind
        if kind == "gauge":
            return self._gauge(group, method, a, b)
        pieces = self.pieces(start, b)
        if kind == "trend":
            return self._trend(group, method, argument, pieces)
        if kind == "counter":
            return self._counter(group, method, argument, start, b, pieces)
        return self._rate(group, method, start, b, pieces)

    def components(self, group: Iterable[Series], pieces: list[Piece]) -> list[tuple[float, float, float]]:
        """``(events, log median, sigma)`` of every series in every piece (lognormal mixture)."""
        found: list[tuple[float, float, float]] = []
        for series in group:
            scale = series.median * (series.latency.value if series.latency else 1.0)
            if series.part == "bad":
                scale *= BAD_LATENCY
            for piece in pieces:
                weight = self.events(series, piece)
                if weight > 0:
                    found.append((weight, math.log(scale * piece.latency), series.sigma))
        return found

    def _trend(self, group: list[Series], method: str, argument: float | None, pieces: list[Piece]) -> float | None:
        parts = self.components(group, pieces)
        total = sum(weight for weight, _, _ in parts)
        if total <= 0:
            return None
        if method in ("histogram_count_increase", "histogram_count_value"):
            return float(round(total))
        if method == "histogram_avg":
            return sum(w * math.exp(mu + s * s / 2) for w, mu, s in parts) / total
        if method == "histogram_stddev":
            mean = sum(w * math.exp(mu + s * s / 2) for w, mu, s in parts) / total
            second = sum(w * math.exp(2 * mu + 2 * s * s) for w, mu, s in parts) / total
            return math.sqrt(max(0.0, second - mean * mean))
        tail = min(0.5, 0.5 / total)
        if method == "histogram_min":
            return quantile(parts, total, tail)
        if method == "histogram_max":
            return quantile(parts, total, 1 - tail)
        return quantile(parts, total, argument if argument is not None else 0.5)

    def _counter(
        self, group: list[Series], method: str, argument: float | None, a: float, b: float, pieces: list[Piece]
    ) -> float | None:
        total = sum(self.events(s, p) * s.per_event for s in group for p in pieces)
        if total <= 0:
            return None
        if method in ("increase", "value"):
            return float(round(total))
        if method == "rate":
            return total / (b - a)
        if method == "cumrate":
            return total / b
        window = argument or 1.0
        best = 0.0
        edge = a
        while edge < b:
            end = min(b, edge + window)
            chunk = sum(self.events(s, p) * s.per_event for s in group for p in self.pieces(edge, end, 2))
            best = max(best, chunk / window)
            edge = end
        return best

    def _rate(self, group: list[Series], method: str, a: float, b: float, pieces: list[Piece]) -> float | None:
        total = nonzero = 0.0
        for series in group:
            for piece in pieces:
                events = self.events(series, piece)
                total += events
                nonzero += events * self.nonzero_share(series, piece)
        if total <= 0:
            return None
        if method == "ratio":
            return nonzero / total
        counts = {"nz": nonzero, "z": total - nonzero, "total": total}
        family, _, which = method.partition("_")
        count = counts[which]
        return count / (b - a) if family == "rate" else float(round(count))

    def gauge_at(self, series: Series, t: float) -> float:
        load = self.vus_at(t) / self.max_vus
        if series.gauge == "vus":
            return self.vus_at(t) * series.share
        if series.gauge == "vus_max":
            return math.ceil(self.max_vus * series.share)
        if series.gauge == "cpu":
            return min(100.0, series.level + (100 - series.level) * 0.55 * load)
        if series.gauge == "memory":
            return min(100.0, series.level + 12 * t / max(self.planned_s, 1.0))
        return series.level * (series.latency.value if series.latency else 1.0)

    def _gauge(self, group: list[Series], method: str, a: float, b: float) -> float | None:
        if method == "last_time":
            return b
        if method == "last":
            return max(round(self.gauge_at(series, b), 6) for series in group)
        if method == "avg":
            pieces = self.pieces(a, b)
            width = (b - a) / len(pieces)
            means = [sum(self.gauge_at(s, (p.start + p.end) / 2) * width for p in pieces) / (b - a) for s in group]
            return sum(means) / len(means)
        moments = [a, b, *(t for t, _ in self.curve if a < t < b)]
        values = [self.gauge_at(series, t) for series in group for t in moments]
        return max(values) if method == "max" else min(values)

    def cdf(self, group: list[Series], limit: float, a: float, b: float) -> float | None:
        """Share of a trend's samples at or below ``limit`` over ``[a, b]``."""
        parts = self.components(group, self.pieces(a, b))
        total = sum(weight for weight, _, _ in parts)
        if total <= 0 or limit <= 0:
            return None
        y = math.log(limit)
        return sum(w * _phi((y - mu) / s) for w, mu, s in parts) / total


def remember(cache: dict[Any, Any], key: object, value: object) -> None:
    """Store in a bounded cache (emptied when full: simple, and the values are cheap to compute again)."""
    if len(cache) >= CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def quantile(parts: list[tuple[float, float, float]], total: float, q: float) -> float:
    """The ``q`` quantile of a lognormal mixture, by bisection on the log scale."""
    low = min(mu - 8 * s for _, mu, s in parts)
    high = max(mu + 8 * s for _, mu, s in parts)
    for _ in range(44):
        middle = (low + high) / 2
        share = sum(w * _phi((middle - mu) / s) for w, mu, s in parts) / total
        if share < q:
            low = middle
        else:
            high = middle
    return math.exp((low + high) / 2)


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / _SQRT2)


def vu_seconds(curve: tuple[tuple[float, float], ...], a: float, b: float) -> float:
    """Exact integral of the VU curve over ``[a, b]``."""
    total = 0.0
    for (t0, _), (t1, _) in itertools.pairwise(curve):
        start, end = max(a, t0), min(b, t1)
        if end > start:
            total += (curve_at(curve, start) + curve_at(curve, end)) / 2 * (end - start)
    return total


def cut_curve(curve: tuple[tuple[float, float], ...], end: float) -> tuple[tuple[float, float], ...]:
    """The curve up to ``end`` seconds (a run that stopped early)."""
    kept = [(t, v) for t, v in curve if t < end]
    return (*kept, (end, curve_at(curve, end))) if kept else ((0.0, 0.0), (end, 0.0))


# --------------------------------------------------------------------------- facts and caches


def running_span(run: TestRun) -> tuple[datetime, datetime] | None:
    """When the run (as planned) starts and stops running; None when it never runs."""
    for index, phase in enumerate(run.timeline):
        if phase.status == "running":
            following = run.timeline[index + 1].at if index + 1 < len(run.timeline) else None
            if following is None:
                return None
            return phase.at, following
    return None


def facts_of(run: TestRun) -> RunFacts | None:
    span = running_span(run)
    if span is None:
        return None
    seconds = max(1.0, (span[1] - span[0]).total_seconds())
    return RunFacts(run.id, run.test_id, run.script, run.ending, seconds, run.story)


def model_of(run: TestRun) -> RunModel | None:
    """The solved model of a run (None when it never runs)."""
    facts = facts_of(run)
    return None if facts is None else solved_model(facts)


@functools.lru_cache(maxsize=512)
def solved_model(facts: RunFacts) -> RunModel:
    """The model that agrees with the run's result (built once per facts; treat it as read-only)."""
    model = build_model(facts)
    Solver(model).solve()
    return model


@functools.lru_cache(maxsize=512)
def _skeleton(facts: RunFacts) -> RunModel:
    return build_model(facts)


def planned_crossings(run: TestRun) -> tuple[Threshold, ...]:
    """The thresholds a run crosses by design (its story's, or the first one of a failed run)."""
    facts = facts_of(run)
    if facts is None:
        return ()
    return Solver(_skeleton(facts)).crossings()


# --------------------------------------------------------------------------- building a model


def build_model(facts: RunFacts) -> RunModel:
    """The unsolved model: every series, with the magnitudes a run like this has."""
    info = analyze_script(facts.script)
    ending, story = facts.ending, facts.story or RunStory()
    rng = random.Random(facts.run_id * 7919 + 17)
    failed, broken = ending.result == "failed", ending.reason == "script_error"
    max_vus = max(vus for _, vus in info.vu_curve) or 1.0
    model = RunModel(
        facts=facts,
        info=info,
        curve=cut_curve(info.vu_curve, facts.planned_s),
        max_vus=max_vus,
        load_growth=rng.uniform(0.5, 0.9) if failed else rng.uniform(0.15, 0.35),
        drift=story.drift if story.drift is not None else rng.uniform(0.08, 0.2) if failed else rng.uniform(0.0, 0.05),
    )
    _Builder(model, rng, story, failed=failed, broken=broken).build()
    return model


class _Builder:
    """Adds every series a run's script produces to its model."""

    def __init__(self, model: RunModel, rng: random.Random, story: RunStory, *, failed: bool, broken: bool) -> None:
        self.model = model
        self.rng = rng
        self.story = story
        self.broken = broken  # a script error: many requests fail
        self.troubled = failed or broken  # more failures, concentrated at the peak
        self.info = model.info
        self.zones = _zones(model.facts.run_id, self.info)
        self.iteration_count = Cell(1.0)
        self.no_failures = Cell(0.0)

    def add(self, series: Series, origin: str = "builtin") -> None:
        self.model.series.append(series)
        self.model.types.setdefault(series.metric, series.kind)
        self.model.origins.setdefault(series.metric, origin)

    def build(self) -> None:
        info, rng = self.info, self.rng
        run_factor = rng.uniform(0.92, 1.08)
        failure = (
            rng.uniform(0.2, 0.35)
            if self.broken
            else rng.uniform(0.004, 0.012)
            if self.troubled
            else rng.uniform(0.0005, 0.004)
        )
        error_status = self.story.error_status
        http = [request for request in info.requests if not request.page]
        pages = [request for request in info.requests if request.page]
        shapes = {request: _request_shape(self.model.facts.test_id, request) for request in info.requests}
        iteration_ms = sum(median * math.exp(sigma**2 / 2) * run_factor for median, sigma in (shapes[r] for r in http))
        iteration_ms += sum(2600.0 for _ in pages)
        iteration_s = max(0.05, info.sleep_s + iteration_ms / 1000)
        per_vu = 1 / iteration_s
        power = 2.0 if self.troubled else 0.5
        for request in http:
            median, sigma = shapes[request]
            latency, count, bad = Cell(median * run_factor), Cell(1.0), Cell(failure)
            for zone, share, _ in self.zones:
                flow = Flow(per_vu * share, count, bad, power)
                self._http(request, zone, flow, latency, sigma, error_status)
        for page in pages:
            self._page(page, per_vu, run_factor)
        self._iterations(per_vu, iteration_s, http, pages)
        self._checks(per_vu)
        self._custom(per_vu)
        self._gauges()

    def _http(
        self, request: RequestSpec, zone: str, flow: Flow, latency: Cell, sigma: float, error_status: int
    ) -> None:
        base = {
            "name": request.name,
            "url": request.url,
            "method": request.method,
            "group": request.group,
            "scenario": self.info.scenario,
            "proto": "HTTP/1.1",
            "load_zone": zone,
        }
        answered = int(dict(pairs(self.story.request_statuses)).get(request.name, request.expected_status))
        for part, status, expected in (("ok", answered, "true"), ("bad", error_status, "false")):
            labels = {**base, "status": str(status), "expected_response": expected}
            for metric, share in HTTP_TIMINGS.items():
                self.add(Series(metric, "trend", labels, flow, part, 1.0 * share, sigma, latency))
            self.add(Series("http_reqs", "counter", labels, flow, part))
            self.add(Series("http_req_failed", "rate", labels, flow, part, nonzero="all" if part == "bad" else "none"))

    def _page(self, page: RequestSpec, per_vu: float, run_factor: float) -> None:
        vitals, resources = Cell(1700.0 * run_factor), Cell(120.0 * run_factor)
        inp, cls = Cell(90.0), Cell(0.04)
        count, bad = Cell(1.0), Cell(self.rng.uniform(0.001, 0.01))
        for zone, share, _ in self.zones:
            flow = Flow(per_vu * share, count, self.no_failures)
            labels = {"url": page.url, "scenario": self.info.scenario, "load_zone": zone}
            for metric, ratio in PAGE_VITALS.items():
                self.add(Series(metric, "trend", labels, flow, median=ratio, sigma=0.32, latency=vitals))
            self.add(Series("browser_web_vital_inp", "trend", labels, flow, median=1.0, sigma=0.5, latency=inp))
            self.add(Series("browser_web_vital_cls", "trend", labels, flow, median=1.0, sigma=0.7, latency=cls))
            fetches = Flow(per_vu * share * RESOURCES_PER_PAGE, count, bad, 0.5)
            for part, status in (("ok", "200"), ("bad", "503")):
                tagged = {**labels, "method": "GET", "status": status}
                self.add(Series("browser_http_req_duration", "trend", tagged, fetches, part, 1.0, 0.6, resources))
                nonzero = "all" if part == "bad" else "none"
                self.add(Series("browser_http_req_failed", "rate", tagged, fetches, part, nonzero=nonzero))
            plain = {"scenario": self.info.scenario, "load_zone": zone}
            self.add(Series("browser_data_received", "counter", plain, flow, per_event=1_850_000))
            self.add(Series("browser_data_sent", "counter", plain, flow, per_event=42_000))

    def _iterations(self, per_vu: float, iteration_s: float, http: list[RequestSpec], pages: list[RequestSpec]) -> None:
        duration = Cell(iteration_s * 1000)
        received = sum(18_500 if request.method == "GET" else 2_400 for request in http)
        sent = sum(650 if request.method == "GET" else 1_150 for request in http)
        for zone, share, _ in self.zones:
            flow = Flow(per_vu * share, self.iteration_count, self.no_failures)
            labels = {"scenario": self.info.scenario, "load_zone": zone}
            self.add(Series("iterations", "counter", labels, flow))
            grouped = {**labels, "group": ""}
            self.add(Series("iteration_duration", "trend", grouped, flow, median=1.0, sigma=0.12, latency=duration))
            if http:
                self.add(Series("data_received", "counter", labels, flow, per_event=float(received)))
                self.add(Series("data_sent", "counter", labels, flow, per_event=float(sent)))

    def _checks(self, per_vu: float) -> None:
        requests = {name: request for request in self.info.requests for name in request.checks}
        for name in self.info.check_names:
            group = requests[name].group if name in requests else ""
            bad = Cell(0.0)
            power = 0.0 if name in dict(pairs(self.story.check_ratios)) else 2.0 if self.troubled else 0.5
            for zone, share, _ in self.zones:
                flow = Flow(per_vu * share, self.iteration_count, bad, power)
                labels = {"check": name, "group": group, "scenario": self.info.scenario, "load_zone": zone}
                self.add(Series("checks", "rate", labels, flow, nonzero="good"))

    def _custom(self, per_vu: float) -> None:
        for name, kind in self.info.script.custom_metrics.items():
            if name in BUILTIN_METRICS:
                continue
            value, bad = Cell(1.0), Cell(0.03)
            for zone, share, _ in self.zones:
                flow = Flow(per_vu * share, Cell(1.0), bad)
                labels = {"scenario": self.info.scenario, "group": "", "load_zone": zone}
                if kind == "trend":
                    series = Series(name, kind, labels, flow, median=100.0, sigma=0.45, latency=value)
                elif kind == "rate":
                    series = Series(name, kind, labels, flow, nonzero="good")
                elif kind == "gauge":
                    series = Series(name, kind, labels, gauge="const", level=10.0, latency=value)
                else:
                    series = Series(name, kind, labels, flow)
                self.add(series, origin="custom")

    def _gauges(self) -> None:
        cpu_base = self.rng.uniform(18, 32)
        if self.story.cpu_peak is not None:
            cpu_base = max(0.0, (self.story.cpu_peak - 55) / 0.45)
        for zone, share, instances in self.zones:
            for instance in instances:
                labels = {"load_zone": zone, "instance_id": instance}
                per_instance = share / len(instances)
                self.add(Series("vus", "gauge", labels, gauge="vus", share=per_instance))
                self.add(Series("vus_max", "gauge", labels, gauge="vus_max", share=per_instance))
                self.add(Series("load_generator_cpu_percent", "gauge", labels, gauge="cpu", level=cpu_base))
                memory = self.rng.uniform(20, 35)
                self.add(Series("load_generator_memory_used_percent", "gauge", labels, gauge="memory", level=memory))


def _request_shape(test_id: int, request: RequestSpec) -> tuple[float, float]:
    """Median ms and sigma of a request: a property of the test (stable run after run)."""
    rng = random.Random(f"{test_id}/{request.method} {request.name}")
    low, high = (70.0, 190.0) if request.method in ("POST", "PUT", "PATCH") else (40.0, 140.0)
    return rng.uniform(low, high), rng.uniform(0.38, 0.5)


def _zones(run_id: int, info: ScriptInfo) -> list[tuple[str, float, tuple[str, ...]]]:
    """``(load zone, share of VUs, instance ids)`` (one load generator per 300 VUs of a zone)."""
    zones: list[tuple[str, float, tuple[str, ...]]] = []
    number = 0
    total = sum(pct for _, pct in info.distribution) or 100
    for zone, pct in info.distribution:
        count = generator_count(info.max_vus, pct)
        ids = tuple(str(run_id * 100 + number + index) for index in range(count))
        number += count
        zones.append((zone, pct / total, ids))
    return zones


def generator_count(max_vus: int, percent: int) -> int:
    """Load generator instances a zone gets for its share of the VUs."""
    return max(1, math.ceil(max_vus * percent / 100 / GENERATOR_VUS))


# --------------------------------------------------------------------------- solving


class Solver:
    """Makes a model agree with its run's story and result (see the module docstring)."""

    def __init__(self, model: RunModel) -> None:
        self.model = model
        self.facts = model.facts
        self.story = model.facts.story or RunStory()
        self.thresholds = model.info.script.thresholds
        self.rng = random.Random(self.facts.run_id * 104729 + 3)

    def crossings(self) -> tuple[Threshold, ...]:
        """The thresholds this run crosses by design."""
        if self.story.crossed:
            wanted = set(self.story.crossed)
            return tuple(t for t in self.thresholds if t.label in wanted and self.adjustable(t))
        if self.facts.ending.result != "failed":
            return ()
        candidates = [t for t in self.thresholds if self.adjustable(t)]
        if self.facts.ending.reason == "threshold":
            candidates = [t for t in candidates if t.abort_on_fail] or candidates
        return tuple(candidates[:1])

    def adjustable(self, threshold: Threshold) -> bool:
        """Whether solving can move this threshold's value (it has samples and a type it fits)."""
        kind = self.model.types.get(threshold.metric)
        if kind is None or threshold.method(kind) is None or threshold.operator in ("==", "===", "!="):
            return False
        group = self.group(threshold)
        if kind == "gauge":
            return any(series.gauge == "const" for series in group)
        return bool(group)

    def group(self, threshold: Threshold) -> list[Series]:
        return [
            series
            for series in self.model.of_metric(threshold.metric)
            if all(series.labels.get(key) == value for key, value in threshold.tags.items())
        ]

    def measured(self, threshold: Threshold) -> float | None:
        kind = self.model.types[threshold.metric]
        method = threshold.method(kind) or ""
        argument = threshold.percentile / 100 if threshold.percentile is not None else None
        name, _, rest = method.partition("(")
        if rest and argument is None:
            argument = float(rest.rstrip(")"))
        return self.model.measure(self.group(threshold), name, argument, 0.0, self.facts.planned_s)

    def solve(self) -> None:
        self._apply_story()
        crossed = self.crossings()
        plain = [t for t in self.thresholds if t.metric != "checks"]
        self._enforce(plain, crossed)
        self._derive_checks()
        self._enforce([t for t in self.thresholds if t.metric == "checks"], crossed)

    # -- the story

    def _apply_story(self) -> None:
        model, story, end = self.model, self.story, self.facts.planned_s
        http = model.of_metric("http_req_duration")
        for name, factor in pairs(story.slow_requests):
            for cell in _cells(s.latency for s in http if s.labels.get("name") == name):
                cell.value *= factor
        if story.p95_ms is not None:
            self._scale_latency(http, model.measure(http, "histogram_quantile", 0.95, 0.0, end), story.p95_ms)
        failed = model.of_metric("http_req_failed")
        if story.failed_ratio is not None:
            self._set_share(failed, story.failed_ratio, bad_is_nonzero=True)
        for name, share in pairs(story.request_failures):
            self._set_share([s for s in failed if s.labels.get("name") == name], share, bad_is_nonzero=True)

    def _scale_latency(self, group: list[Series], value: float | None, target: float) -> None:
        if value is None or value <= 0:
            return
        for cell in _cells(series.latency for series in group):
            cell.value *= target / value

    def _set_share(self, group: list[Series], target: float, *, bad_is_nonzero: bool) -> None:
        """Scale the failure share of the group's flows until its ratio is ``target``."""
        flows = _flows(group)
        if not flows:
            return
        for _ in range(3):  # clamping at 100 % in busy pieces makes one pass inexact
            ratio = self.model.measure(group, "ratio", None, 0.0, self.facts.planned_s)
            if ratio is None:
                return
            bad_now = ratio if bad_is_nonzero else 1 - ratio
            bad_target = target if bad_is_nonzero else 1 - target
            if math.isclose(bad_now, bad_target, rel_tol=1e-4, abs_tol=1e-7):
                return
            for cell in _cells(flow.bad for flow in flows):
                cell.value = cell.value * bad_target / bad_now if bad_now > 0 else bad_target

    # -- checks

    def _derive_checks(self) -> None:
        """Check pass ratios from what they test: a status check fails with its request, a latency check with
        the share of slow responses; the story's ratios win."""
        model, end = self.model, self.facts.planned_s
        story_ratios = dict(pairs(self.story.check_ratios))
        by_check = {name: request for request in model.info.requests for name in request.checks}
        for name in model.info.check_names:
            checks = [s for s in model.of_metric("checks") if s.labels["check"] == name]
            if name in story_ratios:
                self._set_share(checks, story_ratios[name], bad_is_nonzero=False)
                continue
            bad = self._natural_failure(name, by_check.get(name), end)
            for cell in _cells(flow.bad for flow in _flows(checks)):
                cell.value = bad

    def _natural_failure(self, name: str, request: RequestSpec | None, end: float) -> float:
        """A latency check fails with the slow responses, any other check with its failed requests."""
        noise = self.rng.uniform(0.0, 0.0015)
        if request is None:
            return noise
        limit = _latency_limit(name)
        metric = "http_req_duration" if limit is not None else "http_req_failed"
        group = [
            series
            for series in self.model.of_metric(metric)
            if series.labels.get("name") == request.name and series.labels.get("method") == request.method
        ]
        if limit is not None:
            share = self.model.cdf(group, limit, 0.0, end)
            return 1 - share if share is not None else noise
        return min(1.0, (self.model.measure(group, "ratio", None, 0.0, end) or 0.0) + noise)

    # -- thresholds

    def requirement(self, threshold: Threshold, crossed: tuple[Threshold, ...]) -> str | None:
        """``"fail"`` for a designed crossing, ``"pass"`` for a run that did not fail, else None."""
        if threshold in crossed:
            return "fail"
        return None if self.facts.ending.result == "failed" else "pass"

    def _enforce(self, thresholds: list[Threshold], crossed: tuple[Threshold, ...]) -> None:
        ordered = [t for t in thresholds if t in crossed] + [t for t in thresholds if t not in crossed]
        for _ in range(4):
            changed = False
            for threshold in ordered:
                requirement = self.requirement(threshold, crossed)
                if requirement is not None and self.adjustable(threshold):
                    changed |= self._meet(threshold, requirement)
            if not changed:
                return

    def _meet(self, threshold: Threshold, requirement: str) -> bool:
        value = self.measured(threshold)
        if value is None or threshold.operator is None or threshold.limit is None:
            return False
        if compare(value, threshold.operator, threshold.limit) == (requirement == "pass"):
            return False
        kind = self.model.types[threshold.metric]
        target = _target(kind, threshold.operator, threshold.limit, requirement, self.rng.random())
        group = self.group(threshold)
        if kind == "trend":
            self._scale_latency(group, value, target)
        elif kind == "rate":
            nonzero_is_bad = any(series.nonzero in ("all", "bad") for series in group)
            self._set_share(group, target, bad_is_nonzero=nonzero_is_bad)
        elif kind == "counter" and value > 0:
            for cell in _cells(flow.count for flow in _flows(group)):
                cell.value *= target / value
        elif kind == "gauge" and value != 0:
            for cell in _cells(series.latency for series in group if series.gauge == "const"):
                cell.value *= target / value
        return True


def _target(kind: str, operator: str, limit: float, requirement: str, spread: float) -> float:
    """A value comfortably on the wanted side of the limit (``spread`` in [0, 1) varies it per run)."""
    upper = operator in ("<", "<=")  # the limit is a ceiling
    passing = requirement == "pass"
    if kind == "rate":
        if upper:
            return limit * (0.4 + 0.3 * spread) if passing else min(0.999, limit * (1.3 + 0.6 * spread) + 0.001)
        gap = 1 - limit
        return 1 - gap * (0.3 + 0.4 * spread) if passing else max(limit * 0.8, 1 - gap * (1.6 + 1.2 * spread))
    if upper:
        return limit * (0.8 + 0.12 * spread) if passing else limit * (1.08 + 0.22 * spread)
    return limit * (1.1 + 0.15 * spread) + (1 if kind == "counter" else 0) if passing else limit * (0.7 + 0.2 * spread)


def _latency_limit(check: str) -> float | None:
    """``'payment under 800ms'`` / ``'response time < 500ms'`` → 800 / 500."""
    match = _LATENCY_IN_NAME.search(check)
    return float(match.group(1)) if match else None


def _cells(cells: Iterable[Cell | None]) -> list[Cell]:
    unique: dict[int, Cell] = {}
    for cell in cells:
        if cell is not None:
            unique.setdefault(id(cell), cell)
    return list(unique.values())


def _flows(group: Iterable[Series]) -> list[Flow]:
    unique: dict[int, Flow] = {}
    for series in group:
        if series.flow is not None:
            unique.setdefault(id(series.flow), series.flow)
    return list(unique.values())
