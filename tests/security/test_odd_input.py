"""Odd input is refused or normalised at the edge, and never loses an audit row.

Lone surrogates (valid JSON, not valid UTF-8) are stored as U+FFFD; command text with control characters
is refused before anything is resolved; a JSON boolean is not an id.
"""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from bot.audit import AuditLog
from bot.mcp import build_server
from bot.router.text import refuse_control_characters
from bot.store import open_store
from tests.chat.test_chat import _run
from tests.conftest import make_settings
from tests.slack.conftest import Harness
from tools.registry import Toolbox
from tools.simulator import Simulator

START = r"/cloud/v6/load_tests/\d+/start"


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


# --------------------------------------------------------------------------- lone surrogates


async def test_a_note_with_a_lone_surrogate_is_audited_with_a_replacement_character(
    sim: Simulator, toolbox: Toolbox
) -> None:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        audit = AuditLog(store)
        server = build_server(toolbox, audit=audit, toolsets="all")
        async with Client(server) as client:
            result = await client.call_tool("update_test_run", {"test_run_id": 1234, "note": "half \ud83d of a smile"})
        entries = await audit.recent(10)
    finally:
        await store.close()
    assert len(entries) == 1, "the audit row was lost"
    entry = entries[0]
    assert entry.operation == "update_test_run" and entry.decision == "direct"
    assert entry.arguments["note"] == "half \ufffd of a smile"
    assert not result.is_error or "\ud83d" not in text_of(result)


async def test_the_audit_log_stores_any_text(sim: Simulator) -> None:
    from bot.policy import Actor

    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        audit = AuditLog(store)
        actor = Actor("slack", "U0\udc80X", name="eve \ud800")
        await audit.record(
            actor,
            operation="note",
            safety="write",
            decision="direct",
            result="ok \udfff",
            detail="detail \ud800\udc00 pair and lone \ud800",
            target="run \udc00",
            arguments={"note": ["\ud800", {"k\udc00": "v\ud800"}], "n": 3},
        )
        [entry] = await audit.recent(1)
    finally:
        await store.close()
    assert entry.actor_id == "U0\ufffdX" and entry.actor_name == "eve \ufffd"
    assert entry.result == "ok \ufffd" and entry.target == "run \ufffd"
    assert entry.detail == "detail \ufffd\ufffd pair and lone \ufffd"
    assert entry.arguments == {"note": ["\ufffd", {"k\ufffd": "v\ufffd"}], "n": 3}


# --------------------------------------------------------------------------- control characters


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("start orders\x00soak test", "U+0000"),
        ("start orders\x1b[31msoak", "U+001B"),
        ("abort run 1234\x7f", "U+007F"),
        ("start \u202eorders soak", "U+202E"),
        ("note run 1 \x08\x08", "U+0008"),
        ("start orders \ud800 soak", "U+D800"),
    ],
)
def test_control_characters_are_named_in_the_refusal(text: str, named: str) -> None:
    refusal = refuse_control_characters(text)
    assert refusal is not None and named in refusal and "Nothing was done" in refusal


@pytest.mark.parametrize("text", ["list tests", "note run 1 line one\nline two\tindented", "a\r\nb", "", "émoji 🚀 ok"])
def test_ordinary_text_passes(text: str) -> None:
    assert refuse_control_characters(text) is None


async def test_slack_refuses_a_command_with_control_characters_before_resolving_anything(harness: Harness) -> None:
    await harness.command("start orders\x00soak test")
    await harness.command("note run 1234 \x1b[2Jcleared")
    calls = await harness.responses(2)
    await harness.settle()
    for call in calls:
        assert "control character" in call.text and "Nothing was done" in call.text, call.text
        assert "Confirm" not in call.text
    assert harness.sim.requests == []  # not even a lookup of the test's name


def test_the_terminal_refuses_a_command_with_control_characters(sim: Simulator, sim_url: str, tmp_path) -> None:
    code, out, err = _run(
        make_settings(sim_url), "start orders\x00soak test", yes=True, database_url=str(tmp_path / "db")
    )
    assert code == 1
    assert "control character" in out + err and "U+0000" in out + err
    assert sim.requests == []


async def test_mcp_refuses_a_test_name_with_control_characters(sim: Simulator, toolbox: Toolbox) -> None:
    async with Client(build_server(toolbox)) as client:
        result = await client.call_tool("start_load_test", {"load_test": "orders\x00soak test", "confirm": True})
    assert result.is_error and "control character" in text_of(result), text_of(result)
    assert sim.requests == []


# --------------------------------------------------------------------------- booleans are not ids


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("get_test_run", {"test_run_id": True}, "test_run_id"),
        ("get_test_run", {"run_id": False}, "run_id"),
        ("abort_test_run", {"test_run_id": True, "confirm": True}, "test_run_id"),
        ("start_load_test", {"load_test": True, "confirm": True}, "load_test"),
        ("list_test_runs", {"limit": True}, "limit"),
        ("list_load_tests", {"project": True}, "project"),
    ],
)
async def test_mcp_refuses_a_boolean_where_a_number_belongs(
    sim: Simulator, toolbox: Toolbox, tool: str, arguments: dict[str, Any], field: str
) -> None:
    async with Client(build_server(toolbox, toolsets="all")) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error, text_of(result)
    assert f"'{field}'" in text_of(result) and "true or false" in text_of(result), text_of(result)
    assert sim.requests == []


async def test_numbers_and_numeric_strings_still_work(sim: Simulator, toolbox: Toolbox) -> None:
    async with Client(build_server(toolbox, toolsets="all")) as client:
        as_int = await client.call_tool("get_test_run", {"test_run_id": 1234})
        as_text = await client.call_tool("get_test_run", {"test_run_id": "1234"})
        listed = await client.call_tool("list_test_runs", {"limit": 2, "load_test": 501})
    for result in (as_int, as_text, listed):
        assert not result.is_error, text_of(result)
    assert json.dumps(as_int.structured_content) == json.dumps(as_text.structured_content)
