"""What stops `k6bot serve` / `k6bot slack` from starting is one line on stderr and exit code 1.

Real processes, as an operator starts them; the traceback only with K6BOT_LOG_LEVEL=DEBUG.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import migrations

PASSWORD = "pg-pa55word-value"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_", "SLACK_"))}
    env.update({"K6BOT_DATABASE_URL": str(tmp_path / "k6bot.db"), "XDG_STATE_HOME": str(tmp_path / "state")})
    env.update(extra)
    return env


def k6bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        env=_env(tmp_path, **env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def only_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    return lines[0]


def test_an_unreachable_postgresql_is_one_line(tmp_path: Path, closed_port: int) -> None:
    url = f"postgresql://k6bot:{PASSWORD}@127.0.0.1:{closed_port}/k6bot"
    line = only_line(k6bot(tmp_path, "serve", "--port", "0", K6BOT_DATABASE_URL=url))
    assert line.startswith(
        f"k6bot: Cannot open k6bot's database postgresql+asyncpg://k6bot:***@127.0.0.1:{closed_port}/"
    )
    assert "connection refused" in line and "K6BOT_DATABASE_URL" in line and PASSWORD not in line


def test_debug_shows_the_traceback(tmp_path: Path, closed_port: int) -> None:
    url = f"postgresql://k6bot:{PASSWORD}@127.0.0.1:{closed_port}/k6bot"
    result = k6bot(tmp_path, "serve", "--port", "0", K6BOT_DATABASE_URL=url, K6BOT_LOG_LEVEL="DEBUG")
    assert result.returncode == 1 and "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("k6bot: Cannot open k6bot's database")


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://k6bot@db/k6bot", "K6BOT_DATABASE_URL is not a database k6bot can use"),
        ("postgresql+asyncpg://k6bot@db:port/k6bot", "K6BOT_DATABASE_URL is not a database k6bot can use"),
    ],
)
def test_a_bad_database_url_is_one_line(tmp_path: Path, url: str, said: str) -> None:
    assert said in only_line(k6bot(tmp_path, "serve", "--port", "0", K6BOT_DATABASE_URL=url))


@pytest.mark.parametrize(
    "command",
    [("serve",), ("slack", "--mode", "http")],
    ids=["serve", "slack-http"],
)
def test_a_port_in_use_is_one_line(tmp_path: Path, taken_port: int, command: tuple[str, ...]) -> None:
    slack = {"SLACK_BOT_TOKEN": "xoxb-1-x", "SLACK_SIGNING_SECRET": "s" * 32}
    line = only_line(k6bot(tmp_path, *command, "--port", str(taken_port), **slack))
    assert line == (
        f"k6bot: Cannot listen on 127.0.0.1:{taken_port}: the port is in use (another k6bot, or another program): "
        "choose another --port."
    )


def test_an_address_this_machine_does_not_have_is_one_line(tmp_path: Path) -> None:
    line = only_line(k6bot(tmp_path, "serve", "--host", "192.0.2.1", "--port", "8080"))
    assert line.startswith("k6bot: Cannot listen on 192.0.2.1:8080: this machine has no such address")


def test_a_broken_policy_file_is_one_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("allow:\n  stop: [U0ALICE\n  run: ['*']\n")
    line = only_line(k6bot(tmp_path, "serve", "--port", "0", K6BOT_POLICY_FILE=str(policy)))
    assert line.startswith(f"k6bot: The policy file {policy} is not valid YAML")


def test_db_current_and_upgrade(tmp_path: Path) -> None:
    head = migrations.head()
    before = k6bot(tmp_path, "db", "current")
    assert before.returncode == 1 and f"no k6bot schema yet (head is {head})" in before.stdout
    assert not (tmp_path / "k6bot.db").exists()  # looking changes nothing
    upgraded = k6bot(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"revision {head} (head), created." in upgraded.stdout
    after = k6bot(tmp_path, "db", "current")
    assert after.returncode == 0 and after.stdout.strip().endswith(f"revision {head} (head)")
    again = k6bot(tmp_path, "db", "upgrade")
    assert again.returncode == 0 and "nothing to do" in again.stdout
