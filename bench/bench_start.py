"""Start-up figures: `k6bot mcp` start → `initialize` answered, and `k6bot --help`, each against its floor.

    .venv/bin/python bench/bench_start.py [-n 30]

Each sample is one whole process, timed from spawn:

* ``k6bot mcp`` in demo mode (no K6_CLOUD_TOKEN; its own SQLite file in a temporary directory) over stdio:
  the clock stops when the JSON-RPC answer to ``initialize`` (sent right after spawn) is read from stdout.
  Floor: ``python -c 'import mcp.server'``, timed the same way: from spawn until it prints a line after the
  import (neither clock includes the interpreter's exit) — what any MCP server written on the SDK pays.
* ``k6bot --help`` run to exit, wall and CPU (user + sys, from ``wait4``: less shaken by a busy machine).
  Floor: ``python -c pass``.

The commands alternate (A B A B …) so that a drift in the machine's speed hits both alike; the ratio is
taken pair by pair and its median printed next to the medians. One warm-up pair of each is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PYTHON = sys.executable
BIN = Path(PYTHON).parent
K6BOT = str(BIN / "k6bot") if (BIN / "k6bot").exists() else None

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bench-start", "version": "1"},
    },
}


def k6bot_command(*args: str) -> list[str]:
    return [K6BOT, *args] if K6BOT else [PYTHON, "-m", "bot.cli", *args]


def clean_env(state: Path) -> dict[str, str]:
    """The environment of a new user in demo mode: no k6 Cloud token, k6bot's state in ``state``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update(XDG_STATE_HOME=str(state / "state"), K6BOT_DATABASE_URL=str(state / "k6bot.db"))
    return env


def time_exit(command: list[str], env: dict[str, str], cwd: Path, cpu: list[float] | None = None) -> float:
    """Run ``command`` to its exit: the wall seconds; its CPU seconds (user + sys) are appended to ``cpu``."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited with {proc.returncode}")
    if cpu is not None:
        cpu.append(usage.ru_utime + usage.ru_stime)
    return elapsed


def time_first_line(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """Spawn ``command``, return the seconds until it prints its first line (then let it exit)."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    if proc.wait() != 0 or not line:
        raise SystemExit(f"{' '.join(command)} failed (exit code {proc.returncode})")
    return elapsed


FLOOR_MCP = [PYTHON, "-c", "import mcp.server; print('imported', flush=True)"]


def time_initialize(env: dict[str, str], cwd: Path) -> float:
    """Spawn `k6bot mcp`, send initialize at once, return the seconds until its answer is read."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        k6bot_command("mcp"),
        env=env,
        cwd=cwd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(json.dumps(INITIALIZE).encode() + b"\n")
        proc.stdin.flush()
        while True:
            line = proc.stdout.readline()
            if not line:
                raise SystemExit(f"k6bot mcp ended before answering initialize (exit code {proc.wait()})")
            message = json.loads(line)
            if message.get("id") == 1:
                elapsed = time.perf_counter() - start
                if "result" not in message:
                    raise SystemExit(f"initialize failed: {message}")
                return elapsed
    finally:
        proc.stdin.close()  # end of input: the server exits
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def pair(n: int, a: Callable[[], float], b: Callable[[], float]) -> tuple[list[float], list[float]]:
    a(), b()  # warm-up: page cache, .pyc files
    times_a: list[float] = []
    times_b: list[float] = []
    for _ in range(n):
        times_a.append(a())
        times_b.append(b())
    return times_a, times_b


def row(figure: str, times: list[float], floor: list[float], target: str) -> str:
    ratios = [x / y for x, y in zip(times, floor, strict=True)]
    return (
        f"| {figure} | {statistics.median(times) * 1000:.0f} ms (p95 {pct(times, 0.95) * 1000:.0f}) "
        f"| {statistics.median(floor) * 1000:.0f} ms | {statistics.median(ratios):.2f}× | {target} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-n", type=int, default=30, help="samples of each command (default 30)")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("-n must be 1 or more")
    with tempfile.TemporaryDirectory(prefix="k6bot-bench-start-") as tmp:
        cwd = Path(tmp)  # no .env of the repository's
        env = clean_env(cwd)
        mcp, mcp_floor = pair(
            args.n,
            lambda: time_initialize(env, cwd),
            lambda: time_first_line(FLOOR_MCP, env, cwd),
        )
        help_cpu: list[float] = []
        floor_cpu: list[float] = []
        helps, help_floor = pair(
            args.n,
            lambda: time_exit(k6bot_command("--help"), env, cwd, help_cpu),
            lambda: time_exit([PYTHON, "-c", "pass"], env, cwd, floor_cpu),
        )
        del help_cpu[0], floor_cpu[0]  # the warm-up's
    print(f"{args.n} samples each, alternating with the floor; ratio = median of the pairwise ratios")
    print()
    print("| figure | median (p95) | floor median | ratio to floor | target |")
    print("|---|---|---|---|---|")
    print(row("`k6bot mcp` start → `initialize` answered (floor: `import mcp.server`)", mcp, mcp_floor, "≤ 1.15×"))
    print(row("`k6bot --help`, wall (floor: `python -c pass`)", helps, help_floor, "≤ 150 ms"))
    print(row("`k6bot --help`, CPU user + sys (floor: `python -c pass`)", help_cpu, floor_cpu, "≤ 150 ms"))


if __name__ == "__main__":
    main()
