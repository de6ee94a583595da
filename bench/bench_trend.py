"""Cost of get_load_test_trend (issue 9): requests counted at the simulator, and time with 50 ms per request.

    python bench/bench_trend.py            # prints the table; exit code 1 if a target is missed

The trend of N runs must cost one request per metric, not per run: the rows for 10 and for every finished
run of the demo soak test (23, with a script change inside) send about the same number of requests, and
with 50 ms of latency injected into every request the time is a few round trips, not one per request.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.client import K6CloudClient
from tools.config import K6CloudSettings
from tools.registry import Toolbox
from tools.simulator import Fault, Simulator, SimulatorServer
from tools.simulator.demo import ORDERS_SOAK_TEST_ID

LATENCY_S = 0.05


async def measure(url: str, sim: Simulator, runs: int) -> tuple[int, int, int, float, float]:
    settings = K6CloudSettings(_env_file=None, token="bench", stack_id=1000, api_url=url)  # type: ignore[call-arg]
    async with K6CloudClient(settings) as client:
        toolbox = Toolbox(client)
        args = {"load_test": ORDERS_SOAK_TEST_ID, "runs": runs}
        await toolbox.execute("get_load_test_trend", args)  # warm the simulator's per-run models
        started = time.perf_counter()
        await toolbox.execute("get_load_test_trend", args)
        bare = (time.perf_counter() - started) * 1000
        sim.faults.add(Fault(kind="latency", delay=LATENCY_S, times=None))
        sim.clear_requests()
        started = time.perf_counter()
        trend = await toolbox.execute("get_load_test_trend", args)
        elapsed = (time.perf_counter() - started) * 1000
        sim.faults.clear()
        requests = len(sim.requests)
        metrics = sim.count("GET", r"/cloud/v5/.*")
        return len(trend.points), requests, metrics, bare, elapsed


async def main() -> int:
    sim = Simulator(token="bench", stack_id=1000, speed=1.0, demo=True)
    rows = []
    with SimulatorServer(sim) as url:
        for runs in (10, 25):
            rows.append(await measure(url, sim, runs))
    print(
        f"{'runs in window':>14}  {'requests':>8}  {'v5 queries':>10}  {'ms, no latency':>14}  "
        f"{'ms @50ms/req':>12}  {'latency added':>13}  {'if sequential':>13}"
    )
    for points, requests, metrics, bare, elapsed in rows:
        added, sequential = elapsed - bare, requests * LATENCY_S * 1000
        print(
            f"{points:>14}  {requests:>8}  {metrics:>10}  {bare:>14.0f}  {elapsed:>12.0f}  {added:>13.0f}  "
            f"{sequential:>13.0f}"
        )
    # targets: v5 queries do not grow with the window; the latency added is well under one round trip per request
    ok = rows[0][2] == rows[1][2] and all(r[4] - r[3] < r[1] * LATENCY_S * 1000 * 0.6 for r in rows)
    print("ok" if ok else "target missed")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
