"""The v5 metrics API of the simulator: metrics, labels, series and queries of a run, and across a load test.

Which runs have metrics: a run has none before it starts running (created, queued, initializing, or a run
stopped by a limit before it ran); a running run has metrics up to now; a finished run has metrics for the
time it ran — until its results are deleted at ``retention_expiry`` (saved runs keep them). A run past its
retention answers like a run without metrics (an empty ``value`` list, empty results), never an error: the
run itself is still there, only its samples are gone. The multi-run load-test endpoints take only finished
runs that have metrics.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from .core import SimulatorCore, locked
from .errors import invalid
from .lifecycle import view
from .metrics import Scope, aggregate, full_labels, matching, metric_id, metric_list, range_query
from .models import RunStory, TestRun
from .render import retention_expiry
from .runmodel import model_of
from .v5query import Query, Selector, bad_request, parse_query, parse_selector

DEFAULT_RUN_COUNT = 30
MAX_RUN_COUNT = 1000
MAX_POINTS = 11_000
DEFAULT_POINTS = 120


class MetricsOps(SimulatorCore):
    """v5 metrics operations of the simulator (queries take the API's strings and raise 400s like it)."""

    def metrics_scope(self, run: TestRun) -> tuple[Scope, float] | None:
        """The run's metrics and how many seconds of data it has now; None when it has none."""
        now = self.clock.now()
        state = view(run, now)
        started = state.entered("running")
        expiry = retention_expiry(run, now)
        if started is None or (expiry is not None and expiry <= now):
            return None
        model = model_of(run)
        if model is None:
            return None
        seconds = min(model.planned_s, ((state.ended or now) - started).total_seconds())
        if seconds <= 0:
            return None
        return Scope(model, run.id, started.timestamp(), state.finished), seconds

    def has_metrics(self, run: TestRun) -> bool:
        return self.metrics_scope(run) is not None

    @locked
    def set_run_story(self, run_id: int, story: RunStory | None) -> None:
        """Shape a run's metrics (see :class:`~tools.simulator.models.RunStory`); None goes back to the default."""
        self.run_record(run_id).story = story

    @locked
    def run_metric_list(self, run_id: int) -> list[dict[str, Any]]:
        """``GET /cloud/v5/test_runs/{id}/metrics``."""
        found = self.metrics_scope(self.run_record(run_id))
        return [] if found is None else metric_list(found[0].model, run_id, found[1])

    @locked
    def run_labels(self, run_id: int, matches: list[str]) -> list[str]:
        """``GET .../labels?match[]=...``: label names of the matching series (all series without match[])."""
        names = {name for labels in self._series_labels(run_id, matches) for name in labels}
        return sorted(names)

    @locked
    def run_label_values(self, run_id: int, label: str, matches: list[str]) -> list[str]:
        """``GET .../label/{name}/values?match[]=...``."""
        values = {labels[label] for labels in self._series_labels(run_id, matches) if label in labels}
        return sorted(values)

    @locked
    def run_series(self, run_id: int, matches: list[str]) -> list[dict[str, str]]:
        """``GET .../series?match[]=...`` (at least one ``match[]`` is required)."""
        if not matches:
            raise invalid("At least one match[] selector is required, e.g. match[]=http_reqs.", "match[]")
        return self._series_labels(run_id, matches)

    @locked
    def aggregate_metric(
        self, run_id: int, query: str, metric: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Result vector of ``query_aggregate_k6`` (default window: the whole run so far)."""
        parsed_query, selector = _parse(query, metric)
        found = self.metrics_scope(self.run_record(run_id))
        if found is None:
            return []
        window = _window(found, start, end)
        return [] if window is None else aggregate(found[0], selector, parsed_query, *window)

    @locked
    def range_metric(
        self,
        run_id: int,
        query: str,
        metric: str,
        *,
        step: float | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Result matrix of ``query_range_k6`` (default step: the window / 120, at least 1 s)."""
        parsed_query, selector = _parse(query, metric)
        found = self.metrics_scope(self.run_record(run_id))
        if found is None:
            return []
        window = _window(found, start, end)
        if window is None:
            return []
        span = window[1] - window[0]
        step = step or max(1.0, float(math.ceil(span / DEFAULT_POINTS)))
        if span / step > MAX_POINTS:
            raise invalid(
                f"exceeded maximum resolution of {MAX_POINTS:,} points per timeseries; "
                f"try a larger step (at least {math.ceil(span / MAX_POINTS)} s).",
                "step",
            )
        return range_query(found[0], selector, parsed_query, window[0], window[1], step)

    @locked
    def load_test_metric_list(
        self, load_test_id: int, *, run_ids: list[int] | None = None, count: int | None = None
    ) -> list[dict[str, Any]]:
        """``GET /cloud/v5/load_tests/{id}/metrics(...)``: each metric once, typed as in the latest run having it."""
        latest: dict[str, dict[str, Any]] = {}
        for run in self.runs_for_metrics(load_test_id, run_ids, count):
            found = self.metrics_scope(run)
            assert found is not None
            for entry in metric_list(found[0].model, run.id, found[1]):
                latest[entry["name"]] = {**entry, "id": metric_id(f"test-{load_test_id}", entry["name"])}
        return [latest[name] for name in sorted(latest)]

    @locked
    def load_test_aggregate(
        self,
        load_test_id: int,
        query: str,
        metric: str,
        *,
        run_ids: list[int] | None = None,
        count: int | None = None,
    ) -> list[dict[str, Any]]:
        """``GET /cloud/v5/load_tests/{id}/query_aggregate_k6(...)``: the query over each run, one request."""
        parsed_query, selector = _parse(query, metric)
        results: list[dict[str, Any]] = []
        for run in self.runs_for_metrics(load_test_id, run_ids, count):
            found = self.metrics_scope(run)
            assert found is not None
            results += aggregate(found[0], selector, parsed_query, 0.0, found[1])
        return results

    def runs_for_metrics(self, load_test_id: int, run_ids: list[int] | None, count: int | None) -> list[TestRun]:
        """Finished runs of a load test that have metrics: the given ones, or the latest ``count`` (default 30)."""
        self.test_record(load_test_id)
        if run_ids is not None and count is not None:
            raise invalid("Give test_run_ids or test_run_count, not both.", "test_run_ids")
        if count is not None and not 1 <= count <= MAX_RUN_COUNT:
            raise invalid(f"test_run_count must be between 1 and {MAX_RUN_COUNT}.", "test_run_count")
        runs = sorted(
            (run for run in self.store.runs.values() if run.test_id == load_test_id),
            key=lambda run: (run.created, run.id),
        )
        if run_ids is not None:
            known = {run.id for run in runs}
            strangers = [str(run_id) for run_id in run_ids if run_id not in known]
            if strangers:
                raise invalid(
                    f"Not runs of load test {load_test_id}: {', '.join(strangers)}.",
                    "test_run_ids",
                )
            runs = [run for run in runs if run.id in set(run_ids)]
        now = self.clock.now()
        usable = [run for run in runs if view(run, now).finished and self.has_metrics(run)]
        return usable if run_ids is not None else usable[-(count or DEFAULT_RUN_COUNT) :]

    def _series_labels(self, run_id: int, matches: list[str]) -> list[dict[str, str]]:
        selectors = [_selector(text, "match[]") for text in matches]
        found = self.metrics_scope(self.run_record(run_id))
        if found is None:
            return []
        scope, seconds = found
        if not selectors:
            series = [s for s in scope.model.series if scope.model.exists(s, 0.0, seconds)]
        else:
            picked = {id(s): s for sel in selectors for s in matching(scope.model, sel, 0.0, seconds)}
            series = list(picked.values())
        unique = {tuple(sorted(labels.items())): labels for labels in (full_labels(s, run_id) for s in series)}
        return [unique[key] for key in sorted(unique)]


def _parse(query: str, metric: str) -> tuple[Query, Selector]:
    with bad_request():
        return parse_query(query), parse_selector(metric)


def _selector(text: str, target: str) -> Selector:
    with bad_request():
        return parse_selector(text, target)


def _window(found: tuple[Scope, float], start: datetime | None, end: datetime | None) -> tuple[float, float] | None:
    """The query window in seconds since the run started, clipped to its data (None: nothing in it)."""
    scope, seconds = found
    if start is not None and end is not None and end <= start:
        raise invalid("'end' must be later than 'start'.", "end")
    a = 0.0 if start is None else max(0.0, start.timestamp() - scope.origin)
    b = seconds if end is None else min(seconds, end.timestamp() - scope.origin)
    return (a, b) if b > a else None
