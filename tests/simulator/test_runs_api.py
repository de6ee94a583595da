"""Test run operations over HTTP: start, idempotency, abort, delete, save, star, note, distribution."""

from __future__ import annotations

import httpx

from tools.simulator import Simulator

from .conftest import USER, V6, error_of

NO_SCRIPT_TEST = 510


def start(client: httpx.Client, test_id: int, key: str | None = None) -> httpx.Response:
    headers = {"K6-Idempotency-Key": key} if key is not None else {}
    return client.post(f"{V6}/load_tests/{test_id}/start", headers=headers)


def test_start_returns_the_run_with_its_page_url(sim: Simulator, client: httpx.Client) -> None:
    response = start(client, 502)
    assert response.status_code == 200
    run = response.json()
    assert run["test_id"] == 502 and run["project_id"] == 77 and run["status"] == "created"
    assert run["started_by"] == USER
    assert run["test_run_details_page_url"] == f"{sim.stack_url}/a/k6-app/runs/{run['id']}"
    assert client.get(f"{V6}/test_runs/{run['id']}").json()["test_run_details_page_url"].endswith(str(run["id"]))


def test_start_without_a_script_is_400(client: httpx.Client) -> None:
    error = error_of(start(client, NO_SCRIPT_TEST), 400)
    assert error["code"] == "validation_error" and "no script" in error["message"]


def test_start_unknown_test_is_404(client: httpx.Client) -> None:
    assert error_of(start(client, 999_999), 404)["code"] == "not_found"


def test_same_idempotency_key_returns_the_same_run(sim: Simulator, client: httpx.Client) -> None:
    before = len(sim.find_runs())
    first = start(client, 502, "start-502-abc").json()
    sim.clock.advance(60)
    second = start(client, 502, "start-502-abc")
    assert second.status_code == 200 and second.json()["id"] == first["id"]
    assert len(sim.find_runs()) == before + 1
    assert second.json()["status"] == "running"


def test_idempotency_key_expires_after_ten_minutes(sim: Simulator, client: httpx.Client) -> None:
    first = start(client, 502, "key-1").json()
    sim.clock.advance(600)
    assert start(client, 502, "key-1").json()["id"] != first["id"]


def test_idempotency_key_of_another_test_is_409(client: httpx.Client) -> None:
    start(client, 502, "shared-key")
    error = error_of(start(client, 501, "shared-key"), 409)
    assert error["target"] == "K6-Idempotency-Key"


def test_idempotency_key_longer_than_36_is_400(client: httpx.Client) -> None:
    error = error_of(start(client, 502, "k" * 37), 400)
    assert error["target"] == "K6-Idempotency-Key"
    assert start(client, 502, "k" * 36).status_code == 200


def test_abort_then_abort_again(client: httpx.Client) -> None:
    response = client.post(f"{V6}/test_runs/1234/abort")
    assert response.status_code == 204 and response.content == b""
    run = client.get(f"{V6}/test_runs/1234").json()
    assert run["status"] == "aborted" and run["result"] == "error" and run["ended"] is not None
    assert run["status_details"]["extra"]["by_user"] == USER
    error = error_of(client.post(f"{V6}/test_runs/1234/abort"), 409)
    assert error["code"] == "conflict"


def test_abort_is_allowed_in_every_early_status(client: httpx.Client) -> None:
    for run_id in (1236, 1237, 1238):  # initializing, queued, created
        assert client.post(f"{V6}/test_runs/{run_id}/abort").status_code == 204
    error_of(client.post(f"{V6}/test_runs/1232/abort"), 409)  # processing_metrics
    error_of(client.post(f"{V6}/test_runs/1210/abort"), 409)  # completed
    error_of(client.post(f"{V6}/test_runs/424242/abort"), 404)


def test_delete_a_running_run_is_409_a_finished_one_204(client: httpx.Client) -> None:
    error_of(client.delete(f"{V6}/test_runs/1234"), 409)
    assert client.delete(f"{V6}/test_runs/1210").status_code == 204
    error_of(client.get(f"{V6}/test_runs/1210"), 404)


def test_saved_runs_limit_is_409(sim: Simulator, client: httpx.Client) -> None:
    sim.max_saved_runs = sum(1 for run in sim.find_runs() if run.saved) + 1  # 1211 and old soak runs are saved
    assert client.post(f"{V6}/test_runs/1210/save").status_code == 204
    assert client.post(f"{V6}/test_runs/1210/save").status_code == 204  # idempotent
    error = error_of(client.post(f"{V6}/test_runs/1209/save"), 409)
    assert error["message"] == "The maximum number of saved test runs has been reached"
    assert client.post(f"{V6}/test_runs/1210/unsave").status_code == 204
    assert client.post(f"{V6}/test_runs/1209/save").status_code == 204
    assert client.get(f"{V6}/test_runs/1209").json()["retention_expiry"] is None


def test_saving_an_expired_run_is_409(sim: Simulator, client: httpx.Client) -> None:
    sim.clock.advance(31 * 24 * 3600)
    error = error_of(client.post(f"{V6}/test_runs/1203/save"), 409)
    assert error["message"] == "Test run has been deleted"


def test_star_and_unstar(client: httpx.Client) -> None:
    assert client.post(f"{V6}/test_runs/1210/star").status_code == 204
    assert client.get(f"{V6}/test_runs/1210").json()["is_starred"] is True
    assert client.post(f"{V6}/test_runs/1210/unstar").status_code == 204
    assert client.get(f"{V6}/test_runs/1210").json()["is_starred"] is False


def test_note(client: httpx.Client) -> None:
    assert client.patch(f"{V6}/test_runs/1234", json={"note": "watch p99"}).status_code == 204
    assert client.get(f"{V6}/test_runs/1234").json()["note"] == "watch p99"
    assert error_of(client.patch(f"{V6}/test_runs/1234", json={}), 400)["target"] == "note"
    assert error_of(client.patch(f"{V6}/test_runs/1234", json={"note": 1}), 400)["target"] == "note"
    assert error_of(client.patch(f"{V6}/test_runs/1234", json={"note": "", "x": 1}), 400)["target"] == "x"
    error_of(client.patch(f"{V6}/test_runs/1234", content=b"{not json"), 400)


def test_distribution(client: httpx.Client) -> None:
    body = client.get(f"{V6}/test_runs/1234/distribution").json()
    assert set(body["distribution"]) == {"amazon:us:ashburn", "amazon:ie:dublin"}
    zone = body["distribution"]["amazon:ie:dublin"]
    assert zone["percentage"] == 50 and zone["nodes"][0]["size"] and zone["nodes"][0]["public_ip"].count(".") == 3
    error_of(client.get(f"{V6}/test_runs/1238/distribution"), 404)  # created: no distribution yet
    error_of(client.get(f"{V6}/test_runs/1237/distribution"), 404)  # queued
    assert client.get(f"{V6}/test_runs/1236/distribution").status_code == 200  # initializing


def test_run_script_is_the_snapshot_taken_at_start(sim: Simulator, client: httpx.Client) -> None:
    run = start(client, 502).json()
    client.put(f"{V6}/load_tests/502/script", content=b"export default function () {}\n")
    response = client.get(f"{V6}/test_runs/{run['id']}/script")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    assert b"vus: 2" in response.content
    assert client.get(f"{V6}/load_tests/502/script").content == b"export default function () {}\n"


def test_validate_options(client: httpx.Client) -> None:
    options = {"stages": [{"duration": "1m", "target": 20}, {"duration": "3m", "target": 20}]}
    body = client.post(f"{V6}/validate_options", json={"options": options}).json()
    assert body == {
        "vuh_usage": 1.33,
        "breakdown": {
            "protocol_vuh": 1.33,
            "browser_vuh": 0.0,
            "base_total_vuh": 1.33,
            "reduction_rate": 0.0,
            "reduction_rate_breakdown": {},
        },
    }
    local = client.post(f"{V6}/validate_options", json={"options": options, "is_local_execution": True}).json()
    assert local["vuh_usage"] == 1.0 and local["breakdown"]["reduction_rate_breakdown"] == {"local_run": 25.0}


def test_validate_options_errors(client: httpx.Client) -> None:
    assert error_of(client.post(f"{V6}/validate_options", json={}), 400)["target"] == "options"
    unknown = client.post(f"{V6}/validate_options", json={"project_id": 9999, "options": {}})
    assert error_of(unknown, 400)["target"] == "project_id"
    in_cloud = client.post(f"{V6}/validate_options", json={"options": {"cloud": {"projectID": 9999}}})
    assert error_of(in_cloud, 400)["target"] == "options.cloud.projectID"
    client.patch(f"{V6}/projects/77/limits", json={"vu_max_per_test": 5})
    too_big = client.post(f"{V6}/validate_options", json={"project_id": 77, "options": {"vus": 50}})
    assert "limit" in error_of(too_big, 400)["message"]
