"""The v6 start through the MCP server (real mcp.Client, in memory) while k6 loses or replaces the answer.

Counted at the edges: runs created at the simulator, audit rows written, and the text the assistant reads must
say it started (never "failed, try again").
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.audit import AuditLog
from bot.mcp import build_server
from tests.faults.conftest import ROWS, FaultRow
from tests.mcp.conftest import PROTOCOLS, Person, audit_entries, connect, text_of
from tools.registry import Toolbox
from tools.simulator import Fault, Simulator

AFTER_FAULTS: dict[str, dict[str, Any]] = {
    "drop after processing": {"kind": "drop", "after": True},
    "502 after processing": {"kind": "status", "status": 502, "after": True},
    "503 burst x2, Retry-After 0": {"kind": "status", "status": 503, "retry_after": 0, "times": 2},
    "200 with a body that is not JSON": {"kind": "malformed", "after": True},
}


@pytest.mark.parametrize("name", list(AFTER_FAULTS))
async def test_a_start_whose_answer_is_lost_is_reported_once_as_started(
    toolbox: Toolbox, sim: Simulator, audit: AuditLog, name: str
) -> None:
    server = build_server(toolbox, audit=audit)
    before = set(sim.run_ids())
    sim.faults.add(Fault(method="POST", path=r"/cloud/v6/load_tests/501/start", **{"times": 1, **AFTER_FAULTS[name]}))
    async with connect(server, PROTOCOLS[0], person=Person(sim).will("accept")) as client:
        result = await client.call_tool("start_load_test", {"load_test": 501})
    created = set(sim.run_ids()) - before
    entries = await audit_entries(audit)
    ROWS.append(FaultRow(name, "MCP start_load_test", "started" if created else "not started", 1, len(created)))
    text = text_of(result)
    assert len(sim.faults) == 0, "the fault never fired"
    assert len(created) == 1, text
    assert not result.is_error, text
    assert "Started 'Orders API Soak Test'" in text
    assert "try again" not in text.lower() and "failed" not in text.lower()
    assert [(e.operation, e.result) for e in entries] == [("start_load_test", "ok")]
