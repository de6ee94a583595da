"""tools/observe.py: one event per HTTP attempt to k6 Cloud, with the path templated; observers cannot break requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import observe
from tools.client import K6CloudClient
from tools.errors import NotFound
from tools.simulator import Simulator
from tools.simulator.faults import Fault


@pytest.mark.parametrize(
    ("path", "route"),
    [
        ("/cloud/v6/test_runs/1234", "/cloud/v6/test_runs/{id}"),
        ("/cloud/v6/test_runs", "/cloud/v6/test_runs"),
        ("/cloud/v6/test_runs?$top=5", "/cloud/v6/test_runs"),
        ("/cloud/v6/load_tests/12/start", "/cloud/v6/load_tests/{id}/start"),
        ("/cloud/v6/load_tests(12)/start", "/cloud/v6/load_tests({id})/start"),
        ("/loadtests/v2/runs/55/abort", "/loadtests/v2/runs/{id}/abort"),
        (
            "/cloud/v5/test_runs/9/query_aggregate_k6(query='histogram_quantile(0.95)',metric='a/b')",
            "/cloud/v5/test_runs/{id}/query_aggregate_k6({args})",
        ),
        ("/cloud/v6/auth", "/cloud/v6/auth"),
        ("/x/0123456789abcdef0123/y", "/x/{id}/y"),
    ],
)
def test_route_of_templates_ids_and_arguments(path: str, route: str) -> None:
    assert observe.route_of(path) == route


async def test_every_attempt_is_reported_and_a_failing_observer_changes_nothing(
    client: K6CloudClient, sim: Simulator
) -> None:
    seen: list[observe.ApiAttempt] = []

    def broken(_attempt: observe.ApiAttempt) -> None:
        raise RuntimeError("observer bug")

    remove_broken = observe.add_observer(broken)
    remove = observe.add_observer(seen.append)
    observe.add_observer(seen.append)  # added twice: still told once per attempt
    try:
        sim.faults.add(Fault(method="GET", path=r"/cloud/v6/test_runs/\d+", status=503, times=1))
        run = await client.request("GET", "/cloud/v6/test_runs/1224", idempotent=True)
        assert run.status_code == 200
        with pytest.raises(NotFound):
            await client.request("GET", "/cloud/v6/test_runs/987654321", idempotent=True)
    finally:
        remove()
        remove_broken()
    assert [(a.operation, a.status, a.attempt) for a in seen] == [
        ("GET /cloud/v6/test_runs/{id}", 503, 1),
        ("GET /cloud/v6/test_runs/{id}", 200, 2),
        ("GET /cloud/v6/test_runs/{id}", 404, 1),
    ]
    assert all(0 <= a.seconds < 10 and a.error is None for a in seen)
    await client.request("GET", "/cloud/v6/test_runs/1224", idempotent=True)
    assert len(seen) == 3  # removed: no longer told


def test_tools_never_imports_prometheus() -> None:
    sources = Path(observe.__file__).parent.rglob("*.py")
    assert [p.name for p in sources if "prometheus" in p.read_text(encoding="utf-8")] == []


async def test_a_network_error_is_reported_without_a_status() -> None:
    from tests.conftest import make_settings

    seen: list[observe.ApiAttempt] = []
    remove = observe.add_observer(seen.append)
    try:
        async with K6CloudClient(make_settings("http://127.0.0.1:9", max_retries=1), backoff_base=0.0) as client:
            with pytest.raises(Exception, match="Could not reach k6 Cloud"):
                await client.request("GET", "/cloud/v6/test_runs/7", idempotent=True)
    finally:
        remove()
    assert [(a.route, a.status, a.error, a.attempt) for a in seen] == [
        ("/cloud/v6/test_runs/{id}", None, "ConnectError", 1),
        ("/cloud/v6/test_runs/{id}", None, "ConnectError", 2),
    ]
