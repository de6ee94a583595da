"""Charts over MCP: a run chart comes back as PNG image content next to the text, out of structuredContent."""

from __future__ import annotations

import base64
import json
import struct

import mcp_types as types
import pytest

from bot.mcp import build_server
from tests.mcp.conftest import connect, text_of
from tools.registry import Toolbox
from tools.simulator import Simulator

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("protocol", ["legacy", "2026-07-28"])
async def test_a_run_chart_is_image_content_next_to_the_text(toolbox: Toolbox, sim: Simulator, protocol: str) -> None:
    async with connect(build_server(toolbox, toolsets="runs"), protocol) as client:
        result = await client.call_tool("chart_test_run", {"test_run": 1224})

    assert not result.is_error, text_of(result)
    kinds = [block.type for block in result.content]
    assert kinds == ["text", "image"]
    [image] = [block for block in result.content if isinstance(block, types.ImageContent)]
    assert image.mime_type == "image/png"
    png = base64.b64decode(image.data, validate=True)
    assert png[:8] == PNG and struct.unpack(">II", png[16:24]) == (1000, 600)
    assert "Chart of test run 1224" in text_of(result) and "p95 http_req_duration" in text_of(result)

    structured = result.structured_content
    assert isinstance(structured, dict) and structured["image"] == "k6-run-1224.png" and structured["has_data"]
    assert {s["name"] for s in structured["series"]} == {"p95", "rate", "failed", "vus"}
    assert len(json.dumps(structured)) < 3_000  # the PNG is not repeated in the structured content
    assert sim.count("GET", r"/cloud/v5/test_runs/1224/query_range_k6.*") == 4


async def test_a_run_without_metrics_has_text_and_no_image(toolbox: Toolbox) -> None:
    async with connect(build_server(toolbox, toolsets="runs"), "legacy") as client:
        result = await client.call_tool("chart_test_run", {"test_run": 1238})
    assert not result.is_error
    assert [block.type for block in result.content] == ["text"]
    assert "No metrics yet" in text_of(result)
    assert result.structured_content is not None and "image" not in result.structured_content  # None: left out


async def test_a_missing_run_is_a_tool_error_without_an_image(toolbox: Toolbox, sim: Simulator) -> None:
    async with connect(build_server(toolbox, toolsets="runs"), "legacy") as client:
        result = await client.call_tool("chart_test_run", {"test_run": 987654})
    assert result.is_error and text_of(result) == "Test run 987654 not found."
    assert [block.type for block in result.content] == ["text"]
    assert sim.count("GET", r".*query_range_k6.*") == 0


async def test_other_results_carry_no_image(toolbox: Toolbox) -> None:
    async with connect(build_server(toolbox, toolsets="runs"), "legacy") as client:
        result = await client.call_tool("investigate_test_run", {"test_run": 1224})
    assert not result.is_error and [block.type for block in result.content] == ["text"]
