"""The one retry policy (tools/retry.py) and what the k6 API client repeats with it, over real HTTP.

Which requests may be sent again, and whether a failed one possibly took effect anyway, is what decides
between "try again" and "find out what happened" for the layers above.
"""

from __future__ import annotations

import email.utils
import socket
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.conftest import make_settings
from tools.client import K6CloudClient
from tools.errors import ApiUnavailable, RateLimited, ServerError
from tools.models import LoadTest
from tools.registry import Toolbox
from tools.retry import Backoff, parse_retry_after
from tools.simulator import Fault, Simulator

NOW = datetime(2025, 1, 15, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("5", 5.0),
        (" 0.25 ", 0.25),
        ("-3", 0.0),
        (email.utils.format_datetime(NOW + timedelta(seconds=30), usegmt=True), 30.0),
        (email.utils.format_datetime(NOW - timedelta(seconds=30), usegmt=True), 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(base=1.0, cap=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (12, 8.0)]:
        delays = [backoff.delay(attempt) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), (attempt, min(delays), max(delays))
        assert len(set(delays)) > 100  # jittered: replicas retrying together spread out


async def test_an_http_date_retry_after_is_waited_for() -> None:
    """The simulator only sends delta-seconds; a transport at the network edge sends the date form."""
    answers = iter(
        [
            httpx.Response(
                503,
                headers={"Retry-After": email.utils.format_datetime(datetime.now(UTC) + timedelta(seconds=3))},
            ),
            httpx.Response(200, json={"id": 501, "project_id": 1, "name": "Orders"}),
        ]
    )
    delays: list[float] = []

    async def note(seconds: float) -> None:  # the wait is what is checked; waiting it out adds nothing
        delays.append(seconds)

    transport = httpx.MockTransport(lambda request: next(answers))
    async with K6CloudClient(make_settings("http://k6.invalid"), transport=transport, sleep=note) as client:
        response = await client.request("GET", "/cloud/v6/load_tests/501", idempotent=True)
    assert response.status_code == 200
    assert len(delays) == 1 and 1.5 <= delays[0] <= 3.0  # an HTTP date has a resolution of one second


async def test_a_keyless_post_whose_answer_was_lost_is_not_repeated_and_says_so(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/projects/\d+/load_tests", kind="drop", after=True))
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await client.request(
                "POST", "/cloud/v6/projects/77/load_tests", files=_form("Lost Answer Test"), idempotent=False
            )
    assert sim.count("POST", r"/cloud/v6/projects/\d+/load_tests") == 1
    assert caught.value.possibly_processed and caught.value.attempts == 1
    assert "Lost Answer Test" in {t.name for t in sim.find_load_tests()}  # it did happen


async def test_a_keyless_post_that_failed_with_a_5xx_may_have_been_processed(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/projects/\d+/load_tests", status=502, after=True))
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01) as client:
        with pytest.raises(ServerError) as caught:
            await client.request(
                "POST", "/cloud/v6/projects/77/load_tests", files=_form("Half Done Test"), idempotent=False
            )
    assert caught.value.possibly_processed and sim.count("POST", r"/cloud/v6/projects/\d+/load_tests") == 1


async def test_the_toolbox_reports_a_keyless_create_whose_answer_was_lost_as_done(
    toolbox: Toolbox, sim: Simulator
) -> None:
    """Above the client, the lost answer is reconciled: the test that was created is the result."""
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/projects/\d+/load_tests", kind="drop", after=True))
    created = await toolbox.execute(
        "create_load_test",
        {"project": 77, "name": "Lost Answer Test", "script": "export default function() {}"},
        confirmed=True,
    )
    assert sim.count("POST", r"/cloud/v6/projects/\d+/load_tests") == 1
    assert isinstance(created, LoadTest) and created.name == "Lost Answer Test"
    assert [t.id for t in sim.find_load_tests(77, "Lost Answer Test")] == [created.id]


def _form(name: str) -> dict[str, object]:
    return {"name": (None, name), "script": ("script.js", b"export default function() {}", "application/javascript")}


async def test_a_rate_limited_keyless_post_is_not_repeated_and_was_not_processed(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/projects/\d+/load_tests", status=429, retry_after=0.01))
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01) as client:
        with pytest.raises(RateLimited) as caught:
            await client.request("POST", "/cloud/v6/projects/77/load_tests", json={"name": "x"}, idempotent=False)
    assert not caught.value.possibly_processed and caught.value.attempts == 1
    assert sim.count("POST", r"/cloud/v6/projects/\d+/load_tests") == 1


async def test_a_keyless_post_that_never_left_is_repeated(unused_tcp_port: int) -> None:
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", unused_tcp_port)) != 0
    settings = make_settings(f"http://127.0.0.1:{unused_tcp_port}", max_retries=2)
    async with K6CloudClient(settings, backoff_base=0.01, backoff_max=0.02) as client:
        with pytest.raises(ApiUnavailable) as caught:
            await client.request("POST", "/cloud/v6/projects/77/load_tests", json={"name": "x"}, idempotent=False)
    assert caught.value.attempts == 3 and not caught.value.possibly_processed


async def test_a_read_that_recovers_after_a_lost_answer_is_fine(sim_url: str, sim: Simulator) -> None:
    sim.faults.add(Fault(method="GET", path=r"/cloud/v6/load_tests/501", kind="drop", after=True))
    async with K6CloudClient(make_settings(sim_url), backoff_base=0.01) as client:
        assert (await client.get_model(LoadTest, "/cloud/v6/load_tests/501")).id == 501
    assert sim.count("GET", "/cloud/v6/load_tests/501") == 2
