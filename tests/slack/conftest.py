"""The Slack app served over real HTTP on a free port, a fake Slack Web API, and the simulator as k6 Cloud.

Requests are signed here the way Slack signs them; tests wait on the fake's condition variable and the
simulator's request log, never on sleeps.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from bot.config import BotSettings, SlackSettings
from bot.confirm import Confirmations
from bot.runtime import Backend
from bot.slack.app import SlackFrontend, build_slack
from bot.store import Store, open_store, utcnow
from tests.conftest import SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, TEST_STACK, TEST_TOKEN, make_settings
from tests.fakes.slack import FakeSlack, SlackCall
from tools.client import K6CloudClient
from tools.registry import Toolbox
from tools.simulator import Simulator, SimulatorServer

SIGNING_SECRET = SLACK_SIGNING_SECRET
BOT_TOKEN = SLACK_BOT_TOKEN
ALICE = "U0ALICE"
BOB = "U0BOB"
CHANNEL = "C0LOAD"
START_PATH = r"/cloud/v6/load_tests/\d+/start"
ABORT_PATH = r"/cloud/v6/test_runs/\d+/abort"


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


class ManualClock:
    """A clock for confirmations that tests move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class Harness:
    """One running Slack app and what it talks to."""

    fake: FakeSlack
    sim: Simulator
    frontend: SlackFrontend
    store: Store
    url: str
    http: httpx.AsyncClient
    clock: ManualClock
    _responses: int = 0
    trigger: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ requests

    def response_url(self) -> str:
        self._responses += 1
        return self.fake.response_url(f"r{self._responses}")

    async def post(
        self, body: bytes, *, headers: dict[str, str] | None = None, retry: int | None = None
    ) -> httpx.Response:
        all_headers = sign(body)
        if headers:
            all_headers.update(headers)
        if retry is not None:
            all_headers["X-Slack-Retry-Num"] = str(retry)
            all_headers["X-Slack-Retry-Reason"] = "http_timeout"
        return await self.http.post(f"{self.url}/slack/events", content=body, headers=all_headers)

    def command_body(
        self, text: str, *, user: str = ALICE, channel: str = CHANNEL, trigger: str | None = None
    ) -> bytes:
        self.trigger += 1
        form = {
            "token": "legacy-verification-token",
            "team_id": "T0FAKE",
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "load-tests",
            "user_id": user,
            "user_name": user.lower().removeprefix("u0"),
            "command": "/k6",
            "text": text,
            "api_app_id": "A0K6BOT",
            "response_url": self.response_url(),
            "trigger_id": trigger or f"trigger.{self.trigger}",
        }
        return urlencode(form).encode()

    async def command(self, text: str, *, user: str = ALICE, channel: str = CHANNEL, retry: int | None = None):
        return await self.post(self.command_body(text, user=user, channel=channel), retry=retry)

    def click_body(
        self, action_id: str, value: str, *, user: str = ALICE, channel: str = CHANNEL, action_ts: str | None = None
    ) -> bytes:
        self.trigger += 1
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0FAKE"},
            "api_app_id": "A0K6BOT",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": "1700000000.000100",
                "channel_id": channel,
                "is_ephemeral": True,
            },
            "trigger_id": f"trigger.{self.trigger}",
            "team": {"id": "T0FAKE", "domain": "fake"},
            "channel": {"id": channel, "name": "load-tests"},
            "response_url": self.response_url(),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "k6bot_confirmation",
                    "value": value,
                    "type": "button",
                    "action_ts": action_ts or f"{time.time():.6f}",
                    "text": {"type": "plain_text", "text": "Confirm"},
                }
            ],
        }
        return urlencode({"payload": json.dumps(payload)}).encode()

    async def click(
        self, action_id: str, value: str, *, user: str = ALICE, retry: int | None = None, action_ts: str | None = None
    ) -> httpx.Response:
        return await self.post(self.click_body(action_id, value, user=user, action_ts=action_ts), retry=retry)

    # ------------------------------------------------------------------ waiting and looking

    async def wait(self, method: str, count: int = 1, timeout: float = 15.0) -> list[SlackCall]:
        return await asyncio.to_thread(self.fake.wait_for, method, count, timeout=timeout)

    async def responses(self, count: int = 1) -> list[SlackCall]:
        return await self.wait("response_url", count)

    async def wait_sim(self, method: str, path: str, count: int = 1, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self.sim.count(method, path) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} {method} {path}, got {self.sim.count(method, path)}")
            await asyncio.sleep(0.02)

    async def settle(self) -> None:
        """Let background work finish: every acknowledged request dispatched, then no listener task running."""
        for _ in range(500):
            await asyncio.wait_for(self.frontend.dispatched(), 10)
            pending = [
                t
                for t in asyncio.all_tasks()
                if t is not asyncio.current_task() and "run_ack_function_asynchronously" in repr(t.get_coro())
            ]
            if not pending:
                return
            await asyncio.wait(pending, timeout=10)

    async def preview(self, text: str, *, user: str = ALICE) -> tuple[str, SlackCall]:
        """Send ``text``, wait for the preview, return (confirmation id, the call)."""
        before = len(self.fake.calls_of("response_url"))
        response = await self.command(text, user=user)
        assert response.status_code == 200
        calls = await self.responses(before + 1)
        call = calls[before]
        return confirmation_id(call), call


def confirmation_id(call: SlackCall) -> str:
    for block in call.args.get("blocks") or []:
        for element in block.get("elements", []) or []:
            if element.get("action_id") == "k6bot_confirm":
                return str(element["value"])
    raise AssertionError(f"no Confirm button in {call.text}")


def buttons(call: SlackCall) -> list[dict[str, Any]]:
    return [
        element
        for block in call.args.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN) as fake:
        yield fake


@pytest.fixture
def slack_sim() -> Simulator:
    return Simulator(token=TEST_TOKEN, stack_id=TEST_STACK, speed=1.0, demo=True)


HarnessFactory = Callable[..., Any]


@pytest.fixture
async def make_harness(fake_slack: FakeSlack, slack_sim: Simulator, tmp_path: Path) -> AsyncIterator[HarnessFactory]:
    """Build and serve the app; keyword arguments go to BotSettings (e.g. policy_file=…)."""
    started: list[tuple[uvicorn.Server, asyncio.Task[None], Harness, K6CloudClient, SimulatorServer]] = []

    async def build(**bot_values: Any) -> Harness:
        server_sim = SimulatorServer(slack_sim)
        sim_url = server_sim.start()
        client = K6CloudClient(make_settings(sim_url), backoff_base=0.01, backoff_max=0.05)
        backend = Backend(toolbox=Toolbox(client), client=client, demo=False, api_url=sim_url)
        store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'k6bot.db'}")
        bot = BotSettings(_env_file=None, **bot_values)  # type: ignore[call-arg]
        slack = SlackSettings(
            _env_file=None,  # type: ignore[call-arg]
            bot_token=SecretStr(BOT_TOKEN),
            signing_secret=SecretStr(SIGNING_SECRET),
            api_url=fake_slack.api_url,
        )
        clock = ManualClock()
        from bot.policy import Policy

        policy = Policy.load(bot.policy_file, read_only=bot.read_only)
        confirmations = Confirmations(store, ttl_seconds=bot.confirm_ttl_seconds, clock=clock)
        frontend = build_slack(backend, bot, slack, store, policy=policy, confirmations=confirmations)
        sock = free_socket()
        port = sock.getsockname()[1]
        config = uvicorn.Config(frontend.asgi_app(), log_config=None, access_log=False, lifespan="off")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        http = httpx.AsyncClient(timeout=30)
        harness = Harness(fake_slack, slack_sim, frontend, store, f"http://127.0.0.1:{port}", http, clock)
        started.append((server, task, harness, client, server_sim))
        return harness

    yield build

    for server, task, harness, client, server_sim in started:
        await harness.settle()
        server.should_exit = True
        await task
        await harness.http.aclose()
        await client.aclose()
        await harness.store.close()
        server_sim.stop()


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    return await make_harness()
