"""The simulator's stored records (plain dataclasses; API JSON is rendered from them elsewhere)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .scripts import ScriptInfo


@dataclass
class Project:
    id: int
    name: str
    is_default: bool
    created: datetime
    updated: datetime
    grafana_folder_uid: str | None = None


@dataclass
class ProjectLimits:
    project_id: int
    vuh_max_per_month: int | None = None
    vu_max_per_test: int | None = None
    vu_browser_max_per_test: int | None = None
    duration_max_per_test: int | None = None


@dataclass
class LoadTest:
    id: int
    project_id: int
    name: str
    created: datetime
    updated: datetime
    script: bytes | None = None
    outcome: str = "passed"
    k6_version: int | None = None
    baseline_test_run_id: int | None = None


@dataclass(frozen=True)
class Phase:
    """One entry of a run's status history."""

    status: str
    at: datetime
    extra: dict[str, Any] | None = None


@dataclass(frozen=True)
class Ending:
    """How a run ends: terminal status, result, why (for aborts) and who."""

    status: str  # completed | aborted
    result: str  # passed | failed | error
    reason: str | None = None  # user | system | lifetime | script_error | threshold | limit | timeout
    by_user: str | None = None


Pairs = Mapping[str, float] | tuple[tuple[str, float], ...]
Statuses = Mapping[str, int] | tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class RunStory:
    """What a run's metrics should show, on top of what its script and result imply (all optional).

    ``p95_ms``: p95 of ``http_req_duration`` over the whole run; ``failed_ratio``: ``http_req_failed``;
    ``check_ratios``: pass ratio per check name; ``slow_requests``: latency factor per request name (relative to
    the others, before ``p95_ms`` is met); ``request_failures``: failed share per request name (after
    ``failed_ratio``); ``request_statuses``: the status a request answers when it does not fail (e.g. 200
    where the script's check expects 201); ``crossed``: thresholds (``"key: expression"`` as in the script, e.g.
    ``"http_req_duration{name:pay}: p(95)<700"``) this run crosses — a failed run without it crosses its first
    threshold; ``drift``: latency growth from the start to the end of the run (0.2 = +20 %);
    ``error_status``: the status of failed requests; ``cpu_peak``: peak load generator CPU %.

    Mappings may be given as dicts; they are kept as sorted pairs so a story is hashable.
    """

    p95_ms: float | None = None
    failed_ratio: float | None = None
    check_ratios: Pairs = ()
    slow_requests: Pairs = ()
    request_failures: Pairs = ()
    request_statuses: Statuses = ()
    crossed: tuple[str, ...] = ()
    drift: float | None = None
    error_status: int = 503
    cpu_peak: float | None = None

    def __post_init__(self) -> None:
        for name in ("check_ratios", "slow_requests", "request_failures"):
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, tuple(sorted((str(k), float(v)) for k, v in value.items())))
        if isinstance(self.request_statuses, Mapping):
            statuses = tuple(sorted((str(k), int(v)) for k, v in self.request_statuses.items()))
            object.__setattr__(self, "request_statuses", statuses)
        object.__setattr__(self, "crossed", tuple(self.crossed))


def pairs(value: Pairs | Statuses) -> tuple[tuple[str, float], ...]:
    """A story's mapping as ``(name, value)`` pairs."""
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(key), float(number)) for key, number in items)


@dataclass
class TestRun:
    id: int
    test_id: int
    project_id: int
    started_by: str | None
    created: datetime
    script: bytes
    info: ScriptInfo
    ending: Ending
    timeline: list[Phase] = field(default_factory=list)
    note: str = ""
    is_starred: bool = False
    saved: bool = False
    story: RunStory | None = None


@dataclass
class Schedule:
    id: int
    load_test_id: int
    starts: datetime
    recurrence_rule: dict[str, Any] | None
    cron: dict[str, str] | None
    deactivated: bool
    created_by: str | None


@dataclass
class LoadZone:
    id: int
    name: str
    k6_load_zone_id: str
    public: bool
    available: bool = True
    custom_load_runner_image: str | None = None
    allowed_project_ids: set[int] = field(default_factory=set)


@dataclass
class LabelKey:
    id: int
    key: str
    description: str | None = None


@dataclass
class IdempotentStart:
    """A start request remembered under its ``K6-Idempotency-Key``."""

    load_test_id: int
    run_id: int
    at: datetime
