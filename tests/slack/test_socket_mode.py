"""Socket Mode delivers the same payloads without signatures: the same listeners answer them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import SecretStr
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.config import BotSettings, SlackSettings
from bot.runtime import Backend
from bot.slack.app import build_slack
from bot.store import open_store
from tests.conftest import make_settings
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import BOT_TOKEN
from tools.client import K6CloudClient
from tools.registry import Toolbox


async def test_a_slash_command_over_socket_mode(fake_slack: FakeSlack, sim_url: str, tmp_path: Path) -> None:
    async with K6CloudClient(make_settings(sim_url)) as client:
        backend = Backend(toolbox=Toolbox(client), client=client, demo=False, api_url=sim_url)
        store = await open_store(f"sqlite+aiosqlite:///{tmp_path / 'k6bot.db'}")
        try:
            slack = SlackSettings(_env_file=None, bot_token=SecretStr(BOT_TOKEN), api_url=fake_slack.api_url)  # type: ignore[call-arg]
            frontend = build_slack(backend, BotSettings(_env_file=None), slack, store, mode="socket")  # type: ignore[call-arg]
            body = {
                "command": "/k6",
                "text": "what's running?",
                "user_id": "U0ALICE",
                "channel_id": "C0LOAD",
                "team_id": "T0FAKE",
                "response_url": fake_slack.response_url("socket"),
                "trigger_id": "t.socket",
            }
            response = await frontend.bolt.async_dispatch(AsyncBoltRequest(body=body, mode="socket_mode"))
            assert response.status == 200
            calls = await asyncio.to_thread(fake_slack.wait_for, "response_url", 1)
            assert "#1234" in calls[0].text
        finally:
            await store.close()
