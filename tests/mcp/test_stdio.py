"""`k6bot mcp` as a subprocess over stdio, driven by the official MCP client on both protocol eras.

The server is pointed at a simulator over real HTTP through the same variables users set
(K6_CLOUD_API_URL, K6_CLOUD_TOKEN, K6_CLOUD_STACK_ID, K6BOT_DATABASE_URL).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from bot.audit import AuditLog
from bot.store import open_store
from tests.conftest import TEST_STACK, TEST_TOKEN
from tests.mcp.conftest import ABORT_PATH, START_PATH, Person, text_of
from tools.registry import Safety, get_registry
from tools.simulator import Simulator

REPO = Path(__file__).resolve().parents[2]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update(XDG_STATE_HOME=str(tmp_path / "state"), K6BOT_DATABASE_URL=str(tmp_path / "k6bot.db"))
    env.update(extra)
    return env


def cloud_env(tmp_path: Path, sim_url: str) -> dict[str, str]:
    return server_env(tmp_path, K6_CLOUD_API_URL=sim_url, K6_CLOUD_TOKEN=TEST_TOKEN, K6_CLOUD_STACK_ID=str(TEST_STACK))


def launch(
    env: dict[str, str], *args: str, mode: str, person: Person | None = None, errlog: TextIO = sys.stderr
) -> Client:
    params = StdioServerParameters(command=sys.executable, args=["-m", "bot.cli", "mcp", *args], env=env, cwd=REPO)
    return Client(
        stdio_client(params, errlog=errlog),
        mode=mode,
        elicitation_callback=person,
        client_info=types.Implementation(name="stdio-test", version="1"),
    )


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_confirmed_start_and_declined_abort_over_stdio(
    tmp_path: Path, sim_url: str, sim: Simulator, person: Person, mode: str
) -> None:
    person.will("accept", "decline")
    async with launch(cloud_env(tmp_path, sim_url), mode=mode, person=person) as client:
        tools = (await client.list_tools()).tools
        started = await client.call_tool("start_load_test", {"load_test": "orders soak test"})
        declined = await client.call_tool("abort_test_run", {"test_run_id": 1234})
        assert client.protocol_version == ("2025-11-25" if mode == "legacy" else mode)

    assert {t.name for t in tools} == {op.name for op in get_registry() if op.core}
    assert all(t.annotations is not None for t in tools)
    assert started.structured_content["outcome"] == "done", text_of(started)
    starts = [r for r in sim.requests if r.method == "POST" and r.path.endswith("/start")]
    assert [r.path for r in starts] == ["/cloud/v6/load_tests/501/start"]
    assert starts[0].headers.get("k6-idempotency-key")
    assert declined.structured_content["outcome"] == "declined"
    assert sim.count("POST", ABORT_PATH) == 0

    store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'k6bot.db'}")
    try:
        entries = list(reversed(await AuditLog(store).recent(10)))
    finally:
        await store.close()
    assert [(e.operation, e.decision, e.actor_id) for e in entries] == [
        ("start_load_test", "confirmed", "stdio-test"),
        ("abort_test_run", "cancelled", "stdio-test"),
    ]


async def test_a_client_without_elicitation_needs_confirm_true_over_stdio(
    tmp_path: Path, sim_url: str, sim: Simulator
) -> None:
    sim.clock.speed = 0
    progress: list[str] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(message or "")
        sim.clock.advance(4 * 3600)  # the running soak test ends before the next poll

    async with launch(cloud_env(tmp_path, sim_url), mode="2026-07-28") as client:
        ambiguous = await client.call_tool("start_load_test", {"load_test": "orders", "confirm": True})
        preview = await client.call_tool("start_load_test", {"load_test": "orders soak test"})
        none_yet = sim.count("POST", START_PATH)
        started = await client.call_tool("start_load_test", {"load_test": "orders soak test", "confirm": True})
        missing = await client.call_tool("get_test_run", {"test_run_id": 987654})
        waited = await client.call_tool(
            "wait_for_test_run", {"test_run_id": 1234, "poll_seconds": 0.5}, progress_callback=on_progress
        )

    assert ambiguous.structured_content["outcome"] == "ambiguous"
    assert "Orders API Soak Test" in text_of(ambiguous) and "Orders API Smoke" in text_of(ambiguous)
    assert preview.structured_content["outcome"] == "needs_confirmation"
    assert none_yet == 0
    assert started.structured_content["outcome"] == "done"
    assert sim.count("POST", START_PATH) == 1
    assert missing.is_error and text_of(missing) == "Test run 987654 not found."
    assert progress and progress[0].startswith("Run 1234 (Orders API Soak Test): running")
    assert waited.structured_content["finished"] is True


async def test_demo_mode_read_only_with_all_toolsets(tmp_path: Path) -> None:
    errlog = tmp_path / "stderr.txt"
    env = server_env(tmp_path, K6BOT_TOOLSETS="all")
    with errlog.open("w") as log:
        async with launch(env, "--read-only", mode="legacy", errlog=log) as client:
            tools = (await client.list_tools()).tools
            refused = await client.call_tool("delete_load_test", {"load_test": 501, "confirm": True})
            runs = await client.call_tool("list_test_runs", {"status": '["active"]', "limit": 5})
            instructions = client.instructions or ""

    read_ops = {op.name for op in get_registry() if op.safety is Safety.READ}
    assert {t.name for t in tools} == read_ops
    assert refused.is_error and "read-only" in text_of(refused)
    assert not runs.is_error, text_of(runs)
    assert {item["status"] for item in runs.structured_content["items"]} <= {
        "created",
        "queued",
        "initializing",
        "running",
        "processing_metrics",
    }
    assert "DEMO MODE" in instructions and "read-only" in instructions
    assert "k6bot is in demo mode" in errlog.read_text()
