"""The /_sim control endpoints (unauthenticated, never recorded)."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise

import httpx

from tools.simulator import Simulator

from .conftest import V6, error_of


def test_health_and_requests_are_not_recorded(sim: Simulator, anon: httpx.Client, client: httpx.Client) -> None:
    assert anon.get("/_sim/health").json()["status"] == "ok"
    client.post(f"{V6}/test_runs/1234/star", content=b"")
    recorded = anon.get("/_sim/requests").json()
    assert [(r["method"], r["path"], r["status"]) for r in recorded] == [("POST", f"{V6}/test_runs/1234/star", 204)]
    assert recorded[0]["body"] == "" and recorded[0]["headers"]["authorization"] == "Bearer <redacted>"
    assert anon.delete("/_sim/requests").status_code == 204
    assert anon.get("/_sim/requests").json() == [] and sim.requests == []


def test_recorded_query_and_body(sim: Simulator, client: httpx.Client) -> None:
    client.patch(f"{V6}/test_runs/1234", params={"a": "1"}, json={"note": "hi"})
    recorded = sim.requests[-1]
    assert recorded.query == {"a": "1"} and recorded.body == b'{"note":"hi"}' and recorded.status == 204
    assert recorded.at == sim.clock.now()
    assert sim.count("PATCH", r"/cloud/v6/test_runs/\d+") == 1 and sim.count("GET", ".*") == 0


def test_faults_over_http(anon: httpx.Client, client: httpx.Client) -> None:
    added = anon.post("/_sim/faults", json={"path": "/cloud/v6/projects", "status": 429, "retry_after": 1})
    assert added.status_code == 201 and added.json()["times"] == 1
    assert anon.get("/_sim/faults").json()[0]["status"] == 429
    assert client.get(f"{V6}/projects").status_code == 429
    anon.post("/_sim/faults", json={"kind": "drop", "times": None})
    assert anon.delete("/_sim/faults").status_code == 204
    assert client.get(f"{V6}/projects").status_code == 200
    error_of(anon.post("/_sim/faults", json={"kind": "nope"}), 400)
    error_of(anon.post("/_sim/faults", json={"colour": "red"}), 400)


def test_clock_endpoints(sim: Simulator, anon: httpx.Client) -> None:
    before = sim.clock.now()
    body = anon.post("/_sim/clock/advance", json={"seconds": 3600}).json()
    assert (sim.clock.now() - before).total_seconds() == 3600 and body["now"].endswith("Z")
    assert sim.run(1234)["status"] == "completed"
    assert anon.post("/_sim/clock/speed", json={"speed": 60}).json()["speed"] == 60
    assert sim.clock.speed == 60
    error_of(anon.post("/_sim/clock/advance", json={"seconds": -1}), 400)


def test_finish_and_seed_endpoints(sim: Simulator, anon: httpx.Client) -> None:
    run = anon.post("/_sim/test_runs/1234/finish", json={"result": "failed"}).json()
    assert (run["status"], run["result"]) == ("completed", "failed")
    error_of(anon.post("/_sim/test_runs/1234/finish", json={}), 409)
    aborted = anon.post("/_sim/test_runs/1236/finish", json={"status": "aborted", "reason": "system"}).json()
    assert aborted["status_details"]["extra"]["code"] == 6
    project = anon.post("/_sim/projects", json={"name": "Ctl"}).json()
    test = anon.post(
        "/_sim/load_tests", json={"project_id": project["id"], "name": "Seeded", "outcome": "failed"}
    ).json()
    assert sim.load_test(test["id"])["name"] == "Seeded"
    runs = anon.post(f"/_sim/load_tests/{test['id']}/runs", json={"n": 3, "result": "failed"}).json()
    assert [r["result"] for r in runs] == ["failed"] * 3
    no_script = anon.post("/_sim/load_tests", json={"project_id": project["id"], "name": "Bare", "script": None})
    assert sim.store.load_tests[no_script.json()["id"]].script is None


def test_reset(sim: Simulator, anon: httpx.Client) -> None:
    anon.post("/_sim/reset", json={"demo": False})
    assert sim.find_projects() == [] and sim.find_runs() == []
    anon.post("/_sim/reset", json={})
    assert sim.run(1234)["status"] == "running"


def test_the_request_log_keeps_the_latest_requests_only(
    sim: Simulator, anon: httpx.Client, client: httpx.Client
) -> None:
    """A long-running demo (``k6bot mcp``) must not grow with every call: the log is a ring buffer."""
    from tools.simulator.recording import DEFAULT_LOG_SIZE, MAX_RECORDED_BODY

    limit = sim._log.limit
    assert limit == DEFAULT_LOG_SIZE >= 1000  # the most any test records is well below this
    sim._log.resize(5)
    try:
        for run_id in range(1201, 1209):
            client.get(f"{V6}/test_runs/{run_id}")
        assert [r.path for r in sim.requests] == [f"{V6}/test_runs/{i}" for i in range(1204, 1209)]
        assert [r["path"] for r in anon.get("/_sim/requests").json()] == [r.path for r in sim.requests]
        assert sim.count("GET", rf"{V6}/test_runs/\d+") == 5 and sim._log.total == 8
        client.patch(f"{V6}/test_runs/1234", json={"note": "x" * (2 * MAX_RECORDED_BODY)})
        assert len(sim.requests[-1].body) == MAX_RECORDED_BODY  # one huge body does not pin megabytes either
    finally:
        sim._log.resize(limit)
    assert sim._log.limit == limit and [r.path for r in sim.requests][-1] == f"{V6}/test_runs/1234"


def test_building_a_world_on_an_empty_simulator(sim: Simulator, anon: httpx.Client) -> None:
    """What bench/world_5.py needs: a fixed instant, history spread over days, a private zone."""
    anon.post("/_sim/reset", json={"demo": False})
    body = anon.post("/_sim/clock/set", json={"now": "2026-11-24T15:30:00Z"}).json()
    assert body["now"].startswith("2026-11-24T15:30:00") and sim.clock.now().hour == 15
    error_of(anon.post("/_sim/clock/set", json={"now": "yesterday"}), 400)
    error_of(anon.post("/_sim/clock/set", json={"now": "2026-11-24T15:30:00"}), 400)
    project = anon.post("/_sim/projects", json={"name": "World"}).json()
    test = anon.post("/_sim/load_tests", json={"project_id": project["id"], "name": "Spread"}).json()
    runs = anon.post(f"/_sim/load_tests/{test['id']}/runs", json={"n": 3, "spacing_s": 86400, "ago_s": 7200}).json()
    created = [datetime.fromisoformat(r["created"].replace("Z", "+00:00")) for r in runs]
    assert [(b - a).total_seconds() for a, b in pairwise(created)] == [86400, 86400]
    assert sim.clock.now() - created[-1] > timedelta(hours=2) and {r["status"] for r in runs} == {"completed"}
    error_of(anon.post(f"/_sim/load_tests/{test['id']}/runs", json={"n": 1, "spacing_s": -1}), 400)
    zone = anon.post(
        "/_sim/load_zones",
        json={"id": 300, "name": "World zone", "k6_load_zone_id": "world-plz", "project_ids": [project["id"]]},
    )
    assert zone.status_code == 201 and sim.zone_allowed_projects(300)[0]["id"] == project["id"]
    error_of(anon.post("/_sim/load_zones", json={"id": 301, "name": "x", "k6_load_zone_id": "y",
                                                 "project_ids": [999]}), 404)  # fmt: skip
