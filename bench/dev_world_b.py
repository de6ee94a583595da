"""A second dev world for tuning the language on names unlike the demo's (issue 10, lang5b).

    build(url, token, stack_id)     # on an empty simulator: POST /_sim/reset {"demo": false} first

Everything goes over HTTP — the ``/_sim`` control endpoints (tools/simulator/routes_control.py) for what the
public API cannot create (projects with a default, tests with an outcome, past runs, a private load zone) and
the v6 API for the rest (schedules, label keys, project labels, limits) — so the same world can be built in a
simulator process (the bench) or in-thread (tests/router/test_corpus.py). The clock is frozen first, so the
runs' states and ages stay put while entries are judged.

Ids are deterministic on an empty simulator (projects from 1, load tests from 101, runs from 1001,
schedules from 1, label keys from 1):

- projects 1 Sandbox (default), 2 Growth, 3 Core Platform
- load tests 101 Cart Checkout Peak (Growth, fails), 102 Mobile Login Smoke (Core Platform),
  103 Search Autocomplete Soak (Growth), 104 Recommendations Feed Load (Growth),
  105 Billing Invoices Stress (Core Platform, aborted by a threshold), 106 Identity Token Refresh
  (Core Platform, script errors), 107 Sandbox Hello World (Sandbox), 108 Image Resize Spike (Core Platform,
  no runs)
- runs: 1001-1003 of 101 (failed), 1004-1007 of 102 (passed), 1008-1009 of 103 (passed), 1010-1011 of 104
  (passed), 1012-1013 of 105 (aborted, failed), 1014 of 106 (error), 1015 of 107 (passed); going now: 1016
  of 102 (running), 1017 of 104 (queued), 1018 of 103 (initializing)
- schedules 1 (103, daily at 03:00), 2 (101, weekly on Monday and Thursday), 3 (105, cron ``30 1 * * 1-5``,
  deactivated), 4 (102, once, tomorrow at 09:00)
- label keys 1 owner, 2 tier, 3 region; labels: Growth owner=growth-squad tier=gold, Core Platform
  owner=platform-team tier=silver region=eu, Sandbox none
- limits: Growth 800 VUH per month and 1500 VUs per test; Core Platform 3600 s per test
- private load zone 200 "Core Frankfurt private" (core-plz-fra), allowed for Core Platform
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

PROJECTS = (("Sandbox", True), ("Growth", False), ("Core Platform", False))
# name, project id, outcome
LOAD_TESTS = (
    ("Cart Checkout Peak", 2, "failed"),
    ("Mobile Login Smoke", 3, "passed"),
    ("Search Autocomplete Soak", 2, "passed"),
    ("Recommendations Feed Load", 2, "passed"),
    ("Billing Invoices Stress", 3, "threshold_abort"),
    ("Identity Token Refresh", 3, "error"),
    ("Sandbox Hello World", 1, "passed"),
    ("Image Resize Spike", 3, "passed"),
)
# load test id, count, status, result (finished runs an hour apart in the past)
FINISHED_RUNS = (
    (101, 3, "completed", "failed"),
    (102, 4, "completed", "passed"),
    (103, 2, "completed", "passed"),
    (104, 2, "completed", "passed"),
    (105, 2, "aborted", "failed"),
    (106, 1, "aborted", "error"),
    (107, 1, "completed", "passed"),
)
GOING_RUNS = ((102, "running"), (104, "queued"), (103, "initializing"))
LABEL_KEYS = (("owner", "Team that owns the project"), ("tier", "Service tier"), ("region", None))
PROJECT_LABELS = {
    2: {"owner": "growth-squad", "tier": "gold"},
    3: {"owner": "platform-team", "tier": "silver", "region": "eu"},
}
LIMITS = {2: {"vuh_max_per_month": 800, "vu_max_per_test": 1500}, 3: {"duration_max_per_test": 3600}}
PRIVATE_ZONE = {
    "id": 200,
    "name": "Core Frankfurt private",
    "k6_load_zone_id": "core-plz-fra",
    "image": "grafana/k6:1.3.0",
    "project_ids": [3],
}


def headers(token: str, stack_id: int) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "X-Stack-Id": str(stack_id)}


def build(url: str, token: str, stack_id: int) -> dict[str, Any]:
    """Build the world on the simulator at ``url`` (reset first, clock frozen); returns the ids it made."""
    made: dict[str, Any] = {"projects": {}, "load_tests": {}, "schedules": []}
    with httpx.Client(base_url=url, timeout=30) as sim:
        api = headers(token, stack_id)

        def send(method: str, path: str, body: Any = None, *, control: bool = False) -> Any:
            response = sim.request(method, path, json=body, headers=None if control else api)
            response.raise_for_status()
            return response.json() if response.content else None

        send("POST", "/_sim/reset", {"demo": False}, control=True)
        send("POST", "/_sim/clock/speed", {"speed": 0}, control=True)
        now = datetime.fromisoformat(send("GET", "/_sim/health", control=True)["now"].replace("Z", "+00:00"))
        for name, is_default in PROJECTS:
            made["projects"][name] = send("POST", "/_sim/projects", {"name": name, "is_default": is_default},
                                          control=True)["id"]  # fmt: skip
        for name, project_id, outcome in LOAD_TESTS:
            body = {"project_id": project_id, "name": name, "outcome": outcome}
            made["load_tests"][name] = send("POST", "/_sim/load_tests", body, control=True)["id"]
        for test_id, count, status, result in FINISHED_RUNS:
            send("POST", f"/_sim/load_tests/{test_id}/runs", {"n": count, "status": status, "result": result},
                 control=True)  # fmt: skip
        for test_id, status in GOING_RUNS:
            send("POST", f"/_sim/load_tests/{test_id}/runs", {"n": 1, "status": status}, control=True)

        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        daily = {"frequency": "DAILY", "interval": 1, "byday": None, "until": None, "count": None}
        weekly = {**daily, "frequency": "WEEKLY", "byday": ["MO", "TH"]}
        schedules = (
            (103, {"starts": _iso(midnight + timedelta(days=1, hours=3)), "recurrence_rule": daily}),
            (101, {"starts": _iso(midnight + timedelta(days=1, hours=18)), "recurrence_rule": weekly}),
            (105, {"starts": _iso(midnight + timedelta(days=1, hours=1, minutes=30)),
                   "cron": {"schedule": "30 1 * * 1-5", "time_zone": "UTC"}}),
            (102, {"starts": _iso(midnight + timedelta(days=1, hours=9))}),
        )  # fmt: skip
        for test_id, body in schedules:
            made["schedules"].append(send("POST", f"/cloud/v6/load_tests/{test_id}/schedule", body)["id"])
        send("POST", f"/cloud/v6/schedules/{made['schedules'][2]}/deactivate")

        keys = [{"key": key, **({"description": text} if text else {})} for key, text in LABEL_KEYS]
        send("POST", "/cloud/v6/labels", {"value": keys})
        for project_id, labels in PROJECT_LABELS.items():
            body = {"value": [{"key": key, "value": value} for key, value in labels.items()]}
            send("PUT", f"/cloud/v6/projects/{project_id}/labels", body)
        for project_id, limits in LIMITS.items():
            send("PATCH", f"/cloud/v6/projects/{project_id}/limits", limits)
        send("POST", "/_sim/load_zones", PRIVATE_ZONE, control=True)
        send("DELETE", "/_sim/requests", control=True)
    return made


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


if __name__ == "__main__":  # build it on a running simulator: python bench/dev_world_b.py URL [TOKEN STACK]
    import json
    import sys

    arguments = sys.argv[1:]
    print(json.dumps(build(arguments[0], *(arguments[1:2] or ["dev"]), int((arguments[2:3] or ["1000"])[0]))))
