"""Lists: $top, $skip, $count, $orderby, @nextLink, and filters."""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tools.simulator import Simulator

from .conftest import V6, error_of


@pytest.fixture
def paged_test(sim: Simulator) -> int:
    """A load test with 2500 finished runs in an otherwise empty stack."""
    sim.reset(demo=False)
    project = sim.add_project("Paging")
    test_id: int = sim.add_load_test(project["id"], "Many runs")["id"]
    started = time.perf_counter()
    sim.add_runs(test_id, 2500)
    assert time.perf_counter() - started < 5
    return test_id


def test_next_link_until_the_last_page(client: httpx.Client, paged_test: int) -> None:
    url: str | None = f"{V6}/load_tests/{paged_test}/test_runs?$count=true"
    ids: list[int] = []
    pages = 0
    while url:
        body = client.get(url).json()
        assert body["@count"] == 2500
        ids += [run["id"] for run in body["value"]]
        url = body.get("@nextLink")
        pages += 1
    assert pages == 3
    assert len(ids) == 2500 and ids == sorted(ids) and len(set(ids)) == 2500


def test_next_link_is_absolute_and_keeps_other_parameters(client: httpx.Client, paged_test: int) -> None:
    body = client.get(f"{V6}/load_tests/{paged_test}/test_runs?$top=100&is_starred=false").json()
    link = urlsplit(body["@nextLink"])
    assert link.scheme == "http" and link.netloc == client.base_url.netloc.decode()
    assert link.path == f"{V6}/load_tests/{paged_test}/test_runs"
    assert parse_qs(link.query) == {"$skip": ["100"], "$top": ["100"], "is_starred": ["false"]}
    assert len(body["value"]) == 100 and "@count" not in body


def test_last_page_has_no_next_link(client: httpx.Client, paged_test: int) -> None:
    body = client.get(f"{V6}/load_tests/{paged_test}/test_runs?$skip=2400&$top=100").json()
    assert len(body["value"]) == 100
    assert "@nextLink" not in body


def test_global_run_list_pages_too(client: httpx.Client, paged_test: int) -> None:
    body = client.get(f"{V6}/test_runs?$count=1").json()
    assert body["@count"] == 2500 and len(body["value"]) == 1000 and "@nextLink" in body


def test_orderby_created_desc(sim: Simulator, client: httpx.Client, paged_test: int) -> None:
    body = client.get(f"{V6}/load_tests/{paged_test}/test_runs?$orderby=created desc&$top=5").json()
    created = [run["created"] for run in body["value"]]
    assert created == sorted(created, reverse=True)
    assert body["value"][0]["id"] == sim.find_runs(paged_test)[-1].id


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("$top=5000", "$top"),
        ("$top=0", "$top"),
        ("$top=ten", "$top"),
        ("$skip=-1", "$skip"),
        ("$count=maybe", "$count"),
        ("$orderby=status", "$orderby"),
        ("$orderby=created sideways", "$orderby"),
        ("created_after=yesterday", "created_after"),
        ("created_before=2025-13-01T00:00:00Z", "created_before"),
        ("is_starred=perhaps", "is_starred"),
    ],
)
def test_invalid_list_parameters_are_400_with_target(client: httpx.Client, query: str, target: str) -> None:
    error = error_of(client.get(f"{V6}/load_tests/501/test_runs?{query}"), 400)
    assert error["target"] == target
    assert error["code"] == "validation_error"


def test_orderby_fields_per_endpoint(client: httpx.Client) -> None:
    names = [t["name"] for t in client.get(f"{V6}/load_tests?$orderby=name desc").json()["value"]]
    assert names == sorted(names, reverse=True)
    projects = client.get(f"{V6}/projects?$orderby=name").json()["value"]
    assert [p["name"] for p in projects] == ["Default project", "Payments", "Platform"]
    error_of(client.get(f"{V6}/projects?$orderby=id"), 400)
    by_project = client.get(f"{V6}/load_tests?$orderby=project_id desc,id").json()["value"]
    assert [(t["project_id"], t["id"]) for t in by_project] == sorted(
        ((t["project_id"], t["id"]) for t in by_project), key=lambda pair: (-pair[0], pair[1])
    )


def test_created_filters(sim: Simulator, client: httpx.Client) -> None:
    origin = sim.run(1234)["created"]
    after = client.get(f"{V6}/test_runs", params={"created_after": origin}).json()["value"]
    assert [run["id"] for run in after] == [1234, 1235, 1236, 1237, 1238]
    before = client.get(f"{V6}/test_runs", params={"created_before": origin}).json()["value"]
    assert all(run["id"] < 1234 for run in before) and len(before) == 33 + 17  # + the soak history 1184-1200


def test_is_starred_filter(client: httpx.Client) -> None:
    starred = client.get(f"{V6}/load_tests/501/test_runs?is_starred=true").json()["value"]
    assert [run["id"] for run in starred] == [1211, 1223]
    unstarred = client.get(f"{V6}/load_tests/501/test_runs?is_starred=0").json()["value"]
    assert all(not run["is_starred"] for run in unstarred) and unstarred


def test_name_filters(client: httpx.Client) -> None:
    tests = client.get(f"{V6}/load_tests", params={"name": "Orders API Smoke"}).json()["value"]
    assert [t["id"] for t in tests] == [502]
    found = client.get(f"{V6}/projects", params={"name_search": "pay"}).json()["value"]
    assert [p["name"] for p in found] == ["Payments"]
    in_project = client.get(f"{V6}/projects/77/load_tests").json()["value"]
    assert {t["id"] for t in in_project} == {501, 502, 507}


def test_add_runs_places_finished_runs_in_the_past(sim: Simulator, paged_test: int) -> None:
    newest = sim.find_runs(paged_test)[-1]
    run = sim.run(newest.id)
    assert run["status"] == "completed" and run["result"] == "passed"
    assert newest.created < sim.clock.now() - timedelta(minutes=5)
