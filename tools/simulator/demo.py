"""Deterministic demo data: projects, load tests with realistic scripts, runs in every state, schedules.

Everything is placed relative to the clock at the time of loading, so the demo always looks current: run
1234 of "Orders API Soak Test" (load test 501) is running, with runs of other tests around it.

The story the metrics tell (v5 metrics come from each run's frozen script and the :data:`STORIES` below; the
run's result, crossed thresholds and check ratios agree with each other):

- **Orders API Soak Test (501)**, thresholds ``p(95)<500``, ``p(99)<1000``, ``rate<0.01``: 23 finished runs,
  1184-1200 (62 to 31 days ago) then 1201, 1205, 1211, 1217, 1223, 1230, and 1234 running. Its p95 creeps
  up run after run, 268 ms (1184) → 447 ms (1223) → 463 ms (1230, aborted by a user): thin headroom, a
  breach a few runs away. Script change at **1192**: runs 1184-1191 executed :data:`ORDERS_SOAK_V1` (40 VUs,
  ``limit=50``), 1192 on the current script (50 VUs, ``limit=20``, one more check) — another sha256 of
  ``GET /cloud/v6/test_runs/{id}/script``. **1197** is the regression: p95 812 ms, p99 over 1 s and 1.3 %
  failed requests, all three thresholds crossed (the orders list lost its index in a migration, fixed
  before 1198). The baseline is
  **1211** (saved, note "Baseline after the orders DB index fix"); 1223 is +12 % p95 against it. Runs
  before 1201 are saved (so they outlive the 30-day retention) except **1186**, whose metrics expired:
  every v5 endpoint answers it with empty results. 1217 and 1230 were aborted by users part-way.
- **Checkout Spike (503)**: fails. **1224** (note "checkout pool exhausted") crosses the tagged sub-metric
  threshold ``http_req_duration{name:pay}: p(95)<700`` (the API's message names it), ``http_req_failed:
  rate<0.02`` (pay answers 503s) and ``checks: rate>0.98`` ("payment accepted" fails), while the overall
  ``http_req_duration: p(95)<800`` passes. 1204 and 1213 cross ``http_req_duration: p(95)<800``.
- **Payments Gateway Load (504)**: ``http_req_duration{name:3ds-challenge}: p(95)<1500`` watches a request
  the script no longer makes — zero observations, so k6 reports it passed (1203, 1212, 1222).
- **Refunds API Load (509)**: **1229** passes although its check "refund accepted" passes 4 % of the time:
  the API answers 200 instead of 202, which is no failed request, and no threshold watches ``checks``.
- **Inventory Service Baseline (508)**: two platform aborts (``result: error``, ``extra.code`` 6, no
  ``by_user``): **1228** ran to the end, then exceeded its maximum lifetime while processing metrics (its
  thresholds all passed); 1215 lost a load generator (CPU at 99 %) 6 minutes in.
- **Search Stress Test (506)**: 1206 and 1225 are aborted by the ``abortOnFail`` threshold
  ``http_req_failed: rate<0.05`` (failures rise with the load); 1216 passed; 1232 is processing metrics.
- **Login Auth Flow (505)**: script errors (1209, 1231, 1235: the token request fails, so does the check).
- **Storefront Browser Journey (507)**: browser metrics (web vitals); 1219 fails on
  ``browser_web_vital_lcp: p(75)<2500``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from . import demo_scripts as scripts
from .lifecycle import OUTCOME_ENDINGS, PROCESSING_FOR_S, RUNNING_AFTER_S
from .models import Ending, RunStory, Schedule
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
    outcome: str | None = None  # None: the test's outcome; "user_abort": aborted by started_by; "lifetime"
    script: str | None = None  # the script the run executed, when not the test's current one


def _days(days: float) -> timedelta:
    return timedelta(days=days)


V1 = scripts.ORDERS_SOAK_V1
SOAK_HISTORY: tuple[DemoRun, ...] = (
    DemoRun(1184, 501, _days(62), MARIA, script=V1),
    DemoRun(1185, 501, _days(60), CI, script=V1),
    DemoRun(1186, 501, _days(58), MARIA, script=V1),
    DemoRun(1187, 501, _days(56), CI, script=V1),
    DemoRun(1188, 501, _days(54), MARIA, script=V1),
    DemoRun(1189, 501, _days(52), CI, script=V1),
    DemoRun(1190, 501, _days(50), MARIA, script=V1),
    DemoRun(1191, 501, _days(48), CI, script=V1),
    DemoRun(1192, 501, _days(46), MARIA),
    DemoRun(1193, 501, _days(44), CI),
    DemoRun(1194, 501, _days(42), MARIA),
    DemoRun(1195, 501, _days(40), CI),
    DemoRun(1196, 501, _days(38), MARIA),
    DemoRun(1197, 501, _days(36), DEVOPS, "failed"),
    DemoRun(1198, 501, _days(34), MARIA),
    DemoRun(1199, 501, _days(32.5), CI),
    DemoRun(1200, 501, _days(31), MARIA),
)
HISTORY: tuple[DemoRun, ...] = (
    *SOAK_HISTORY,
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
    DemoRun(1228, 508, _days(1.2), DEVOPS, "lifetime"),
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
EXPIRED_RUN_ID = 1186  # the one old soak run nobody saved: its metrics are past retention
SAVED_RUNS = (*(run.id for run in SOAK_HISTORY if run.id != EXPIRED_RUN_ID), 1211)
STARRED_RUNS = (1211, 1223)
NOTES = {
    1192: "Script v2: 50 VUs, pages of 20, checks the list is not empty",
    1197: "Orders list slow: index dropped by the 3.2 migration",
    1211: "Baseline after the orders DB index fix",
    1224: "Spike fails at 400 VUs: checkout pool exhausted",
}
ORDERS_LIST = "https://orders.staging.example.com/api/orders?limit=20"
REFUNDS = "https://payments.staging.example.com/v2/refunds"
# p95 of the soak runs (ms): creeping up towards the 500 ms threshold, run after run.
SOAK_P95 = {
    1184: 268, 1185: 274, 1186: 281, 1187: 277, 1188: 289, 1189: 296, 1190: 302, 1191: 311,
    1192: 326, 1193: 333, 1194: 341, 1195: 352, 1196: 349, 1198: 358, 1199: 366, 1200: 373,
    1201: 381, 1205: 392, 1211: 398, 1217: 419, 1223: 447, 1230: 463, 1234: 474,
}  # fmt: skip
STORIES: dict[int, RunStory] = {
    **{run_id: RunStory(p95_ms=p95, drift=0.04) for run_id, p95 in SOAK_P95.items()},
    1197: RunStory(
        p95_ms=812,
        failed_ratio=0.013,
        slow_requests={ORDERS_LIST: 3.0},
        drift=0.35,
        crossed=("http_req_duration: p(95)<500", "http_req_duration: p(99)<1000", "http_req_failed: rate<0.01"),
    ),
    1224: RunStory(
        p95_ms=610,
        slow_requests={"pay": 2.4},
        request_failures={"pay": 0.12},
        crossed=(
            "http_req_duration{name:pay}: p(95)<700",
            "http_req_failed: rate<0.02",
            "checks: rate>0.98",
        ),
    ),
    1229: RunStory(check_ratios={"refund accepted": 0.04}, request_statuses={REFUNDS: 200}),
    1215: RunStory(cpu_peak=99.0),
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
        script = demo.script.encode() if demo.script else None
        run = sim.new_run(test, origin - demo.age, demo.started_by, ending=ending, run_id=demo.id, script=script)
        run.saved = demo.id in SAVED_RUNS
        run.is_starred = demo.id in STARRED_RUNS
        run.note = NOTES.get(demo.id, "")
        run.story = STORIES.get(demo.id)
    sim.store.bump_ids("runs", max(run.id for run in HISTORY))


def _ending(demo: DemoRun, test_outcome: str) -> Ending:
    if demo.outcome == "user_abort":
        return Ending("aborted", "error", "user", demo.started_by or DEVOPS)
    if demo.outcome == "lifetime":
        return Ending("aborted", "error", "lifetime")
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
