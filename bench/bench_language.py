"""How well and how fast k6bot understands what people type, as a table with targets (issue 10).

    python bench/bench_language.py          # exit code 1 when a target is missed

Accuracy: every entry of bench/phrasings_heldout.yaml (never tuned on), of bench/phrasings_heldout_2.yaml
(a second held-out set, written later without looking at the parser; its row is the untuned figure), of
bench/phrasings_heldout_3.yaml (a third, 100 phrasings in real use's proportions, written blind; never tuned on),
of bench/phrasings_heldout_4.yaml (a fourth, 100 phrasings of an ordinary week, written blind; measured untuned
once, 77.0 %, then the parser was fixed generally on its misses, so its row now guards against regressions) and, for comparison, of tests/router/corpus.yaml is explained
against the simulator's demo data (its own process, clock frozen, K6BOT_TIMEZONE=UTC) and judged the way
tests/router/test_corpus.py judges it. HELDOUT_5, bench/phrasings_heldout_5.yaml (100 phrasings in real use's
proportions, written blind; measured untuned twice, 90.0 % then 91.0 % on the merged parser, then tuned on), is
explained against world 5 instead (bench/world_5.py: built on an
empty simulator in a second process, its own names, ids, projects and runs, clock frozen at a fixed instant), as
the issue-10 checker runs against an independent fake of the API rather than our demo. Targets:
understood-and-correct ≥ 90 % on the held-out set; wrong
writes 0 (a write — safety other than read — whose operation or ids differ from what the text meant, or a
write where none was meant); no request but GET while explaining.

Speed: the stack then grows to 5,000 load tests and every text is explained again with warm caches; parse time
is explain()'s time minus the time spent waiting on the API (measured at the HTTP transport). Target: p99
≤ 20 ms. Baseline, measured in the same run: one bare read through the tool layer,
``Toolbox.execute("get_test_run", …)`` — what any answer costs at least. The filler tests get ids 511–5500, so
some numbers are both a test id and a run id there; the accuracy row for that stack is information only.

The held-out misses are listed at the end (text, expected, got), so the team sees what failed without touching
the held-out file.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

os.environ["K6BOT_TIMEZONE"] = "UTC"  # the expectations' "today" is UTC midnight
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_tools import simulator_process
from world_5 import build as build_world_5

from tests.router.test_corpus import (
    CORPUS,
    HELDOUT,
    HELDOUT_2,
    HELDOUT_3,
    HELDOUT_4,
    HELDOUT_5,
    RUNS_PARAMS,
    RUNS_PATH,
    Entry,
    Facts,
    Verdict,
    api_headers,
    configured_zone,
    is_pending,
    judge_around,
    load_entries,
    run_facts,
    write_requests,
)
from tools.client import K6CloudClient
from tools.config import K6CloudSettings
from tools.registry import Toolbox, get_registry

TOKEN, STACK = "bench", 1000
STACK_SIZE = 5000
TARGET_RATE = 0.90
HELDOUT_2_UNTUNED = "88.6 % (70/79), 0 wrong writes, at commit 7b84be5"
"""Set 2's first measurement, before the parser was fixed on its misses: the figure reported for set 2."""
HELDOUT_1_BEFORE_FIXES = "95.7 % (176/184), 0 wrong writes, at commit ed03f42"
"""Set 1's figure before the langdev branch fixed (generally) the misses this bench lists for it: since then
set 1 is tuned on too; only a set written blind afterwards is an untuned measure."""
HELDOUT_3_UNTUNED = "87.0 % (87/100), 0 wrong writes, 12 not understood, at commit 52c2251"
HELDOUT_4_UNTUNED = "77.0 % (77/100), 0 wrong writes, 16 not understood, at commit 77168ee"
HELDOUT_5_UNTUNED = "90.0 % (90/100), 0 wrong writes, 10 not understood, against world 5, at commit f502da6"
HELDOUT_5_MERGED = "91.0 % (91/100), 0 wrong writes, 8 not understood, against world 5, at commit 4e9c1f2"
"""Set 5 measured again on the parser with every branch of that stop merged, still untuned (nobody had seen its
misses); the parser was fixed generally on them afterwards (23f1569), so its row now guards against regressions."""
"""Set 5's first measurement (written blind, in its own world: bench/world_5.py): the figure reported for set 5."""
"""Set 3's first measurement (written blind by another helper, measured once on the merged parser): the figure
reported for set 3, whatever the rows above say after later fixes."""
TARGET_P99_MS = 20.0
FILLER_SERVICES = ("Catalog", "Profile", "Cart", "Shipping", "Pricing", "Reviews", "Wishlist", "Sessions", "Media",
                   "Reports", "Billing", "Tracking", "Loyalty", "Coupons", "Recommendations", "Gallery")  # fmt: skip
FILLER_KINDS = ("Endurance", "Burst", "Capacity", "Canary", "Regression", "Nightly", "Warmup", "Failover")


class TimedTransport(httpx.AsyncBaseTransport):
    """Loopback HTTP that adds up the time spent waiting for responses (the API's share of explain())."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.spent = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        response = await self.inner.handle_async_request(request)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        self.spent += time.perf_counter() - started
        return httpx.Response(response.status_code, headers=response.headers, content=raw, request=request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Score:
    """The verdicts on one phrasing file."""

    judged: list[tuple[Entry, Verdict]] = field(default_factory=list)
    pending: int = 0
    writes_sent: list[str] = field(default_factory=list)

    @property
    def correct(self) -> int:
        return sum(verdict.correct for _, verdict in self.judged)

    @property
    def rate(self) -> float:
        return self.correct / len(self.judged) if self.judged else 0.0

    @property
    def wrong_writes(self) -> list[tuple[Entry, Verdict]]:
        return [(entry, verdict) for entry, verdict in self.judged if verdict.wrong_write]

    @property
    def not_understood(self) -> int:
        return sum(1 for entry, verdict in self.judged if entry.operation and not verdict.understood)

    @property
    def misses(self) -> list[tuple[Entry, Verdict]]:
        return [(entry, verdict) for entry, verdict in self.judged if not verdict.correct]

    def summary(self) -> str:
        return f"{100 * self.rate:.1f} % ({self.correct}/{len(self.judged)})"


async def read_facts(control: httpx.AsyncClient) -> Facts:
    response = await control.get(RUNS_PATH, params=RUNS_PARAMS, headers=api_headers(TOKEN, STACK))
    response.raise_for_status()
    zone = configured_zone()
    return Facts(run_facts(response.json()["value"]), datetime.now(zone), zone)


async def score(
    entries: Sequence[Entry],
    toolbox: Toolbox,
    control: httpx.AsyncClient,
    facts: Facts,
    *,
    reset: bool = True,
    rebuild: Callable[[], Awaitable[object]] | None = None,
) -> Score:
    """Explain and judge every entry; with ``reset``, a write that got through is undone by reloading the demo
    (or by ``rebuild``, for another world)."""
    from bot.router.explain import explain

    registry, result = get_registry(), Score()
    for entry in entries:
        if is_pending(entry, registry):
            result.pending += 1
            continue
        (await control.delete("/_sim/requests")).raise_for_status()
        before = datetime.now(facts.zone)
        try:
            data: Any = (await explain(entry.text, toolbox)).as_json()
        except Exception as exc:  # a crash is a miss, and the rest still gets measured
            data = {"error": f"explain() raised {type(exc).__name__}: {exc}", "choices": []}
        log = (await control.get("/_sim/requests")).json()
        writes = write_requests(log)
        result.writes_sent += [f"{entry.text!r}: {w}" for w in writes]
        if writes and reset and rebuild is not None:
            await rebuild()  # the world is built at its fixed instant: the same ids and states again
        elif writes and reset:
            await control.post("/_sim/reset", json={"demo": True})  # the frozen clock reloads the same demo
        result.judged.append((entry, judge_around(entry, data, facts, registry, before)))
    return result


async def grow_stack(control: httpx.AsyncClient, total: int) -> int:
    """Add filler load tests (names sharing no word with the demo's) until the stack holds ``total``."""
    existing = (await control.get("/cloud/v6/load_tests", params={"$top": 1, "$count": "true"},
                                  headers=api_headers(TOKEN, STACK))).json()["@count"]  # fmt: skip
    gate = asyncio.Semaphore(16)

    async def add(index: int) -> None:
        name = f"{FILLER_SERVICES[index % 16]} {FILLER_KINDS[index // 16 % 8]} {index:04d}"
        async with gate:
            response = await control.post("/_sim/load_tests", json={"project_id": 77 + index % 3, "name": name})
            response.raise_for_status()

    await asyncio.gather(*(add(i) for i in range(total - existing)))
    return int(total)


async def explain_times(
    texts: Sequence[str], toolbox: Toolbox, transport: TimedTransport
) -> tuple[list[float], list[float]]:
    """Per text, warm: (explain total ms, parse ms = total minus API wait)."""
    from bot.router.explain import explain

    totals, parses = [], []
    for text in texts:
        transport.spent = 0.0
        started = time.perf_counter()
        await explain(text, toolbox)
        elapsed = time.perf_counter() - started
        totals.append(elapsed * 1000)
        parses.append((elapsed - transport.spent) * 1000)
    return totals, parses


def percentiles(samples: Sequence[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return statistics.median(samples), cuts[94], cuts[98]


@dataclass
class Measured:
    held: Score
    held_2: Score
    held_3: Score
    held_4: Score
    held_5: Score
    corp: Score
    big: Score
    times: dict[str, tuple[float, float, float]]
    tests: int


async def measure() -> Measured:
    heldout, heldout_2, corpus = load_entries(HELDOUT), load_entries(HELDOUT_2), load_entries(CORPUS)
    heldout_3, heldout_4 = load_entries(HELDOUT_3), load_entries(HELDOUT_4)
    registry = get_registry()
    held_5 = await score_world_5(load_entries(HELDOUT_5))
    with simulator_process() as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as control:
            (await control.post("/_sim/clock/speed", json={"speed": 0})).raise_for_status()
            facts = await read_facts(control)
            settings = K6CloudSettings(_env_file=None, token=TOKEN, stack_id=STACK, api_url=url)  # type: ignore[call-arg]
            async with K6CloudClient(settings) as client:
                held = await score(heldout, Toolbox(client), control, facts)
                held_2 = await score(heldout_2, Toolbox(client), control, facts)
                held_3 = await score(heldout_3, Toolbox(client), control, facts)
                held_4 = await score(heldout_4, Toolbox(client), control, facts)
                corp = await score(corpus, Toolbox(client), control, facts)

            tests = await grow_stack(control, STACK_SIZE)
            transport = TimedTransport()
            async with K6CloudClient(settings, transport=transport) as client:
                toolbox = Toolbox(client)
                # judging the held-out set again also warms the caches for its texts
                big = await score(heldout, toolbox, control, facts, reset=False)
                texts = [
                    e.text
                    for e in [*heldout, *heldout_2, *heldout_3, *heldout_4, *corpus]
                    if not is_pending(e, registry)
                ]
                await explain_times(texts, toolbox, transport)  # warm for every text
                totals, parses = await explain_times(texts, toolbox, transport)
                baseline = []
                for _ in texts:
                    started = time.perf_counter()
                    await toolbox.execute("get_test_run", {"test_run_id": 1234})
                    baseline.append((time.perf_counter() - started) * 1000)
    times = {"parse": percentiles(parses), "total": percentiles(totals), "baseline": percentiles(baseline)}
    return Measured(held, held_2, held_3, held_4, held_5, corp, big, times, tests)


async def score_world_5(entries: Sequence[Entry]) -> Score:
    """Set 5 against world 5 (bench/world_5.py), built on an empty simulator in its own process."""
    with simulator_process() as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as control:

            async def rebuild() -> None:
                await build_world_5(control, token=TOKEN, stack_id=STACK)

            await rebuild()
            facts = await read_facts(control)
            settings = K6CloudSettings(_env_file=None, token=TOKEN, stack_id=STACK, api_url=url)  # type: ignore[call-arg]
            async with K6CloudClient(settings) as client:
                return await score(entries, Toolbox(client), control, facts, rebuild=rebuild)


def main() -> int:
    try:
        import bot.router.explain  # noqa: F401
    except ImportError as exc:
        print(f"bot.router.explain is not available yet ({exc}); nothing to measure.", file=sys.stderr)
        return 1
    measured = asyncio.run(measure())
    held, held_2, held_3, corp, big = measured.held, measured.held_2, measured.held_3, measured.corp, measured.big
    held_4, held_5 = measured.held_4, measured.held_5
    times, tests = measured.times, measured.tests
    texts = len(held.judged) + len(held_2.judged) + len(held_3.judged) + len(held_4.judged) + len(corp.judged)
    wrong = len(held.wrong_writes) + len(corp.wrong_writes)
    writes_sent = sum(len(s.writes_sent) for s in (held, held_2, held_3, held_4, held_5, corp, big))
    parse, total, base = times["parse"], times["total"], times["baseline"]
    rows: list[tuple[str, str, str, str, str, bool | None]] = [
        ("held-out: understood and correct", held.summary(), "", "", f"≥ {100 * TARGET_RATE:.0f} %",
         held.rate >= TARGET_RATE),
        ("held-out + corpus: wrong writes", str(wrong), "", "", "= 0", wrong == 0),
        ("requests other than GET while explaining", str(writes_sent), "", "", "= 0", writes_sent == 0),
        ("held-out: not understood (meant something)", str(held.not_understood), "", "", "", None),
        ("held-out set 2 (tuned on since; see below)", held_2.summary(), "", "", f"≥ {100 * TARGET_RATE:.0f} %",
         held_2.rate >= TARGET_RATE),
        ("held-out set 2: wrong writes", str(len(held_2.wrong_writes)), "", "", "= 0",
         not held_2.wrong_writes),
        ("held-out set 2: not understood (meant something)", str(held_2.not_understood), "", "", "", None),
        ("held-out set 3 (tuned on since; see below)", held_3.summary(), "", "", f"≥ {100 * TARGET_RATE:.0f} %",
         held_3.rate >= TARGET_RATE),
        ("held-out set 3: wrong writes", str(len(held_3.wrong_writes)), "", "", "= 0",
         not held_3.wrong_writes),
        ("held-out set 3: not understood (meant something)", str(held_3.not_understood), "", "", "", None),
        ("held-out set 4 (tuned on since; see below)", held_4.summary(), "", "", f"≥ {100 * TARGET_RATE:.0f} %",
         held_4.rate >= TARGET_RATE),
        ("held-out set 4: wrong writes", str(len(held_4.wrong_writes)), "", "", "= 0",
         not held_4.wrong_writes),
        ("held-out set 4: not understood (meant something)", str(held_4.not_understood), "", "", "", None),
        ("held-out set 5 (own world; tuned on since)", held_5.summary(), "", "", f"≥ {100 * TARGET_RATE:.0f} %",
         held_5.rate >= TARGET_RATE),
        ("held-out set 5: wrong writes", str(len(held_5.wrong_writes)), "", "", "= 0",
         not held_5.wrong_writes),
        ("held-out set 5: not understood (meant something)", str(held_5.not_understood), "", "", "", None),
        ("corpus: understood and correct (comparison)", corp.summary(), "", "", "", None),
        (f"held-out with {tests:,} tests: understood and correct", big.summary(), "", "", "info", None),
        (f"parse time median ({texts} texts, {tests:,} tests, warm)", f"{parse[0]:.2f} ms", f"{base[0]:.2f} ms",
         f"{parse[0] / base[0]:.2f}x", "", None),
        ("parse time p95", f"{parse[1]:.2f} ms", f"{base[1]:.2f} ms", f"{parse[1] / base[1]:.2f}x", "", None),
        ("parse time p99", f"{parse[2]:.2f} ms", f"{base[2]:.2f} ms", f"{parse[2] / base[2]:.2f}x",
         f"≤ {TARGET_P99_MS:g} ms", parse[2] <= TARGET_P99_MS),
        ("explain incl. API time p99", f"{total[2]:.2f} ms", f"{base[2]:.2f} ms", f"{total[2] / base[2]:.2f}x", "", None),
    ]  # fmt: skip
    _print_table(rows)
    print("baseline: one Toolbox.execute('get_test_run') read on the same simulator, same percentile")
    print(f"held-out set 2 untuned (its first measurement, reported): {HELDOUT_2_UNTUNED}; the parser was fixed on")
    print("  its misses afterwards (general fixes only), so the set-2 rows above now guard against regressions")
    print(f"held-out set 1 before its listed misses were fixed (general fixes): {HELDOUT_1_BEFORE_FIXES}")
    print(f"held-out set 3 untuned (its first measurement, reported): {HELDOUT_3_UNTUNED}")
    print(f"held-out set 4 untuned (its first measurement, reported): {HELDOUT_4_UNTUNED}")
    print(f"held-out set 5 untuned (its first measurement, reported): {HELDOUT_5_UNTUNED}")
    print(f"held-out set 5 untuned on the merged parser (before its misses were seen): {HELDOUT_5_MERGED}")
    pending = held.pending + held_2.pending + held_3.pending + held_4.pending + held_5.pending + corp.pending
    if pending:
        print(f"{pending} entries left out: their operation (issue 9) is not declared yet")
    _print_list(
        "wrong writes",
        [
            *held.wrong_writes,
            *held_2.wrong_writes,
            *held_3.wrong_writes,
            *held_4.wrong_writes,
            *held_5.wrong_writes,
            *corp.wrong_writes,
        ],
    )
    for line in [line for s in (held, held_2, held_3, held_4, held_5, corp, big) for line in s.writes_sent]:
        print(f"  sent while explaining: {line}")
    _print_list("held-out misses", held.misses)
    _print_list("held-out set 2 misses", held_2.misses)
    _print_list("held-out set 3 misses", held_3.misses)
    _print_list("held-out set 4 misses", held_4.misses)
    _print_list("held-out set 5 misses (world 5)", held_5.misses)
    return 0 if all(ok is not False for *_, ok in rows) else 1


def _print_table(rows: Sequence[tuple[str, str, str, str, str, bool | None]]) -> None:
    width = max(len(row[0]) for row in rows)
    header = f"{'language benchmark':<{width}}  {'measured':>16}  {'baseline':>10}  {'ratio':>7}  {'target':>9}  ok"
    print(header)
    print("-" * len(header))
    for name, measured, baseline, ratio, target, ok in rows:
        mark = "" if ok is None else "✓" if ok else "✗"
        print(f"{name:<{width}}  {measured:>16}  {baseline:>10}  {ratio:>7}  {target:>9}  {mark}")


def _print_list(title: str, items: Sequence[tuple[Entry, Verdict]]) -> None:
    if not items:
        return
    print(f"\n{title} ({len(items)}):")
    for entry, verdict in items:
        print(
            f"  {entry.text!r}\n      expected {entry.expects}\n      got      {verdict.got}\n      why      {verdict.reason}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
