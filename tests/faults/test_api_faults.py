"""k6 API faults over real HTTP (simulator ``/_sim`` faults) against the tool layer.

Reads must be retried to the correct answer; a v6 start whose answer is lost or replaced *after* k6 processed it
must be reconciled to exactly one run, and reported as started.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.conftest import ROWS, FaultRow
from tools.describe import describe
from tools.errors import ApiError, K6BotError, NotDone, OutcomeUnknown
from tools.operations.legacy import LegacyRunResult
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


# --------------------------------------------------------------------------- keyless writes: reconciled


def _labels_named(sim: Simulator, key: str) -> int:
    return sum(1 for label in sim.list_label_keys() if label["key"] == key)


KEYLESS: dict[str, dict[str, Any]] = {
    "create_project": {
        "arguments": lambda sim: {"name": "Fault Project"},
        "post": r"/cloud/v6/projects",
        "list": r"/cloud/v6/projects",
        "count": lambda sim: len(sim.find_projects("Fault Project")),
        "done": "Project 'Fault Project' (id",
    },
    "create_load_test": {
        "arguments": lambda sim: {"project": sim.default_project_id(), "name": "Fault Test"},
        "post": r"/cloud/v6/projects/\d+/load_tests",
        "list": r"/cloud/v6/projects/\d+/load_tests",
        "count": lambda sim: len(sim.find_load_tests(None, "Fault Test")),
        "done": "Load test 'Fault Test' (id",
    },
    "create_label_keys": {
        "arguments": lambda sim: {"keys": [{"key": "faultkey"}]},
        "post": r"/cloud/v6/labels",
        "list": r"/cloud/v6/labels",
        "count": lambda sim: _labels_named(sim, "faultkey"),
        "done": "faultkey (id",
    },
    "legacy_start_load_test": {
        "arguments": lambda sim: {"load_test": 501},
        "post": r"/loadtests/v2/tests/501/start-testrun",
        "list": r"/loadtests/v2/runs",
        "count": lambda sim: len(sim.run_ids()),
        "done": "Started '",
    },
}

AFTER: dict[str, dict[str, Any]] = {
    "drop after processing": {"kind": "drop", "after": True},
    "500 after processing": {"kind": "status", "status": 500, "after": True},
    "200 with a body that is not JSON": {"kind": "malformed", "after": True},
}
BEFORE: dict[str, dict[str, Any]] = {
    "500 before processing": {"kind": "status", "status": 500},
    "dropped connection before": {"kind": "drop"},
}


def _created(sim: Simulator, tool: str, before: int) -> int:
    return int(KEYLESS[tool]["count"](sim)) - before


@pytest.mark.parametrize("fault", list(AFTER))
@pytest.mark.parametrize("tool", list(KEYLESS))
async def test_a_keyless_write_whose_answer_is_lost_is_found_and_reported_done(
    toolbox: Toolbox, sim: Simulator, tool: str, fault: str
) -> None:
    spec = KEYLESS[tool]
    before = spec["count"](sim)
    sim.faults.add(Fault(method="POST", path=spec["post"], times=1, **AFTER[fault]))
    result = await toolbox.execute(tool, spec["arguments"](sim), confirmed=True)
    created = _created(sim, tool, before)
    ROWS.append(FaultRow(fault, f"POST {tool} (keyless)", "done", 1, created, counted="objects"))
    assert len(sim.faults) == 0, "the fault never fired"
    assert created == 1
    assert sim.count("POST", spec["post"]) == 1, "a keyless write must never be sent twice"
    text = describe(result)
    assert spec["done"] in text, text
    if tool == "legacy_start_load_test":
        assert isinstance(result, LegacyRunResult) and result.run.id == max(sim.run_ids())
        assert "answer was lost" in result.message and "checked that it was started" in result.message


@pytest.mark.parametrize("fault", list(BEFORE))
@pytest.mark.parametrize("tool", list(KEYLESS))
async def test_a_keyless_write_that_failed_before_processing_says_not_done(
    toolbox: Toolbox, sim: Simulator, tool: str, fault: str
) -> None:
    spec = KEYLESS[tool]
    before = spec["count"](sim)
    sim.faults.add(Fault(method="POST", path=spec["post"], times=1, **BEFORE[fault]))
    with pytest.raises(NotDone) as caught:
        await toolbox.execute(tool, spec["arguments"](sim), confirmed=True)
    created = _created(sim, tool, before)
    ROWS.append(FaultRow(fault, f"POST {tool} (keyless)", "not done", 0, created, counted="objects"))
    assert len(sim.faults) == 0, "the fault never fired"
    assert created == 0
    text = str(caught.value)
    done = "started" if tool == "legacy_start_load_test" else "created"
    assert f"was not {done}" in text and "safe to try again" in text, text
    assert "Traceback" not in text


@pytest.mark.parametrize("tool", list(KEYLESS))
async def test_a_keyless_write_that_cannot_be_reconciled_says_the_outcome_is_unknown(
    toolbox: Toolbox, sim: Simulator, tool: str
) -> None:
    """The answer is lost and the list that would tell stays unreadable: neither 'done' nor 'not done'."""
    spec = KEYLESS[tool]
    before = spec["count"](sim)
    sim.faults.add(Fault(method="GET", path=spec["list"], kind="latency", times=1))  # the look before: passes
    sim.faults.add(Fault(method="GET", path=spec["list"], kind="status", status=503, retry_after=0, times=None))
    sim.faults.add(Fault(method="POST", path=spec["post"], kind="drop", after=True, times=1))
    with pytest.raises(OutcomeUnknown) as caught:
        await toolbox.execute(tool, spec["arguments"](sim), confirmed=True)
    sim.faults.clear()
    created = _created(sim, tool, before)
    ROWS.append(FaultRow("drop after + list unreadable", f"POST {tool} (keyless)", "unknown", 1, created, "objects"))
    assert created == 1
    assert sim.count("POST", spec["post"]) == 1
    text = str(caught.value)
    assert "It is not known whether" in text and "Check in k6 Cloud before trying again" in text, text
    assert "was not" not in text and "safe to try again" not in text


async def test_two_new_runs_since_a_lost_legacy_start_are_not_claimed(
    toolbox: Toolbox, sim: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone else started the same test meanwhile: k6bot cannot tell which run is its own, and says so."""
    before = len(sim.run_ids())
    sim.faults.add(Fault(method="POST", path=KEYLESS["legacy_start_load_test"]["post"], kind="drop", after=True))
    op = toolbox.registry["legacy_start_load_test"]
    original = op.handler

    async def and_someone_else(ctx: Any, args: Any) -> Any:
        sim.start_run_record(501, None, None)  # another start lands between k6bot's look before and its write
        return await original(ctx, args)

    monkeypatch.setattr(op, "handler", and_someone_else)
    with pytest.raises(OutcomeUnknown) as caught:
        await toolbox.execute("legacy_start_load_test", {"load_test": 501}, confirmed=True)
    ROWS.append(FaultRow("drop after + a 2nd start by another", "POST legacy_start_load_test", "unknown", 2, 2))
    assert len(sim.faults) == 0, "the fault never fired"
    assert len(sim.run_ids()) - before == 2
    assert "2 new runs" in str(caught.value), str(caught.value)


async def test_a_start_that_fails_on_every_attempt_before_processing_says_not_started(
    toolbox: Toolbox, sim: Simulator
) -> None:
    """The same key on every retry, each refused with a 503 before k6 did anything: "not started", safely."""
    before = set(sim.run_ids())
    sim.faults.add(Fault(method="POST", path=START, kind="status", status=503, retry_after=0, times=None))
    with pytest.raises(NotDone) as caught:
        await toolbox.execute("start_load_test", {"load_test": 501}, confirmed=True)
    sim.faults.clear()
    created = set(sim.run_ids()) - before
    ROWS.append(FaultRow("503 on every attempt, before", "POST load_tests/{id}/start (tool)", "not started", 0, 0))
    assert created == set()
    assert sim.count("POST", START) >= 2, "a keyed start is retried"
    text = str(caught.value)
    assert "was not started" in text and "safe to try again" in text, text


async def test_a_start_whose_outcome_cannot_be_read_says_so(toolbox: Toolbox, sim: Simulator) -> None:
    runs = r"/cloud/v6/load_tests/501/test_runs"
    before = set(sim.run_ids())
    sim.faults.add(Fault(method="GET", path=runs, kind="latency", times=1))  # the look before the start: passes
    sim.faults.add(Fault(method="GET", path=runs, kind="status", status=503, retry_after=0, times=None))
    sim.faults.add(Fault(method="POST", path=START, kind="status", status=500, after=True, times=None))
    with pytest.raises(OutcomeUnknown) as caught:
        await toolbox.execute("start_load_test", {"load_test": 501}, confirmed=True)
    sim.faults.clear()
    created = set(sim.run_ids()) - before
    ROWS.append(FaultRow("500 after, runs unreadable", "POST load_tests/{id}/start (tool)", "unknown", 1, len(created)))
    assert len(created) == 1, "the key made every retry the same start"
    text = str(caught.value)
    assert "It is not known whether a run of load test" in text and "Check in k6 Cloud" in text, text
