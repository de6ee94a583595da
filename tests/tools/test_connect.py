"""The tool layer's front door, configured from the environment like the k6 CLI."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_STACK, TEST_TOKEN
from tools import connect
from tools.simulator import Simulator


async def test_connect_reads_the_k6_environment(sim_url: str, sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K6_CLOUD_TOKEN", TEST_TOKEN)
    monkeypatch.setenv("K6_CLOUD_STACK_ID", str(TEST_STACK))
    monkeypatch.setenv("K6_CLOUD_API_URL", sim_url)
    async with connect() as toolbox:
        tests = await toolbox.execute("list_load_tests", {"limit": 100})
        assert "Orders API Soak Test" in {t.name for t in tests.items}
        preview = await toolbox.prepare("start_load_test", {"load_test": "orders soak test"})
        started = await toolbox.execute("start_load_test", preview.arguments, confirmed=True)
        aborted = await toolbox.execute("abort_test_run", {"test_run_id": started.test_run.id}, confirmed=True)
    starts = [r for r in sim.requests if r.method == "POST" and r.path.endswith("/start")]
    assert [r.path for r in starts] == ["/cloud/v6/load_tests/501/start"]
    assert starts[0].headers.get("k6-idempotency-key")
    assert aborted.test_run.status == "aborted"
