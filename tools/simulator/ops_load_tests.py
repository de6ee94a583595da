"""Load tests and their scripts."""

from __future__ import annotations

from typing import Any

from .core import SimulatorCore, locked
from .errors import ApiError, conflict, invalid
from .lifecycle import UNFINISHED, view
from .models import LoadTest
from .render import load_test_json
from .scripts import OUTCOMES, analyze_script
from .validation import check_length

LOAD_TEST_NAME_MAX = 300
DEFAULT_SCRIPT = """import http from 'k6/http';
import { check, sleep } from 'k6';

export const options = {
  vus: 10,
  duration: '5m',
  thresholds: {
    http_req_duration: ['p(95)<500'],
    http_req_failed: ['rate<0.01'],
  },
};

export default function () {
  const res = http.get('https://quickpizza.grafana.com/');
  check(res, { 'status is 200': (r) => r.status === 200 });
  sleep(1);
}
"""


class LoadTestOps(SimulatorCore):
    """Load test operations of the simulator."""

    def render_load_test(self, test: LoadTest) -> dict[str, Any]:
        """LoadTestApiModel JSON."""
        return load_test_json(test, whole_seconds=self.timestamps_in_whole_seconds)

    @locked
    def add_load_test(
        self,
        project_id: int,
        name: str,
        *,
        script: str | bytes | None = DEFAULT_SCRIPT,
        outcome: str = "passed",
    ) -> dict[str, Any]:
        """Create a load test whose runs end with ``outcome`` (a script marker comment wins)."""
        if outcome not in OUTCOMES:
            raise invalid(f"outcome must be one of {', '.join(OUTCOMES)}.", "outcome")
        data = script.encode() if isinstance(script, str) else script
        return self.render_load_test(self.create_test_record(project_id, name, data, outcome=outcome))

    def create_test_record(
        self,
        project_id: int,
        name: str,
        script: bytes | None,
        *,
        outcome: str = "passed",
        k6_version: int | None = None,
        test_id: int | None = None,
    ) -> LoadTest:
        self.project_record(project_id)
        check_length(name, "name", 1, LOAD_TEST_NAME_MAX)
        self._ensure_unique_test_name(project_id, name)
        new_id = test_id if test_id is not None else self.store.new_id("load_tests", 101)
        now = self.stamp()
        test = LoadTest(new_id, project_id, name, now, now, script or None, outcome, k6_version)
        self.store.load_tests[new_id] = test
        return test

    @locked
    def create_load_test(
        self, project_id: int, name: str, script: bytes | None, k6_version: int | None
    ) -> dict[str, Any]:
        """``POST /projects/{id}/load_tests``."""
        return self.render_load_test(self.create_test_record(project_id, name, script, k6_version=k6_version))

    @locked
    def load_test(self, load_test_id: int) -> dict[str, Any]:
        """The load test's API JSON."""
        return self.render_load_test(self.test_record(load_test_id))

    @locked
    def find_load_tests(self, project_id: int | None = None, name: str | None = None) -> list[LoadTest]:
        if project_id is not None:
            self.project_record(project_id)
        tests = sorted(self.store.load_tests.values(), key=lambda test: test.id)
        if project_id is not None:
            tests = [test for test in tests if test.project_id == project_id]
        if name is not None:
            tests = [test for test in tests if test.name == name]
        return tests

    @locked
    def update_load_test(self, load_test_id: int, changes: dict[str, Any]) -> None:
        """Apply a validated ``PatchLoadTestApiModel``."""
        test = self.test_record(load_test_id)
        name = changes.get("name")
        if name is not None and name != test.name:
            self._ensure_unique_test_name(test.project_id, name)
            test.name = name
        if "baseline_test_run_id" in changes:
            baseline = changes["baseline_test_run_id"]
            run = self.store.runs.get(baseline) if baseline is not None else None
            if baseline is not None and (run is None or run.test_id != test.id):
                raise invalid(f"Test run {baseline} is not a run of this test.", "baseline_test_run_id")
            test.baseline_test_run_id = baseline
        if "k6_version" in changes:
            test.k6_version = changes["k6_version"]
        test.updated = self.stamp()

    @locked
    def move_load_test(self, load_test_id: int, project_id: int) -> None:
        """Move a test (and its runs) to another project."""
        test = self.test_record(load_test_id)
        if project_id not in self.store.projects:
            raise invalid(f"Project {project_id} does not exist.", "project_id")
        if project_id == test.project_id:
            return
        self._ensure_unique_test_name(project_id, test.name)
        test.project_id = project_id
        test.updated = self.stamp()
        for run in self.store.runs.values():
            if run.test_id == test.id:
                run.project_id = project_id

    @locked
    def delete_load_test(self, load_test_id: int) -> None:
        """Delete a test with its runs and schedule (409 while a run is unfinished)."""
        self.test_record(load_test_id)
        now = self.clock.now()
        runs = [run for run in self.store.runs.values() if run.test_id == load_test_id]
        if any(view(run, now).status in UNFINISHED for run in runs):
            raise conflict("Cannot delete a load test while it is running.")
        for run in runs:
            del self.store.runs[run.id]
        for schedule in [s for s in self.store.schedules.values() if s.load_test_id == load_test_id]:
            del self.store.schedules[schedule.id]
        del self.store.load_tests[load_test_id]

    @locked
    def test_script(self, load_test_id: int) -> tuple[bytes, str]:
        """The test's script and its media type (404 when it has none)."""
        test = self.test_record(load_test_id)
        if test.script is None:
            raise ApiError(404, f"Load test {load_test_id} has no script.")
        return test.script, analyze_script(test.script).media_type

    @locked
    def set_test_script(self, load_test_id: int, script: bytes) -> None:
        test = self.test_record(load_test_id)
        if not script.strip():
            raise invalid("The script must not be empty.")
        test.script = script
        test.updated = self.stamp()

    def _ensure_unique_test_name(self, project_id: int, name: str) -> None:
        for test in self.store.load_tests.values():
            if test.project_id == project_id and test.name == name:
                raise conflict(f"A load test named '{name}' already exists in project {project_id}.", target="name")
