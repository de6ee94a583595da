"""Projects, limits, labels and load zones over HTTP."""

from __future__ import annotations

import httpx

from tools.simulator import Simulator

from .conftest import V6, error_of


def test_project_crud(client: httpx.Client) -> None:
    created = client.post(f"{V6}/projects", json={"name": "Search"})
    assert created.status_code == 201
    project = created.json()
    assert project["is_default"] is False and project["labels"] == {} and project["grafana_folder_uid"]
    assert client.get(f"{V6}/projects/{project['id']}").json() == project
    assert client.patch(f"{V6}/projects/{project['id']}", json={"name": "Search Team"}).status_code == 204
    assert client.get(f"{V6}/projects/{project['id']}").json()["name"] == "Search Team"
    assert client.delete(f"{V6}/projects/{project['id']}").status_code == 204
    error_of(client.get(f"{V6}/projects/{project['id']}"), 404)


def test_project_validation_and_conflicts(client: httpx.Client) -> None:
    assert error_of(client.post(f"{V6}/projects", json={"name": ""}), 400)["target"] == "name"
    assert error_of(client.post(f"{V6}/projects", json={"name": "p" * 256}), 400)["target"] == "name"
    assert error_of(client.post(f"{V6}/projects", json={}), 400)["target"] == "name"
    assert error_of(client.post(f"{V6}/projects", json={"name": "Payments"}), 409)["code"] == "conflict"
    error_of(client.patch(f"{V6}/projects/79", json={"name": "Payments"}), 409)
    error_of(client.patch(f"{V6}/projects/79", json={"name": "X", "extra": 1}), 400)


def test_project_delete_conflicts(sim: Simulator, client: httpx.Client) -> None:
    error_of(client.delete(f"{V6}/projects/77"), 409)  # default project (and a running run)
    error_of(client.delete(f"{V6}/projects/79"), 409)  # run 1232 is processing metrics
    sim.clock.advance(3600)
    assert client.delete(f"{V6}/projects/79").status_code == 204
    error_of(client.get(f"{V6}/load_tests/505"), 404)


def test_limits(client: httpx.Client) -> None:
    assert client.get(f"{V6}/projects/78/limits").json() == {
        "project_id": 78,
        "vuh_max_per_month": 500,
        "vu_max_per_test": 1000,
        "vu_browser_max_per_test": None,
        "duration_max_per_test": None,
    }
    assert (
        client.patch(f"{V6}/projects/78/limits", json={"vuh_max_per_month": None, "vu_max_per_test": 5}).status_code
        == 204
    )
    limits = client.get(f"{V6}/projects/78/limits").json()
    assert limits["vuh_max_per_month"] is None and limits["vu_max_per_test"] == 5
    assert (
        error_of(client.patch(f"{V6}/projects/78/limits", json={"vu_max_per_test": 0}), 400)["target"]
        == "vu_max_per_test"
    )
    error_of(client.patch(f"{V6}/projects/78/limits", json={"colour": 1}), 400)
    error_of(client.get(f"{V6}/projects/5/limits"), 404)


def test_project_limits_list(client: httpx.Client) -> None:
    body = client.get(f"{V6}/project-limits?$count=true").json()
    assert body["@count"] == 3 and [item["project_id"] for item in body["value"]] == [77, 78, 79]
    some = client.get(f"{V6}/project-limits", params={"project_id_in": "79,78"}).json()["value"]
    assert [item["project_id"] for item in some] == [78, 79]
    error_of(client.get(f"{V6}/project-limits", params={"project_id_in": "a,b"}), 400)
    many = ",".join(str(n) for n in range(31))
    assert (
        error_of(client.get(f"{V6}/project-limits", params={"project_id_in": many}), 400)["target"] == "project_id_in"
    )


def test_labels(client: httpx.Client) -> None:
    keys = client.get(f"{V6}/labels").json()["value"]
    assert [k["key"] for k in keys] == ["environment", "team", "cost_center"]
    created = client.post(f"{V6}/labels", json={"value": [{"key": "region", "description": "Where"}]})
    assert created.status_code == 201 and created.json()["value"][-1]["key"] == "region"
    assert error_of(client.post(f"{V6}/labels", json={"value": [{"key": "a"}, {"key": "a"}]}), 400)["target"] == "value"
    error_of(client.post(f"{V6}/labels", json={"value": [{"key": "team"}]}), 409)
    assert error_of(client.post(f"{V6}/labels", json={"value": [{"key": "bad key"}]}), 400)["target"] == "value[0].key"
    renamed = client.patch(f"{V6}/labels/1", json={"key": "env"})
    assert renamed.status_code == 200 and renamed.json()["key"] == "env"
    error_of(client.patch(f"{V6}/labels/1", json={"key": "team"}), 409)
    error_of(client.patch(f"{V6}/labels/99", json={"key": "x"}), 404)
    assert client.get(f"{V6}/projects/77").json()["labels"] == {"env": "production", "team": "backend"}
    assert client.delete(f"{V6}/labels/2").status_code == 204
    assert client.get(f"{V6}/projects/77/labels").json() == {"value": [{"key": "env", "value": "production"}]}
    error_of(client.delete(f"{V6}/labels/2"), 404)


def test_label_key_limit(client: httpx.Client) -> None:
    body = {"value": [{"key": f"k{n}"} for n in range(97)]}
    assert client.post(f"{V6}/labels", json=body).status_code == 201  # 3 + 97 = 100
    error_of(client.post(f"{V6}/labels", json={"value": [{"key": "one-more"}]}), 409)


def test_project_labels(client: httpx.Client) -> None:
    body = {"value": [{"key_id": 1, "value": "qa"}, {"key": "team", "value": "search"}]}
    response = client.put(f"{V6}/projects/79/labels", json=body)
    assert response.status_code == 200
    assert response.json() == {
        "value": [
            {"key_id": 1, "key": "environment", "value": "qa"},
            {"key_id": 2, "key": "team", "value": "search"},
        ]
    }
    assert client.get(f"{V6}/projects/79").json()["labels"] == {"environment": "qa", "team": "search"}
    assert client.delete(f"{V6}/projects/79/labels/team").status_code == 204
    error_of(client.delete(f"{V6}/projects/79/labels/team"), 404)
    error_of(client.put(f"{V6}/projects/79/labels", json={"value": [{"key": "nope", "value": "x"}]}), 400)
    dup = {"value": [{"key_id": 1, "value": "a"}, {"key": "environment", "value": "b"}]}
    error_of(client.put(f"{V6}/projects/79/labels", json=dup), 400)
    error_of(client.put(f"{V6}/projects/5/labels", json={"value": []}), 404)


def _labels_of(client: httpx.Client, project_id: int) -> dict[str, str]:
    return {item["key"]: item["value"] for item in client.get(f"{V6}/projects/{project_id}/labels").json()["value"]}


def test_delete_project_label_with_percent_encoded_key(client: httpx.Client) -> None:
    keys = ["squad", "squad#old", "team/a", "what?", "a/b?c#d"]
    assert client.post(f"{V6}/labels", json={"value": [{"key": key} for key in keys]}).status_code == 201
    body = {"value": [{"key": key, "value": f"v{n}"} for n, key in enumerate(keys)]}
    assert client.put(f"{V6}/projects/79/labels", json=body).status_code == 200

    assert client.delete(f"{V6}/projects/79/labels/squad%23old").status_code == 204
    assert _labels_of(client, 79) == {"squad": "v0", "team/a": "v2", "what?": "v3", "a/b?c#d": "v4"}
    error_of(client.delete(f"{V6}/projects/79/labels/squad%23old"), 404)

    assert client.delete(f"{V6}/projects/79/labels/team%2Fa").status_code == 204
    assert client.delete(f"{V6}/projects/79/labels/what%3F").status_code == 204
    assert client.delete(f"{V6}/projects/79/labels/a%2fb%3Fc%23d").status_code == 204  # lower-case escapes too
    assert _labels_of(client, 79) == {"squad": "v0"}
    assert client.delete(f"{V6}/projects/79/labels/squad").status_code == 204
    assert _labels_of(client, 79) == {}


def test_delete_project_label_needs_the_key_encoded(client: httpx.Client) -> None:
    client.post(f"{V6}/labels", json={"value": [{"key": "team/a"}, {"key": "squad"}, {"key": "squad#old"}]})
    body = {
        "value": [{"key": "team/a", "value": "x"}, {"key": "squad", "value": "y"}, {"key": "squad#old", "value": "z"}]
    }
    client.put(f"{V6}/projects/79/labels", json=body)
    unencoded_slash = error_of(client.delete(f"{V6}/projects/79/labels/team/a"), 404)
    assert unencoded_slash["code"] == "unknown_endpoint"
    # An unencoded '#' starts the URL fragment, so the client sends (and deletes) 'squad', not 'squad#old'.
    assert client.delete(f"{V6}/projects/79/labels/squad#old").status_code == 204
    assert _labels_of(client, 79) == {"team/a": "x", "squad#old": "z"}
    assert error_of(client.delete(f"{V6}/projects/79/labels/"), 404)["code"] == "unknown_endpoint"
    error_of(client.get(f"{V6}/projects/79/labels/squad%23old"), 405)


def test_project_label_limit(client: httpx.Client) -> None:
    client.post(f"{V6}/labels", json={"value": [{"key": f"k{n}"} for n in range(31)]})
    body = {"value": [{"key": f"k{n}", "value": "v"} for n in range(31)]}
    error_of(client.put(f"{V6}/projects/79/labels", json=body), 409)


def test_load_zones(client: httpx.Client) -> None:
    zones = client.get(f"{V6}/load_zones").json()["value"]
    assert {"id", "name", "k6_load_zone_id", "available", "custom_load_runner_image", "public"} == set(zones[0])
    assert any(z["k6_load_zone_id"] == "amazon:us:ashburn" and z["public"] for z in zones)
    private = [z for z in zones if not z["public"]]
    assert len(private) == 1 and private[0]["custom_load_runner_image"]
    only = client.get(f"{V6}/load_zones", params={"k6_load_zone_id": "amazon:ie:dublin"}).json()["value"]
    assert [z["name"] for z in only] == ["EU (Ireland)"]


def test_private_zone_allowed_projects(client: httpx.Client) -> None:
    assert client.get(f"{V6}/load_zones/100/allowed_projects").json() == {"value": [{"id": 79, "name": "Platform"}]}
    updated = client.put(f"{V6}/load_zones/100/allowed_projects", json={"value": [{"id": 77}, {"id": 79}]})
    assert [p["id"] for p in updated.json()["value"]] == [77, 79]
    assert [z["id"] for z in client.get(f"{V6}/projects/77/allowed_load_zones").json()["value"]] == [100]
    assert client.put(f"{V6}/projects/77/allowed_load_zones", json={"value": []}).json() == {"value": []}
    assert (
        error_of(client.put(f"{V6}/projects/77/allowed_load_zones", json={"value": [{"id": 1}]}), 400)["target"]
        == "value[0].id"
    )
    error_of(client.put(f"{V6}/load_zones/100/allowed_projects", json={"value": [{"id": 5}]}), 400)
    error_of(client.get(f"{V6}/load_zones/1/allowed_projects"), 404)  # public zone
    error_of(client.get(f"{V6}/load_zones/555/allowed_projects"), 404)
