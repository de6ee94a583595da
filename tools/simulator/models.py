"""The simulator's stored records (plain dataclasses; API JSON is rendered from them elsewhere)."""

from __future__ import annotations

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
    reason: str | None = None  # user | system | script_error | threshold | limit | timeout
    by_user: str | None = None


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
