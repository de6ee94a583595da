"""What k6bot's MCP surface costs a model in tokens (bytes / 4), as a table with targets.

    python bench/bench_tokens.py            # prints the table; exit code 1 if a target is missed

- ``tools/list``, default toolset and ``toolsets="all"``: ``json.dumps`` (default spacing, the roomiest common
  spelling) of the listing as a client receives it (``model_dump(mode="json", by_alias=True, exclude_none=True)``).
- A listed run: one ``list_test_runs`` answer of 20 runs (text content + structured content), divided by 20, for
  the whole stack and for one load test, against the demo simulator over real loopback HTTP.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mcp_types as types
from mcp import Client

from bot.mcp import build_server
from tools.client import K6CloudClient
from tools.config import K6CloudSettings
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer

TOKEN = "bench-token-value"
STACK = 1000
RUNS = 20


def tokens(data: Any) -> float:
    return len(json.dumps(data).encode()) / 4


async def figures() -> list[tuple[str, float, float]]:
    sim = Simulator(token=TOKEN, stack_id=STACK, speed=1.0, demo=True)
    with SimulatorServer(sim) as url:
        settings = K6CloudSettings(_env_file=None, token=TOKEN, stack_id=STACK, api_url=url)  # type: ignore[call-arg]
        async with K6CloudClient(settings) as k6:
            toolbox = Toolbox(k6)
            rows: list[tuple[str, float, float]] = []
            for label, toolsets, target in (("default", None, 3000.0), ("all", "all", 12000.0)):
                server = build_server(toolbox) if toolsets is None else build_server(toolbox, toolsets=toolsets)
                async with _client(server) as client:
                    listing = await client.list_tools()
                data = listing.model_dump(mode="json", by_alias=True, exclude_none=True)
                rows.append((f"tools/list {label} ({len(listing.tools)} tools), tokens", tokens(data), target))
            async with _client(build_server(toolbox, toolsets="all")) as client:
                for label, arguments in (("whole stack", {}), ("one load test", {"load_test": 501})):
                    answer = await client.call_tool("list_test_runs", {**arguments, "limit": RUNS})
                    text = "\n".join(b.text for b in answer.content if isinstance(b, types.TextContent))
                    count = len((answer.structured_content or {}).get("items", [])) or 1
                    spent = (len(text.encode()) + len(json.dumps(answer.structured_content).encode())) / 4
                    rows.append((f"a listed run ({label}), text + structured, tokens", spent / count, 60.0))
            return rows


def _client(server: Any) -> Client:
    return Client(server, mode="legacy", client_info=types.Implementation(name="bench", version="1"))


def main() -> int:
    rows = asyncio.run(figures())
    print("| figure | measured | target |")
    print("| --- | --- | --- |")
    missed = False
    for name, value, target in rows:
        ok = value <= target
        missed |= not ok
        print(f"| {name} | {value:,.1f} | ≤ {target:,.0f}{'' if ok else ' ✗'} |")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
