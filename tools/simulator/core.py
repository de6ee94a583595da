"""The simulator's shared core: configuration, clock, stores and the lock every operation takes."""

from __future__ import annotations

import functools
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

from .clock import SimClock
from .errors import not_found
from .faults import FaultList
from .models import (
    IdempotentStart,
    LabelKey,
    LoadTest,
    LoadZone,
    Project,
    ProjectLimits,
    Schedule,
    TestRun,
)
from .recording import RequestLog
from .timeutil import to_millis

DEFAULT_STACK_ID = 1000
DEFAULT_STACK_URL = "https://k6bot-demo.grafana.net"

P = ParamSpec("P")
R = TypeVar("R")
C = TypeVar("C", bound="SimulatorCore")


def locked(method: Callable[Concatenate[C, P], R]) -> Callable[Concatenate[C, P], R]:
    """Run a Simulator method while holding the simulator's lock."""

    def wrapper(self: C, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.lock:
            return method(self, *args, **kwargs)

    functools.update_wrapper(wrapper, method)
    return wrapper


@dataclass
class Store:
    """All simulated data; ids come from per-kind counters."""

    projects: dict[int, Project] = field(default_factory=dict)
    limits: dict[int, ProjectLimits] = field(default_factory=dict)
    load_tests: dict[int, LoadTest] = field(default_factory=dict)
    runs: dict[int, TestRun] = field(default_factory=dict)
    schedules: dict[int, Schedule] = field(default_factory=dict)
    zones: dict[int, LoadZone] = field(default_factory=dict)
    labels: dict[int, LabelKey] = field(default_factory=dict)
    project_labels: dict[int, dict[int, str]] = field(default_factory=dict)
    idempotency: dict[str, IdempotentStart] = field(default_factory=dict)
    next_ids: dict[str, itertools.count[int]] = field(default_factory=dict)

    def new_id(self, kind: str, first: int = 1) -> int:
        """Next id for ``kind`` (projects, load_tests, runs, ...), starting at ``first``."""
        counter = self.next_ids.setdefault(kind, itertools.count(first))
        return next(counter)

    def bump_ids(self, kind: str, after: int) -> None:
        """Make future ids of ``kind`` larger than ``after``."""
        self.next_ids[kind] = itertools.count(after + 1)


class SimulatorCore:
    """State shared by the operation mixins that make up :class:`~tools.simulator.Simulator`."""

    def __init__(
        self,
        *,
        token: str | None,
        stack_id: int | None,
        speed: float,
        user_email: str,
        max_saved_runs: int,
        start: datetime | None,
        stack_url: str,
    ) -> None:
        self.token = token
        self.stack_id = stack_id
        self.user_email = user_email
        self.max_saved_runs = max_saved_runs
        # The API does not document the default order of GET /cloud/v6/test_runs; oldest first is served by
        # default, and tests flip this to check that clients cope with newest first too.
        self.runs_newest_first = False
        # Strictness switches (documented on Simulator); the defaults keep the simulator's historic behaviour.
        self.timestamps_in_whole_seconds = False
        self.count_supported = True
        self.page_url_on_start_only = False
        self.stack_url = stack_url.rstrip("/")
        self.clock = SimClock(start, speed)
        self.faults = FaultList()
        self.lock = threading.RLock()
        self.store = Store()
        self._log = RequestLog()

    @property
    def effective_stack_id(self) -> int:
        """The stack the simulator serves (the configured one or a stable default)."""
        return self.stack_id if self.stack_id is not None else DEFAULT_STACK_ID

    def stamp(self) -> datetime:
        """Current simulated time, at millisecond precision (what records store)."""
        return to_millis(self.clock.now())

    def page_url(self, run_id: int) -> str:
        """The run's page in the Grafana Cloud k6 app."""
        return f"{self.stack_url}/a/k6-app/runs/{run_id}"

    def project_record(self, project_id: int) -> Project:
        project = self.store.projects.get(project_id)
        if project is None:
            raise not_found("Project", project_id)
        return project

    def test_record(self, load_test_id: int) -> LoadTest:
        test = self.store.load_tests.get(load_test_id)
        if test is None:
            raise not_found("Load test", load_test_id)
        return test

    def run_record(self, run_id: int) -> TestRun:
        run = self.store.runs.get(run_id)
        if run is None:
            raise not_found("Test run", run_id)
        return run

    def limit_violation(self, project_id: int, max_vus: int, browser_vus: int, duration_s: int) -> str | None:
        """Why a run with this profile exceeds its project's limits, or None."""
        limits = self.store.limits.get(project_id)
        if limits is None:
            return None
        if limits.vu_max_per_test is not None and max_vus > limits.vu_max_per_test:
            return f"{max_vus} VUs exceed the project's limit of {limits.vu_max_per_test} VUs per test"
        if limits.vu_browser_max_per_test is not None and browser_vus > limits.vu_browser_max_per_test:
            return f"{browser_vus} browser VUs exceed the limit of {limits.vu_browser_max_per_test}"
        if limits.duration_max_per_test is not None and duration_s > limits.duration_max_per_test:
            return f"a duration of {duration_s} s exceeds the limit of {limits.duration_max_per_test} s"
        return None
