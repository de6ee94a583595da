"""Run lifecycle: statuses, history, timestamps, cost and retention, all derived from the clock."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tools.simulator import ApiError, Simulator

from .conftest import USER, V6

SMOKE_TEST = 502  # 2 VUs for 1 minute
TEST_RUN_FIELDS = {
    "id", "test_id", "project_id", "started_by", "created", "ended", "note", "retention_expiry", "cost",
    "status", "status_details", "status_history", "distribution", "result", "result_details", "options",
    "k6_dependencies", "k6_versions", "max_vus", "max_browser_vus", "estimated_duration",
    "execution_duration", "is_starred", "test_run_details_page_url",
}  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def history(run: dict[str, Any]) -> list[tuple[str, float]]:
    """(status, seconds after created) pairs."""
    created = at(run["created"])
    return [(entry["type"], (at(entry["entered"]) - created).total_seconds()) for entry in run["status_history"]]


def test_a_new_run_is_created_with_nulls_until_validated(sim: Simulator) -> None:
    run = sim.start_run(SMOKE_TEST)
    assert set(run) == TEST_RUN_FIELDS
    assert run["status"] == "created" and history(run) == [("created", 0.0)]
    assert run["started_by"] == USER
    for field in ("ended", "cost", "distribution", "result", "result_details", "options", "max_vus"):
        assert run[field] is None, field
    assert run["estimated_duration"] is None and run["execution_duration"] == 0
    assert run["test_run_details_page_url"].endswith(f"/a/k6-app/runs/{run['id']}")
    assert run["created"].endswith("Z")


def test_lifecycle_follows_the_clock(sim: Simulator) -> None:
    run_id = sim.start_run(SMOKE_TEST)["id"]
    expected = ["created", "queued", "initializing", "running", "processing_metrics", "completed"]
    seen = []
    for step in (0, 2, 5, 20, 60, 10):
        sim.clock.advance(step)
        seen.append(sim.run(run_id)["status"])
    assert seen == expected
    run = sim.run(run_id)
    assert history(run) == [
        ("created", 0),
        ("queued", 2),
        ("initializing", 7),
        ("running", 27),
        ("processing_metrics", 87),
        ("completed", 97),
    ]
    assert run["status_details"] == run["status_history"][-1]
    assert run["ended"] == run["status_history"][-1]["entered"]
    assert run["result"] == "passed" and run["result_details"]["type"] == "passed"
    assert run["execution_duration"] == 60 and run["estimated_duration"] == 60
    assert at(run["retention_expiry"]) == at(run["ended"]) + timedelta(days=30)
    assert run["cost"]["total_vuh"] == 0.03  # 2 VUs x 1 minute
    assert run["max_vus"] == 2 and run["max_browser_vus"] == 0
    assert run["distribution"] == [{"load_zone": "amazon:us:ashburn", "percent": 100}]
    assert run["k6_versions"]["k6"].startswith("v")


def test_cost_is_an_estimate_while_running_and_real_at_the_end(sim: Simulator) -> None:
    running = sim.run(1234)  # 50 VUs for 30 minutes, 10 minutes in
    assert running["cost"]["total_vuh"] == 25.0
    sim.abort_run(1234)
    aborted = sim.run(1234)
    hours = aborted["execution_duration"] / 3600
    assert aborted["cost"]["total_vuh"] == round(50 * hours, 2) < 25
    breakdown = aborted["cost"]["breakdown"]
    assert breakdown["protocol_vuh"] == aborted["cost"]["total_vuh"] and breakdown["browser_vuh"] == 0


def test_browser_runs_cost_browser_vuh(sim: Simulator) -> None:
    run = sim.run(1227)  # Storefront Browser Journey
    assert run["max_browser_vus"] == 5
    assert run["cost"]["breakdown"]["browser_vuh"] > 0 and run["cost"]["breakdown"]["protocol_vuh"] == 0


def test_advancing_an_hour_completes_the_demo_running_run(sim: Simulator) -> None:
    assert sim.run(1234)["status"] == "running"
    sim.clock.advance(3600)
    run = sim.run(1234)
    assert run["status"] == "completed" and run["ended"] is not None
    assert run["execution_duration"] == 1800


def test_speed_600_finishes_a_run_in_real_time(sim: Simulator, client: httpx.Client) -> None:
    sim.clock.speed = 600
    run = client.post(f"{V6}/load_tests/{SMOKE_TEST}/start").json()
    deadline = time.monotonic() + 10
    statuses: list[str] = []
    while time.monotonic() < deadline:
        current = client.get(f"{V6}/test_runs/{run['id']}").json()
        if not statuses or statuses[-1] != current["status"]:
            statuses.append(current["status"])
        if current["status"] == "completed":
            break
        time.sleep(0.01)
    assert statuses[-1] == "completed"
    assert [status for status, _ in history(current)] == [
        "created", "queued", "initializing", "running", "processing_metrics", "completed"
    ]  # fmt: skip
    assert statuses == sorted(statuses, key=[s for s, _ in history(current)].index)


@pytest.mark.parametrize(
    ("outcome", "status", "result", "code"),
    [
        ("passed", "completed", "passed", None),
        ("failed", "completed", "failed", None),
        ("error", "aborted", "error", 7),
        ("threshold_abort", "aborted", "failed", 8),
        ("system_abort", "aborted", "error", 6),
    ],
)
def test_outcomes(sim: Simulator, outcome: str, status: str, result: str, code: int | None) -> None:
    test = sim.add_load_test(77, f"Outcome {outcome}", outcome=outcome)
    run_id = sim.start_run(test["id"])["id"]
    sim.clock.advance(3600)
    run = sim.run(run_id)
    assert (run["status"], run["result"]) == (status, result)
    assert run["result_details"]["type"] == result
    extra = run["status_details"].get("extra")
    if code is None:
        assert extra is None
    else:
        assert extra == {"by_user": None, "code": code, "message": extra["message"]}
        assert extra["message"].startswith("aborted by") and run["status_history"][-1]["extra"] == extra
    if outcome == "threshold_abort":
        assert extra["message"] == "aborted by threshold"


def test_failed_runs_explain_the_crossed_threshold(sim: Simulator) -> None:
    run = sim.run(1224)  # Checkout Spike
    assert run["result"] == "failed"
    assert "http_req_duration" in run["result_details"]["message"]


def test_script_marker_sets_the_outcome_of_api_created_tests(sim: Simulator, client: httpx.Client) -> None:
    script = "// k6bot-sim: outcome=failed\nexport const options = { vus: 1, duration: '10s' };\n"
    files: dict[str, tuple[str | None, bytes | str, str | None]] = {
        "name": (None, "Marked", None),
        "script": ("script.js", script.encode(), "application/javascript"),
    }
    test = client.post(f"{V6}/projects/77/load_tests", files=files).json()
    run = client.post(f"{V6}/load_tests/{test['id']}/start").json()
    sim.clock.advance(120)
    assert client.get(f"{V6}/test_runs/{run['id']}").json()["result"] == "failed"


def test_finish_run_forces_an_end_now(sim: Simulator) -> None:
    run = sim.finish_run(1234, result="failed")
    assert (run["status"], run["result"]) == ("completed", "failed")
    assert [s for s, _ in history(run)][-2:] == ["processing_metrics", "completed"]
    assert at(run["ended"]) <= sim.clock.now()
    with pytest.raises(ApiError) as raised:
        sim.finish_run(1234)
    assert raised.value.status == 409


def test_finish_run_can_abort_with_a_reason(sim: Simulator) -> None:
    run = sim.finish_run(1236, status="aborted", reason="user")
    assert run["status_details"]["extra"]["by_user"] == USER
    run = sim.finish_run(1237, status="aborted", reason="timeout")
    assert run["status_details"]["extra"]["code"] == 4 and run["result"] == "error"
    with pytest.raises(ApiError):
        sim.finish_run(1238, status="aborted", reason="boredom")


def test_saved_runs_have_no_retention_expiry(sim: Simulator) -> None:
    assert sim.run(1211)["retention_expiry"] is None
    assert sim.run(1210)["retention_expiry"] is not None


def test_project_limits_abort_a_run_by_limit(sim: Simulator) -> None:
    sim.update_limits(77, {"vu_max_per_test": 10})
    run_id = sim.start_run(501)["id"]  # 50 VUs
    sim.clock.advance(3)
    run = sim.run(run_id)
    assert [s for s, _ in history(run)] == ["created", "aborted"]
    assert run["status_details"]["extra"]["code"] == 9 and run["cost"] is None and run["options"] is None


def test_stages_define_duration_and_max_vus(sim: Simulator) -> None:
    run = sim.run(1224)  # Checkout Spike: 1m + 30s + 3m + 1m up to 400 VUs
    assert run["estimated_duration"] == 330 and run["max_vus"] == 400
    assert run["options"]["stages"][1] == {"duration": "30s", "target": 400}
    assert run["options"]["cloud"]["projectID"] == 78


def test_api_and_python_views_agree(sim: Simulator, client: httpx.Client) -> None:
    run_id = client.post(f"{V6}/load_tests/{SMOKE_TEST}/start").json()["id"]
    sim.clock.advance(30)
    assert client.get(f"{V6}/test_runs/{run_id}").json() == sim.run(run_id)
    assert sim.run(run_id)["status"] == "running"
