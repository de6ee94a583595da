"""Speed, size and memory figures of issue 12 (and issue 9's cost figures) as ONE table, each beside its baseline.

    .venv/bin/python bench/bench_ops.py           # the full run (about 10 minutes); exit code 1 if a target is missed
    .venv/bin/python bench/bench_ops.py --quick   # a smoke run (~12 s): few samples; exit code 0 unless it breaks

Every figure is measured in the same run as its baseline:

* tool layer vs raw httpx: ``Toolbox.execute`` and a bare ``httpx.AsyncClient`` GET against the same
  :class:`~tools.simulator.SimulatorServer` (real loopback HTTP), interleaved sample by sample;
* ``tools/list`` and tool-result sizes: the MCP server in memory (``mcp.Client(server)``), tokens = bytes / 4;
* Slack ack: signed slash commands to the real Slack HTTP app (uvicorn) while every k6 API request is held
  5 s by the simulator's latency fault, vs the same requests to a bare Starlette endpoint that only acks;
* RSS: the real ``k6bot serve`` subprocess in demo mode, driven through ``POST /slack/events``;
* issue 9: requests the simulator saw for one tool call, with 50 ms injected per request, vs the very same
  requests sent one after another with raw httpx.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_memory import rss_kib  # noqa: E402

from tools.client import K6CloudClient  # noqa: E402
from tools.config import K6CloudSettings  # noqa: E402
from tools.registry import REGISTRY, Toolbox  # noqa: E402
from tools.simulator import Simulator, SimulatorServer  # noqa: E402
from tools.simulator.faults import Fault  # noqa: E402

TOKEN = "bench-token-not-a-secret"
STACK = 1000
SIGNING_SECRET = "bench-signing-secret-0123456789"
BOT_TOKEN = "xoxb-bench-token"
HEADER = "| figure | k6bot | baseline | ratio | target | met? |"
RUN_ID = 1234
MANY_RUNS_TEST = 503
ACK_TEXTS = ["show run 1234", "list runs", "investigate 1234", "runs of orders soak test", "list tests"]


@dataclass
class Row:
    figure: str
    k6bot: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: bool | None = None

    def line(self) -> str:
        met = "—" if self.met is None else ("yes" if self.met else "NO")
        return f"| {self.figure} | {self.k6bot} | {self.baseline} | {self.ratio} | {self.target} | {met} |"


@dataclass
class Sizes:
    quick: bool

    @property
    def samples(self) -> int:
        # a ~1 ms request on a shared 2-core machine: with 300 samples the median ratio moved ±4% between runs
        return 30 if self.quick else 1000

    @property
    def list_samples(self) -> int:
        return 10 if self.quick else 200

    @property
    def rounds(self) -> int:
        return 1 if self.quick else 5

    @property
    def concurrent(self) -> int:
        return 10 if self.quick else 50

    @property
    def slow_api(self) -> float:
        return 0.5 if self.quick else 5.0

    @property
    def commands(self) -> int:
        return 60 if self.quick else 10_000

    @property
    def warm_commands(self) -> int:
        return 20 if self.quick else 1_000


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[98] if len(samples) >= 2 else samples[0]


def ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 10 else f"{value:.0f} ms"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "—"


def auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN}", "X-Stack-Id": str(STACK)}


@contextlib.contextmanager
def simulator(demo: bool = True, tls: tuple[str, str] | None = None) -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(token=TOKEN, stack_id=STACK, demo=demo)
    server = SimulatorServer(sim, tls=tls)
    url = server.start()
    try:
        yield sim, url
    finally:
        server.stop()


def cloud_settings(url: str) -> K6CloudSettings:
    return K6CloudSettings(_env_file=None, token=TOKEN, stack_id=STACK, api_url=url)  # type: ignore[call-arg]


async def interleaved(
    ours: Callable[[], Awaitable[object]], raw: Callable[[], Awaitable[object]], n: int
) -> tuple[list[float], list[float]]:
    """n samples of each, alternating which goes first, in milliseconds."""
    a: list[float] = []
    b: list[float] = []
    for _ in range(5):  # warm both paths (connections, caches, lazy imports)
        await ours()
        await raw()
    for i in range(n):
        pair = [(ours, a), (raw, b)] if i % 2 == 0 else [(raw, b), (ours, a)]
        for fn, out in pair:
            started = time.perf_counter()
            await fn()
            out.append((time.perf_counter() - started) * 1000)
    return a, b


# --------------------------------------------------------------------------- tool layer vs raw httpx


async def get_run_rows(toolbox: Toolbox, raw: httpx.AsyncClient, sizes: Sizes, where: str = "") -> list[Row]:
    """Median and p99 of ``get_test_run`` through the toolbox vs the raw GET of the same run."""

    async def ours_get() -> None:
        await toolbox.execute("get_test_run", {"test_run_id": RUN_ID})

    async def raw_get() -> None:
        # A raw user decodes the body too: GET + raise_for_status + response.json().
        response = await raw.get(f"/cloud/v6/test_runs/{RUN_ID}")
        response.raise_for_status()
        response.json()

    a, b = await interleaved(ours_get, raw_get, sizes.samples)
    n = f"n={len(a)}"
    return [
        Row(
            f"tool layer vs raw httpx, get a run, median ({n}){where}",
            ms(median(a)),
            ms(median(b)),
            ratio(median(a), median(b)),
            "≤ 1.05×",
            median(a) / median(b) <= 1.05,
        ),
        Row(
            f"tool layer vs raw httpx, get a run, p99 ({n}){where}",
            ms(p99(a)),
            ms(p99(b)),
            ratio(p99(a), p99(b)),
            "— (the target is for the median)",
        ),
    ]


async def prebuilt_url_row(toolbox: Toolbox, raw: httpx.AsyncClient, sizes: Sizes) -> Row:
    """The same, against raw httpx handed a ready ``httpx.URL``: what the tool layer itself costs, with the URL
    parsing that k6bot's client skips (``K6CloudClient._url``) skipped by the raw side too."""
    url = raw.build_request("GET", f"/cloud/v6/test_runs/{RUN_ID}").url

    async def ours_get() -> None:
        await toolbox.execute("get_test_run", {"test_run_id": RUN_ID})

    async def raw_get() -> None:
        response = await raw.get(url)
        response.raise_for_status()
        response.json()

    a, b = await interleaved(ours_get, raw_get, sizes.samples)
    return Row(
        f"tool layer vs raw httpx given a prebuilt `httpx.URL`, get a run, median (n={len(a)})",
        ms(median(a)),
        ms(median(b)),
        ratio(median(a), median(b)),
        "— (what the layer itself adds)",
    )


@contextlib.contextmanager
def simulator_process() -> Iterator[str]:
    """A simulator in a process of its own (``python -m tools.simulator``, demo data): its CPU is not the bench's."""
    command = [sys.executable, "-m", "tools.simulator", "--port", "0", "--token", TOKEN, "--stack-id", str(STACK)]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()  # it says its URL once it listens
        match = re.search(r"listening on (\S+)", line)
        if match is None:
            raise RuntimeError(f"the simulator process did not start: {line.strip()!r}")
        threading.Thread(target=process.stderr.read, daemon=True).start()  # keep its stderr from filling up
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=20)


async def tool_layer_rows(sizes: Sizes) -> list[Row]:
    rows = []
    with simulator() as (sim, url):
        async with httpx.AsyncClient() as control:
            made = await control.post(f"{url}/_sim/load_tests/{MANY_RUNS_TEST}/runs", json={"n": 150}, timeout=60)
            made.raise_for_status()
        async with K6CloudClient(cloud_settings(url)) as client, httpx.AsyncClient(base_url=url, headers=auth()) as raw:
            toolbox = Toolbox(client)
            rows += await get_run_rows(toolbox, raw, sizes)
            rows.append(await prebuilt_url_row(toolbox, raw, sizes))

            async def ours_list() -> None:
                result = await toolbox.execute("list_test_runs", {"load_test": MANY_RUNS_TEST, "limit": 100})
                count = len(_runs_of(result))
                if count != 100:
                    raise RuntimeError(f"list_test_runs gave {count} runs, not 100")

            async def raw_list() -> None:
                response = await raw.get(f"/cloud/v6/load_tests/{MANY_RUNS_TEST}/test_runs", params={"$top": "100"})
                response.raise_for_status()
                response.json()

            sim.clear_requests()
            await ours_list()  # the first call also reads the load test, which the resolver then keeps
            first_call = len(sim.requests)
            sim.clear_requests()
            await ours_list()
            per_call = len(sim.requests)
            tops = sorted({r.query.get("$top", "-") for r in sim.requests})
            a, b = await interleaved(ours_list, raw_list, sizes.list_samples)
            rows.append(
                Row(
                    f"list 100 runs of one test vs one raw `$top=100` (median, n={len(a)}; "
                    f"{per_call} request(s)/call after a first of {first_call}, $top={','.join(tops)})",
                    ms(median(a)),
                    ms(median(b)),
                    ratio(median(a), median(b)),
                    "≤ 1.15×",
                    median(a) / median(b) <= 1.15,
                )
            )
    with simulator_process() as url:
        async with K6CloudClient(cloud_settings(url)) as client, httpx.AsyncClient(base_url=url, headers=auth()) as raw:
            rows += await get_run_rows(Toolbox(client), raw, sizes, where=", simulator in its own process")
    return rows


def _runs_of(result: Any) -> list[Any]:
    for name in ("runs", "test_runs", "items", "value"):
        value = getattr(result, name, None)
        if isinstance(value, list):
            return value
    if isinstance(result, list):
        return result
    raise RuntimeError(f"no list of runs in {type(result).__name__}")


# --------------------------------------------------------------------------- MCP sizes


def _tokens(data: Any, *, compact: bool) -> float:
    text = json.dumps(data, separators=(",", ":")) if compact else json.dumps(data)
    return len(text.encode()) / 4


async def mcp_rows() -> list[Row]:
    import mcp_types as types
    from mcp import Client

    from bot.mcp import build_server

    rows = []
    with simulator() as (_sim, url):
        async with K6CloudClient(cloud_settings(url)) as client, httpx.AsyncClient(base_url=url, headers=auth()) as raw:
            toolbox = Toolbox(client)
            sizes: dict[str, tuple[float, float, int]] = {}
            for label, toolsets in (("default", None), ("all", "all")):
                server = build_server(toolbox, toolsets=toolsets, demo=True)
                info = types.Implementation(name="bench-ops", version="1")
                async with Client(server, client_info=info) as mcp_client:
                    listing = await mcp_client.list_tools()
                    data = listing.model_dump(mode="json", by_alias=True, exclude_none=True)
                    sizes[label] = (_tokens(data, compact=False), _tokens(data, compact=True), len(listing.tools))
                    if label == "default":
                        result = await mcp_client.call_tool("list_test_runs", {"limit": 20})
                        if result.is_error:
                            raise RuntimeError(f"list_test_runs failed: {result.content}")
                        texts = [b.text for b in result.content if isinstance(b, types.TextContent)]
                        structured = result.structured_content
            for label, target in (("default", 3000), ("all", 12000)):
                spaced, compact, count = sizes[label]
                rows.append(
                    Row(
                        f"tools/list {label} ({count} tools), tokens = bytes/4, json.dumps default spacing",
                        f"{spaced:,.0f}",
                        target=f"≤ {target:,}",
                        met=spaced <= target,
                    )
                )
                rows.append(
                    Row(
                        f"tools/list {label} ({count} tools), tokens = bytes/4, compact wire form",
                        f"{compact:,.0f}",
                        target=f"≤ {target:,}",
                        met=compact <= target,
                    )
                )
            runs = _listed_runs(structured)
            text_bytes = sum(len(t.encode()) for t in texts)
            structured_bytes = len(json.dumps(structured, separators=(",", ":")).encode()) if structured else 0
            per_run = (text_bytes + structured_bytes) / 4 / max(runs, 1)
            response = await raw.get("/cloud/v6/test_runs", params={"$top": "20"})
            response.raise_for_status()
            api_runs = response.json()["value"]
            api_per_run = len(json.dumps(api_runs, separators=(",", ":")).encode()) / 4 / max(len(api_runs), 1)
            rows.append(
                Row(
                    f"tool result per listed run, list_test_runs limit=20 ({runs} runs; text "
                    f"{text_bytes / 4 / max(runs, 1):.0f} + structured {structured_bytes / 4 / max(runs, 1):.0f}); "
                    "baseline: raw v6 run JSON",
                    f"{per_run:.0f} tokens",
                    f"{api_per_run:.0f} tokens",
                    ratio(per_run, api_per_run),
                    "≤ 60 tokens",
                    per_run <= 60,
                )
            )
    return rows


def _listed_runs(structured: Any) -> int:
    if isinstance(structured, dict):
        for value in structured.values():
            if isinstance(value, list):
                return len(value)
        if "result" in structured:
            return _listed_runs(structured["result"])
    if isinstance(structured, list):
        return len(structured)
    return 0


# --------------------------------------------------------------------------- Slack ack under a slow k6 API


def sign(body: bytes) -> dict[str, str]:
    import hashlib
    import hmac

    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(text: str, response_url: str, n: int, user: str = "U0BENCH") -> bytes:
    form = {
        "token": "legacy-verification-token",
        "team_id": "T0FAKE",
        "team_domain": "fake",
        "channel_id": "C0LOAD",
        "channel_name": "load-tests",
        "user_id": user,
        "user_name": "bench",
        "command": "/k6",
        "text": text,
        "api_app_id": "A0K6BOT",
        "response_url": response_url,
        "trigger_id": f"trigger.{n}",
    }
    return urlencode(form).encode()


def free_port() -> int:
    with free_socket() as probe:
        return int(probe.getsockname()[1])


BARE_ACK = """
import sys
import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

async def ack(request):
    await request.body()
    return Response(b"", status_code=200)

app = Starlette(routes=[Route("/slack/events", ack, methods=["POST"])])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False, backlog=512)
"""


@contextlib.contextmanager
def bare_ack_process() -> Iterator[Serve]:
    """The baseline: a bare Starlette endpoint under uvicorn, in its own process, that only acks."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", BARE_ACK, str(port)], cwd=ROOT, stderr=subprocess.DEVNULL)
    try:
        yield Serve(process, f"http://127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=20)


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    return sock


@contextlib.asynccontextmanager
async def uvicorn_app(app: Any) -> AsyncIterator[str]:
    import uvicorn

    sock = free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", backlog=512)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # uvicorn has no started event; this only polls a flag at startup
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def raw_post(base: str, path: str, body: bytes, headers: dict[str, str]) -> int:
    """POST over a fresh connection with plain asyncio streams; the status, once the whole answer is read.

    The load generator for the ack figures: httpx costs a few ms of CPU per request, which with 50 at once
    on 2 cores would be measured as much as the server under test.
    """
    host, port = base.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        await reader.read()  # the rest, up to the server closing the connection
        return status
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def bare_ack_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def ack(request: Request) -> Response:
        await request.body()
        return Response(b"", status_code=200)

    return Starlette(routes=[Route("/slack/events", ack, methods=["POST"])])


async def slack_rows(sizes: Sizes, fake: Any) -> list[Row]:
    from pydantic import SecretStr

    from bot.config import BotSettings, SlackSettings
    from bot.runtime import Backend
    from bot.slack.app import build_slack
    from bot.store import open_store

    with tempfile.TemporaryDirectory() as state, simulator() as (sim, url):
        client = K6CloudClient(cloud_settings(url), backoff_base=0.01, backoff_max=0.05)
        backend = Backend(toolbox=Toolbox(client), client=client, demo=False, api_url=url)
        store = await open_store(f"sqlite+aiosqlite:///{Path(state) / 'k6bot.db'}")
        bot = BotSettings(_env_file=None)  # type: ignore[call-arg]
        slack = SlackSettings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SecretStr(BOT_TOKEN),
            signing_secret=SecretStr(SIGNING_SECRET),
            api_url=fake.api_url,
        )
        frontend = build_slack(backend, bot, slack, store)
        ours: list[float] = []
        bare: list[float] = []
        statuses: list[int] = []
        n = 0
        try:
            async with (
                uvicorn_app(frontend.asgi_app()) as k6bot_url,
                uvicorn_app(bare_ack_app()) as bare_url,
            ):

                async def post(base: str, text: str, out: list[float]) -> None:
                    nonlocal n
                    n += 1
                    body = command_body(text, fake.response_url(f"ack{n}"), n)
                    headers = sign(body)
                    started = time.perf_counter()
                    status = await raw_post(base, "/slack/events", body, headers)
                    out.append((time.perf_counter() - started) * 1000)
                    statuses.append(status)

                texts = ACK_TEXTS
                for text in texts:  # warm both apps with the API at full speed
                    await post(k6bot_url, text, [])
                    await post(bare_url, text, [])
                sim.faults.add(Fault(path=r"/cloud/.*", kind="latency", delay=sizes.slow_api, times=None))
                for _ in range(sizes.rounds):
                    for base, out in ((k6bot_url, ours), (bare_url, bare)):
                        await asyncio.gather(*(post(base, texts[i % len(texts)], out) for i in range(sizes.concurrent)))
                sim.faults.clear()
                await frontend.dispatched()
                await _settle()
        finally:
            await client.aclose()
            await store.close()
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} slash commands were not acknowledged with 200: {sorted(set(bad))}")
    label = (
        f"Slack ack p99, Slack app in the bench's event loop, {sizes.rounds} × {sizes.concurrent} concurrent "
        f"signed commands, k6 API {sizes.slow_api:g} s slow (n={len(ours)}; baseline: bare Starlette ack, same loop)"
    )
    return [
        Row(label, ms(p99(ours)), ms(p99(bare)), ratio(p99(ours), p99(bare)), "≤ 100 ms", p99(ours) <= 100),
        Row(
            "Slack ack median, same requests",
            ms(median(ours)),
            ms(median(bare)),
            ratio(median(ours), median(bare)),
        ),
    ]


@dataclass
class AckTarget:
    """What the ack figure needs up: a simulator as k6 Cloud, `k6bot serve` pointed at it, the bare baseline."""

    sim: Simulator
    serve: Serve
    bare: Serve


@contextlib.contextmanager
def ack_target(fake: Any) -> Iterator[AckTarget]:
    with simulator() as (sim, url), serve_process(fake, cloud_url=url) as serve, bare_ack_process() as bare:
        yield AckTarget(sim, serve, bare)


async def slack_serve_rows(sizes: Sizes, fake: Any, target: AckTarget) -> list[Row]:
    """The ack figure against the deployable: `k6bot serve` in its own process, k6 Cloud = the simulator here."""
    sim, serve, bare = target.sim, target.serve, target.bare
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as http:
        await _wait_healthy(http, serve.base, serve.process)
        await _wait_healthy(http, bare.base, bare.process, path="/slack/events", ok=405)
        ours: list[float] = []
        baseline: list[float] = []
        statuses: list[int] = []
        n = 0

        async def post(base: str, text: str, out: list[float]) -> None:
            nonlocal n
            n += 1
            body = command_body(text, fake.response_url(f"serve-ack{n}"), n)
            headers = sign(body)
            started = time.perf_counter()
            status = await raw_post(base, "/slack/events", body, headers)
            out.append((time.perf_counter() - started) * 1000)
            statuses.append(status)

        for text in ACK_TEXTS:  # warm both with the API at full speed
            await post(serve.base, text, [])
            await post(bare.base, text, [])
        sim.faults.add(Fault(path=r"/cloud/.*", kind="latency", delay=sizes.slow_api, times=None))
        for _ in range(sizes.rounds):
            for base, out in ((serve.base, ours), (bare.base, baseline)):
                await asyncio.gather(*(post(base, ACK_TEXTS[i % len(ACK_TEXTS)], out) for i in range(sizes.concurrent)))
        sim.faults.clear()
    bad = [s for s in statuses if s != 200]
    if bad:
        raise RuntimeError(f"{len(bad)} slash commands were not acknowledged with 200: {sorted(set(bad))}")
    label = (
        f"Slack ack p99, `k6bot serve` subprocess, {sizes.rounds} × {sizes.concurrent} concurrent signed commands, "
        f"k6 API {sizes.slow_api:g} s slow (n={len(ours)}; baseline: bare Starlette ack, own process)"
    )
    return [
        Row(label, ms(p99(ours)), ms(p99(baseline)), ratio(p99(ours), p99(baseline)), "≤ 100 ms", p99(ours) <= 100),
        Row(
            "Slack ack median, same requests",
            ms(median(ours)),
            ms(median(baseline)),
            ratio(median(ours), median(baseline)),
        ),
    ]


async def _settle() -> None:
    """Let the listener tasks that the slow API held finish (they answer through response_url)."""
    pending = [
        t
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task() and "run_ack_function_asynchronously" in repr(t.get_coro())
    ]
    if pending:
        await asyncio.wait(pending, timeout=60)


# --------------------------------------------------------------------------- RSS of k6bot serve


def _python_rss(code: str) -> int:
    """VmRSS (KiB) of a fresh interpreter at the end of ``code``."""
    probe = f"{code}\nimport pathlib\nprint([l for l in pathlib.Path('/proc/self/status').read_text().splitlines()"
    probe += " if l.startswith('VmRSS:')][0].split()[1])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return int(out.stdout.split()[-1])


def serve_environment(
    state: Path, fake: Any, cloud_url: str | None = None, ca_bundle: Path | None = None
) -> dict[str, str]:
    """Demo mode (no K6_CLOUD_TOKEN) unless ``cloud_url``: then the simulator there is k6 Cloud.
    ``ca_bundle``: the CA certificates the process trusts (``SSL_CERT_FILE``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    if ca_bundle is not None:
        env["SSL_CERT_FILE"] = str(ca_bundle)
    env.update(
        XDG_STATE_HOME=str(state),
        K6BOT_DATABASE_URL=str(state / "k6bot.db"),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
    )
    if cloud_url is not None:
        env.update(K6_CLOUD_TOKEN=TOKEN, K6_CLOUD_STACK_ID=str(STACK), K6_CLOUD_API_URL=cloud_url)
    return env


@dataclass
class Serve:
    """A `k6bot serve` subprocess (demo mode, or k6 Cloud = a simulator), Slack on, posting to the fake Slack."""

    process: subprocess.Popen[bytes]
    base: str


@contextlib.contextmanager
def serve_process(
    fake: Any, cloud_url: str | None = None, *, new_database: bool = True, ca_bundle: Path | None = None
) -> Iterator[Serve]:
    """``new_database=False``: the database is made first (``k6bot db upgrade``), as every start but a
    deployment's first finds it; with a new one ``k6bot serve`` runs the migrations, loading Alembic."""
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        env = serve_environment(Path(state), fake, cloud_url, ca_bundle)
        if not new_database:
            subprocess.run(
                [sys.executable, "-m", "bot.cli", "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True
            )
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            yield Serve(process, f"http://127.0.0.1:{port}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def https_cloud(fake: Any) -> Iterator[Serve]:
    """`k6bot serve` with k6 Cloud = a simulator in the bench process served over HTTPS, as a deployment
    reaches the real API: the process trusts the CA bundle it would (``SSL_CERT_FILE`` if set, else certifi's)
    plus the simulator's self-signed certificate, so its TLS contexts hold what a deployment's hold."""
    import certifi

    from tests.fakes.tls import self_signed_certificate

    with tempfile.TemporaryDirectory() as tls_dir:
        cert, key = self_signed_certificate(Path(tls_dir))
        bundle = Path(tls_dir) / "bundle.pem"
        trusted = Path(os.environ.get("SSL_CERT_FILE") or certifi.where())
        bundle.write_bytes(trusted.read_bytes() + b"\n" + cert.read_bytes())
        with (
            simulator(tls=(str(cert), str(key))) as (_sim, url),
            serve_process(fake, cloud_url=url, new_database=False, ca_bundle=bundle) as serve,
        ):
            yield serve


async def _first_start_rss(http: httpx.AsyncClient, fake: Any) -> int:
    """VmRSS (KiB) of a `k6bot serve` idle after its first start (a new database: the migrations ran)."""
    with serve_process(fake, new_database=True) as first:
        await _wait_healthy(http, first.base, first.process)
        return rss_kib(first.process.pid)


async def rss_rows(sizes: Sizes, fake: Any, serve: Serve, cloud: Serve | None = None) -> list[Row]:
    """The demo figures with the baselines and the first start; then, with ``cloud``, the same figures of a
    `k6bot serve` whose k6 Cloud is a simulator over HTTPS (no simulator in the process, as deployed)."""
    async with httpx.AsyncClient(timeout=60) as http:
        floor_pass, floor_mcp, _, first_start = await asyncio.gather(  # RSS does not depend on timing: overlap
            asyncio.to_thread(_python_rss, "pass"),
            asyncio.to_thread(_python_rss, "import mcp.server"),
            _wait_healthy(http, serve.base, serve.process),
            _first_start_rss(http, fake),
        )
    floors = (floor_pass, floor_mcp)
    rows = await _rss_of_use(sizes, fake, serve, "demo: the simulator in-process", floors)
    rows.insert(
        1,
        Row(
            "RSS `k6bot serve` idle after a first start (demo, new database: the migrations ran, Alembic loaded)",
            f"{first_start / 1024:.1f} MiB",
            f"{floor_pass / 1024:.1f} / {floor_mcp / 1024:.1f} MiB",
            f"{first_start / floor_pass:.1f}× / {first_start / floor_mcp:.2f}×",
            "— (once per new schema revision)",
        ),
    )
    if cloud is not None:
        rows += await _rss_of_use(sizes, fake, cloud, "k6 Cloud over HTTPS: a simulator in the bench", floors)
    return rows


async def _rss_of_use(sizes: Sizes, fake: Any, serve: Serve, mode: str, floors: tuple[int, int]) -> list[Row]:
    process, base = serve.process, serve.base
    floor_pass, floor_mcp = floors
    async with httpx.AsyncClient(timeout=60) as http:
        await _wait_healthy(http, base, process)
        idle = rss_kib(process.pid)
        tag = "c" if "Cloud" in mode else ""
        texts = ["show run 1234", "list runs", "list tests", "runs of orders soak test", "status of run 1235"]
        before = len(fake.calls_of("response_url"))
        sent = 0
        limit = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            body = command_body(texts[i % len(texts)], fake.response_url(f"rss{tag}{i}"), i, user=f"U0B{i % 7}")
            async with limit:  # a fresh connection each: no keep-alive race with uvicorn closing idle ones
                status = await raw_post(base, "/slack/events", body, sign(body))
            if status != 200:
                raise RuntimeError(f"command {i} answered {status}")

        async def send(upto: int) -> None:
            # Closed loop, as people use it: 8 commands at a time, the next 8 once those were answered (an
            # acknowledgement is not an answer: sending on acks alone measures a backlog, not a steady state).
            nonlocal sent
            while sent < upto:
                batch = range(sent, min(sent + 8, upto))
                await asyncio.gather(*(one(i) for i in batch))
                sent = batch[-1] + 1
                await asyncio.to_thread(fake.wait_for, "response_url", before + sent, timeout=600)

        started = time.perf_counter()
        await send(sizes.warm_commands)
        warm = rss_kib(process.pid)
        await send(sizes.commands)
        seconds = time.perf_counter() - started
        final = rss_kib(process.pid)
    mib = 1024
    growth = (final / warm - 1) * 100
    return [
        Row(
            f"RSS `k6bot serve` ({mode}; Slack on) idle, database current; baseline `python -c pass` / "
            "`import mcp.server`",
            f"{idle / mib:.1f} MiB",
            f"{floor_pass / mib:.1f} / {floor_mcp / mib:.1f} MiB",
            f"{idle / floor_pass:.1f}× / {idle / floor_mcp:.2f}×",
            "≤ 100 MiB",
            idle / mib <= 100,
        ),
        Row(
            f"RSS `k6bot serve` ({mode}) after {sizes.commands:,} slash commands ({sizes.commands / seconds:.0f}/s)",
            f"{final / mib:.1f} MiB",
            f"{floor_pass / mib:.1f} / {floor_mcp / mib:.1f} MiB",
            f"{final / floor_pass:.1f}× / {final / floor_mcp:.2f}×",
            "≤ 100 MiB",
            final / mib <= 100,
        ),
        Row(
            f"RSS growth ({mode}), {sizes.warm_commands:,} → {sizes.commands:,} commands (baseline: RSS after "
            f"{sizes.warm_commands:,})",
            f"{growth:+.1f} %",
            f"{warm / mib:.1f} MiB",
            f"{final / warm:.3f}×",
            "≤ 5 %",
            growth <= 5,
        ),
        Row(
            f"RSS growth ({mode}), idle → {sizes.commands:,} commands",
            f"{(final / idle - 1) * 100:+.1f} %",
            f"{idle / mib:.1f} MiB",
            f"{final / idle:.3f}×",
            "— (includes first-use imports)",
        ),
    ]


async def _wait_healthy(
    http: httpx.AsyncClient, base: str, process: subprocess.Popen[bytes], path: str = "/healthz", ok: int = 200
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if (await http.get(f"{base}{path}")).status_code == ok:
                return
        await asyncio.sleep(0.1)  # startup only: the service has no readiness signal besides /healthz
    raise RuntimeError("k6bot serve did not become healthy within 60 s")


# --------------------------------------------------------------------------- issue 9: request counts and time


async def cost_rows(sizes: Sizes) -> list[Row]:
    rows = []
    declared = {op.name for op in REGISTRY}
    calls: list[tuple[str, dict[str, Any], int | None]] = [("investigate_test_run", {"test_run": RUN_ID}, 15)]
    if "get_load_test_trend" in declared:  # its target is one request per metric, whatever the number of runs
        calls.append(("get_load_test_trend", {"load_test": "orders soak test"}, None))
    repeat = 3 if sizes.quick else 10
    with simulator() as (sim, url):
        async with K6CloudClient(cloud_settings(url)) as client, httpx.AsyncClient(base_url=url, headers=auth()) as raw:
            toolbox = Toolbox(client)
            for name, arguments, most in calls:
                await toolbox.execute(name, arguments)  # warm (caches of the test / script are per call anyway)
                sim.faults.add(Fault(path=r"/cloud/.*", kind="latency", delay=0.05, times=None))
                ours: list[float] = []
                naive: list[float] = []
                count = 0
                for _ in range(repeat):
                    sim.clear_requests()
                    started = time.perf_counter()
                    await toolbox.execute(name, arguments)
                    ours.append((time.perf_counter() - started) * 1000)
                    seen = sim.requests
                    count = len(seen)
                    started = time.perf_counter()
                    for request in seen:  # the same requests, one after another
                        await raw.request(request.method, request.path, params=request.query, content=request.body)
                    naive.append((time.perf_counter() - started) * 1000)
                sim.faults.clear()
                target = f"≤ {most}" if most is not None else "1 per metric (not per run)"
                met = count <= most if most is not None else None
                rows.append(Row(f"{name}: API requests at the simulator", str(count), target=target, met=met))
                rows.append(
                    Row(
                        f"{name}: time, 50 ms injected per request (median of {repeat}; baseline: same "
                        "requests sequentially)",
                        ms(median(ours)),
                        ms(median(naive)),
                        ratio(median(ours), median(naive)),
                        "< 1.00× (independent requests in parallel)",
                        median(ours) < median(naive),
                    )
                )
    if "get_load_test_trend" not in declared:
        rows.append(Row("get_load_test_trend", "not declared in the registry: row skipped"))
    return rows


# --------------------------------------------------------------------------- main


SECTIONS = ("tools", "mcp", "cost", "serve-slack", "rss", "slack")
DEFAULT_SECTIONS = SECTIONS[:-1]
"""``slack`` (the Slack app in the bench's own event loop, as tests/slack runs it) is left out by default: its
baseline shares that loop with k6bot's listener work, so it is not a clean baseline."""


async def run(sizes: Sizes, only: set[str]) -> list[Row]:
    from tests.fakes.slack import FakeSlack

    rows: list[Row] = []

    async def section(key: str, name: str, part: Callable[[], Awaitable[list[Row]]]) -> None:
        if key not in only:
            return
        started = time.perf_counter()
        rows.extend(await part())
        print(f"{name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)

    with FakeSlack(bot_token=BOT_TOKEN) as fake, contextlib.ExitStack() as stack:
        # --quick boots the `k6bot serve` processes while the other parts run (RSS does not depend on timing,
        # but the other parts' times then share the CPU with those start-ups: --quick figures are not figures).
        early = sizes.quick
        ack = stack.enter_context(ack_target(fake)) if early and "serve-slack" in only else None
        demo = stack.enter_context(serve_process(fake, new_database=False)) if early and "rss" in only else None
        cloud_early = stack.enter_context(https_cloud(fake)) if early and "rss" in only else None
        await section("tools", "tool layer", lambda: tool_layer_rows(sizes))
        await section("mcp", "MCP sizes", mcp_rows)
        await section("cost", "issue 9 cost", lambda: cost_rows(sizes))
        if "serve-slack" in only:
            with contextlib.ExitStack() as late:
                target = ack or late.enter_context(ack_target(fake))
                await section("serve-slack", "Slack ack (k6bot serve)", lambda: slack_serve_rows(sizes, fake, target))
        if "rss" in only:
            serve = demo or stack.enter_context(serve_process(fake, new_database=False))
            cloud = cloud_early or stack.enter_context(https_cloud(fake))
            await section("rss", "RSS of k6bot serve", lambda: rss_rows(sizes, fake, serve, cloud))
        await section("slack", "Slack ack (in process)", lambda: slack_rows(sizes, fake))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (few samples; figures not meaningful)")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_SECTIONS),
        help=f"comma-separated parts to run, of {','.join(SECTIONS)} (default: all but slack)",
    )
    args = parser.parse_args()
    only = {part.strip() for part in args.only.split(",") if part.strip()}
    if unknown := only - set(SECTIONS):
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    started = time.perf_counter()
    rows = asyncio.run(run(Sizes(quick=args.quick), only))
    mode = "--quick (smoke run, not figures)" if args.quick else "full"
    print(f"bench/bench_ops.py {mode}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs")
    print()
    print(HEADER)
    print("|---|---:|---:|---:|---|---|")
    for row in rows:
        print(row.line())
    missed = [r for r in rows if r.met is False]
    print()
    print(f"{len(missed)} target(s) missed; {time.perf_counter() - started:.0f} s")
    return 1 if missed and not args.quick else 0


if __name__ == "__main__":
    sys.exit(main())
