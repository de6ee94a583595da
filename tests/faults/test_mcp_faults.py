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


KEYLESS_OVER_MCP: dict[str, tuple[str, dict[str, Any], str]] = {
    "create_project": (r"/cloud/v6/projects", {"name": "Lost Over MCP"}, "Project 'Lost Over MCP' (id"),
    "legacy_start_load_test": (r"/loadtests/v2/tests/501/start-testrun", {"load_test": 501}, "Started '"),
}


@pytest.mark.parametrize("tool", list(KEYLESS_OVER_MCP))
@pytest.mark.parametrize("after", [True, False], ids=["drop after processing", "drop before processing"])
async def test_a_keyless_write_over_mcp_says_done_or_not_done_as_k6_shows(
    toolbox: Toolbox, sim: Simulator, audit: AuditLog, tool: str, after: bool
) -> None:
    path, arguments, done = KEYLESS_OVER_MCP[tool]
    server = build_server(toolbox, audit=audit, toolsets="all")
    runs, projects = len(sim.run_ids()), len(sim.find_projects())
    sim.faults.add(Fault(method="POST", path=path, kind="drop", after=after))
    async with connect(server, PROTOCOLS[0], person=Person(sim).will("accept")) as client:
        result = await client.call_tool(tool, arguments)
    created = len(sim.run_ids()) - runs + len(sim.find_projects()) - projects
    entries = await audit_entries(audit)
    text = text_of(result)
    ROWS.append(
        FaultRow(
            f"drop {'after' if after else 'before'}",
            f"MCP {tool}",
            "done" if after else "not done",
            int(after),
            created,
            "objects",
        )
    )
    assert len(sim.faults) == 0, "the fault never fired"
    assert created == int(after), text
    assert sim.count("POST", path) == 1
    if after:
        assert not result.is_error and done in text, text
        assert [(e.operation, e.result) for e in entries] == [(tool, "ok")]
    else:
        assert result.is_error and "was not" in text and "safe to try again" in text, text
        assert len(entries) == 1 and entries[0].result != "ok"
