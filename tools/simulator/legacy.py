"""The legacy v2 runs API view of a run (``{"k6-run": {...}}``), mapped from the v6 state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .lifecycle import ABORT_REASONS, RunView, view
from .models import TestRun
from .render import run_options
from .timeutil import iso

LEGACY_USER_ID = 4242
RUN_STATUS = {
    "created": -2,
    "queued": 0,
    "initializing": 1,
    "running": 2,
    "processing_metrics": 3,
    "completed": 3,
}
PROCESSING_NOT_STARTED, PROCESSING, PROCESSING_FINISHED = 0, 1, 2


def run_status(run: TestRun, state: RunView) -> int:
    """The legacy ``run_status`` code of a run's current state."""
    if state.status == "aborted":
        return ABORT_REASONS[run.ending.reason or "system"].legacy_status
    return RUN_STATUS[state.status]


def processing_status(state: RunView) -> int:
    if state.status == "processing_metrics":
        return PROCESSING
    if state.finished and state.entered("running") is not None:
        return PROCESSING_FINISHED
    return PROCESSING_NOT_STARTED


def legacy_run_json(
    run: TestRun, now: datetime, organization_id: int, load_time: float | None, *, whole_seconds: bool = False
) -> dict[str, Any]:
    """One run in the legacy v2 shape (``load_time``: its average ``http_req_duration``, if it has one)."""
    state = view(run, now)
    aborted = state.status == "aborted"
    reason = ABORT_REASONS[run.ending.reason or "system"] if aborted else None
    return {
        "config": run_options(run) if state.validated else {},
        "created": iso(run.created, whole_seconds=whole_seconds),
        "duration": run.info.duration_s,
        "ended": iso(state.ended, whole_seconds=whole_seconds),
        "error_code": reason.code if reason and run.ending.reason != "user" else None,
        "error_detail": reason.message if reason and run.ending.reason != "user" else None,
        "export": None,
        "id": run.id,
        "is_baseline": False,
        "k6_archive": "",
        "load_time": None if load_time is None else round(load_time, 2),
        "note": run.note,
        "organization_id": organization_id,
        "processing_status": processing_status(state),
        "project_id": run.project_id,
        "public_id": None,
        "request_builder_config": None,
        "result_status": 1 if state.finished and run.ending.result == "failed" else 0,
        "run_process": "k6 to Cloud",
        "run_status": run_status(run, state),
        "script": "" if run.info.is_tar else run.script.decode("utf-8", errors="replace"),
        "started": iso(state.entered("running"), whole_seconds=whole_seconds),
        "stopped_by_id": LEGACY_USER_ID if aborted and run.ending.reason == "user" else None,
        "test_id": run.test_id,
        "user_id": LEGACY_USER_ID if run.started_by else None,
        "version": 2,
        "vus": run.info.max_vus,
        "vus_per_instance": min(run.info.max_vus, 300),
    }


def select_fields(data: dict[str, Any], select: str | None) -> dict[str, Any]:
    """Apply a ``$select=id,test_id,...`` projection."""
    if not select:
        return data
    wanted = [name.strip() for name in select.split(",") if name.strip()]
    return {name: data[name] for name in wanted if name in data}
