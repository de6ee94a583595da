"""Every operation of the OpenAPI description (v6, 51 operations) is routed."""

from __future__ import annotations

import httpx
import pytest

from tests.spec import V6_ENDPOINTS

from .conftest import STACK_ID, TOKEN

OPERATIONS = sorted(V6_ENDPOINTS)
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
