"""Dev world A: a stack unlike the demo's, built on an empty simulator over its ``/_sim`` control endpoints.

    python bench/dev_world_a.py           # build it, score tests/router/corpus_dev_a.yaml, list the misses

The language is tuned on phrasings written against this world (tests/router/corpus_dev_a.yaml), so that what
it learns is not the demo's names: projects **1 Growth** (default), **2 Core**, **3 Partners**; load tests

    101 Cart Checkout Peak (Growth)       106 Catalog Import Endurance (Core)
    102 Promo Banner Spike (Growth)       107 Gift Card Redeem Load (Core)
    103 Mobile Login Smoke (Growth)       108 Partner Webhooks Smoke (Partners)
    104 Search Ranking Soak (Core)        109 Pricing Feed Stress (Partners)
    105 Account Settings API (Core)       110 Invoice Export Nightly (Partners, no runs)
    111 Mobile Login Stress (Growth)

and runs 1001… over the last five days (:data:`TIMELINE`, oldest first, ids in that order), then the runs
going now: 1025 running (104), 1026 queued (102), 1027 initializing (107), 1028 created (108),
1029 processing metrics (106), 1030 running (111). Run 1021 is starred and noted "new baseline after cache
warmup"; 104's baseline is 1002.

The clock is frozen: the world is placed relative to the real time of building (runs "today" sit between
midnight UTC and now, so build it after 00:15 UTC for them to be today's; each seeded run is started, then
finished a minute later with its ending), and the clock ends at that time.
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

PROJECTS = (("Growth", True), ("Core", False), ("Partners", False))
TESTS = (
    (1, "Cart Checkout Peak"),
    (1, "Promo Banner Spike"),
    (1, "Mobile Login Smoke"),
    (2, "Search Ranking Soak"),
    (2, "Account Settings API"),
    (2, "Catalog Import Endurance"),
    (2, "Gift Card Redeem Load"),
    (3, "Partner Webhooks Smoke"),
    (3, "Pricing Feed Stress"),
    (3, "Invoice Export Nightly"),
    (1, "Mobile Login Stress"),
)
TIMELINE: tuple[tuple[float, tuple[tuple[int, str], ...]], ...] = (
    # (days before today's midnight — negative: a fraction of today elapsed —, runs: (test id, ending))
    (5, ((101, "passed"), (104, "passed"), (106, "passed"))),  # 1001-1003
    (3, ((101, "failed"), (107, "aborted:threshold"), (108, "passed"))),  # 1004-1006
    (2, ((102, "passed"), (105, "failed"), (109, "aborted:system"))),  # 1007-1009
    (1, ((101, "passed"), (103, "passed"), (104, "failed"), (106, "aborted:user"), (107, "passed"))),  # 1010-1014
    (1, ((111, "passed"), (108, "failed"))),  # 1015-1016
    (-0.3, ((101, "failed"), (103, "passed"), (105, "passed"))),  # 1017-1019
    (-0.6, ((109, "aborted:script_error"), (104, "passed"), (102, "failed"))),  # 1020-1022
    (-0.9, ((111, "failed"), (103, "failed"))),  # 1023-1024
)
GOING = ((104, "running"), (102, "queued"), (107, "initializing"), (108, "created"), (106, "processing_metrics"),
         (111, "running"))  # fmt: skip
"""Runs unfinished at the end, 1025-1030."""
STARRED, NOTE, BASELINE = 1021, "new baseline after cache warmup", (104, 1002)
DAY_OFFSET_HOURS = 14  # a past day's runs end around 14:00 UTC


async def build(url: str, headers: dict[str, str], *, now: datetime | None = None) -> datetime:
    """Reset the simulator at ``url`` to dev world A; returns the frozen clock's time (≈ ``now``)."""
    now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    start = midnight - timedelta(days=6)
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def post(path: str, body: dict[str, Any] | None = None) -> Any:
            response = await http.post(path, json=body or {}, headers=headers)
            response.raise_for_status()
            return response.json() if response.content else None

        await post("/_sim/clock/speed", {"speed": 0})
        await post("/_sim/reset", {"demo": False, "start": start.isoformat()})
        clock = start
        for name, default in PROJECTS:
            await post("/_sim/projects", {"name": name, "is_default": default})
        for project_id, name in TESTS:
            await post("/_sim/load_tests", {"project_id": project_id, "name": name})
        for days, seeds in TIMELINE:
            if days >= 0:
                moment = midnight - timedelta(days=days) + timedelta(hours=DAY_OFFSET_HOURS)
            else:
                moment = midnight + (now - midnight) * -days
            for test_id, ending in seeds:
                moment += timedelta(minutes=2 if days < 0 else 10)
                target = min(moment, now)
                if target > clock:
                    await post("/_sim/clock/advance", {"seconds": (target - clock).total_seconds()})
                    clock = target
                status, _, reason = ending.partition(":")
                body: dict[str, Any] = {"status": "completed", "result": status}
                if reason:
                    body = {"status": "aborted", "reason": reason}
                (run,) = await post(f"/_sim/load_tests/{test_id}/runs", {"n": 1, "status": "running"})
                await post(f"/_sim/test_runs/{run['id']}/finish", body)  # created a minute ago, ended now
        if now > clock:
            await post("/_sim/clock/advance", {"seconds": (now - clock).total_seconds()})
        for test_id, status in GOING:
            await post(f"/_sim/load_tests/{test_id}/runs", {"n": 1, "status": status})
        await post(f"/cloud/v6/test_runs/{STARRED}/star")
        (await http.patch(f"/cloud/v6/test_runs/{STARRED}", json={"note": NOTE}, headers=headers)).raise_for_status()
        test_id, run_id = BASELINE
        patched = await http.patch(f"/cloud/v6/load_tests/{test_id}", json={"baseline_test_run_id": run_id},
                                   headers=headers)  # fmt: skip
        patched.raise_for_status()
        (await http.delete("/_sim/requests")).raise_for_status()
    return now


DEV_CORPUS = Path(__file__).resolve().parents[1] / "tests" / "router" / "corpus_dev_a.yaml"


async def _measure(paths: list[Path]) -> int:
    from bench_language import TOKEN, Score, read_facts, score
    from bench_tools import simulator_process

    from tests.router.test_corpus import api_headers, load_entries
    from tools.client import K6CloudClient
    from tools.config import K6CloudSettings
    from tools.registry import Toolbox

    stack = 1000
    failed = 0
    with simulator_process() as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as control:
            for path in paths:
                await build(url, api_headers(TOKEN, stack))
                facts = await read_facts(control)
                settings = K6CloudSettings(_env_file=None, token=TOKEN, stack_id=stack, api_url=url)  # type: ignore[call-arg]
                async with K6CloudClient(settings) as client:
                    result: Score = await score(load_entries(path), Toolbox(client), control, facts, reset=False)
                print(f"{path.name}: {result.summary()}, {len(result.wrong_writes)} wrong writes, "
                      f"{result.not_understood} not understood")  # fmt: skip
                for entry, verdict in result.misses:
                    print(f"  {entry.text!r}\n      expected {entry.expects}\n      got      {verdict.got}"
                          f"\n      why      {verdict.reason}")  # fmt: skip
                failed += len(result.misses)
    return 1 if failed else 0


def main(argv: list[str]) -> int:
    os.environ["K6BOT_TIMEZONE"] = "UTC"
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    paths = [Path(arg) for arg in argv] or [DEV_CORPUS]
    return asyncio.run(_measure(paths))


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
