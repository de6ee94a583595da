"""Command line: ``python -m tools.simulator --port 8080`` (also behind ``k6bot simulator``)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from .core import DEFAULT_STACK_URL
from .server import SimulatorServer
from .state import Simulator


async def serve(
    host: str = "127.0.0.1",
    port: int = 8080,
    token: str | None = None,
    stack_id: int | None = None,
    speed: float = 1.0,
    demo: bool = True,
    stack_url: str = DEFAULT_STACK_URL,
) -> None:
    """Serve a fresh simulator until cancelled; prints the URL on stderr once listening."""
    sim = Simulator(token=token, stack_id=stack_id, speed=speed, demo=demo, stack_url=stack_url)
    server = SimulatorServer(sim, host=host, port=port, log_level="warning")
    url = server.bind()
    mode = "demo data" if demo else "empty"
    print(
        f"Grafana Cloud k6 simulator listening on {url} ({mode}, speed x{speed:g})",
        file=sys.stderr,
        flush=True,
    )
    await server.serve()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k6bot simulator",
        description="Serve a simulated Grafana Cloud k6 API (v6, legacy v2, v5 metrics).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="port (0 picks a free one; default 8080)")
    parser.add_argument("--token", help="accept only this API token (default: any non-empty token)")
    parser.add_argument("--stack-id", type=int, help="accept only this X-Stack-Id (default: any)")
    parser.add_argument(
        "--stack-url",
        default=DEFAULT_STACK_URL,
        help=f"the stack's URL: base of run page links and, with --stack-id, the only X-Stack-Url "
        f"GET /cloud/v6/auth accepts (default {DEFAULT_STACK_URL})",
    )
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (default 1)")
    parser.add_argument("--no-demo", action="store_true", help="start empty instead of with demo data")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the simulator CLI; returns the exit code."""
    args = build_parser().parse_args(argv)
    if args.speed < 0:
        print("--speed must be >= 0", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            serve(args.host, args.port, args.token, args.stack_id, args.speed, not args.no_demo, args.stack_url)
        )
    return 0
