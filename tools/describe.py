"""Short plain-text descriptions of any operation result, for terminals and MCP text content."""

from __future__ import annotations

import json
from functools import singledispatch
from typing import Any

from pydantic import BaseModel

from tools.models import (
    LoadTest,
    Project,
    ProjectLimits,
    Schedule,
    TestRun,
    TestRunDistribution,
    ValidateOptionsResult,
)
from tools.outputs import RunSummary, human_time, vuh_text


@singledispatch
def describe(result: Any) -> str:
    """A few readable lines about ``result``."""
    if isinstance(result, BaseModel):
        text = getattr(result, "text", None)
        if callable(text):
            return str(text())
        return _fields(result.model_dump(mode="json", exclude_none=True))
    return str(result)


@describe.register
def _(run: TestRun) -> str:
    return RunSummary.from_run(run).text()


@describe.register
def _(test: LoadTest) -> str:
    baseline = f", baseline run {test.baseline_test_run_id}" if test.baseline_test_run_id else ""
    return f"Load test '{test.name}' (id {test.id}, project {test.project_id}{baseline}), updated {human_time(test.updated)}."


@describe.register
def _(project: Project) -> str:
    default = ", the default project" if project.is_default else ""
    return f"Project '{project.name}' (id {project.id}{default}), created {human_time(project.created)}."


@describe.register
def _(limits: ProjectLimits) -> str:
    rows = [
        ("VUH per month", limits.vuh_max_per_month),
        ("VUs per test", limits.vu_max_per_test),
        ("browser VUs per test", limits.vu_browser_max_per_test),
        ("seconds per test", limits.duration_max_per_test),
    ]
    return f"Limits of project {limits.project_id}: " + ", ".join(
        f"{label} {value if value is not None else 'unlimited'}" for label, value in rows
    )


@describe.register
def _(schedule: Schedule) -> str:
    state = "deactivated" if schedule.deactivated else "active"
    rule = ""
    if schedule.recurrence_rule:
        rule = f", {schedule.recurrence_rule.frequency.value.lower()} every {schedule.recurrence_rule.interval}"
    elif schedule.cron:
        rule = f", cron '{schedule.cron.schedule}' ({schedule.cron.time_zone})"
    return (
        f"Schedule {schedule.id} of load test {schedule.load_test_id}: {state}, starts {human_time(schedule.starts)}"
        f"{rule}, next run {human_time(schedule.next_run)}."
    )


@describe.register
def _(distribution: TestRunDistribution) -> str:
    rows = [
        f"- {zone}: {data.percentage:g}% on {len(data.nodes)} node(s)"
        for zone, data in distribution.distribution.items()
    ]
    return "\n".join(["Load distribution:", *rows]) if rows else "No distribution data."


@describe.register
def _(result: ValidateOptionsResult) -> str:
    return f"These options can run; they would cost about {vuh_text(result.vuh_usage)}."


def _fields(data: dict[str, Any]) -> str:
    lines = []
    for key, value in data.items():
        shown = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
        if len(shown) > 200:
            shown = shown[:197] + "..."
        lines.append(f"{key}: {shown}")
    return "\n".join(lines)
