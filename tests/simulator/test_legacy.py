"""The legacy v2 runs API: shapes and run_status mapping."""

from __future__ import annotations

import httpx
import pytest

from tools.simulator import Simulator

from .conftest import TOKEN, V6, error_of

LEGACY = {"Authorization": f"Token {TOKEN}"}
RUN_FIELDS = {
    "config", "created", "duration", "ended", "error_code", "error_detail", "export", "id", "is_baseline",
    "k6_archive", "load_time", "note", "organization_id", "processing_status", "project_id", "public_id",
    "request_builder_config", "result_status", "run_process", "run_status", "script", "started",
    "stopped_by_id", "test_id", "user_id", "version", "vus", "vus_per_instance",
}  # fmt: skip


@pytest.mark.parametrize(
    ("run_id", "run_status", "result_status", "processing_status"),
    [
        (1238, -2, 0, 0),  # created
        (1237, 0, 0, 0),  # queued
        (1236, 1, 0, 0),  # initializing
        (1234, 2, 0, 0),  # running
        (1232, 3, 0, 1),  # processing metrics
        (1233, 3, 0, 2),  # completed, passed
        (1224, 3, 1, 2),  # completed, failed
        (1230, 5, 0, 2),  # aborted by user
        (1228, 6, 0, 2),  # aborted by system
        (1235, 7, 0, 2),  # aborted by script error
        (1225, 8, 1, 2),  # aborted by threshold
    ],
)
def test_run_status_mapping(
    anon: httpx.Client, run_id: int, run_status: int, result_status: int, processing_status: int
) -> None:
    run = anon.get(f"/loadtests/v2/runs/{run_id}", headers=LEGACY).json()["k6-run"]
    assert set(run) == RUN_FIELDS
    assert (run["run_status"], run["result_status"], run["processing_status"]) == (
        run_status,
        result_status,
        processing_status,
    )


def test_limit_and_timeout_codes(sim: Simulator, anon: httpx.Client) -> None:
    sim.finish_run(1236, status="aborted", reason="limit")
    sim.finish_run(1237, status="aborted", reason="timeout")
    assert anon.get("/loadtests/v2/runs/1236", headers=LEGACY).json()["k6-run"]["run_status"] == 9
    assert anon.get("/loadtests/v2/runs/1237", headers=LEGACY).json()["k6-run"]["run_status"] == 4


def test_list_by_test_and_ids(anon: httpx.Client) -> None:
    body = anon.get("/loadtests/v2/runs", params={"test_id": 501}, headers=LEGACY).json()
    assert body["meta"]["count"] == len(body["k6-runs"]) == 24  # 17 older soak runs (1184-1200) + 7
    assert {run["test_id"] for run in body["k6-runs"]} == {501}
    some = anon.get("/loadtests/v2/runs?test_id=501&ids[]=1211&ids[]=1234", headers=LEGACY).json()
    assert [run["id"] for run in some["k6-runs"]] == [1211, 1234]
    error_of(anon.get("/loadtests/v2/runs?test_id=abc", headers=LEGACY), 400)
    error_of(anon.get("/loadtests/v2/runs?test_id=9999", headers=LEGACY), 404)


def test_select(anon: httpx.Client) -> None:
    run = anon.get("/loadtests/v2/runs/1234?$select=id,test_id,run_status", headers=LEGACY).json()["k6-run"]
    assert run == {"id": 1234, "test_id": 501, "run_status": 2}


def test_start_and_stop_share_runs_with_v6(sim: Simulator, anon: httpx.Client, client: httpx.Client) -> None:
    started = anon.post("/loadtests/v2/tests/502/start-testrun", headers=LEGACY)
    assert started.status_code == 200
    run = started.json()["k6-run"]
    assert run["run_status"] == -2 and run["test_id"] == 502 and "vus: 2" in run["script"]
    assert client.get(f"{V6}/test_runs/{run['id']}").json()["status"] == "created"
    stopped = anon.post(f"/loadtests/v2/runs/{run['id']}/stop", headers=LEGACY).json()["k6-run"]
    assert stopped["run_status"] == 5 and stopped["stopped_by_id"] is not None
    v6 = client.get(f"{V6}/test_runs/{run['id']}").json()
    assert v6["status"] == "aborted" and v6["status_details"]["extra"]["by_user"] == sim.user_email
    error_of(anon.post(f"/loadtests/v2/runs/{run['id']}/stop", headers=LEGACY), 409)
    error_of(anon.get("/loadtests/v2/runs/999999", headers=LEGACY), 404)
