"""Load tests over HTTP: create (multipart), read, rename, move, delete, scripts and Accept negotiation."""

from __future__ import annotations

import httpx

from tools.simulator import Simulator

from .conftest import V6, error_of, k6_archive

SCRIPT = b"import http from 'k6/http';\nexport const options = { vus: 3, duration: '2m' };\n"


def create(client: httpx.Client, project_id: int, name: str, script: bytes | None = SCRIPT) -> httpx.Response:
    files: dict[str, tuple[str | None, bytes | str, str | None]] = {"name": (None, name, None)}
    if script is not None:
        files["script"] = ("script.js", script, "application/octet-stream")
    return client.post(f"{V6}/projects/{project_id}/load_tests", files=files)


def test_create_and_read(client: httpx.Client) -> None:
    response = create(client, 78, "Payments Smoke")
    assert response.status_code == 201
    test = response.json()
    assert set(test) == {
        "id",
        "project_id",
        "name",
        "baseline_test_run_id",
        "k6_version",
        "created",
        "updated",
    }
    assert test["project_id"] == 78 and test["name"] == "Payments Smoke" and test["baseline_test_run_id"] is None
    assert client.get(f"{V6}/load_tests/{test['id']}").json() == test
    assert client.get(f"{V6}/load_tests/{test['id']}/script").content == SCRIPT


def test_create_validation(client: httpx.Client) -> None:
    assert error_of(create(client, 77, ""), 400)["target"] == "name"
    assert error_of(create(client, 77, "x" * 301), 400)["target"] == "name"
    assert create(client, 77, "x" * 300).status_code == 201
    error_of(create(client, 999, "Nowhere"), 404)
    no_name = client.post(f"{V6}/projects/77/load_tests", files={"script": ("s.js", SCRIPT, None)})
    assert error_of(no_name, 400)["target"] == "name"


def test_duplicate_name_in_a_project_is_409(client: httpx.Client) -> None:
    error = error_of(create(client, 77, "Orders API Soak Test"), 409)
    assert error["code"] == "conflict"
    assert create(client, 78, "Orders API Soak Test").status_code == 201  # other project: fine


def test_rename_via_patch(client: httpx.Client) -> None:
    assert client.patch(f"{V6}/load_tests/502", json={"name": "Orders Smoke"}).status_code == 204
    assert client.get(f"{V6}/load_tests/502").json()["name"] == "Orders Smoke"
    error_of(client.patch(f"{V6}/load_tests/502", json={"name": "Orders API Soak Test"}), 409)
    assert error_of(client.patch(f"{V6}/load_tests/502", json={"colour": "red"}), 400)["target"] == "colour"
    assert error_of(client.patch(f"{V6}/load_tests/502", json={"name": ""}), 400)["target"] == "name"


def test_patch_baseline_and_k6_version(client: httpx.Client) -> None:
    response = client.patch(f"{V6}/load_tests/501", json={"baseline_test_run_id": 1223, "k6_version": 1})
    assert response.status_code == 204
    test = client.get(f"{V6}/load_tests/501").json()
    assert test["baseline_test_run_id"] == 1223 and test["k6_version"] == 1
    wrong = client.patch(f"{V6}/load_tests/501", json={"baseline_test_run_id": 1204})  # run of another test
    assert error_of(wrong, 400)["target"] == "baseline_test_run_id"


def test_move(client: httpx.Client) -> None:
    assert client.put(f"{V6}/load_tests/509/move", json={"project_id": 79}).status_code == 204
    assert client.get(f"{V6}/load_tests/509").json()["project_id"] == 79
    assert client.get(f"{V6}/test_runs/1229").json()["project_id"] == 79  # runs move along
    create(client, 77, "Refunds API Load")
    error_of(client.put(f"{V6}/load_tests/509/move", json={"project_id": 77}), 409)
    assert error_of(client.put(f"{V6}/load_tests/509/move", json={"project_id": 5}), 400)["target"] == "project_id"
    assert error_of(client.put(f"{V6}/load_tests/509/move", json={}), 400)["target"] == "project_id"


def test_delete(client: httpx.Client) -> None:
    error_of(client.delete(f"{V6}/load_tests/501"), 409)  # run 1234 is running
    assert client.delete(f"{V6}/load_tests/503").status_code == 204
    error_of(client.get(f"{V6}/load_tests/503"), 404)
    error_of(client.get(f"{V6}/test_runs/1224"), 404)


def test_script_accept_negotiation(client: httpx.Client) -> None:
    for accept in ("text/javascript", "*/*", "application/javascript", "text/*", ""):
        response = client.get(f"{V6}/load_tests/501/script", headers={"Accept": accept})
        assert response.status_code == 200, accept
        assert response.headers["content-type"].startswith("text/javascript")
    error = error_of(client.get(f"{V6}/load_tests/501/script", headers={"Accept": "application/x-tar"}), 406)
    assert error["code"] == "not_acceptable"


def test_tar_archives_are_detected_and_served_as_tar(client: httpx.Client) -> None:
    archive = k6_archive({"vus": 7, "duration": "90s"})
    assert client.put(f"{V6}/load_tests/502/script", content=archive).status_code == 204
    response = client.get(f"{V6}/load_tests/502/script", headers={"Accept": "application/x-tar"})
    assert response.headers["content-type"] == "application/x-tar" and response.content == archive
    error_of(client.get(f"{V6}/load_tests/502/script", headers={"Accept": "text/javascript"}), 406)
    run = client.post(f"{V6}/load_tests/502/start").json()
    run_script = client.get(f"{V6}/test_runs/{run['id']}/script")
    assert run_script.headers["content-type"] == "application/x-tar"


def test_archive_options_drive_the_run(sim: Simulator, client: httpx.Client) -> None:
    client.put(f"{V6}/load_tests/502/script", content=k6_archive({"vus": 7, "duration": "90s"}))
    run_id = client.post(f"{V6}/load_tests/502/start").json()["id"]
    sim.clock.advance(3)
    run = client.get(f"{V6}/test_runs/{run_id}").json()
    assert run["max_vus"] == 7 and run["estimated_duration"] == 90


def test_script_of_a_test_without_one_is_404_and_empty_upload_400(client: httpx.Client) -> None:
    error_of(client.get(f"{V6}/load_tests/510/script"), 404)
    error_of(client.put(f"{V6}/load_tests/510/script", content=b""), 400)
    assert client.put(f"{V6}/load_tests/510/script", content=SCRIPT).status_code == 204
    assert client.post(f"{V6}/load_tests/510/start").status_code == 200


def test_created_without_a_script(client: httpx.Client) -> None:
    test = create(client, 79, "Later", script=None).json()
    error_of(client.get(f"{V6}/load_tests/{test['id']}/script"), 404)


def test_create_accepts_only_multipart_form_data(sim: Simulator, client: httpx.Client) -> None:
    url = f"{V6}/projects/77/load_tests"
    attempts = [
        client.post(url, json={"name": "json"}),
        client.post(url, data={"name": "urlencoded", "script": SCRIPT.decode()}),
        client.post(url, content=SCRIPT, headers={"Content-Type": "text/javascript"}),
        client.post(url, content=b"name=bare"),
    ]
    for response in attempts:
        error = error_of(response, 400)
        assert error["code"] == "validation_error"
        assert "multipart/form-data" in error["message"]
    assert "application/x-www-form-urlencoded" in error_of(attempts[1], 400)["message"]
    assert not [test for test in sim.find_load_tests(77) if test.name in ("json", "urlencoded", "bare")]
    created = create(client, 77, "Multipart")
    assert created.status_code == 201 and created.json()["name"] == "Multipart"
    upper = client.post(
        url,
        content=b'--XyZ\r\nContent-Disposition: form-data; name="name"\r\n\r\nUpper\r\n--XyZ--\r\n',
        headers={"Content-Type": "Multipart/Form-Data; boundary=XyZ"},
    )
    assert upper.status_code == 201, upper.text
