"""Records → v6 API JSON (shapes from the OpenAPI ``*ApiModel`` schemas)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from .lifecycle import ABORT_REASONS, RunView, view
from .models import LabelKey, LoadTest, LoadZone, Phase, Project, ProjectLimits, Schedule, TestRun
from .runmodel import generator_count, planned_crossings
from .timeutil import iso, parse_iso

RETENTION = timedelta(days=30)
K6_VERSION = "v1.3.0"


def project_json(project: Project, labels: dict[str, str], *, whole_seconds: bool = False) -> dict[str, Any]:
    return {
        "id": project.id,
        "name": project.name,
        "is_default": project.is_default,
        "grafana_folder_uid": project.grafana_folder_uid,
        "created": iso(project.created, whole_seconds=whole_seconds),
        "updated": iso(project.updated, whole_seconds=whole_seconds),
        "labels": labels,
    }


def folder_uid(project_id: int) -> str:
    """A stable Grafana folder uid for a project."""
    return "k6" + hashlib.sha1(f"folder-{project_id}".encode()).hexdigest()[:12]  # noqa: S324


def limits_json(limits: ProjectLimits) -> dict[str, Any]:
    return {
        "project_id": limits.project_id,
        "vuh_max_per_month": limits.vuh_max_per_month,
        "vu_max_per_test": limits.vu_max_per_test,
        "vu_browser_max_per_test": limits.vu_browser_max_per_test,
        "duration_max_per_test": limits.duration_max_per_test,
    }


def load_test_json(test: LoadTest, *, whole_seconds: bool = False) -> dict[str, Any]:
    return {
        "id": test.id,
        "project_id": test.project_id,
        "name": test.name,
        "baseline_test_run_id": test.baseline_test_run_id,
        "k6_version": test.k6_version,
        "created": iso(test.created, whole_seconds=whole_seconds),
        "updated": iso(test.updated, whole_seconds=whole_seconds),
    }


def vuh_cost(protocol_vuh: float, browser_vuh: float, reduction_rate: float = 0.0) -> dict[str, Any]:
    """A CostBreakdownApiModel-based cost (``TestCostApiModel``)."""
    base = round(protocol_vuh + browser_vuh, 2)
    factor = 1 - reduction_rate / 100
    return {
        "total_vuh": round(base * factor, 2),
        "breakdown": breakdown(protocol_vuh * factor, browser_vuh * factor, base, reduction_rate),
    }


def breakdown(protocol_vuh: float, browser_vuh: float, base: float, reduction_rate: float) -> dict[str, Any]:
    rates = {"local_run": reduction_rate} if reduction_rate else {}
    return {
        "protocol_vuh": round(protocol_vuh, 2),
        "browser_vuh": round(browser_vuh, 2),
        "base_total_vuh": round(base, 2),
        "reduction_rate": reduction_rate,
        "reduction_rate_breakdown": rates,
    }


def run_cost(run: TestRun, state: RunView) -> dict[str, Any] | None:
    """Estimate while the run goes on, the real cost once it ended; null before validation."""
    if not state.validated:
        return None
    seconds = state.execution_s if state.finished else run.info.duration_s
    hours = seconds / 3600
    browser = run.info.browser_vus
    return vuh_cost((run.info.max_vus - browser) * hours, browser * hours)


def phase_json(phase: Phase, *, whole_seconds: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {"type": phase.status, "entered": iso(phase.at, whole_seconds=whole_seconds)}
    if phase.extra is not None:
        data["extra"] = dict(phase.extra)
    return data


def run_options(run: TestRun) -> dict[str, Any]:
    """The run's options object as the cloud reports it (script options + cloud section)."""
    options = dict(run.info.options)
    cloud = dict(options.get("cloud") or {})
    cloud.setdefault("distribution", {zone: {"loadZone": zone, "percent": pct} for zone, pct in run.info.distribution})
    cloud["projectID"] = run.project_id
    options["cloud"] = cloud
    return options


def result_details(run: TestRun) -> dict[str, Any]:
    """The API names one crossed threshold; the run's metrics cross it (and maybe others)."""
    ending = run.ending
    if ending.status == "completed" and ending.result == "passed":
        return {"type": "passed", "message": None, "code": None}
    if ending.status == "completed":
        crossed = planned_crossings(run)
        # A script without a threshold cannot really fail; a seeded failure still needs a message.
        detail = crossed[0].label if crossed else "http_req_duration: p(95)<500"
        return {"type": "failed", "message": f"Thresholds have been crossed: {detail}", "code": None}
    reason = ABORT_REASONS[ending.reason or "system"]
    return {"type": ending.result, "message": reason.message, "code": reason.code}


def run_json(run: TestRun, now: datetime, page_url: str | None, *, whole_seconds: bool = False) -> dict[str, Any]:
    """A TestRunApiModel for ``run`` as of ``now``, plus ``test_run_details_page_url`` unless it is None."""
    state = view(run, now)
    validated = state.validated
    end_or_start = state.ended or run.created
    data: dict[str, Any] = {
        "id": run.id,
        "test_id": run.test_id,
        "project_id": run.project_id,
        "started_by": run.started_by,
        "created": iso(run.created, whole_seconds=whole_seconds),
        "ended": iso(state.ended, whole_seconds=whole_seconds),
        "note": run.note,
        "retention_expiry": None if run.saved else iso(end_or_start + RETENTION, whole_seconds=whole_seconds),
        "cost": run_cost(run, state),
        "status": state.status,
        "status_details": phase_json(state.current, whole_seconds=whole_seconds),
        "status_history": [phase_json(phase, whole_seconds=whole_seconds) for phase in state.history],
        "distribution": _distribution(run) if validated else None,
        "result": run.ending.result if state.finished else None,
        "result_details": result_details(run) if state.finished else None,
        "options": run_options(run) if validated else None,
        "k6_dependencies": {},
        "k6_versions": {"k6": K6_VERSION} if validated else {},
        "max_vus": run.info.max_vus if validated else None,
        "max_browser_vus": run.info.browser_vus if validated else None,
        "estimated_duration": run.info.duration_s if validated else None,
        "execution_duration": state.execution_s,
        "is_starred": run.is_starred,
    }
    if page_url is not None:
        data["test_run_details_page_url"] = page_url
    return data


def retention_expiry(run: TestRun, now: datetime) -> datetime | None:
    """When the run's results are deleted (None when saved)."""
    if run.saved:
        return None
    return (view(run, now).ended or run.created) + RETENTION


def node_distribution(run: TestRun) -> dict[str, Any]:
    """TestRunDistributionApiModel: load zones with their percentage and load generator nodes."""
    zones: dict[str, Any] = {}
    for index, (zone, pct) in enumerate(run.info.distribution):
        count = generator_count(run.info.max_vus, pct)
        nodes = [{"size": "m5.large", "public_ip": _node_ip(run.id, index, node)} for node in range(count)]
        zones[zone] = {"percentage": pct, "nodes": nodes}
    return {"distribution": zones}


def schedule_json(schedule: Schedule, next_run: datetime | None, *, whole_seconds: bool = False) -> dict[str, Any]:
    rule = schedule.recurrence_rule
    if whole_seconds and rule is not None and rule.get("until") is not None:
        rule = {**rule, "until": iso(parse_iso(rule["until"]), whole_seconds=True)}
    return {
        "id": schedule.id,
        "load_test_id": schedule.load_test_id,
        "starts": iso(schedule.starts, whole_seconds=whole_seconds),
        "recurrence_rule": rule,
        "cron": schedule.cron,
        "deactivated": schedule.deactivated,
        "next_run": iso(next_run, whole_seconds=whole_seconds),
        "created_by": schedule.created_by,
    }


def load_zone_json(zone: LoadZone) -> dict[str, Any]:
    return {
        "id": zone.id,
        "name": zone.name,
        "k6_load_zone_id": zone.k6_load_zone_id,
        "available": zone.available,
        "custom_load_runner_image": zone.custom_load_runner_image,
        "public": zone.public,
    }


def label_json(label: LabelKey) -> dict[str, Any]:
    return {"id": label.id, "key": label.key, "description": label.description}


def _distribution(run: TestRun) -> list[dict[str, Any]]:
    return [{"load_zone": zone, "percent": pct} for zone, pct in run.info.distribution]


def _node_ip(run_id: int, zone_index: int, node: int) -> str:
    digest = hashlib.sha1(f"{run_id}-{zone_index}-{node}".encode()).digest()  # noqa: S324
    return f"3.{80 + digest[0] % 20}.{digest[1]}.{1 + digest[2] % 254}"
