"""Deterministic demo data: projects, load tests with realistic scripts, runs in every state, schedules.

Everything is placed relative to the clock at the time of loading, so the demo always looks current: run
1234 of "Orders API Soak Test" (load test 501) is running, with runs of other tests around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import demo_scripts as scripts
from .lifecycle import OUTCOME_ENDINGS, PROCESSING_FOR_S, RUNNING_AFTER_S
from .models import Ending, Schedule
from .timeutil import to_millis

if TYPE_CHECKING:
    from .state import Simulator

MARIA = "maria.garcia@example.com"
PRIYA = "priya.shah@example.com"
DEVOPS = "devops@example.com"
JONAS = "jonas.weber@example.com"
LENA = "lena.kowalski@example.com"
CI = None  # started with a stack token (CI pipeline): no user

DEFAULT_PROJECT_ID = 77
ORDERS_SOAK_TEST_ID = 501
RUNNING_DEMO_RUN_ID = 1234
PRIVATE_ZONE_ID = 100

PROJECTS = ((77, "Default project", True, 420), (78, "Payments", False, 300), (79, "Platform", False, 200))

# id, project, name, script, outcome, days since created
LOAD_TESTS: tuple[tuple[int, int, str, str | None, str, int], ...] = (
    (501, 77, "Orders API Soak Test", scripts.ORDERS_SOAK, "passed", 180),
    (502, 77, "Orders API Smoke", scripts.ORDERS_SMOKE, "passed", 175),
    (503, 78, "Checkout Spike", scripts.CHECKOUT_SPIKE, "failed", 150),
    (504, 78, "Payments Gateway Load", scripts.PAYMENTS_LOAD, "passed", 140),
    (505, 79, "Login Auth Flow", scripts.LOGIN_FLOW, "error", 120),
    (506, 79, "Search Stress Test", scripts.SEARCH_STRESS, "threshold_abort", 100),
    (507, 77, "Storefront Browser Journey", scripts.STOREFRONT_BROWSER, "passed", 90),
    (508, 79, "Inventory Service Baseline", scripts.INVENTORY_BASELINE, "system_abort", 60),
    (509, 78, "Refunds API Load", scripts.REFUNDS_LOAD, "passed", 45),
    (510, 79, "Notifications Webhook Test", None, "passed", 2),
)


@dataclass(frozen=True)
class DemoRun:
    id: int
    test_id: int
    age: timedelta  # how long before the demo's start the run was created
    started_by: str | None
    outcome: str | None = None  # None: the test's outcome; "user_abort": aborted by started_by


def _days(days: float) -> timedelta:
    return timedelta(days=days)


HISTORY: tuple[DemoRun, ...] = (
    DemoRun(1201, 501, _days(29), MARIA),
    DemoRun(1202, 502, _days(28), CI),
    DemoRun(1203, 504, _days(27), PRIYA),
    DemoRun(1204, 503, _days(26), PRIYA),
    DemoRun(1205, 501, _days(25), MARIA),
    DemoRun(1206, 506, _days(24), DEVOPS),
    DemoRun(1207, 502, _days(23), CI),
    DemoRun(1208, 509, _days(22), PRIYA),
    DemoRun(1209, 505, _days(21), JONAS),
    DemoRun(1210, 507, _days(20), LENA),
    DemoRun(1211, 501, _days(18), MARIA),
    DemoRun(1212, 504, _days(17), PRIYA),
    DemoRun(1213, 503, _days(15), PRIYA),
    DemoRun(1214, 502, _days(14), CI),
    DemoRun(1215, 508, _days(13), DEVOPS),
    DemoRun(1216, 506, _days(12), DEVOPS, "passed"),
    DemoRun(1217, 501, _days(10), DEVOPS, "user_abort"),
    DemoRun(1218, 509, _days(9), PRIYA),
    DemoRun(1219, 507, _days(8), LENA, "failed"),
    DemoRun(1220, 502, _days(7), CI),
    DemoRun(1221, 505, _days(6), JONAS, "passed"),
    DemoRun(1222, 504, _days(5), PRIYA),
    DemoRun(1223, 501, _days(4), MARIA),
    DemoRun(1224, 503, _days(3), PRIYA),
    DemoRun(1225, 506, _days(2), DEVOPS),
    DemoRun(1226, 502, _days(1.8), CI),
    DemoRun(1227, 507, _days(1.5), LENA),
    DemoRun(1228, 508, _days(1.2), DEVOPS),
    DemoRun(1229, 509, _days(1), PRIYA),
    DemoRun(1230, 501, timedelta(hours=22), DEVOPS, "user_abort"),
    DemoRun(1231, 505, timedelta(hours=3), JONAS),
    # Search Stress Test (20 min): created so that it is processing metrics right now.
    DemoRun(1232, 506, timedelta(seconds=RUNNING_AFTER_S + 1200 + PROCESSING_FOR_S / 2), DEVOPS, "passed"),
    DemoRun(1233, 502, timedelta(minutes=15), CI),
    DemoRun(RUNNING_DEMO_RUN_ID, 501, timedelta(minutes=10), MARIA),
    DemoRun(1235, 505, timedelta(minutes=8), JONAS),
    DemoRun(1236, 504, timedelta(seconds=12), PRIYA),
    DemoRun(1237, 502, timedelta(seconds=4), CI),
    DemoRun(1238, 509, timedelta(seconds=1), PRIYA),
)
SAVED_RUNS = (1211,)
STARRED_RUNS = (1211, 1223)
NOTES = {
    1211: "Baseline after the orders DB index fix",
    1224: "Spike fails at 400 VUs: checkout pool exhausted",
}


def load_demo(sim: Simulator) -> None:
    """Fill ``sim`` with the demo data (caller holds the lock and has reset the store)."""
    origin = to_millis(sim.clock.now())
    _add_projects(sim, origin)
    _add_load_tests(sim, origin)
    _add_runs(sim, origin)
    _add_schedules(sim, origin)
    _add_labels(sim)
    sim.add_private_zone(PRIVATE_ZONE_ID, "Platform private zone", "platform-plz-eu", "grafana/k6:1.3.0", {79})


def _add_projects(sim: Simulator, origin: datetime) -> None:
    for project_id, name, is_default, age_days in PROJECTS:
        project = sim.create_project_record(name, is_default=is_default, project_id=project_id)
        project.created = project.updated = origin - _days(age_days)
    sim.store.bump_ids("projects", max(p[0] for p in PROJECTS))
    limits = sim.store.limits
    limits[78].vuh_max_per_month, limits[78].vu_max_per_test = 500, 1000
    limits[79].duration_max_per_test = 7200


def _add_load_tests(sim: Simulator, origin: datetime) -> None:
    for test_id, project_id, name, script, outcome, age_days in LOAD_TESTS:
        data = script.encode() if script else None
        test = sim.create_test_record(project_id, name, data, outcome=outcome, test_id=test_id)
        test.created = origin - _days(age_days)
        test.updated = origin - _days(min(age_days, 3))
    sim.store.bump_ids("load_tests", max(t[0] for t in LOAD_TESTS))
    sim.store.load_tests[ORDERS_SOAK_TEST_ID].baseline_test_run_id = 1211


def _add_runs(sim: Simulator, origin: datetime) -> None:
    for demo in HISTORY:
        test = sim.store.load_tests[demo.test_id]
        ending = _ending(demo, test.outcome)
        run = sim.new_run(test, origin - demo.age, demo.started_by, ending=ending, run_id=demo.id)
        run.saved = demo.id in SAVED_RUNS
        run.is_starred = demo.id in STARRED_RUNS
        run.note = NOTES.get(demo.id, "")
    sim.store.bump_ids("runs", max(run.id for run in HISTORY))


def _ending(demo: DemoRun, test_outcome: str) -> Ending:
    if demo.outcome == "user_abort":
        return Ending("aborted", "error", "user", demo.started_by or DEVOPS)
    return OUTCOME_ENDINGS[demo.outcome or test_outcome]


def _add_schedules(sim: Simulator, origin: datetime) -> None:
    six_am = origin.replace(hour=6, minute=0, second=0, microsecond=0)
    schedules = (
        Schedule(1, 502, six_am - _days(30), _rule("DAILY"), None, False, DEVOPS),
        Schedule(2, 504, six_am - _days(60), None, {"schedule": "0 2 * * 1", "time_zone": "UTC"}, True, PRIYA),
        Schedule(3, 509, origin - _days(5), None, None, False, PRIYA),
        Schedule(4, 501, six_am - _days(14), _rule("WEEKLY", byday=["SA"], count=10), None, False, MARIA),
    )
    for schedule in schedules:
        sim.store.schedules[schedule.id] = schedule
    sim.store.bump_ids("schedules", len(schedules))


def _rule(frequency: str, *, byday: list[str] | None = None, count: int | None = None) -> dict[str, object]:
    return {"frequency": frequency, "interval": 1, "byday": byday, "until": None, "count": count}


def _add_labels(sim: Simulator) -> None:
    environment = sim.add_label_key("environment", "Environment being tested")
    team = sim.add_label_key("team", "Team responsible for the project")
    cost_center = sim.add_label_key("cost_center")
    sim.store.project_labels[77] = {environment.id: "production", team.id: "backend"}
    sim.store.project_labels[78] = {environment.id: "staging", team.id: "payments", cost_center.id: "cc-4410"}
    sim.store.project_labels[79] = {team.id: "platform"}
