"""Socket Mode end to end: k6bot's real entry point (``_serve_socket``) against a local Socket Mode server.

The fake Slack Web API answers ``apps.connections.open`` with the ``ws://`` URL of an aiohttp WebSocket
server here that speaks Slack's protocol: ``hello``, then envelopes (``slash_commands``, ``interactive``,
``events_api``) that k6bot must acknowledge by ``envelope_id``; ``disconnect`` (refresh_requested) and a
dropped connection make it reconnect with a new URL. After each reconnect Slack redelivers the last
envelope (``retry_attempt`` 1, as when an ack was lost): it is acknowledged again but does nothing twice. Every wait is on a queue or an event, with a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from pydantic import SecretStr

from bot.config import BotSettings, SlackSettings
from bot.slack.run import _serve_socket
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import ALICE, CHANNEL, START_PATH, confirmation_id
from tools.simulator import Simulator, SimulatorServer

WAIT = 20.0


@dataclass
class Connection:
    """One WebSocket session k6bot opened; ``acks`` are the envelope ids it answered, in order."""

    number: int
    ws: web.WebSocketResponse
    acks: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_str(json.dumps(message))

    async def deliver(self, kind: str, payload: dict[str, Any], envelope_id: str, *, retry: int = 0) -> None:
        """Send an envelope (``retry`` > 0: a redelivery) and wait until k6bot acknowledges exactly it."""
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload, "accepts_response_payload": False}
        if retry:
            envelope.update({"retry_attempt": retry, "retry_reason": "timeout"})
        await self.send(envelope)
        acked = await asyncio.wait_for(self.acks.get(), WAIT)
        assert acked == envelope_id


class SocketModeServer:
    """Slack's Socket Mode endpoint: each connection gets ``hello``; acks are collected per connection."""

    def __init__(self) -> None:
        self.connections: asyncio.Queue[Connection] = asyncio.Queue()
        self.all_acks: list[str] = []
        self._numbers = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/link/", self._serve)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"ws://127.0.0.1:{port}/link/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        connection = Connection(next(self._numbers), ws)
        await connection.send({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0K6BOT"}})
        await self.connections.put(connection)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    envelope_id = json.loads(message.data).get("envelope_id")
                    if envelope_id:
                        self.all_acks.append(envelope_id)
                        await connection.acks.put(envelope_id)
        finally:
            connection.closed.set()
        return ws

    async def next_connection(self) -> Connection:
        return await asyncio.wait_for(self.connections.get(), WAIT)


@pytest.fixture
async def socket_server() -> AsyncIterator[SocketModeServer]:
    server = SocketModeServer()
    await server.start()
    yield server
    await server.stop()


def command_payload(fake: FakeSlack, text: str) -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": "T0FAKE",
        "team_domain": "fake",
        "channel_id": CHANNEL,
        "channel_name": "load-tests",
        "user_id": ALICE,
        "user_name": "alice",
        "command": "/k6",
        "text": text,
        "api_app_id": "A0K6BOT",
        "response_url": fake.response_url("command"),
        "trigger_id": "trigger.socket.1",
    }


def confirm_payload(fake: FakeSlack, cid: str) -> dict[str, Any]:
    return {
        "type": "block_actions",
        "user": {"id": ALICE, "username": "alice", "name": "alice", "team_id": "T0FAKE"},
        "api_app_id": "A0K6BOT",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": CHANNEL,
            "is_ephemeral": True,
        },
        "trigger_id": "trigger.socket.2",
        "team": {"id": "T0FAKE", "domain": "fake"},
        "channel": {"id": CHANNEL, "name": "load-tests"},
        "response_url": fake.response_url("click"),
        "actions": [
            {
                "action_id": "k6bot_confirm",
                "block_id": "k6bot_confirmation",
                "value": cid,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
                "text": {"type": "plain_text", "text": "Confirm"},
            }
        ],
    }


def mention_payload() -> dict[str, Any]:
    return {
        "token": "legacy-verification-token",
        "team_id": "T0FAKE",
        "api_app_id": "A0K6BOT",
        "type": "event_callback",
        "event_id": "Ev0SOCKET1",
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": ALICE,
            "text": "<@U0K6BOT> what's running?",
            "ts": "1700000001.000200",
            "channel": CHANNEL,
            "event_ts": "1700000001.000200",
        },
    }


async def wait_calls(fake: FakeSlack, method: str, count: int) -> None:
    await asyncio.to_thread(fake.wait_for, method, count, timeout=WAIT)


async def wait_sim(sim: Simulator, method: str, path: str, count: int) -> None:
    deadline = time.monotonic() + WAIT
    while sim.count(method, path) < count:  # the simulator offers a request log, not a condition
        assert time.monotonic() < deadline, f"expected {count} {method} {path}, got {sim.count(method, path)}"
        await asyncio.sleep(0.02)


async def settle() -> None:
    """Wait until no listener task is running any more (so a duplicate would have had its effect)."""
    for _ in range(500):
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and "run_ack_function_asynchronously" in repr(t.get_coro())
        ]
        if not pending:
            return
        await asyncio.wait(pending, timeout=10)


async def test_envelopes_are_acknowledged_and_handled_once_across_reconnects(
    fake_slack: FakeSlack, slack_sim: Simulator, socket_server: SocketModeServer, tmp_path: Path
) -> None:
    fake_slack.socket_url = socket_server.url
    sim_server = SimulatorServer(slack_sim)
    sim_url = sim_server.start()
    cloud = make_settings(sim_url)
    bot = BotSettings(_env_file=None, database_url=str(tmp_path / "k6bot.db"))  # type: ignore[call-arg]
    slack = SlackSettings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(fake_slack.bot_token),
        app_token=SecretStr(fake_slack.app_token),
        api_url=fake_slack.api_url,
    )
    serving = asyncio.create_task(_serve_socket(cloud, bot, slack))
    try:
        # 1st connection: a slash command that asks for confirmation, then Slack asks for a refresh.
        first = await socket_server.next_connection()
        await first.deliver("slash_commands", command_payload(fake_slack, "start orders soak test"), "env-command")
        await wait_calls(fake_slack, "response_url", 1)
        cid = confirmation_id(fake_slack.calls_of("response_url")[0])
        assert slack_sim.count("POST", START_PATH) == 0
        await first.send({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "fake"}})

        # 2nd connection (a new URL asked for): the Confirm click starts the run; then the socket is dropped.
        second = await socket_server.next_connection()
        await asyncio.wait_for(first.closed.wait(), WAIT)
        command = command_payload(fake_slack, "start orders soak test")
        await second.deliver("slash_commands", command, "env-command", retry=1)  # Slack missed the ack
        click = confirm_payload(fake_slack, cid)
        await second.deliver("interactive", click, "env-confirm")
        await wait_sim(slack_sim, "POST", START_PATH, 1)
        await second.ws.close()

        # 3rd connection, after the drop: an app mention is answered in the channel.
        third = await socket_server.next_connection()
        await third.deliver("interactive", click, "env-confirm", retry=1)
        await third.deliver("events_api", mention_payload(), "env-mention")
        await third.deliver("events_api", mention_payload(), "env-mention", retry=1)
        await wait_calls(fake_slack, "chat.postEphemeral", 1)

        opened = fake_slack.calls_of("apps.connections.open")
        assert [c.status for c in opened] == [200, 200, 200]
        assert socket_server.all_acks == [
            f"env-{name}" for name in ("command",) * 2 + ("confirm",) * 2 + ("mention",) * 2
        ]
        await settle()
        assert [first.number, second.number, third.number] == [1, 2, 3]
    finally:
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        sim_server.stop()

    # Exactly once, counted after k6bot stopped: one preview, one start, one answer to the mention.
    assert slack_sim.count("POST", START_PATH) == 1
    command_calls = [c for c in fake_slack.calls_of("response_url") if "k6bot_confirm" in json.dumps(c.args)]
    assert len(command_calls) == 1
    mention_replies = [c for c in fake_slack.calls_of("chat.postEphemeral") if "#1234" in c.text]
    assert len(mention_replies) == 1
    assert socket_server.connections.empty()
