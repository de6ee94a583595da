"""Load test schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .core import SimulatorCore, locked
from .errors import conflict, not_found
from .models import Schedule
from .recurrence import next_run
from .render import schedule_json


class ScheduleOps(SimulatorCore):
    """Schedule operations of the simulator."""

    def schedule_json(self, schedule: Schedule) -> dict[str, Any]:
        return schedule_json(schedule, self.next_run_of(schedule), whole_seconds=self.timestamps_in_whole_seconds)

    def next_run_of(self, schedule: Schedule) -> datetime | None:
        return next_run(schedule.starts, schedule.recurrence_rule, schedule.cron, self.clock.now())

    @locked
    def test_schedule(self, load_test_id: int) -> dict[str, Any]:
        self.test_record(load_test_id)
        schedule = self._schedule_of_test(load_test_id)
        if schedule is None:
            raise not_found("Schedule of load test", load_test_id)
        return self.schedule_json(schedule)

    @locked
    def set_test_schedule(
        self,
        load_test_id: int,
        starts: datetime,
        recurrence_rule: dict[str, Any] | None,
        cron: dict[str, str] | None,
        *,
        created_by: str | None = None,
    ) -> dict[str, Any]:
        """Create the test's schedule or overwrite the existing one (keeping its id)."""
        self.test_record(load_test_id)
        existing = self._schedule_of_test(load_test_id)
        schedule_id = existing.id if existing else self.store.new_id("schedules", 1)
        schedule = Schedule(
            schedule_id,
            load_test_id,
            starts,
            recurrence_rule,
            cron,
            deactivated=False,
            created_by=created_by if created_by is not None else self.user_email,
        )
        self.store.schedules[schedule_id] = schedule
        return self.schedule_json(schedule)

    @locked
    def find_schedules(self) -> list[Schedule]:
        return sorted(self.store.schedules.values(), key=lambda item: item.id)

    @locked
    def get_schedule(self, schedule_id: int) -> dict[str, Any]:
        return self.schedule_json(self._schedule(schedule_id))

    @locked
    def delete_schedule(self, schedule_id: int) -> None:
        self._schedule(schedule_id)
        del self.store.schedules[schedule_id]

    @locked
    def activate_schedule(self, schedule_id: int) -> None:
        """Re-activate a schedule (409 when it has no future occurrence)."""
        schedule = self._schedule(schedule_id)
        if self.next_run_of(schedule) is None:
            raise conflict("Cannot re-activate an expired schedule.")
        schedule.deactivated = False

    @locked
    def deactivate_schedule(self, schedule_id: int) -> None:
        """Deactivate a schedule (no effect on an expired one)."""
        schedule = self._schedule(schedule_id)
        if self.next_run_of(schedule) is not None:
            schedule.deactivated = True

    def _schedule(self, schedule_id: int) -> Schedule:
        schedule = self.store.schedules.get(schedule_id)
        if schedule is None:
            raise not_found("Schedule", schedule_id)
        return schedule

    def _schedule_of_test(self, load_test_id: int) -> Schedule | None:
        return next((s for s in self.store.schedules.values() if s.load_test_id == load_test_id), None)
