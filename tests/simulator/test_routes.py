"""Every operation of the OpenAPI description (v6, 51 operations) is routed."""

from __future__ import annotations

import httpx
import pytest

from .conftest import STACK_ID, TOKEN

OPERATIONS = [
    ("GET", "/cloud/v6/auth"),
    ("GET", "/cloud/v6/labels"),
    ("POST", "/cloud/v6/labels"),
    ("PATCH", "/cloud/v6/labels/{id}"),
    ("DELETE", "/cloud/v6/labels/{id}"),
    ("GET", "/cloud/v6/load_tests"),
    ("GET", "/cloud/v6/load_tests/{id}/schedule"),
    ("POST", "/cloud/v6/load_tests/{id}/schedule"),
    ("GET", "/cloud/v6/load_tests/{id}/test_runs"),
    ("GET", "/cloud/v6/load_tests/{id}"),
    ("PATCH", "/cloud/v6/load_tests/{id}"),
    ("DELETE", "/cloud/v6/load_tests/{id}"),
    ("PUT", "/cloud/v6/load_tests/{id}/move"),
    ("GET", "/cloud/v6/load_tests/{id}/script"),
    ("PUT", "/cloud/v6/load_tests/{id}/script"),
    ("POST", "/cloud/v6/load_tests/{id}/start"),
    ("GET", "/cloud/v6/load_zones"),
    ("GET", "/cloud/v6/load_zones/{id}/allowed_projects"),
    ("PUT", "/cloud/v6/load_zones/{id}/allowed_projects"),
    ("GET", "/cloud/v6/project-limits"),
    ("GET", "/cloud/v6/projects"),
    ("POST", "/cloud/v6/projects"),
    ("GET", "/cloud/v6/projects/{id}/allowed_load_zones"),
    ("PUT", "/cloud/v6/projects/{id}/allowed_load_zones"),
    ("GET", "/cloud/v6/projects/{id}/limits"),
    ("PATCH", "/cloud/v6/projects/{id}/limits"),
    ("GET", "/cloud/v6/projects/{id}/load_tests"),
    ("POST", "/cloud/v6/projects/{id}/load_tests"),
    ("GET", "/cloud/v6/projects/{id}"),
    ("PATCH", "/cloud/v6/projects/{id}"),
    ("DELETE", "/cloud/v6/projects/{id}"),
    ("GET", "/cloud/v6/projects/{project_id}/labels"),
    ("PUT", "/cloud/v6/projects/{project_id}/labels"),
    ("DELETE", "/cloud/v6/projects/{project_id}/labels/{key}"),
    ("GET", "/cloud/v6/schedules"),
    ("GET", "/cloud/v6/schedules/{id}"),
    ("DELETE", "/cloud/v6/schedules/{id}"),
    ("POST", "/cloud/v6/schedules/{id}/activate"),
    ("POST", "/cloud/v6/schedules/{id}/deactivate"),
    ("GET", "/cloud/v6/test_runs"),
    ("GET", "/cloud/v6/test_runs/{id}"),
    ("PATCH", "/cloud/v6/test_runs/{id}"),
    ("DELETE", "/cloud/v6/test_runs/{id}"),
    ("POST", "/cloud/v6/test_runs/{id}/abort"),
    ("GET", "/cloud/v6/test_runs/{id}/distribution"),
    ("POST", "/cloud/v6/test_runs/{id}/save"),
    ("GET", "/cloud/v6/test_runs/{id}/script"),
    ("POST", "/cloud/v6/test_runs/{id}/star"),
    ("POST", "/cloud/v6/test_runs/{id}/unsave"),
    ("POST", "/cloud/v6/test_runs/{id}/unstar"),
    ("POST", "/cloud/v6/validate_options"),
]
IDS_BY_COLLECTION = {
    "labels": "1",
    "load_tests": "501",
    "load_zones": "100",
    "projects": "79",
    "schedules": "2",
}
IDS_BY_COLLECTION["test_runs"] = "1210"


def concrete(template: str) -> str:
    parts = template.split("/")
    for index, part in enumerate(parts):
        if part == "{id}":
            parts[index] = IDS_BY_COLLECTION[parts[index - 1]]
    return "/".join(parts).replace("{project_id}", "79").replace("{key}", "team")


def test_the_list_has_every_operation() -> None:
    assert len(OPERATIONS) == 51 == len(set(OPERATIONS))


@pytest.mark.parametrize(("method", "template"), OPERATIONS)
def test_operation_is_routed(client: httpx.Client, method: str, template: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Stack-Id": str(STACK_ID), "X-Stack-Url": "https://a.b"}
    response = client.request(method, concrete(template), headers=headers)
    assert response.status_code != 405
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["error"]["code"] != "unknown_endpoint", response.text


def test_unknown_endpoints_and_methods_get_json_errors(client: httpx.Client) -> None:
    missing = client.get("/cloud/v6/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_endpoint"
    wrong_method = client.put("/cloud/v6/test_runs")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"
    not_an_id = client.get("/cloud/v6/test_runs/abc")
    assert not_an_id.status_code == 404
