"""k6 API faults over real HTTP (simulator ``/_sim`` faults) against the tool layer.

Reads must be retried to the correct answer; a v6 start whose answer is lost or replaced *after* k6 processed it
must be reconciled to exactly one run, and reported as started.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.conftest import ROWS, FaultRow
from tools.errors import ApiError, K6BotError
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


MALFORMED_READS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "get_test_run": ("GET", READ, {"test_run_id": 1233}),
    "list_projects": ("GET", r"/cloud/v6/projects", {}),
    "list_test_runs": ("GET", r"/cloud/v6/load_tests/501/test_runs", {"load_test": 501}),
}


@pytest.mark.parametrize("tool", list(MALFORMED_READS))
async def test_a_200_with_a_body_that_is_not_json_is_a_clear_error(toolbox: Toolbox, sim: Simulator, tool: str) -> None:
    method, path, arguments = MALFORMED_READS[tool]
    sim.faults.add(Fault(method=method, path=path, kind="malformed", times=None))
    with pytest.raises(K6BotError) as caught:
        await toolbox.execute(tool, arguments, confirmed=True)
    sim.faults.clear()
    text = str(caught.value)
    ROWS.append(FaultRow("200 with a body that is not JSON", f"{method} {tool} (tool layer)", "clear error", 0, 0))
    assert isinstance(caught.value, ApiError) and caught.value.code == "unexpected_response"
    assert "k6 Cloud answered GET" in text and "not JSON" in text, text
    assert "JSONDecodeError" not in text and "Traceback" not in text and "line 1 column" not in text
    assert sim.count("GET", path) >= 1


async def test_a_start_answered_200_with_a_body_that_is_not_json_is_reported_as_started(
    toolbox: Toolbox, sim: Simulator
) -> None:
    """A 2xx means k6 Cloud did it: an unreadable answer to a start is a lost answer, reconciled to its run."""
    before = set(sim.run_ids())
    sim.faults.add(Fault(method="POST", path=START, kind="malformed", after=True))
    started = await toolbox.execute("start_load_test", {"load_test": 501}, confirmed=True)
    created = set(sim.run_ids()) - before
    ROWS.append(
        FaultRow("200 with a body that is not JSON", "POST load_tests/{id}/start (tool)", "started", 1, len(created))
    )
    assert len(sim.faults) == 0, "the fault never fired"
    assert created == {started.test_run.id}
    assert "answer was lost" in started.message
