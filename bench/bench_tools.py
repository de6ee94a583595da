"""Speed and memory of the tool layer against the in-process simulator, as a table with targets.

    python bench/bench_tools.py            # prints the table; exit code 1 if a target is missed

Targets are what an engineer waiting in Slack or an assistant waiting on a tool call would notice; the
simulator answers over real loopback HTTP, so the figures include the HTTP stack but not the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.client import K6CloudClient
from tools.config import K6CloudSettings
from tools.errors import ResolutionError
from tools.models import LoadTest, TestRun
from tools.registry import Toolbox
from tools.resolve import choose


@dataclass
class Row:
    name: str
    measured: float
    unit: str
    target: float
    lower_is_better: bool = True

    @property
    def ok(self) -> bool:
        return self.measured <= self.target if self.lower_is_better else self.measured >= self.target


@contextlib.contextmanager
def simulator_process() -> Iterator[str]:
    """The simulator in its own process, so its work is not counted as the client's."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.simulator", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = re.search(r"(http://\S+)", line)
        if not match:
            raise RuntimeError(f"the simulator did not start: {line!r}")
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=10)


async def timed(fn: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] if len(samples) >= 20 else max(samples)


def _parsed_size(runs: list[TestRun]) -> float:
    """Average bytes one parsed TestRun takes (measured by re-parsing their JSON under tracemalloc)."""
    payloads = [r.model_dump(mode="json", by_alias=True) for r in runs]
    tracemalloc.start()
    parsed = [TestRun.model_validate(p) for p in payloads]
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del parsed
    return size / len(payloads)


def synthetic_tests(count: int) -> list[LoadTest]:
    now = datetime.now(UTC)
    words = ["orders", "checkout", "search", "login", "payments", "inventory", "refunds", "catalog", "profile", "cart"]
    kinds = ["Soak Test", "Smoke", "Spike", "Stress Test", "Baseline", "Load"]
    return [
        LoadTest(
            id=i, project_id=1 + i % 7, name=f"{words[i % 10].title()} {kinds[i % 6]} {i}", created=now, updated=now
        )
        for i in range(1, count + 1)
    ]


async def main() -> int:
    rows: list[Row] = []

    tests = synthetic_tests(5000)
    samples = []
    phrases = [" ".join(tests[i].name.lower().split()[:2]) for i in (4212, 1200, 998, 2457)] + [
        "orders",
        "no such test at all",
    ]
    for phrase in phrases * 4:
        started = time.perf_counter()
        with contextlib.suppress(ResolutionError):  # an ambiguous or unknown phrase is an answer too
            choose(phrase, tests)
        samples.append((time.perf_counter() - started) * 1000)
    rows.append(Row("fuzzy-resolve a phrase among 5,000 tests (p95)", p95(samples), "ms", 150))

    with simulator_process() as url:
        async with httpx.AsyncClient() as control:
            (await control.post(f"{url}/_sim/load_tests/503/runs", json={"n": 5000}, timeout=60)).raise_for_status()
        settings = K6CloudSettings(_env_file=None, token="bench", stack_id=1000, api_url=url)  # type: ignore[call-arg]
        async with K6CloudClient(settings) as client:
            toolbox = Toolbox(client)
            await toolbox.execute("get_test_run", {"test_run_id": 1234})  # warm up
            samples = await timed(lambda: toolbox.execute("get_test_run", {"test_run_id": 1234}), 60)
            rows.append(Row("get_test_run round trip (p95)", p95(samples), "ms", 50))

            samples = await timed(lambda: toolbox.prepare("start_load_test", {"load_test": "orders soak test"}), 20)
            rows.append(Row("start preview: resolve + last run + estimate (p95)", p95(samples), "ms", 250))

            samples = await timed(lambda: toolbox.execute("list_test_runs", {"limit": 20}), 20)
            rows.append(Row("list_test_runs newest 20 of 5,000+ (p95)", p95(samples), "ms", 250))

            path = "/cloud/v6/load_tests/503/test_runs"
            started = time.perf_counter()
            runs = await client.collect(TestRun, path)
            rows.append(
                Row(
                    f"page through {len(runs):,} runs ({-(-len(runs) // 1000)} pages)",
                    (time.perf_counter() - started) * 1000,
                    "ms",
                    3000,
                )
            )
            per_run = _parsed_size(runs[:1000])
            rows.append(Row("memory of one parsed run (full v6 object)", per_run / 1024, "KiB", 16))
            del runs
            tracemalloc.start()
            streamed = 0
            async for _run in client.paginate(TestRun, path):
                streamed += 1
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rows.append(Row(f"peak memory streaming {streamed:,} runs page by page", peak / 2**20, "MiB", 32))

    width = max(len(r.name) for r in rows)
    print(f"{'benchmark':<{width}}  {'measured':>12}  {'target':>12}  ok")
    print("-" * (width + 34))
    for r in rows:
        sign = "≤" if r.lower_is_better else "≥"
        print(
            f"{r.name:<{width}}  {r.measured:>9.1f} {r.unit:<3}{sign}{r.target:>8g} {r.unit:<3} {'✓' if r.ok else '✗'}"
        )
    return 0 if all(r.ok for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
