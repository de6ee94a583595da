"""Fixtures for `k6bot serve` tests: a frozen simulator over HTTP, a fake Slack, and a subprocess runner."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import E2E_SIGNING_SECRET, TEST_STACK, TEST_TOKEN, WEBHOOK_SECRET, assert_no_secrets
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import *  # noqa: F403 - the simulator, fake Slack and database fixtures

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServeProcess:
    """`k6bot serve` in a subprocess, with its log in a file and small HTTP helpers."""

    def __init__(
        self, env: dict[str, str], log_path: Path, command: tuple[str, ...] = ("serve",), host: str | None = "127.0.0.1"
    ) -> None:
        self.port = free_port()
        self.command = command
        self.log_path = log_path
        self._log = log_path.open("ab")
        bind = ("--host", host) if host is not None else ()  # None: the command's own default
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *command, *bind, "--port", str(self.port)],  # as `k6bot` runs it
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def get_json(self, path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=5) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, raw.decode(errors="replace")

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"k6bot serve exited ({self.proc.returncode}):\n{self.log()}")
            try:
                if predicate():
                    return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log()[-4000:]}")

    def health(self) -> dict[str, Any]:
        _status, body = self.get_json("/healthz")
        return body if isinstance(body, dict) else {}

    def wait_healthy(self) -> dict[str, Any]:
        self.wait_until(lambda: self.health().get("status") == "ok", what="/healthz ok")
        return self.health()

    def last_poll(self) -> str | None:
        return (self.health().get("watcher") or {}).get("last_poll_at")

    def wait_polls(self, count: int) -> None:
        for _ in range(count):
            before = self.last_poll()
            self.wait_until(lambda before=before: self.last_poll() not in (None, before), what="another poll")

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if not self._log.closed:
            self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def signed_post(server: ServeProcess, body: bytes, secret: str = E2E_SIGNING_SECRET) -> int:
    """POST a form body to the process's ``/slack/events``, signed as Slack signs it; the HTTP status."""
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        server.url + "/slack/events",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": "v0=" + digest,
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


@pytest.fixture
def serve_env(frozen_sim_url: str, slack: FakeSlack, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update(
        K6_CLOUD_TOKEN=TEST_TOKEN,
        K6_CLOUD_STACK_ID=str(TEST_STACK),
        K6_CLOUD_API_URL=frozen_sim_url,
        SLACK_BOT_TOKEN=slack.bot_token,
        SLACK_API_URL=slack.api_url,
        K6BOT_DATABASE_URL=str(tmp_path / "k6bot.db"),
        K6BOT_POLL_SECONDS="0.3",
        K6BOT_WEBHOOK_SECRET=WEBHOOK_SECRET,
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def run_serve(tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    """Start `k6bot serve` (or ``command=("slack", "--mode", "http")``) in a subprocess; stopped at the end."""
    started: list[ServeProcess] = []

    def start(
        env: dict[str, str], command: tuple[str, ...] = ("serve",), host: str | None = "127.0.0.1"
    ) -> ServeProcess:
        process = ServeProcess(env, tmp_path / f"serve-{len(started)}.log", command, host)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    for process in started:
        assert_no_secrets(process.log(), where=f"the log of k6bot {' '.join(process.command)}")
