"""Starting Socket Mode: a wrong-kind app token is refused, an unreachable Slack is retried with backoff.

``apps.connections.open`` is asked of the fake Slack over real HTTP; the WebSocket itself is not faked here.
"""

from __future__ import annotations

import logging
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.run import socket_mode_url
from tests.fakes.slack import FakeSlack
from tools.errors import ConfigurationError
from tools.retry import Backoff

QUICK = Backoff(base=0.01, cap=0.02)


def web_client(api_url: str) -> AsyncWebClient:
    return AsyncWebClient(base_url=api_url, retry_handlers=[])


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:  # records the wait; the policy is what is tested
        self.delays.append(seconds)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_slack_errors_are_retried_then_the_url_is_returned(
    fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    fake_slack.fail("apps.connections.open", times=2, status=503)
    url = await socket_mode_url(web_client(fake_slack.api_url), fake_slack.app_token, backoff=QUICK)
    assert url == fake_slack.socket_url
    assert [c.status for c in fake_slack.calls_of("apps.connections.open")] == [503, 503, 200]
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 2 and all(r.exc_info is None for r in retries)
    assert "attempt 1;" in retries[0].getMessage() and "attempt 2;" in retries[1].getMessage()


async def test_a_rate_limit_waits_as_long_as_slack_asks(fake_slack: FakeSlack) -> None:
    fake_slack.fail("apps.connections.open", times=1, status=429, retry_after=7)
    sleeps = Sleeps()
    await socket_mode_url(web_client(fake_slack.api_url), fake_slack.app_token, backoff=QUICK, sleep=sleeps)
    assert sleeps.delays == [7.0]


async def test_a_refused_app_token_stops_at_once(fake_slack: FakeSlack) -> None:
    with pytest.raises(ConfigurationError, match=r"Slack refused SLACK_APP_TOKEN \(invalid_auth\)"):
        await socket_mode_url(web_client(fake_slack.api_url), "xapp-1-revoked", backoff=QUICK)
    assert len(fake_slack.calls_of("apps.connections.open")) == 1


async def test_an_unreachable_slack_backs_off_one_line_per_attempt(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    sleeps = Sleeps()
    api_url = f"http://127.0.0.1:{closed_port()}/api/"
    with pytest.raises(ConfigurationError, match="Could not open Socket Mode with Slack at"):
        await socket_mode_url(
            web_client(api_url), "xapp-1-x", backoff=Backoff(base=1.0, cap=4.0), attempts=4, sleep=sleeps
        )
    assert len(sleeps.delays) == 3
    assert [0.5 <= sleeps.delays[0] <= 1.0, 1.0 <= sleeps.delays[1] <= 2.0, 2.0 <= sleeps.delays[2] <= 4.0] == [
        True
    ] * 3
    retries = [r for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) == 3 and all(r.exc_info is None for r in retries)
    assert "ClientConnectorError" in retries[0].getMessage()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update({"K6BOT_DATABASE_URL": str(tmp_path / "k6bot.db"), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def test_a_bot_token_in_slack_app_token_is_refused_at_start(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "slack", "--mode", "socket"],
        env=_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1-good", SLACK_APP_TOKEN="xoxb-2-pasted-twice"),
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "k6bot: SLACK_APP_TOKEN must be an app-level token (xapp-…), but it is a xoxb-… token."
    )
    assert b"pasted-twice" not in result.stderr


def test_the_process_retries_an_unreachable_slack_without_tracebacks(tmp_path: Path) -> None:
    api_url = f"http://127.0.0.1:{closed_port()}/api/"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "slack", "--mode", "socket"],
        env=_env(tmp_path, SLACK_BOT_TOKEN="xoxb-1-x", SLACK_APP_TOKEN="xapp-1-x", SLACK_API_URL=api_url),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    stream = proc.stderr
    threading.Thread(target=lambda: [lines.put(raw.decode()) for raw in stream], daemon=True).start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while sum("retrying in" in line for line in seen) < 2:
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    retries = [line for line in seen if "retrying in" in line]
    assert f"Socket Mode: Slack at {api_url}: ClientConnectorError on attempt 1;" in retries[0]
    assert "attempt 2;" in retries[1]
    assert not any("Traceback" in line for line in seen), seen
