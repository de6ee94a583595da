"""`k6bot slack --mode http` as a real process: signed slash command in, answer at the response_url."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_STACK, TEST_TOKEN, assert_no_secrets
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import BOT_TOKEN, SIGNING_SECRET, free_socket, sign


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update({"K6BOT_DATABASE_URL": str(tmp_path / "k6bot.db"), "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


@pytest.fixture
def served(sim_url: str, fake_slack: FakeSlack, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    env = _env(
        tmp_path,
        K6_CLOUD_TOKEN=TEST_TOKEN,
        K6_CLOUD_STACK_ID=str(TEST_STACK),
        K6_CLOUD_API_URL=sim_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "slack", "--mode", "http", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(proc.communicate()[1].decode(errors="replace"))
        time.sleep(0.1)  # waiting for another process to listen: nothing to wait on but the port
    try:
        yield url, proc
    finally:
        proc.terminate()
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        assert_no_secrets(out.decode(errors="replace"), err.decode(errors="replace"), where="k6bot slack's output")


def test_the_http_mode_answers_a_signed_slash_command(served, fake_slack: FakeSlack, sim) -> None:
    from urllib.parse import urlencode

    url, proc = served
    body = urlencode(
        {
            "command": "/k6",
            "text": "list tests",
            "user_id": "U0ALICE",
            "user_name": "alice",
            "channel_id": "C0LOAD",
            "team_id": "T0FAKE",
            "response_url": fake_slack.response_url("cli"),
            "trigger_id": "t.1",
        }
    ).encode()
    began = time.monotonic()
    response = httpx.post(f"{url}/slack/events", content=body, headers=sign(body), timeout=10)
    assert response.status_code == 200 and time.monotonic() - began < 3
    calls = fake_slack.wait_for("response_url", 1, timeout=20)
    assert "Orders API Soak Test" in calls[0].text
    forged = httpx.post(f"{url}/slack/events", content=body, headers=sign(body, secret="nope"), timeout=10)
    assert forged.status_code == 401
    stale = httpx.post(
        f"{url}/slack/events", content=body, headers=sign(body, timestamp=int(time.time()) - 400), timeout=10
    )
    assert stale.status_code == 401
    assert len(fake_slack.calls_of("response_url")) == 1
    proc.terminate()
    _, err = proc.communicate(timeout=10)
    for secret in (SIGNING_SECRET, BOT_TOKEN, TEST_TOKEN):
        assert secret.encode() not in err


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--mode", "http"], {"SLACK_BOT_TOKEN": "xoxb-x"}, "SLACK_SIGNING_SECRET"),
        (["--mode", "socket"], {"SLACK_BOT_TOKEN": "xoxb-x"}, "SLACK_APP_TOKEN"),
        (["--mode", "http"], {"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        (["--mode", "carrier-pigeon"], {"SLACK_BOT_TOKEN": "xoxb-x"}, "--mode"),
    ],
)
def test_missing_settings_are_named(tmp_path: Path, args: list[str], env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "slack", *args],
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert message in result.stderr.decode()
    assert b"Traceback" not in result.stderr
