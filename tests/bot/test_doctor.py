"""`k6bot doctor` against the environments a new user meets: the exit code and the line for each mistake.

The checks talk to real things: the simulator for k6 Cloud, the fake Slack for ``auth.test`` (with its
``x-oauth-scopes`` header), a SQLite file or a PostgreSQL port, the listening address itself.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from bot import migrations
from bot.cli import app
from bot.doctor import MANIFEST_BOT_SCOPES
from bot.store import Store, open_store
from tests.conftest import TEST_STACK, TEST_TOKEN
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import POSTGRES_URL, SKIP_POSTGRES, create_postgres_database, drop_postgres_database

ROOT = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-doctor-bot-token"
APP_TOKEN = "xapp-doctor-app-token"
SIGNING_SECRET = "doctor-signing-secret-0123456789"
WEBHOOK_SECRET = "doctor-webhook-secret-0123456789"
MCP_TOKEN = "doctor-mcp-token-0123456789abcdef"


@pytest.fixture(autouse=True)
def keep_logging() -> Iterator[None]:
    """The CLI configures the root logger (level, handler): give the next tests theirs back."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN) as fake:
        yield fake


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def healthy(monkeypatch: pytest.MonkeyPatch, sim_url: str, slack: FakeSlack, tmp_path: Path) -> Path:
    """A deployment where everything is right (HTTP mode); each test then breaks one thing."""
    database = tmp_path / "k6bot.db"
    asyncio.run(_migrated(f"sqlite+aiosqlite:///{database}"))
    for name, value in {
        "K6_CLOUD_TOKEN": TEST_TOKEN,
        "K6_CLOUD_STACK_ID": str(TEST_STACK),
        "K6_CLOUD_API_URL": sim_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "K6BOT_DATABASE_URL": str(database),
        "K6BOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    return database


async def _migrated(url: str) -> None:
    await (await open_store(url)).close()


def doctor(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["doctor", *args])
    for secret in (TEST_TOKEN, BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, WEBHOOK_SECRET, MCP_TOKEN, "pa55word"):
        assert secret not in result.output
    return result.exit_code, result.output.splitlines()


def line_of(lines: list[str], subject: str) -> str:
    found = [line for line in lines if line[2:].startswith(subject + ":")]
    assert len(found) == 1, (subject, lines)
    return found[0]


def test_a_healthy_deployment_passes(healthy: Path, free_port: int) -> None:
    code, lines = doctor("--port", str(free_port))
    assert code == 0, lines
    assert line_of(lines, "k6 Cloud").startswith(f"✓ k6 Cloud: The token works for stack {TEST_STACK}")
    assert line_of(lines, "Slack bot token") == (
        "✓ Slack bot token: signed in as k6bot in team Fake; every scope manifest.yaml asks for is granted."
    )
    assert line_of(lines, "Slack signing secret").startswith("✓ ")
    database = line_of(lines, "database")
    assert database.startswith("✓ database: sqlite+aiosqlite:///") and database.endswith("(head).")
    assert line_of(lines, "webhook").startswith("✓ webhook: on")
    listen = line_of(lines, "listen")  # Slack over HTTP cannot reach 127.0.0.1: said, but not an error
    assert listen.startswith(f"⚠ listen: k6bot serve will listen on 127.0.0.1:{free_port}: this machine only.")
    assert not any(line.startswith("✗") for line in lines)


def test_a_bad_slack_token(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked-long-ago")
    code, lines = doctor()
    assert code == 1
    assert line_of(lines, "Slack bot token") == (
        "✗ Slack bot token: Slack refused it (invalid_auth): copy the Bot User OAuth Token (xoxb-…) from "
        "OAuth & Permissions, and reinstall the app if it was revoked."
    )


def test_a_token_missing_a_scope(healthy: Path, slack: FakeSlack) -> None:
    slack.scopes = ("commands", "chat:write", "app_mentions:read")
    code, lines = doctor()
    assert code == 1
    assert line_of(lines, "Slack scopes") == (
        "✗ Slack scopes: missing chat:write.public, usergroups:read, files:write (manifest.yaml asks for them): add "
        "them under OAuth & Permissions → Scopes, then reinstall the app."
    )


def test_slack_not_saying_its_scopes_is_a_warning(healthy: Path, slack: FakeSlack) -> None:
    slack.scopes = None
    code, lines = doctor()
    assert code == 0 and line_of(lines, "Slack scopes") == "⚠ Slack scopes: Slack did not say which scopes it granted."


def test_an_unreachable_slack(healthy: Path, monkeypatch: pytest.MonkeyPatch, free_port: int) -> None:
    monkeypatch.setenv("SLACK_API_URL", f"http://127.0.0.1:{free_port}/api/")
    code, lines = doctor()
    assert code == 1
    assert line_of(lines, "Slack bot token") == (
        f"✗ Slack bot token: cannot reach Slack at http://127.0.0.1:{free_port}/api/ (ClientConnectorError). "
        "Check SLACK_API_URL."
    )


def test_a_postgresql_url_to_a_closed_port(healthy: Path, monkeypatch: pytest.MonkeyPatch, free_port: int) -> None:
    monkeypatch.setenv("K6BOT_DATABASE_URL", f"postgresql://k6bot:pa55word@127.0.0.1:{free_port}/k6bot")
    code, lines = doctor()
    assert code == 1
    assert line_of(lines, "database") == (
        f"✗ database: Cannot open k6bot's database postgresql+asyncpg://k6bot:***@127.0.0.1:{free_port}/k6bot: "
        "connection refused (is the server running, and on that port?). Check K6BOT_DATABASE_URL."
    )


def test_a_database_behind_or_ahead_of_this_k6bot(healthy: Path) -> None:
    asyncio.run(_set_revision(healthy, "0001"))
    code, lines = doctor()
    assert code == 0
    assert line_of(lines, "database").endswith(
        f"revision 0001 (head is {migrations.head()}; upgrading is needed). k6bot upgrades it at start, or run "
        "`k6bot db upgrade`."
    )
    assert line_of(lines, "database").startswith("⚠ ")
    asyncio.run(_set_revision(healthy, "0999"))
    code, lines = doctor()
    assert code == 1 and "0999, unknown to this k6bot" in line_of(lines, "database")


async def _set_revision(database: Path, revision: str) -> None:
    store = Store(f"sqlite+aiosqlite:///{database}")
    async with store.session() as session:
        await session.execute(text("UPDATE k6bot_alembic_version SET version_num = :r"), {"r": revision})
    await store.close()


def test_a_stack_id_that_is_not_a_number(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K6_CLOUD_STACK_ID", "abc")
    code, lines = doctor()
    assert code == 1
    assert line_of(lines, "configuration") == "✗ configuration: K6_CLOUD_STACK_ID must be a number, got 'abc'"
    assert line_of(lines, "Slack bot token").startswith("✓ ")  # the other checks still run


def test_a_wrong_k6_token(healthy: Path, monkeypatch: pytest.MonkeyPatch, sim_url: str) -> None:
    monkeypatch.setenv("K6_CLOUD_TOKEN", "not-the-token")
    code, lines = doctor()
    assert code == 1
    assert line_of(lines, "k6 Cloud") == (
        f"✗ k6 Cloud: {sim_url}: k6 Cloud did not accept the API token (401). Check K6_CLOUD_TOKEN."
    )


def test_a_token_without_a_stack(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("K6_CLOUD_STACK_ID")
    code, lines = doctor()
    assert code == 1 and line_of(lines, "k6 Cloud").startswith("✗ k6 Cloud: K6_CLOUD_STACK_ID is not set")


def test_a_bot_token_in_slack_app_token(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-pasted-in-the-wrong-place")
    code, lines = doctor()
    assert code == 1
    assert line_of(lines, "Slack app token") == (
        "✗ Slack app token: SLACK_APP_TOKEN must be an app-level token (xapp-…), but it is a xoxb-… token. "
        "Generate one with connections:write under Basic Information → App-Level Tokens."
    )
    assert "pasted-in-the-wrong-place" not in "\n".join(lines)


def test_socket_mode_with_a_good_app_token(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    code, lines = doctor()
    assert code == 0, lines
    assert line_of(lines, "Slack app token").startswith("✓ Slack app token: SLACK_APP_TOKEN is an app-level token")
    assert line_of(lines, "listen").startswith("✓ listen")  # Socket Mode needs no inbound address


def test_http_mode_without_a_signing_secret(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    code, lines = doctor("--slack-mode", "http")
    assert code == 1
    assert line_of(lines, "Slack signing secret") == (
        "✗ Slack signing secret: SLACK_SIGNING_SECRET is not set: copy it from the app's Basic Information page. "
        "HTTP mode needs it to verify every request from Slack."
    )


def test_listening_beyond_loopback_needs_an_mcp_token(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = doctor("--host", "0.0.0.0", "--port", "0")
    assert code == 0
    assert line_of(lines, "listen").startswith(
        "✓ listen: k6bot serve will listen on 0.0.0.0:0: reachable from the network"
    )
    assert line_of(lines, "MCP over HTTP") == (
        "⚠ MCP over HTTP: off: /mcp on 0.0.0.0 needs K6BOT_MCP_TOKEN (clients then send 'Authorization: Bearer …')."
    )
    monkeypatch.setenv("K6BOT_MCP_TOKEN", MCP_TOKEN)
    code, lines = doctor("--host", "0.0.0.0", "--port", "0")
    assert (
        line_of(lines, "MCP over HTTP") == "✓ MCP over HTTP: /mcp on 0.0.0.0, bearer token required (K6BOT_MCP_TOKEN)."
    )


def test_a_port_in_use_and_an_address_that_is_not_here(healthy: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, lines = doctor("--port", str(port))
    assert code == 0 and line_of(lines, "listen").startswith(
        f"⚠ listen: Cannot listen on 127.0.0.1:{port}: the port is in use"
    )
    code, lines = doctor("--host", "192.0.2.1")
    assert code == 1 and line_of(lines, "listen").startswith(
        "✗ listen: Cannot listen on 192.0.2.1:8080: this machine has"
    )


def test_a_webhook_secret_with_nobody_to_tell(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    code, lines = doctor()
    assert code == 0
    assert line_of(lines, "Slack").startswith("⚠ Slack: off: SLACK_BOT_TOKEN is not set")
    assert line_of(lines, "webhook") == (
        "⚠ webhook: K6BOT_WEBHOOK_SECRET is set, but without SLACK_BOT_TOKEN there is nobody to tell."
    )


def test_a_signing_secret_without_a_bot_token_is_broken(healthy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    code, lines = doctor()
    assert code == 1 and line_of(lines, "Slack bot token").startswith("✗ Slack bot token: SLACK_BOT_TOKEN is not set")


def test_a_broken_policy_file(healthy: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("allow:\n  sometimes: ['*']\n")
    monkeypatch.setenv("K6BOT_POLICY_FILE", str(policy))
    code, lines = doctor()
    assert code == 1 and line_of(lines, "policy") == (
        f"✗ policy: {policy}: unknown safety class 'sometimes'; use read, write, run, stop or admin."
    )


def test_a_new_user_with_nothing_set_gets_warnings_only(monkeypatch: pytest.MonkeyPatch) -> None:
    code, lines = doctor()
    assert code == 0, lines
    assert line_of(lines, "k6 Cloud").startswith("⚠ k6 Cloud: demo mode")
    assert line_of(lines, "database").endswith("does not exist yet: k6bot creates it at start.")
    assert line_of(lines, "webhook").startswith("⚠ webhook: off")


def test_the_scopes_checked_are_the_manifests() -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    assert tuple(manifest["oauth_config"]["scopes"]["bot"]) == MANIFEST_BOT_SCOPES


@pytest.mark.postgres
async def test_a_postgresql_database_is_connected_to_and_its_revision_read(
    healthy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if POSTGRES_URL is None:
        pytest.skip(SKIP_POSTGRES)
    url = await create_postgres_database()
    try:
        monkeypatch.setenv("K6BOT_DATABASE_URL", url)
        code, lines = await asyncio.to_thread(doctor)
        assert code == 0 and line_of(lines, "database").endswith("empty; k6bot creates its tables at start.")
        await _migrated(url)
        code, lines = await asyncio.to_thread(doctor)
        assert code == 0 and line_of(lines, "database").endswith(f"revision {migrations.head()} (head).")
        assert "k6bot:***@" in line_of(lines, "database")
    finally:
        await drop_postgres_database(url)
