"""Strictness switches: timestamps_in_whole_seconds, count_supported, page_url_on_start_only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tools.simulator import Simulator, SimulatorServer

from .conftest import STACK_ID, START, TOKEN, USER, V6, auth_headers

DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z")
LEGACY = {"Authorization": f"Token {TOKEN}"}
SUB_SECOND_START = START + timedelta(milliseconds=123)


@pytest.fixture
def fine_sim() -> Simulator:
    """Demo data whose every time has milliseconds (the clock starts at 12:00:00.123)."""
    return Simulator(token=TOKEN, stack_id=STACK_ID, speed=0, demo=True, user_email=USER, start=SUB_SECOND_START)


@pytest.fixture
def fine(fine_sim: Simulator, shared_server: SimulatorServer) -> Iterator[httpx.Client]:
    shared_server.sim = fine_sim
    with httpx.Client(base_url=shared_server.url, headers=auth_headers(), timeout=10, verify=False) as http:
        yield http


def test_switch_defaults() -> None:
    sim = Simulator(speed=0, demo=False)
    assert sim.timestamps_in_whole_seconds is False
    assert sim.count_supported is True
    assert sim.page_url_on_start_only is False
    assert sim.runs_newest_first is False and sim.max_saved_runs == 50


# --------------------------------------------------------------------------- timestamps_in_whole_seconds


def _date_times(data: Any) -> list[str]:
    """Every ISO date-time string anywhere in a JSON document."""
    if isinstance(data, dict):
        return [text for value in data.values() for text in _date_times(value)]
    if isinstance(data, list):
        return [text for value in data for text in _date_times(value)]
    return [data] if isinstance(data, str) and DATE_TIME.fullmatch(data) else []


def _api_documents(sim: Simulator, http: httpx.Client) -> list[Any]:
    """Responses of every endpoint family that returns date-times."""
    sim.clock.advance(0.5)
    started = http.post(f"{V6}/load_tests/502/start").json()
    sim.clock.advance(30)
    sim.finish_run(started["id"], status="aborted", reason="user")
    schedule_body = {
        "starts": "2025-03-04T08:30:15.250Z",
        "recurrence_rule": {"frequency": "DAILY", "interval": 1, "until": "2025-04-01T08:30:15.750Z"},
    }
    return [
        started,
        http.post(f"{V6}/load_tests/504/schedule", json=schedule_body).json(),
        http.get(f"{V6}/projects").json(),
        http.get(f"{V6}/projects/77").json(),
        http.post(f"{V6}/projects", json={"name": "Fresh"}).json(),
        http.get(f"{V6}/load_tests").json(),
        http.get(f"{V6}/projects/77/load_tests").json(),
        http.get(f"{V6}/load_tests/501").json(),
        http.get(f"{V6}/test_runs").json(),
        http.get(f"{V6}/test_runs/{started['id']}").json(),
        http.get(f"{V6}/load_tests/501/test_runs").json(),
        http.get(f"{V6}/schedules").json(),
        http.get(f"{V6}/load_tests/504/schedule").json(),
        http.get("/loadtests/v2/runs", params={"test_id": 501}, headers=LEGACY).json(),
        http.get(f"/loadtests/v2/runs/{started['id']}", headers=LEGACY).json(),
        sim.run(started["id"]),
        sim.get_project(77),
        sim.load_test(501),
    ]


def test_exact_timestamps_by_default(fine_sim: Simulator, fine: httpx.Client) -> None:
    stamps = [text for document in _api_documents(fine_sim, fine) for text in _date_times(document)]
    assert any(DATE_TIME.fullmatch(text).group(1) for text in stamps)  # type: ignore[union-attr]


def test_every_returned_date_time_is_whole_seconds(fine_sim: Simulator, fine: httpx.Client) -> None:
    fine_sim.timestamps_in_whole_seconds = True
    documents = _api_documents(fine_sim, fine)
    stamps = [text for document in documents for text in _date_times(document)]
    assert len(stamps) > 100
    fractional = [text for text in stamps if "." in text]
    assert fractional == []
    run = documents[0]
    assert run["created"] == "2025-03-03T12:00:00Z"  # 12:00:00.623
    assert run["retention_expiry"] == "2025-04-02T12:00:00Z"
    assert run["status_details"]["entered"] == "2025-03-03T12:00:00Z"
    finished = documents[9]
    assert finished["ended"] == "2025-03-03T12:00:30Z"  # 12:00:30.623 truncated, not rounded
    assert finished["status_details"] == finished["status_history"][-1]
    assert finished["status_details"]["entered"] == "2025-03-03T12:00:30Z"
    assert finished["status_history"][0]["entered"] == "2025-03-03T12:00:00Z"
    schedule = documents[1]
    assert schedule["starts"] == "2025-03-04T08:30:15Z"
    assert schedule["recurrence_rule"]["until"] == "2025-04-01T08:30:15Z"
    legacy = documents[14]["k6-run"]
    assert legacy["created"] == "2025-03-03T12:00:00Z" and legacy["ended"] == "2025-03-03T12:00:30Z"


def test_whole_seconds_keep_exact_internal_times_for_filters(fine_sim: Simulator, fine: httpx.Client) -> None:
    fine_sim.reset(demo=False)
    project = fine_sim.add_project("Timing")
    test_id = fine_sim.add_load_test(project["id"], "Twice a second")["id"]
    fine_sim.timestamps_in_whole_seconds = True
    first = fine.post(f"{V6}/load_tests/{test_id}/start").json()  # 12:00:00.123
    fine_sim.clock.advance(0.6)
    second = fine.post(f"{V6}/load_tests/{test_id}/start").json()  # 12:00:00.723
    assert first["created"] == second["created"] == "2025-03-03T12:00:00Z"
    assert fine_sim.run_record(first["id"]).created < fine_sim.run_record(second["id"]).created

    def ids(**params: str) -> list[int]:
        body = fine.get(f"{V6}/load_tests/{test_id}/test_runs", params=params).json()
        return [run["id"] for run in body["value"]]

    # Re-using the displayed second as a filter does not exclude the runs it shows...
    assert ids(created_after=first["created"]) == [first["id"], second["id"]]
    # ...while the exact times still split them.
    assert ids(created_after="2025-03-03T12:00:00.500Z") == [second["id"]]
    assert ids(created_before="2025-03-03T12:00:00.500Z") == [first["id"]]
    assert ids(created_before="2025-03-03T12:00:00.723Z") == [first["id"]]
    global_ids = [
        run["id"] for run in fine.get(f"{V6}/test_runs?created_after=2025-03-03T12:00:00.124Z").json()["value"]
    ]
    assert global_ids == [second["id"]]
    assert ids(**{"$orderby": "created desc"}) == [second["id"], first["id"]]


def test_whole_seconds_can_be_switched_at_any_time(fine_sim: Simulator, fine: httpx.Client) -> None:
    assert fine.get(f"{V6}/test_runs/1234").json()["created"].endswith(".123Z")
    fine_sim.timestamps_in_whole_seconds = True
    assert not fine.get(f"{V6}/test_runs/1234").json()["created"].endswith(".123Z")
    assert "." not in fine.get(f"{V6}/test_runs/1234").json()["created"]
    fine_sim.timestamps_in_whole_seconds = False
    assert fine.get(f"{V6}/test_runs/1234").json()["created"].endswith(".123Z")


# --------------------------------------------------------------------------- count_supported

LISTS = [
    f"{V6}/projects",
    f"{V6}/load_tests",
    f"{V6}/projects/77/load_tests",
    f"{V6}/test_runs",
    f"{V6}/load_tests/501/test_runs",
    f"{V6}/schedules",
    f"{V6}/project-limits",
]


@pytest.mark.parametrize("path", LISTS)
def test_count_is_served_when_supported(client: httpx.Client, path: str) -> None:
    body = client.get(path, params={"$count": "true"}).json()
    assert body["@count"] >= len(body["value"]) >= 1


@pytest.mark.parametrize("path", LISTS)
def test_no_count_when_unsupported(sim: Simulator, client: httpx.Client, path: str) -> None:
    full = client.get(path, params={"$count": "true"}).json()
    sim.count_supported = False
    body = client.get(path, params={"$count": "true"}).json()
    assert "@count" not in body
    assert body["value"] == full["value"]
    paged = client.get(path, params={"$count": "true", "$top": "1"}).json()
    assert "@count" not in paged and len(paged["value"]) == 1
    if full["@count"] > 1:
        assert "$skip=1" in paged["@nextLink"] and "$count=true" in paged["@nextLink"]
        follow = client.get(paged["@nextLink"]).json()
        assert "@count" not in follow and follow["value"] == full["value"][1:2]
    else:
        assert "@nextLink" not in paged


def test_count_parameter_is_still_validated_without_count_support(sim: Simulator, client: httpx.Client) -> None:
    sim.count_supported = False
    response = client.get(f"{V6}/projects", params={"$count": "maybe"})
    assert response.status_code == 400 and response.json()["error"]["target"] == "$count"


# --------------------------------------------------------------------------- page_url_on_start_only


def test_page_url_everywhere_by_default(sim: Simulator, client: httpx.Client) -> None:
    run = client.post(f"{V6}/load_tests/502/start").json()
    assert run["test_run_details_page_url"] == f"{sim.stack_url}/a/k6-app/runs/{run['id']}"
    assert "test_run_details_page_url" in client.get(f"{V6}/test_runs/{run['id']}").json()
    assert all("test_run_details_page_url" in item for item in client.get(f"{V6}/test_runs").json()["value"])


def test_page_url_only_in_the_start_response(sim: Simulator, client: httpx.Client) -> None:
    sim.page_url_on_start_only = True
    started = client.post(f"{V6}/load_tests/502/start", headers={"K6-Idempotency-Key": "once"})
    run = started.json()
    page_url = f"{sim.stack_url}/a/k6-app/runs/{run['id']}"
    assert run["test_run_details_page_url"] == page_url
    replay = client.post(f"{V6}/load_tests/502/start", headers={"K6-Idempotency-Key": "once"}).json()
    assert replay["id"] == run["id"] and replay["test_run_details_page_url"] == page_url
    assert sim.start_run(502)["test_run_details_page_url"].startswith(sim.stack_url)

    fetched = client.get(f"{V6}/test_runs/{run['id']}").json()
    assert "test_run_details_page_url" not in fetched
    assert set(run) - set(fetched) == {"test_run_details_page_url"}
    for path in (f"{V6}/test_runs", f"{V6}/load_tests/502/test_runs"):
        assert all("test_run_details_page_url" not in item for item in client.get(path).json()["value"])
    assert "test_run_details_page_url" not in sim.run(run["id"])
    assert all("test_run_details_page_url" not in item for item in sim.list_runs(502))

    sim.page_url_on_start_only = False
    assert client.get(f"{V6}/test_runs/{run['id']}").json()["test_run_details_page_url"] == page_url
