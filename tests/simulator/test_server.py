"""SimulatorServer: binding, threads, the async serve() and the command line."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

from tools.simulator import Simulator, SimulatorServer
from tools.simulator.cli import build_parser

REPO = Path(__file__).resolve().parents[2]


def simulator_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "k6-cloud-simulator"]


def test_start_is_usable_at_once_and_stop_is_clean() -> None:
    before = len(simulator_threads())
    server = SimulatorServer(Simulator(speed=0))
    url = server.start()
    assert url.startswith("http://127.0.0.1:") and server.url == url
    assert httpx.get(f"{url}/_sim/health").status_code == 200
    server.stop()
    assert len(simulator_threads()) == before
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/_sim/health")


def test_context_manager() -> None:
    with SimulatorServer(Simulator(speed=0)) as url:
        assert httpx.get(f"{url}/_sim/health").json()["status"] == "ok"


def test_swapping_the_simulator_while_serving(shared_server: SimulatorServer) -> None:
    first, second = Simulator(speed=0, demo=False), Simulator(speed=0)
    shared_server.sim = first
    headers = {"Authorization": "Bearer t", "X-Stack-Id": "1"}
    assert httpx.get(f"{shared_server.url}/cloud/v6/projects", headers=headers).json()["value"] == []
    shared_server.sim = second
    assert len(httpx.get(f"{shared_server.url}/cloud/v6/projects", headers=headers).json()["value"]) == 3
    assert len(first.requests) == len(second.requests) == 1


async def test_serve_in_the_current_loop_until_cancelled() -> None:
    server = SimulatorServer(Simulator(speed=0))
    url = server.bind()
    task = asyncio.create_task(server.serve())
    async with httpx.AsyncClient() as http:
        response = await http.get(f"{url}/_sim/health")
    assert response.status_code == 200
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_cli_arguments() -> None:
    args = build_parser().parse_args(["--port", "0", "--token", "t", "--stack-id", "5", "--speed", "60", "--no-demo"])
    assert (args.port, args.token, args.stack_id, args.speed, args.no_demo) == (0, "t", 5, 60.0, True)
    assert args.stack_url == "https://k6bot-demo.grafana.net"
    assert (
        build_parser().parse_args(["--stack-url", "https://acme.grafana.net"]).stack_url == "https://acme.grafana.net"
    )


CLI_ARGS = ["--port", "0", "--token", "t", "--stack-id", "9", "--stack-url", "https://acme.grafana.net"]


def test_python_dash_m_serves_and_prints_the_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.simulator", *CLI_ARGS],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        url = line.split(" on ")[1].split()[0]
        headers = {"Authorization": "Bearer t", "X-Stack-Id": "9"}
        assert httpx.get(f"{url}/cloud/v6/test_runs/1234", headers=headers, timeout=10).json()["status"] == "running"
        run = httpx.get(f"{url}/cloud/v6/test_runs/1234", headers=headers, timeout=10).json()
        assert run["test_run_details_page_url"] == "https://acme.grafana.net/a/k6-app/runs/1234"
        auth = {"Authorization": "Bearer t", "X-Stack-Url": "https://acme.grafana.net/"}
        assert httpx.get(f"{url}/cloud/v6/auth", headers=auth, timeout=10).json()["stack_id"] == 9
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
