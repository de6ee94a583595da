"""Connecting a front-end to k6 Cloud — or, in demo mode, to the built-in simulator.

With no ``K6_CLOUD_TOKEN``, every front-end runs against the k6 Cloud simulator in-process (real HTTP on a
loopback port, sample data) and says so once, plainly, at start. The announcement goes to stderr, never
stdout (stdout is the MCP stdio channel).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from types import FrameType

from tools.client import K6CloudClient
from tools.config import K6CloudSettings
from tools.registry import Toolbox

log = logging.getLogger("k6bot")

DEMO_STACK_ID = 1000
DEMO_ANNOUNCEMENT = (
    "k6bot is in demo mode: K6_CLOUD_TOKEN is not set, so it runs on its built-in k6 Cloud simulator with "
    "sample data. Nothing here reaches Grafana Cloud. Set K6_CLOUD_TOKEN and K6_CLOUD_STACK_ID to use your stack."
)

DEMO_REQUEST_LOG_SIZE = 20
"""Requests the demo mode's simulator keeps in its log: nothing in k6bot reads it (tests of the simulator do, on
their own simulators), and its default 1,000 held ~1.3 MiB in a long-running `k6bot serve`."""


@functools.cache
def _find_malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or None where there is none (musl, macOS, Windows: nothing to call)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim
    except (ImportError, OSError, AttributeError):  # no ctypes, or a C library without malloc_trim
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


def release_free_heap() -> bool:
    """Hand the C heap's free pages back to the system (glibc ``malloc_trim(0)``); True if it was called.

    CPython frees large objects (k6 API answers, their parsed JSON, rendered Slack blocks) to malloc, whose heap
    and per-thread arenas keep the freed pages resident until trimmed: after thousands of commands that is
    megabytes of RSS that no object uses. Never raises: elsewhere than glibc it does nothing."""
    trim = _find_malloc_trim()
    if trim is None:
        return False
    try:
        trim()
    except Exception:  # giving memory back is an optimisation, never a failure
        log.debug("malloc_trim failed", exc_info=True)
        return False
    return True


def freeze_startup_heap() -> None:
    """Once a server is up: collect once, then move what startup built (imported code, settings, clients) out of
    the cyclic collector's reach (``gc.freeze``). Those objects live as long as the process; left in, every full
    collection walked them all — a pause of 100 ms and more in the middle of a burst of Slack commands, which
    every acknowledgement then waited behind. Garbage made later is collected as before."""
    gc.collect()
    gc.freeze()
    release_free_heap()


FULL_COLLECTION_EVERY = 30.0
"""Seconds between two full (generation-2) garbage collections in a server that manages its own (see below)."""


@asynccontextmanager
async def full_collections_in_turn(
    turn: Callable[[], Awaitable[None]] | None, every: float = FULL_COLLECTION_EVERY
) -> AsyncIterator[None]:
    """Inside the block, the cyclic collector's full passes run every ``every`` seconds, when ``turn`` lets them
    (after the Slack acknowledgements under way), instead of whenever allocations trigger one.

    With a backlog of slow commands the live heap is large, and each automatic full pass took 200–300 ms of the
    event loop, again every few seconds, with every acknowledgement arriving then waiting behind it. Young
    generations are still collected automatically; garbage cycles that reach the old one wait at most ``every``.
    Each pass is followed by :func:`release_free_heap`."""
    young, middle, old = gc.get_threshold()
    gc.set_threshold(young, middle, 2**31 - 1)  # never automatically: collect() below does it

    async def collect() -> None:
        while True:
            await asyncio.sleep(every)
            if turn is not None:
                await turn()
            gc.collect()
            release_free_heap()

    task = asyncio.ensure_future(collect())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        gc.set_threshold(young, middle, old)


def announce_to_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Backend:
    """The k6 Cloud side of a running front-end."""

    toolbox: Toolbox
    client: K6CloudClient
    demo: bool
    api_url: str
    simulator: object | None = None  # tools.simulator.Simulator in demo mode

    @property
    def description(self) -> str:
        return "the built-in k6 Cloud simulator (demo mode)" if self.demo else f"k6 Cloud at {self.api_url}"


@asynccontextmanager
async def open_backend(
    settings: K6CloudSettings | None = None,
    *,
    demo_speed: float = 30.0,
    announce: Callable[[str], None] | None = announce_to_stderr,
) -> AsyncIterator[Backend]:
    """Yield a :class:`Backend` for the configured stack, or for an in-process simulator in demo mode."""
    settings = settings or K6CloudSettings()
    if settings.token is not None:
        client = K6CloudClient(settings)
        try:
            yield Backend(toolbox=Toolbox(client), client=client, demo=False, api_url=settings.api_url)
        finally:
            await client.aclose()
        return

    from tools.simulator import Simulator, SimulatorServer

    simulator = Simulator(speed=demo_speed, demo=True)
    simulator.keep_requests(DEMO_REQUEST_LOG_SIZE)
    server = SimulatorServer(simulator)
    url = server.start()
    if announce is not None:
        announce(DEMO_ANNOUNCEMENT)
    demo_settings = K6CloudSettings(
        token="k6bot-demo",  # noqa: S106 - the simulator's stand-in token, not a secret
        stack_id=DEMO_STACK_ID,
        stack_url=None,
        api_url=url,
        timeout=settings.timeout,
        max_retries=settings.max_retries,
    )
    client = K6CloudClient(demo_settings)
    try:
        yield Backend(toolbox=Toolbox(client), client=client, demo=True, api_url=url, simulator=simulator)
    finally:
        await client.aclose()
        server.stop()


@contextmanager
def terminate_like_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt, as SIGINT does, while the block runs (main thread only).

    uvicorn shuts down gracefully on either signal, runs the lifespan's shutdown, then raises the signal
    again for whoever runs it; with this handler that ends in the caller's ``except KeyboardInterrupt``
    (exit code 0) instead of the process dying from the signal.
    """

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: signals are not ours to handle
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
