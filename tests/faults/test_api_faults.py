"""k6 API faults over real HTTP (simulator ``/_sim`` faults) against the tool layer.

Reads must be retried to the correct answer; a v6 start whose answer is lost or replaced *after* k6 processed it
must be reconciled to exactly one run, and reported as started.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.conftest import ROWS, FaultRow
from tools.registry import Toolbox
from tools.simulator import Fault, Simulator

START = r"/cloud/v6/load_tests/501/start"
READ = r"/cloud/v6/test_runs/1233"

FAULTS: dict[str, dict[str, Any]] = {
    "drop after processing": {"kind": "drop", "after": True},
    "500 after processing": {"kind": "status", "status": 500, "after": True},
    "503 burst x2, Retry-After 0": {"kind": "status", "status": 503, "retry_after": 0, "times": 2},
    "429 burst x2, Retry-After 0": {"kind": "status", "status": 429, "retry_after": 0, "times": 2},
    "dropped connection before": {"kind": "drop"},
}


@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_read_under_fault_is_retried_to_the_right_answer(toolbox: Toolbox, sim: Simulator, name: str) -> None:
    spec = {"times": 1, **FAULTS[name]}
    sim.faults.add(Fault(method="GET", path=READ, **spec))
    result = await toolbox.execute("get_test_run", {"test_run_id": 1233}, confirmed=True)
    assert result.id == 1233
    assert len(sim.faults) == 0, "the fault never fired"
    ROWS.append(FaultRow(name, "GET test_runs/{id} (tool layer)", "correct", 0, 0))


@pytest.mark.parametrize("name", list(FAULTS))
async def test_a_start_under_fault_creates_exactly_one_run(toolbox: Toolbox, sim: Simulator, name: str) -> None:
    spec = {"times": 1, **FAULTS[name]}
    before = set(sim.run_ids())
    sim.faults.add(Fault(method="POST", path=START, **spec))
    started = await toolbox.execute("start_load_test", {"load_test": 501}, confirmed=True)
    created = set(sim.run_ids()) - before
    ROWS.append(FaultRow(name, "POST load_tests/{id}/start (tool)", "started", 1, len(created)))
    assert len(sim.faults) == 0, "the fault never fired"
    assert created == {started.test_run.id}
