"""Schedules over HTTP and the next-run computation."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tools.simulator import Simulator
from tools.simulator.recurrence import CronError, next_cron_time, next_run

from .conftest import START, USER, V6, error_of

SCHEDULE_FIELDS = {
    "id",
    "load_test_id",
    "starts",
    "recurrence_rule",
    "cron",
    "deactivated",
    "next_run",
    "created_by",
}


def test_demo_schedules(client: httpx.Client) -> None:
    body = client.get(f"{V6}/schedules?$count=true").json()
    assert body["@count"] == 4 and set(body["value"][0]) == SCHEDULE_FIELDS
    daily = client.get(f"{V6}/schedules/1").json()
    assert daily["recurrence_rule"] == {
        "frequency": "DAILY",
        "interval": 1,
        "byday": None,
        "until": None,
        "count": None,
    }
    assert daily["next_run"] == "2025-03-04T06:00:00Z"  # START is 2025-03-03 12:00 UTC
    weekly_cron = client.get(f"{V6}/load_tests/504/schedule").json()
    assert weekly_cron["deactivated"] is True and weekly_cron["next_run"] == "2025-03-10T02:00:00Z"
    assert client.get(f"{V6}/schedules/3").json()["next_run"] is None  # one-shot in the past


def test_set_schedule_creates_then_overwrites(client: httpx.Client) -> None:
    body = {"starts": "2025-03-05T08:30:00Z", "recurrence_rule": {"frequency": "HOURLY", "interval": 2}}
    created = client.post(f"{V6}/load_tests/505/schedule", json=body)
    assert created.status_code == 200
    schedule = created.json()
    assert schedule["next_run"] == "2025-03-05T08:30:00Z" and schedule["created_by"] == USER
    assert schedule["recurrence_rule"]["interval"] == 2 and schedule["cron"] is None
    cron = {
        "starts": "2025-03-01T00:00:00Z",
        "cron": {"schedule": "30 9 * * 1-5", "time_zone": "Europe/Berlin"},
    }
    replaced = client.post(f"{V6}/load_tests/505/schedule", json=cron).json()
    assert replaced["id"] == schedule["id"] and replaced["recurrence_rule"] is None
    assert replaced["next_run"] == "2025-03-04T08:30:00Z"  # 09:30 CET on Tuesday
    assert client.get(f"{V6}/load_tests/505/schedule").json() == replaced


def test_schedule_validation(client: httpx.Client) -> None:
    url = f"{V6}/load_tests/505/schedule"
    assert error_of(client.post(url, json={}), 400)["target"] == "starts"
    assert error_of(client.post(url, json={"starts": "soon"}), 400)["target"] == "starts"
    rule_and_cron = {"starts": "2025-03-05T08:30:00Z", "recurrence_rule": {"frequency": "DAILY"}, "cron": {}}
    error_of(client.post(url, json=rule_and_cron), 400)
    bad_frequency = {"starts": "2025-03-05T08:30:00Z", "recurrence_rule": {"frequency": "SOMETIMES"}}
    assert error_of(client.post(url, json=bad_frequency), 400)["target"] == "recurrence_rule.frequency"
    bad_cron = {"starts": "2025-03-05T08:30:00Z", "cron": {"schedule": "61 * * * *", "time_zone": "UTC"}}
    assert error_of(client.post(url, json=bad_cron), 400)["target"] == "cron.schedule"
    bad_zone = {
        "starts": "2025-03-05T08:30:00Z",
        "cron": {"schedule": "0 * * * *", "time_zone": "Mars/Olympus"},
    }
    assert error_of(client.post(url, json=bad_zone), 400)["target"] == "cron.time_zone"
    error_of(client.get(f"{V6}/load_tests/505/schedule"), 404)
    error_of(client.post(f"{V6}/load_tests/9999/schedule", json={"starts": "2025-03-05T08:30:00Z"}), 404)


def test_activate_deactivate_delete(client: httpx.Client) -> None:
    assert client.post(f"{V6}/schedules/1/deactivate").status_code == 204
    assert client.get(f"{V6}/schedules/1").json()["deactivated"] is True
    assert client.post(f"{V6}/schedules/1/activate").status_code == 204
    assert client.get(f"{V6}/schedules/1").json()["deactivated"] is False
    error = error_of(client.post(f"{V6}/schedules/3/activate"), 409)  # expired
    assert error["code"] == "conflict"
    assert client.delete(f"{V6}/schedules/1").status_code == 204
    error_of(client.get(f"{V6}/schedules/1"), 404)
    error_of(client.post(f"{V6}/schedules/1/activate"), 404)


def test_next_run_moves_with_the_clock(sim: Simulator) -> None:
    sim.clock.advance(24 * 3600)
    assert sim.get_schedule(1)["next_run"] == "2025-03-05T06:00:00Z"


NOW = datetime(2024, 7, 20, 12, 0, tzinfo=UTC)
STARTS = datetime(2024, 7, 16, 8, 46, 4, tzinfo=UTC)  # a Tuesday


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"frequency": "HOURLY", "interval": 2}, datetime(2024, 7, 20, 12, 46, 4, tzinfo=UTC)),
        ({"frequency": "DAILY"}, datetime(2024, 7, 21, 8, 46, 4, tzinfo=UTC)),
        ({"frequency": "WEEKLY", "byday": ["SA", "SU"]}, datetime(2024, 7, 21, 8, 46, 4, tzinfo=UTC)),
        ({"frequency": "WEEKLY", "byday": ["SA", "SU"], "count": 1}, None),
        ({"frequency": "WEEKLY"}, datetime(2024, 7, 23, 8, 46, 4, tzinfo=UTC)),
        ({"frequency": "MONTHLY"}, datetime(2024, 8, 16, 8, 46, 4, tzinfo=UTC)),
        ({"frequency": "YEARLY"}, datetime(2025, 7, 16, 8, 46, 4, tzinfo=UTC)),
        ({"frequency": "DAILY", "count": 3}, None),
        ({"frequency": "DAILY", "count": 6}, datetime(2024, 7, 21, 8, 46, 4, tzinfo=UTC)),
        ({"frequency": "DAILY", "until": "2024-07-20T23:00:00Z"}, None),
    ],
)
def test_recurrence_rules(rule: dict[str, object], expected: datetime | None) -> None:
    assert next_run(STARTS, rule, None, NOW) == expected


def test_monthly_clamps_to_the_last_day() -> None:
    starts = datetime(2024, 1, 31, 10, 0, tzinfo=UTC)
    assert next_run(starts, {"frequency": "MONTHLY"}, None, datetime(2024, 2, 1, tzinfo=UTC)) == datetime(
        2024, 2, 29, 10, 0, tzinfo=UTC
    )


def test_one_shot_and_cron() -> None:
    assert next_run(STARTS, None, None, NOW) is None
    assert next_run(NOW.replace(year=2028), None, None, NOW) == NOW.replace(year=2028)
    cron = {"schedule": "0 7 * * 1", "time_zone": "UTC"}
    assert next_run(STARTS, None, cron, NOW) == datetime(2024, 7, 22, 7, 0, tzinfo=UTC)
    assert next_cron_time("*/15 * * * *", "UTC", NOW) == datetime(2024, 7, 20, 12, 15, tzinfo=UTC)
    assert next_cron_time("0 0 1 jan *", "UTC", NOW) == datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(CronError):
        next_cron_time("* * *", "UTC", NOW)


def test_fixture_start_is_a_monday() -> None:
    assert START.weekday() == 0
