"""10,000 generated inputs: 8,000 typed texts through the parser and 2,000 tool calls with junk arguments
through the real MCP server (mcp.Client, in memory) against the simulator.

Seeded, so a failure is reproducible. Whatever arrives: no traceback, a clear answer, and nothing that needs a
person's yes reaches k6 Cloud as a write while the person says no. The secret guard in tests/conftest.py
watches every output of these calls too.
"""

from __future__ import annotations

import random
from typing import Any

from mcp_types import CallToolResult

from bot.audit import AuditLog
from bot.mcp import build_server
from tests.faults.conftest import ROWS, FaultRow
from tests.mcp.conftest import connect, text_of
from tests.router.test_properties import WORDS, _check
from tools.registry import Toolbox, get_registry
from tools.simulator import Simulator

SEED = 20261204
TEXTS = 8_000
TOOL_CALLS = 2_000

# The property tests' words, and the names, questions and marks people paste on top of them.
_VOCABULARY = (
    *WORDS,
    "is",
    "did",
    "why",
    "compare",
    "trend",
    "chart",
    "orders",
    "soak",
    "checkout",
    "spike",
    "smoke",
    "weekdays",
    "9:30",
    "my",
    "1224",
    "-1",
    ":",
    '"quoted"',
    "'single'",
    "<@U1>",
    "*bold*",
    "_it_",
    "~s~",
    "`c`",
    "https://example.grafana.net/a/k6-app/runs/1234",
    "\x00",
    "\t",
)

_JUNK_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1, 1234, 2**63, 1.5, float("inf"), "", " ", "x" * 5_000, "orders soak",
    "#1234", "run 1234", "1234", "running", "failed", "2026-12-01", "not-a-date", "\x00", "\ud800", "<!channel>",
    "*bold*", [], [1, 2], ["a"], {}, {"a": 1}, {"$gt": ""}, "' OR 1=1 --", "../../etc/passwd",
)  # fmt: skip


def _text(rng: random.Random) -> str:
    words = [rng.choice(_VOCABULARY) for _ in range(rng.randint(0, 14))]
    if words and rng.random() < 0.1:  # a typo: two letters swapped
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) > 2:
            j = rng.randrange(len(w) - 1)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    if rng.random() < 0.05:
        words.append("".join(chr(rng.randint(1, 0x2FFF)) for _ in range(rng.randint(1, 40))))
    return " ".join(words)


def test_8000_generated_texts_never_raise_and_never_write_unasked() -> None:
    rng = random.Random(SEED)
    for _ in range(TEXTS):
        _check(_text(rng))
    ROWS.append(FaultRow(f"{TEXTS:,} generated texts", "parser (Slack / chat / explain)", "no error", 0, 0))


def _arguments(rng: random.Random, schema: dict[str, Any]) -> dict[str, Any]:
    properties = [name for name in schema.get("properties", {}) if name != "confirm"]
    arguments: dict[str, Any] = {}
    for name in properties:
        if rng.random() < 0.7:
            arguments[name] = rng.choice(_JUNK_VALUES)
    if rng.random() < 0.1:
        arguments[rng.choice(["extra", "__proto__", "test_run_id ", ""])] = rng.choice(_JUNK_VALUES)
    return arguments


async def _declines(context: Any, params: Any) -> Any:
    from mcp_types import ElicitResult

    return ElicitResult(action="decline")


async def test_2000_junk_tool_calls_get_clear_answers_and_write_nothing_unconfirmed(
    toolbox: Toolbox, sim: Simulator, audit: AuditLog
) -> None:
    rng = random.Random(SEED)
    confirming = {op.name for op in get_registry() if op.needs_confirmation}
    runs_before = set(sim.run_ids())
    server = build_server(toolbox, audit=audit)
    errors = 0
    async with connect(server, "legacy", person=_declines) as client:  # type: ignore[arg-type]
        tools = (await client.list_tools()).tools
        assert tools
        for _ in range(TOOL_CALLS):
            tool = rng.choice(tools)
            arguments = _arguments(rng, tool.input_schema)
            if tool.name == "wait_for_test_run":
                # A valid wait on a running run really waits (up to 30 min by default): keep the junk, cap the wait.
                timeout = arguments.get("timeout_seconds", 1800)
                if isinstance(timeout, int | float) and not isinstance(timeout, bool) and timeout > 1:
                    arguments["timeout_seconds"] = 1
            sim.clear_requests()
            result = await client.call_tool(tool.name, arguments)
            assert isinstance(result, CallToolResult)
            text = text_of(result)
            assert text.strip(), f"{tool.name}({arguments!r}) answered nothing"
            assert "Traceback" not in text and "pydantic" not in text.lower(), f"{tool.name}: {text[:300]}"
            errors += bool(result.is_error)
            if tool.name in confirming:
                writes = [f"{r.method} {r.path}" for r in sim.requests if r.method not in ("GET", "HEAD")]
                writes = [w for w in writes if "validate" not in w]
                assert not writes, f"{tool.name}({arguments!r}) wrote without a yes: {writes}"
    assert set(sim.run_ids()) == runs_before, "a run was started although every question was declined"
    assert 0 < errors < TOOL_CALLS, "junk arguments should mostly, not always, be refused"
    ROWS.append(FaultRow(f"{TOOL_CALLS:,} junk tool calls ({errors:,} refused)", "MCP tools/call", "no write", 0, 0))
