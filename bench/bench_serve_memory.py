"""Where the memory of `k6bot serve` goes: modules first imported by commands, Python heap growth by file:line.

    .venv/bin/python bench/bench_serve_memory.py                    # idle → 1,000 → 10,000 commands (demo mode)
    .venv/bin/python bench/bench_serve_memory.py --commands 3000    # a quicker look
    .venv/bin/python bench/bench_serve_memory.py --tracemalloc      # also the heap diff, top 20 by file:line
    .venv/bin/python bench/bench_serve_memory.py --modules          # also what each first-use module costs

A diagnosis tool, not a figure (the figures are bench_ops.py's `--only rss`). `k6bot serve` runs as
bench_ops.py starts it (demo mode, database current, Slack on, driven closed loop through ``POST /slack/events``),
but through a thin wrapper (the ``--probe`` mode of this file) that, on SIGUSR1, writes VmRSS, the names in
``sys.modules`` and, with ``--tracemalloc`` (``PYTHONTRACEMALLOC=1``: RSS is then larger), a heap snapshot.
``--modules`` then imports, in a fresh interpreter, what was loaded at idle and adds each module that commands
loaded later, one at a time, printing VmRSS after each: what importing it costs over what came before.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _vmrss(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def resident_by_mapping(pid: int | str = "self") -> dict[str, int]:
    """Resident KiB by kind of mapping: [heap], [stack], anonymous (pymalloc arenas, thread arenas and stacks,
    big buffers) and file-backed (shared libraries, by file name)."""
    kinds: dict[str, int] = {}
    kind = "?"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        fields = line.split()
        if not fields:
            continue
        if "-" in fields[0] and not fields[0].endswith(":"):
            name = fields[5] if len(fields) > 5 else ""
            start, end = (int(x, 16) for x in fields[0].split("-"))
            kind = name.rsplit("/", 1)[-1] if name else "anonymous"
            mapping = f"anon {fields[0].split('-')[0]} {(end - start) >> 10}K" if not name else None
        elif fields[0] == "Rss:":
            kinds[kind] = kinds.get(kind, 0) + int(fields[1])
            if mapping and int(fields[1]):
                kinds[mapping] = int(fields[1])
    return kinds


def pymalloc_stats() -> dict[str, int]:
    """The totals of ``sys._debugmallocstats()`` (written to fd 2: caught in a temporary file)."""
    import tempfile

    with tempfile.TemporaryFile("w+") as file:
        saved = os.dup(2)
        try:
            os.dup2(file.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        file.seek(0)
        text = file.read()
    wanted = {
        "# arenas allocated current": "arenas",
        "# bytes in allocated blocks": "allocated",
        "# bytes in available blocks": "available",
        "# unused pools": "unused_pools",
    }
    stats: dict[str, int] = {}
    for line in text.splitlines():
        for label, key in wanted.items():
            if line.strip().startswith(label):
                stats[key] = int(line.split("=")[-1].replace(",", "").split()[0])
    return stats


def probe_main(out: Path, argv: list[str]) -> None:
    """Inside the serve process: dump on SIGUSR1, then run `k6bot` with ``argv``."""
    count = 0

    def dump(_signum: int, _frame: object) -> None:
        nonlocal count
        import gc
        import tracemalloc

        gc.collect()
        import threading

        data = {
            "rss_kib": _vmrss(),
            "modules": list(sys.modules),
            "objects": len(gc.get_objects()),
            "threads": [t.name for t in threading.enumerate()],
            "maps": resident_by_mapping(),
            "pymalloc": pymalloc_stats(),
        }
        if os.environ.get("PROBE_TRIM"):  # what malloc_trim(0) would give back now
            from bot.runtime import release_free_heap

            before = _vmrss()
            release_free_heap()
            data["trimmed_kib"] = before - _vmrss()
        if tracemalloc.is_tracing():
            tracemalloc.take_snapshot().dump(str(out / f"{count}.snap"))
            data["traced_kib"] = tracemalloc.get_traced_memory()[0] // 1024
        (out / f"{count}.tmp").write_text(json.dumps(data))
        (out / f"{count}.tmp").rename(out / f"{count}.json")
        count += 1

    signal.signal(signal.SIGUSR1, dump)
    sys.argv = ["k6bot", *argv]
    from bot.launch import main

    main()


@contextlib.contextmanager
def probed_serve(fake: Any, out: Path, tracemalloc: bool) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    from bench_ops import free_port, serve_environment

    with tempfile.TemporaryDirectory() as state:
        env = serve_environment(Path(state), fake)
        if tracemalloc:
            env["PYTHONTRACEMALLOC"] = "8"  # frames per trace: the largest blocks are shown with where they came from
        subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True)
        port = free_port()
        argv = ["serve", "--host", "127.0.0.1", "--port", str(port)]
        command = [sys.executable, __file__, "--probe", str(out), "--", *argv]
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            yield process, f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=20)


def ask(process: subprocess.Popen[bytes], out: Path, n: int) -> dict[str, Any]:
    process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 60
    while not (out / f"{n}.json").exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the probe did not answer")
        time.sleep(0.05)  # the probe writes its file asynchronously to us; a diagnosis script, not a test
    return dict(json.loads((out / f"{n}.json").read_text()))


async def drive(base: str, fake: Any, upto: int, start: int) -> None:
    from bench_ops import command_body, raw_post, sign

    texts = ["show run 1234", "list runs", "list tests", "runs of orders soak test", "status of run 1235"]
    before = len(fake.calls_of("response_url"))
    sent = start
    while sent < upto:
        batch = range(sent, min(sent + 8, upto))

        async def one(i: int) -> None:
            body = command_body(texts[i % len(texts)], fake.response_url(f"mem{i}"), i, user=f"U0B{i % 7}")
            if (status := await raw_post(base, "/slack/events", body, sign(body))) != 200:
                raise RuntimeError(f"command {i} answered {status}")

        await asyncio.gather(*(one(i) for i in batch))
        await asyncio.to_thread(fake.wait_for, "response_url", before + batch[-1] + 1 - start, timeout=600)
        sent = batch[-1] + 1


def heap_diff(out: Path, a: int, b: int, top: int = 20) -> None:
    import tracemalloc

    first = tracemalloc.Snapshot.load(str(out / f"{a}.snap"))
    second = tracemalloc.Snapshot.load(str(out / f"{b}.snap"))
    stats = second.compare_to(first, "lineno")
    total = sum(s.size_diff for s in stats)
    print(f"\nPython heap {a} → {b}: {total / 1024:+.0f} KiB; top {top} by file:line")
    for stat in stats[:top]:
        frame = stat.traceback[0]
        name = frame.filename.replace(str(ROOT) + "/", "").split("site-packages/")[-1]
        print(f"  {stat.size_diff / 1024:+8.1f} KiB {stat.count_diff:+7d}  {name}:{frame.lineno}")
    big = sorted((t for t in second.traces if t.size >= 128 * 1024), key=lambda t: -t.size)[:6]
    print(f"  blocks of 128 KiB or more in {b}:")
    for trace in big:
        where = " ← ".join(
            f"{f.filename.replace(str(ROOT) + '/', '').split('site-packages/')[-1]}:{f.lineno}" for f in trace.traceback
        )
        print(f"    {trace.size / 1024:8.0f} KiB  {where}")


def module_costs(idle: list[str], later: list[str]) -> None:
    """Fresh interpreter: import the idle set, then each later module in turn; VmRSS after each."""
    code = f"""
import importlib, json, sys
sys.modules.setdefault("httpx._main", None)
def rss():
    for l in open("/proc/self/status"):
        if l.startswith("VmRSS:"): return int(l.split()[1])
for name in {idle!r}:
    try: importlib.import_module(name)
    except Exception: pass
base = rss(); print(json.dumps(["(idle set)", base]), flush=True)
for name in {later!r}:
    if name in sys.modules: continue
    try: importlib.import_module(name)
    except Exception as exc: print(json.dumps([name + " (failed: " + type(exc).__name__ + ")", rss()])); continue
    print(json.dumps([name, rss()]), flush=True)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    previous = None
    print("\nimport cost of modules commands loaded first (fresh interpreter, after the idle set), KiB:")
    rows = []
    for line in result.stdout.splitlines():
        name, rss = json.loads(line)
        if previous is not None:
            rows.append((rss - previous, name))
        else:
            print(f"  idle set alone: {rss / 1024:.1f} MiB")
        previous = rss
    for delta, name in rows:
        if delta:
            print(f"  {delta:+6d}  {name}")
    print(f"  total {sum(d for d, _ in rows):+d} KiB over {len(rows)} modules")
    if result.returncode:
        print(result.stderr[-2000:])


async def main_async(args: argparse.Namespace) -> None:
    import httpx
    from bench_ops import BOT_TOKEN, _wait_healthy

    from tests.fakes.slack import FakeSlack

    checkpoints = [0, min(1000, args.commands), args.commands]
    with tempfile.TemporaryDirectory() as tmp, FakeSlack(bot_token=BOT_TOKEN) as fake:
        out = Path(tmp)
        with probed_serve(fake, out, args.tracemalloc) as (process, base):
            async with httpx.AsyncClient(timeout=60) as http:
                await _wait_healthy(http, base, process)
            dumps = [ask(process, out, 0)]
            sent = 0
            for n, upto in enumerate(checkpoints[1:], start=1):
                await drive(base, fake, upto, sent)
                sent = upto
                dumps.append(ask(process, out, n))
        print(f"k6bot serve (demo mode, probe wrapper{', tracemalloc' if args.tracemalloc else ''})")
        for upto, dump in zip(checkpoints, dumps, strict=True):
            traced = f", traced {dump['traced_kib'] / 1024:.1f} MiB" if "traced_kib" in dump else ""
            print(
                f"  after {upto:>6,} commands: RSS {dump['rss_kib'] / 1024:.1f} MiB, {len(dump['modules'])} modules, "
                f"{dump['objects']:,} gc objects{traced}"
            )
        print("\nresident KiB by mapping (the largest changes):")
        maps = [d["maps"] for d in dumps]
        names = {k for m in maps for k in m}
        changes = sorted(names, key=lambda k: -abs(maps[-1].get(k, 0) - maps[0].get(k, 0)))
        for name in changes[:25]:
            print(f"  {name:<40} " + " → ".join(f"{m.get(name, 0):>6}" for m in maps))
        for upto, dump in zip(checkpoints, dumps, strict=True):
            pm = dump["pymalloc"]
            trimmed = f", malloc_trim would free {dump['trimmed_kib']} KiB" if "trimmed_kib" in dump else ""
            print(
                f"  pymalloc after {upto:>6,}: {pm.get('arenas', 0)} arenas ({pm.get('arenas', 0) / 4:.1f} MiB), "
                f"{pm.get('allocated', 0) / 2**20:.1f} MiB in blocks, {pm.get('available', 0) / 2**20:.1f} MiB free "
                f"in used pools{trimmed}"
            )
        print("threads: " + " → ".join(str(len(d["threads"])) for d in dumps) + f" (last: {dumps[-1]['threads']})")
        idle = dumps[0]["modules"]
        seen = set(idle)
        later = [m for m in dumps[1]["modules"] if m not in seen]
        last = [m for m in dumps[2]["modules"] if m not in seen and m not in later]
        print(f"\nmodules first imported by the first {checkpoints[1]:,} commands ({len(later)}):")
        print("  " + " ".join(later))
        print(f"modules first imported after that ({len(last)}): {' '.join(last)}")
        if args.tracemalloc:
            heap_diff(out, 0, 1)
            heap_diff(out, 1, 2)
        if args.modules:
            module_costs(idle, later)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--probe":
        probe_main(Path(sys.argv[2]), sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=10_000)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--modules", action="store_true")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
