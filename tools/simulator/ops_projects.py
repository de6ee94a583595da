"""Projects and project limits."""

from __future__ import annotations

from typing import Any

from .core import SimulatorCore, locked
from .errors import conflict, invalid
from .lifecycle import UNFINISHED, view
from .models import Project, ProjectLimits
from .render import folder_uid, limits_json, project_json
from .validation import check_length

MAX_PROJECTS = 1000
PROJECT_NAME_MAX = 255
LIMIT_FIELDS = ("vuh_max_per_month", "vu_max_per_test", "vu_browser_max_per_test", "duration_max_per_test")


class ProjectOps(SimulatorCore):
    """Project operations of the simulator."""

    @locked
    def add_project(self, name: str, *, is_default: bool = False) -> dict[str, Any]:
        """Create a project (409 for a taken name); returns its API JSON."""
        return self.project_json(self.create_project_record(name, is_default=is_default))

    def create_project_record(self, name: str, *, is_default: bool = False, project_id: int | None = None) -> Project:
        check_length(name, "name", 1, PROJECT_NAME_MAX)
        self._ensure_unique_project_name(name)
        if len(self.store.projects) >= MAX_PROJECTS:
            raise conflict(f"The maximum number of projects ({MAX_PROJECTS}) has been reached.")
        if is_default:
            for other in self.store.projects.values():
                other.is_default = False
        new_id = project_id if project_id is not None else self.store.new_id("projects", 1)
        now = self.stamp()
        project = Project(new_id, name, is_default, now, now, folder_uid(new_id))
        self.store.projects[new_id] = project
        self.store.limits[new_id] = ProjectLimits(new_id)
        self.store.project_labels[new_id] = {}
        return project

    def project_json(self, project: Project) -> dict[str, Any]:
        labels = self.store.project_labels.get(project.id, {})
        by_key = {self.store.labels[key_id].key: value for key_id, value in labels.items()}
        return project_json(project, by_key, whole_seconds=self.timestamps_in_whole_seconds)

    @locked
    def get_project(self, project_id: int) -> dict[str, Any]:
        return self.project_json(self.project_record(project_id))

    @locked
    def find_projects(self, name: str | None = None, name_search: str | None = None) -> list[Project]:
        """Projects by id, filtered by exact ``name`` and/or case-insensitive ``name_search``."""
        projects = sorted(self.store.projects.values(), key=lambda p: p.id)
        if name is not None:
            projects = [p for p in projects if p.name == name]
        if name_search:
            needle = name_search.lower()
            projects = [p for p in projects if needle in p.name.lower()]
        return projects

    @locked
    def rename_project(self, project_id: int, name: str) -> None:
        project = self.project_record(project_id)
        if name != project.name:
            self._ensure_unique_project_name(name)
        project.name = name
        project.updated = self.stamp()

    @locked
    def delete_project(self, project_id: int) -> None:
        """Delete a project with its tests, runs and schedules (409 while a run is unfinished)."""
        project = self.project_record(project_id)
        if project.is_default:
            raise conflict("The default project cannot be deleted.")
        now = self.clock.now()
        runs = [run for run in self.store.runs.values() if run.project_id == project_id]
        if any(view(run, now).status in UNFINISHED for run in runs):
            raise conflict("Cannot delete a project with a running test.")
        test_ids = {t.id for t in self.store.load_tests.values() if t.project_id == project_id}
        for run in runs:
            del self.store.runs[run.id]
        for test_id in test_ids:
            del self.store.load_tests[test_id]
        for schedule in [s for s in self.store.schedules.values() if s.load_test_id in test_ids]:
            del self.store.schedules[schedule.id]
        for zone in self.store.zones.values():
            zone.allowed_project_ids.discard(project_id)
        del self.store.projects[project_id]
        self.store.limits.pop(project_id, None)
        self.store.project_labels.pop(project_id, None)

    @locked
    def default_project_id(self) -> int:
        """The stack's default project (created on first use when the stack has none, as Grafana does)."""
        for project in sorted(self.store.projects.values(), key=lambda p: p.id):
            if project.is_default:
                return project.id
        return self.create_project_record(self._free_default_name(), is_default=True).id

    @locked
    def get_limits(self, project_id: int) -> dict[str, Any]:
        self.project_record(project_id)
        return limits_json(self.store.limits[project_id])

    @locked
    def update_limits(self, project_id: int, changes: dict[str, int | None]) -> None:
        """Set (or with None remove) some of a project's limits."""
        self.project_record(project_id)
        limits = self.store.limits[project_id]
        for key, value in changes.items():
            if key not in LIMIT_FIELDS:
                raise invalid(f"Unknown limit '{key}'.", key)
            setattr(limits, key, value)

    @locked
    def find_limits(self, project_ids: list[int] | None = None) -> list[dict[str, Any]]:
        limits = sorted(self.store.limits.values(), key=lambda item: item.project_id)
        if project_ids is not None:
            limits = [item for item in limits if item.project_id in project_ids]
        return [limits_json(item) for item in limits]

    def _ensure_unique_project_name(self, name: str) -> None:
        if any(p.name == name for p in self.store.projects.values()):
            raise conflict(f"A project named '{name}' already exists.", target="name")

    def _free_default_name(self) -> str:
        names = {p.name for p in self.store.projects.values()}
        return next(
            candidate
            for candidate in ("Default project", *(f"Default project {n}" for n in range(2, 10_000)))
            if candidate not in names
        )
