"""The tool surface: derived from the registry, annotated by safety class, small by default, snapshotted."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, get_args

import mcp_types as types
import pytest

from bot.audit import AuditLog
from bot.mcp import build_server
from bot.mcp.results import Outcome
from tests.mcp.conftest import START_PATH, audit_entries, connect, text_of
from tools.errors import InvalidInput
from tools.operations.common import EXPLAINED_ONCE
from tools.registry import Safety, Toolbox, get_registry
from tools.simulator import Simulator

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"
UPDATE_SNAPSHOTS = os.environ.get("K6BOT_UPDATE_SNAPSHOTS") == "1"  # read at import: fixtures clear K6BOT_*
TOKEN_BUDGET = 3000
ALL_TOKEN_BUDGET = 12000
RUN_TOKEN_BUDGET = 60
"""Tokens (bytes/4) a listed run may cost in a list_test_runs answer, text and structured content together."""
REGISTRY = get_registry()


async def list_tools(server: Any, protocol: str = "legacy") -> list[types.Tool]:
    async with connect(server, protocol) as client:
        return (await client.list_tools()).tools


def wire(tool: types.Tool) -> dict[str, Any]:
    return tool.model_dump(mode="json", by_alias=True, exclude_none=True)


async def test_every_registry_operation_is_a_tool_with_its_title_schemas_and_description(toolbox: Toolbox) -> None:
    tools = await list_tools(build_server(toolbox, toolsets="all"))

    assert [t.name for t in tools] == REGISTRY.names()
    for tool in tools:
        op = REGISTRY[tool.name]
        assert tool.title == op.title
        assert tool.description and tool.description.startswith(op.summary)
        assert tool.input_schema["type"] == "object"
        assert set(op.input.model_fields) <= set(tool.input_schema["properties"])
        assert tool.output_schema and tool.output_schema["type"] == "object"
        assert "$ref" not in json.dumps(tool.input_schema) + json.dumps(tool.output_schema)
        if op.needs_confirmation:
            assert tool.input_schema["properties"]["confirm"] == {
                "type": "boolean",
                "default": False,
                "description": tool.input_schema["properties"]["confirm"]["description"],
            }
            assert "`confirm`" in tool.description  # the flow itself is in the server instructions, once
            assert "preview" in tool.input_schema["properties"]["confirm"]["description"]
            assert set(tool.output_schema["properties"]) >= {"outcome", "message", "preview", "result"}
        else:
            assert "confirm" not in tool.input_schema["properties"]
            assert set(tool.output_schema["properties"]) == set(op.output.model_fields)
        if op.deprecated:
            assert op.deprecated in tool.description


@pytest.mark.parametrize("arguments", [{"limit": 20}, {"load_test": 501, "limit": 20}], ids=["stack", "one-test"])
async def test_a_listed_run_costs_at_most_60_tokens_and_keeps_what_programs_need(
    toolbox: Toolbox, arguments: dict[str, Any]
) -> None:
    async with connect(build_server(toolbox, toolsets="all"), "legacy") as client:
        listed = await client.call_tool("list_test_runs", arguments)
    full = {run.id: run for run in (await toolbox.execute("list_test_runs", arguments)).items}  # the same, as models

    assert not listed.is_error, text_of(listed)
    items = listed.structured_content["items"]
    assert len(items) == 20 and [item["id"] for item in items] == list(full)
    spent = len(text_of(listed).encode()) + len(json.dumps(listed.structured_content).encode())
    assert spent / 4 / len(items) <= RUN_TOKEN_BUDGET, f"{spent / 4 / len(items):.1f} tokens per listed run"
    assert {key for item in items for key in item} <= {"id", "test_id", "status", "result", "created",
                                                         "duration_seconds", "vuh"}  # fmt: skip
    finished = [item for item in items if item["status"] in ("completed", "aborted")]  # no longer changing
    assert len(finished) >= 5
    for item in finished:
        run = full[item["id"]]
        assert (item["test_id"], item["status"], item["result"]) == (run.test_id, run.status, run.result)
        assert (item["duration_seconds"], item["vuh"]) == (round(run.duration_seconds or -1), run.vuh)
        assert item["created"] == run.created.strftime("%Y-%m-%dT%H:%M:%SZ")


# The hints each safety class must carry; None = set explicitly, either way (it depends on the operation).
EXPECTED_HINTS: dict[Safety, dict[str, bool | None]] = {
    Safety.READ: {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False},
    Safety.WRITE: {"readOnlyHint": False, "destructiveHint": False, "idempotentHint": None, "openWorldHint": False},
    Safety.RUN: {"readOnlyHint": False, "destructiveHint": None, "idempotentHint": False, "openWorldHint": True},
    Safety.STOP: {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": None, "openWorldHint": False},
    Safety.ADMIN: {"readOnlyHint": False, "destructiveHint": None, "idempotentHint": None, "openWorldHint": False},
}
DELETES_OR_REPLACES = ("delete_", "set_", "upload_")


async def test_every_tool_declares_all_four_hints_consistent_with_its_safety_class(toolbox: Toolbox) -> None:
    tools = await list_tools(build_server(toolbox, toolsets="all"))

    problems = []
    for tool in tools:
        op = REGISTRY[tool.name]
        annotations = wire(tool).get("annotations", {})
        if tool.title != op.title or "title" in annotations:  # one title, top-level (clients prefer it)
            problems.append(f"{tool.name}: title {tool.title!r}, annotations.title {annotations.get('title')!r}")
        for hint, expected in EXPECTED_HINTS[op.safety].items():
            if not isinstance(annotations.get(hint), bool):
                problems.append(f"{tool.name} ({op.safety}): {hint} is missing")
            elif expected is not None and annotations[hint] is not expected:
                problems.append(f"{tool.name} ({op.safety}): {hint} is {annotations[hint]}, expected {expected}")
        if annotations.get("idempotentHint") is not op.idempotent:
            problems.append(f"{tool.name}: idempotentHint contradicts the registry")
        if op.name.startswith(DELETES_OR_REPLACES) and annotations.get("destructiveHint") is not True:
            problems.append(f"{tool.name}: deletes or replaces data but is not destructive")
    assert not problems, "\n".join(problems)


async def test_the_default_tools_list_is_the_small_core_under_the_token_budget(toolbox: Toolbox) -> None:
    async with connect(build_server(toolbox), "legacy") as client:
        listing = await client.list_tools()

    names = {t.name for t in listing.tools}
    assert names == {op.name for op in REGISTRY if op.core}
    assert {"find_load_tests", "start_load_test", "wait_for_test_run", "abort_test_run"} <= names
    data = listing.model_dump(mode="json", by_alias=True, exclude_none=True)
    spaced = len(json.dumps(data).encode())  # the roomiest common spelling of the same JSON
    assert spaced / 4 < TOKEN_BUDGET, f"default tools/list is {spaced / 4:.0f} tokens (bytes/4)"


async def test_the_whole_tools_list_stays_under_its_token_budget(toolbox: Toolbox) -> None:
    async with connect(build_server(toolbox, toolsets="all"), "legacy") as client:
        listing = await client.list_tools()

    assert [t.name for t in listing.tools] == REGISTRY.names()  # every tool, none dropped to fit
    spaced = len(json.dumps(listing.model_dump(mode="json", by_alias=True, exclude_none=True)).encode())
    assert spaced / 4 < ALL_TOKEN_BUDGET, f"tools/list with toolsets=all is {spaced / 4:.0f} tokens (bytes/4)"


async def test_the_tool_schemas_match_the_reviewed_snapshot(toolbox: Toolbox) -> None:
    tools = await list_tools(build_server(toolbox, toolsets="all"))
    current = [
        {
            key: wire(t).get(key)
            for key in ("name", "title", "description", "inputSchema", "outputSchema", "annotations")
        }
        for t in tools
    ]
    rendered = json.dumps(current, indent=2, ensure_ascii=False) + "\n"
    if UPDATE_SNAPSHOTS:
        SNAPSHOT.write_text(rendered, encoding="utf-8")
    stored = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    if rendered != stored:
        before = {t["name"]: t for t in json.loads(stored)} if stored else {}
        changed = sorted(t["name"] for t in current if before.get(t["name"]) != t)
        removed = sorted(set(before) - {t["name"] for t in current})
        pytest.fail(
            f"The MCP tool definitions changed (changed/new: {', '.join(changed) or '-'}; removed: "
            f"{', '.join(removed) or '-'}). Review the difference, then regenerate the snapshot with "
            "K6BOT_UPDATE_SNAPSHOTS=1 pytest tests/mcp/test_tools.py and commit tests/mcp/snapshots/tools.json."
        )


async def test_toolsets_choose_what_is_listed(toolbox: Toolbox) -> None:
    tools = await list_tools(build_server(toolbox, toolsets="tests, runs"))
    assert {t.name for t in tools} == {op.name for op in REGISTRY if op.group in ("tests", "runs")}

    legacy = await list_tools(build_server(toolbox, toolsets=["legacy"]))
    assert {t.name for t in legacy} == {op.name for op in REGISTRY if op.group == "legacy"}

    with pytest.raises(InvalidInput, match="Unknown toolset"):
        build_server(toolbox, toolsets="tests,nonsense")


async def test_a_tool_outside_the_toolsets_is_refused_with_how_to_enable_it(
    toolbox: Toolbox, sim: Simulator, audit: AuditLog
) -> None:
    server = build_server(toolbox, audit=audit)
    async with connect(server, "legacy") as client:
        result = await client.call_tool("delete_load_test", {"load_test": 501})

    assert result.is_error
    assert "--toolsets core,tests" in text_of(result)
    assert sim.count("DELETE", r".*") == 0
    assert [e.decision for e in await audit_entries(audit)] == ["denied"]


@pytest.mark.parametrize("toolsets", [None, "all"])
async def test_read_only_lists_no_write_tool_and_refuses_one_called_anyway(
    toolbox: Toolbox, sim: Simulator, audit: AuditLog, toolsets: str | None
) -> None:
    server = build_server(toolbox, audit=audit, toolsets=toolsets, read_only=True)
    async with connect(server, "2026-07-28") as client:
        tools = (await client.list_tools()).tools
        result = await client.call_tool("start_load_test", {"load_test": 501, "confirm": True})

    assert tools and all(t.annotations and t.annotations.read_only_hint for t in tools)
    assert {t.name for t in tools} == {op.name for op in REGISTRY.select([toolsets or "core"], read_only=True)}
    assert result.is_error
    assert "read-only" in text_of(result)
    assert sim.count("POST", START_PATH) == 0
    assert [e.decision for e in await audit_entries(audit)] == ["denied"]


async def test_instructions_explain_the_workflow(toolbox: Toolbox) -> None:
    async with connect(build_server(toolbox, demo=True), "legacy") as client:
        instructions = client.instructions or ""

    for step in ("find_load_tests", "start_load_test", "wait_for_test_run", "abort_test_run", "next_cursor"):
        assert step in instructions
    assert "confirm: true" in instructions
    assert "DEMO MODE" in instructions
    # said here once, not in every tool: the outcomes of a tool that needs approval, what references take, paging
    for outcome in get_args(Outcome):
        assert re.search(rf"\b{outcome}\b", instructions), outcome
    assert "words naming the test" in instructions and "pass it as cursor" in instructions


async def test_descriptions_the_instructions_give_once_are_in_no_tool_schema(toolbox: Toolbox) -> None:
    tools = await list_tools(build_server(toolbox, toolsets="all"))

    schemas = json.dumps([[t.input_schema, t.output_schema] for t in tools])
    assert [text for text in EXPLAINED_ONCE if json.dumps(text) in schemas] == []
    described = [op.input.model_fields[f].description for op in REGISTRY for f in op.input.model_fields]
    assert set(EXPLAINED_ONCE) <= set(described)  # the registry (and so the docs) still say them on every field


READ_ARGUMENTS: dict[str, Any] = {
    "test_run_id": 1211,
    "test_run": 1224,
    "load_test": 501,
    "project": 77,
    "phrase": "orders",
    "options": {"vus": 10, "duration": "1m"},
    "load_zone_id": 100,
}


@pytest.mark.parametrize("name", [op.name for op in REGISTRY if op.safety is Safety.READ])
async def test_every_read_tool_answers_with_content_that_fits_its_output_schema(
    toolbox: Toolbox, sim: Simulator, name: str
) -> None:
    """The client checks structuredContent against outputSchema: any drift between the two fails here."""
    op = REGISTRY[name]
    server = build_server(toolbox, toolsets="all")
    async with connect(server, "legacy") as client:
        arguments = {
            f: READ_ARGUMENTS[f]
            for f, info in op.input.model_fields.items()
            if info.is_required() and f in READ_ARGUMENTS
        }
        if "schedule_id" in op.input.model_fields:
            schedules = await client.call_tool("list_schedules", {})
            arguments["schedule_id"] = schedules.structured_content["items"][0]["id"]
        result = await client.call_tool(name, arguments)

    assert not result.is_error, text_of(result)
    assert isinstance(result.structured_content, dict)
    assert text_of(result).strip()
