"""Memory of `k6bot mcp` in demo mode over many tool calls: RSS must level off, not grow with every call.

    python bench/bench_memory.py                 # 10,000 tool calls; exit code 1 if the target is missed
    python bench/bench_memory.py --calls 2000    # a quicker look

The server is the real `k6bot mcp` subprocess (stdio, demo mode: the built-in simulator runs in the same
process), driven by the official MCP client. Its resident set size (VmRSS of the server process) is read
after 1,000 tool calls — the baseline, once everything has been loaded and every bounded buffer filled —
and then at intervals up to the end; each figure is shown next to that baseline as a ratio. Target: the
last one within 5 % of the baseline (before the request log of the simulator was bounded it grew by about
4 KiB per call, i.e. +36 MiB from 1,000 to 10,000 calls).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import mcp_types as types
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = Path(__file__).resolve().parents[1]
BASELINE_CALLS = 1000
TARGET_RATIO = 1.05
CALLS = [
    ("get_test_run", {"test_run_id": 1234}),
    ("list_load_tests", {"limit": 20}),
    ("list_test_runs", {"limit": 5}),
    ("find_load_tests", {"phrase": "orders soak"}),
]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def server_pid() -> int:
    """The `k6bot mcp` child of this process (the stdio client started it)."""
    mine = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        parent = stat.rsplit(")", 1)[1].split()[1]
        if parent == mine and b"bot.cli" in cmdline and b"mcp" in cmdline:
            return int(entry.name)
    raise RuntimeError("the k6bot mcp process was not found")


def environment(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update(XDG_STATE_HOME=str(state), K6BOT_DATABASE_URL=str(state / "k6bot.db"), K6BOT_TOOLSETS="all")
    return env


async def measure(total: int, checkpoints: list[int]) -> list[tuple[int, int, float]]:
    """(calls made, RSS in KiB, seconds) at each checkpoint."""
    with tempfile.TemporaryDirectory() as state:
        params = StdioServerParameters(
            command=sys.executable, args=["-m", "bot.cli", "mcp"], env=environment(Path(state)), cwd=ROOT
        )
        with open(os.devnull, "w") as quiet:  # noqa: ASYNC230 - opened once, before any call is timed
            async with Client(
                stdio_client(params, errlog=quiet),
                client_info=types.Implementation(name="bench-memory", version="1"),
            ) as client:
                pid = server_pid()
                points = []
                started = time.perf_counter()
                for done in range(1, total + 1):
                    name, arguments = CALLS[done % len(CALLS)]
                    result = await client.call_tool(name, arguments)
                    if result.is_error:
                        raise RuntimeError(f"{name} failed: {result.content}")
                    if done in checkpoints:
                        points.append((done, rss_kib(pid), time.perf_counter() - started))
                return points


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000, help="tool calls in all (default 10,000)")
    args = parser.parse_args()
    total = max(args.calls, BASELINE_CALLS)
    checkpoints = sorted({BASELINE_CALLS, *range(2000, total, 2000), total})
    points = asyncio.run(measure(total, checkpoints))
    baseline = points[0][1]
    print(f"k6bot mcp (stdio, demo mode), {len(CALLS)} read tools in turn; RSS of the server process")
    print()
    print(f"| {'tool calls':>10} | {'RSS (MiB)':>9} | {'baseline (MiB)':>14} | {'ratio':>6} | {'calls/s':>7} |")
    print(f"| {'-' * 10}:| {'-' * 9}:| {'-' * 14}:| {'-' * 6}:| {'-' * 7}:|")
    for done, rss, seconds in points:
        print(
            f"| {done:>10,} | {rss / 1024:>9.1f} | {baseline / 1024:>14.1f} | {rss / baseline:>6.3f} | "
            f"{done / seconds:>7.0f} |"
        )
    ratio = points[-1][1] / baseline
    ok = ratio <= TARGET_RATIO
    print()
    print(f"after {points[-1][0]:,} calls: {ratio:.3f}× the RSS after {BASELINE_CALLS:,} (target ≤ {TARGET_RATIO}×)")
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
