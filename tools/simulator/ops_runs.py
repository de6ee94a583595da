"""Test runs: starting, the lifecycle controls, and everything hanging off a run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from .core import SimulatorCore, locked
from .errors import ApiError, conflict, invalid
from .lifecycle import (
    ABORTABLE,
    INITIALIZING_AFTER_S,
    OUTCOME_ENDINGS,
    PROCESSING_FOR_S,
    QUEUED_AFTER_S,
    RUNNING_AFTER_S,
    UNFINISHED,
    cut_timeline,
    ending_for,
    plan_timeline,
    view,
)
from .models import Ending, IdempotentStart, LoadTest, TestRun
from .render import node_distribution, retention_expiry, run_json, vuh_cost
from .scripts import ScriptInfo, analyze_script, load_profile

IDEMPOTENCY_WINDOW = timedelta(minutes=10)
IDEMPOTENCY_KEY_MAX = 36
IDEMPOTENCY_HEADER = "K6-Idempotency-Key"
LOCAL_RUN_REDUCTION = 25.0


class RunOps(SimulatorCore):
    """Test run operations of the simulator."""

    def render_run(self, run: TestRun, *, start: bool = False) -> dict[str, Any]:
        """TestRunApiModel JSON; ``start`` renders the StartLoadTestResponse of ``POST .../start``."""
        page_url = self.page_url(run.id) if start or not self.page_url_on_start_only else None
        return run_json(run, self.clock.now(), page_url, whole_seconds=self.timestamps_in_whole_seconds)

    @locked
    def run(self, run_id: int) -> dict[str, Any]:
        """The run's current API JSON (its state derives from the clock)."""
        return self.render_run(self.run_record(run_id))

    @locked
    def list_runs(self, load_test_id: int | None = None) -> list[dict[str, Any]]:
        """API JSON of every run (of one load test when given), by id."""
        return [self.render_run(run) for run in self.find_runs(load_test_id)]

    @locked
    def run_ids(self) -> list[int]:
        """Ids of every run, ascending."""
        return sorted(self.store.runs)

    @locked
    def start_run(
        self, load_test_id: int, *, started_by: str | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Start a load test exactly like ``POST /load_tests/{id}/start``; returns the run JSON."""
        return self.render_run(self.start_run_record(load_test_id, started_by, idempotency_key), start=True)

    def start_run_record(self, load_test_id: int, started_by: str | None, idempotency_key: str | None) -> TestRun:
        test = self.test_record(load_test_id)
        now = self.clock.now()
        if idempotency_key is not None:
            earlier = self._idempotent_run(load_test_id, idempotency_key, now)
            if earlier is not None:
                return earlier
        if test.script is None:
            raise invalid(
                f"Load test {load_test_id} has no script; "
                f"upload one with PUT /cloud/v6/load_tests/{load_test_id}/script."
            )
        run = self.new_run(test, self.stamp(), started_by or self.user_email)
        if idempotency_key is not None:
            self.store.idempotency[idempotency_key] = IdempotentStart(load_test_id, run.id, now)
        return run

    def new_run(
        self,
        test: LoadTest,
        created: datetime,
        started_by: str | None,
        *,
        ending: Ending | None = None,
        info: ScriptInfo | None = None,
        run_id: int | None = None,
        script: bytes | None = None,
    ) -> TestRun:
        """Create a run of ``test`` (with its current script unless ``script`` is given, frozen with the run);
        its planned outcome comes from the script marker or the test."""
        script = script if script is not None else test.script or b""
        info = info or analyze_script(script)
        if ending is None:
            outcome = info.outcome_marker or test.outcome
            if self.limit_violation(test.project_id, info.max_vus, info.browser_vus, info.duration_s):
                outcome = "limit"
            ending = OUTCOME_ENDINGS[outcome]
        new_id = run_id if run_id is not None else self.store.new_id("runs", 1001)
        timeline = plan_timeline(created, info.duration_s, ending)
        run = TestRun(new_id, test.id, test.project_id, started_by, created, script, info, ending, timeline)
        self.store.runs[new_id] = run
        return run

    @locked
    def finish_run(
        self, run_id: int, *, result: str = "passed", status: str = "completed", reason: str | None = None
    ) -> dict[str, Any]:
        """Force an unfinished run to end now.

        ``status="completed"`` takes ``result`` passed/failed; ``status="aborted"`` takes ``reason``
        (user, system, script_error, threshold, limit, timeout; default threshold when result is failed,
        else system) and derives the result from it.
        """
        run = self.run_record(run_id)
        now = self.clock.now()
        if view(run, now).finished:
            raise conflict(f"Test run {run_id} has already finished.")
        try:
            ending = ending_for(status, result, reason, self.user_email)
        except ValueError as exc:
            raise invalid(str(exc)) from exc
        self._end_run(run, ending, now)
        return self.render_run(run)

    @locked
    def abort_run(self, run_id: int, by_user: str | None = None) -> None:
        """Abort a run the way a user does (409 unless created, queued, initializing or running)."""
        run = self.run_record(run_id)
        now = self.clock.now()
        status = view(run, now).status
        if status not in ABORTABLE:
            raise conflict(f"Cannot abort test run {run_id}: it is not running (status: {status}).")
        self._end_run(run, Ending("aborted", "error", "user", by_user or self.user_email), now)

    @locked
    def add_runs(
        self,
        load_test_id: int,
        n: int,
        *,
        status: str = "completed",
        result: str = "passed",
        reason: str | None = None,
        spacing_s: float = 3600.0,
        ago_s: float = 0.0,
    ) -> list[dict[str, Any]]:
        """Seed ``n`` runs of a test: finished ones ``spacing_s`` apart in the past (the newest ended just before
        now, or created ``ago_s`` earlier than that), or runs now in ``status``."""
        test = self.test_record(load_test_id)
        info = analyze_script(test.script or b"")
        now = self.clock.now()
        if status in ("completed", "aborted"):
            try:
                ending = ending_for(status, result, reason, self.user_email)
            except ValueError as exc:
                raise invalid(str(exc)) from exc
            planned = plan_timeline(now, info.duration_s, ending)
            newest = now - (planned[-1].at - now) - timedelta(seconds=60 + ago_s)  # every seeded run has ended
            created = [newest - timedelta(seconds=spacing_s * (n - index)) for index in range(n)]
        elif status in UNFINISHED:
            ending = OUTCOME_ENDINGS[info.outcome_marker or test.outcome]
            created = [now - timedelta(seconds=_age_for_status(status, info.duration_s))] * n
        else:
            raise invalid(f"Unknown run status '{status}'.", "status")
        runs = [
            self.new_run(test, moment.replace(microsecond=0), self.user_email, ending=ending, info=info)
            for moment in created
        ]
        return [self.render_run(run) for run in runs]

    @locked
    def find_runs(
        self,
        load_test_id: int | None = None,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        is_starred: bool | None = None,
        ids: list[int] | None = None,
    ) -> list[TestRun]:
        """Runs by id, filtered (created_after inclusive, created_before exclusive)."""
        if load_test_id is not None:
            self.test_record(load_test_id)
        runs = sorted(self.store.runs.values(), key=lambda run: run.id)
        if load_test_id is not None:
            runs = [run for run in runs if run.test_id == load_test_id]
        if created_after is not None:
            runs = [run for run in runs if run.created >= created_after]
        if created_before is not None:
            runs = [run for run in runs if run.created < created_before]
        if is_starred is not None:
            runs = [run for run in runs if run.is_starred == is_starred]
        if ids is not None:
            runs = [run for run in runs if run.id in ids]
        return runs

    @locked
    def delete_run(self, run_id: int) -> None:
        run = self.run_record(run_id)
        if not view(run, self.clock.now()).finished:
            raise conflict(f"Cannot delete test run {run_id} while it is running.")
        del self.store.runs[run_id]

    @locked
    def save_run(self, run_id: int) -> None:
        """Keep a run's results past retention (409 when deleted or at the saved-runs limit)."""
        run = self.run_record(run_id)
        if run.saved:
            return
        expiry = retention_expiry(run, self.clock.now())
        if expiry is not None and expiry <= self.clock.now():
            raise conflict("Test run has been deleted")
        if sum(1 for other in self.store.runs.values() if other.saved) >= self.max_saved_runs:
            raise conflict("The maximum number of saved test runs has been reached")
        run.saved = True

    @locked
    def unsave_run(self, run_id: int) -> None:
        self.run_record(run_id).saved = False

    @locked
    def star_run(self, run_id: int, starred: bool = True) -> None:
        self.run_record(run_id).is_starred = starred

    @locked
    def set_run_note(self, run_id: int, note: str) -> None:
        self.run_record(run_id).note = note

    @locked
    def run_distribution(self, run_id: int) -> dict[str, Any]:
        """Load generator distribution; 404 until the run has started initializing."""
        run = self.run_record(run_id)
        if view(run, self.clock.now()).entered("initializing") is None:
            raise ApiError(404, f"No distribution data is available for test run {run_id} yet.")
        return node_distribution(run)

    @locked
    def run_script(self, run_id: int) -> tuple[bytes, str]:
        """The script snapshot taken when the run started, with its media type."""
        run = self.run_record(run_id)
        return run.script, run.info.media_type

    @locked
    def validate_options(
        self, project_id: int | None, options: dict[str, Any], *, is_local_execution: bool = False
    ) -> dict[str, Any]:
        """Estimate the VUH a test with ``options`` would use (400 when it cannot run)."""
        raw_cloud = options.get("cloud")
        cloud: dict[str, Any] = raw_cloud if isinstance(raw_cloud, dict) else {}
        target = "project_id"
        if project_id is None and cloud.get("projectID") is not None:
            project_id, target = cloud.get("projectID"), "options.cloud.projectID"
        if project_id is not None and (not isinstance(project_id, int) or project_id not in self.store.projects):
            raise invalid(f"Project {project_id} does not exist.", target)
        max_vus, duration_s, _ = load_profile(options)
        browser_vus = max_vus if "chromium" in json.dumps(options) else 0
        if project_id is not None:
            violation = self.limit_violation(project_id, max_vus, browser_vus, duration_s)
            if violation:
                raise invalid(f"The test cannot run: {violation}.", "options")
        hours = duration_s / 3600
        reduction = LOCAL_RUN_REDUCTION if is_local_execution else 0.0
        cost = vuh_cost((max_vus - browser_vus) * hours, browser_vus * hours, reduction)
        return {"vuh_usage": cost["total_vuh"], "breakdown": cost["breakdown"]}

    def _idempotent_run(self, load_test_id: int, key: str, now: datetime) -> TestRun | None:
        if not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX:
            raise invalid(
                f"{IDEMPOTENCY_HEADER} must be 1 to {IDEMPOTENCY_KEY_MAX} characters long.",
                IDEMPOTENCY_HEADER,
            )
        earlier = self.store.idempotency.get(key)
        if earlier is None or now - earlier.at >= IDEMPOTENCY_WINDOW:
            return None
        if earlier.load_test_id != load_test_id:
            raise conflict(
                f"The idempotency key was already used to start load test {earlier.load_test_id}.",
                target=IDEMPOTENCY_HEADER,
            )
        return self.store.runs.get(earlier.run_id)

    def _end_run(self, run: TestRun, ending: Ending, at: datetime) -> None:
        run.ending = ending
        run.timeline = cut_timeline(run.timeline, at, ending)


def _age_for_status(status: str, duration_s: int) -> float:
    """How long ago a run must have been created to be in ``status`` now."""
    ages = {
        "created": 0.0,
        "queued": QUEUED_AFTER_S + 1.0,
        "initializing": INITIALIZING_AFTER_S + 1.0,
        "running": RUNNING_AFTER_S + min(10.0, duration_s / 10),
        "processing_metrics": RUNNING_AFTER_S + duration_s + PROCESSING_FOR_S / 2,
    }
    return ages[status]
