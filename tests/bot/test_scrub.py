"""The one scrubber: configured secrets, credentials in URLs and token-looking strings become ``***``."""

from __future__ import annotations

import io
import logging

import pytest
from pydantic import SecretStr

from bot.config import BotSettings, SlackSettings
from bot.logs import install_record_scrubbing
from bot.notify.outbox import make_slack_client
from bot.scrub import (
    REDACTED,
    database_password,
    known_secrets,
    remember,
    remember_settings,
    scrub,
    scrub_data,
    scrubbing,
)
from tests.fakes.slack import FakeSlack


def test_remembered_secrets_and_settings_are_scrubbed() -> None:
    remember(SecretStr("remembered-value-0001"), None, "")
    slack = SlackSettings(
        _env_file=None, bot_token=SecretStr("bot-token-value-0002"), signing_secret=SecretStr("signing-0003-value")
    )  # type: ignore[call-arg]
    bot = BotSettings(
        _env_file=None, mcp_token=SecretStr("mcp-token-0004-value"), database_url="postgresql://k6:pw-0005-value@db/k6"
    )  # type: ignore[call-arg]
    remember_settings(slack, bot, None)
    text = "remembered-value-0001 bot-token-value-0002 signing-0003-value mcp-token-0004-value pw-0005-value"
    assert scrub(text) == " ".join([REDACTED] * 5)


@pytest.mark.parametrize(
    "variable",
    [
        "K6_CLOUD_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_APP_TOKEN",
        "K6BOT_MCP_TOKEN",
        "K6BOT_WEBHOOK_SECRET",
    ],
)
def test_secrets_in_the_environment_are_scrubbed(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    value = f"{variable.lower()}-from-the-environment"
    assert scrub(f"said {value}.") == f"said {value}."  # not configured yet: nothing to hide
    monkeypatch.setenv(variable, value)
    assert scrub(f"said {value}.") == f"said {REDACTED}."
    assert value in known_secrets()


def test_the_database_password_in_the_environment_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("K6BOT_DATABASE_URL", "postgresql+asyncpg://k6bot:db-pass-from-env@db:5432/k6bot")
    assert scrub("auth failed with db-pass-from-env") == f"auth failed with {REDACTED}"
    assert database_password("sqlite+aiosqlite:///k6bot.db") is None


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        ("see https://admin:s3cr3t@api.example.com/x", f"see https://{REDACTED}@api.example.com/x"),
        ("postgresql+asyncpg://k6bot:pw@db:5432/k6bot", f"postgresql+asyncpg://{REDACTED}@db:5432/k6bot"),
        ("https://ghp_token@github.com/x.git", f"https://{REDACTED}@github.com/x.git"),
        ("Slack said xoxb-123-456-abcdef; also xoxp-9-9-abcdefg", f"Slack said {REDACTED}; also {REDACTED}"),
        ("app token xapp-1-A0-123-abcdef", f"app token {REDACTED}"),
        ("grafana glc_eyJvIjoiMTIzIn0=", f"grafana {REDACTED}"),
        # nothing that only looks a little like one
        (
            "mail alice@example.com about https://example.com/@alice",
            "mail alice@example.com about https://example.com/@alice",
        ),
        ("run 1234 of 'orders' by you@example.com", "run 1234 of 'orders' by you@example.com"),
        ("<https://k6.example.com/runs/1|run 1>", "<https://k6.example.com/runs/1|run 1>"),
        ("", ""),
    ],
)
def test_credentials_and_token_shapes_are_scrubbed_without_being_configured(text: str, scrubbed: str) -> None:
    assert scrub(text) == scrubbed


def test_short_values_are_not_taken_for_secrets() -> None:
    remember("1234", "hook")
    assert scrub("run 1234 via the webhook") == "run 1234 via the webhook"


def test_nested_data_is_scrubbed_keys_and_values() -> None:
    remember("nested-secret-value")
    data = {"a": ["x nested-secret-value", ("nested-secret-value", 3)], "nested-secret-value": {"b": None, "c": 1.5}}
    assert scrub_data(data) == {"a": [f"x {REDACTED}", (REDACTED, 3)], REDACTED: {"b": None, "c": 1.5}}


def test_a_scrubbing_stream_scrubs_what_is_written() -> None:
    remember("stream-secret-value")
    target = io.StringIO()
    stream = scrubbing(target)
    assert stream.write("token stream-secret-value\n") == len("token stream-secret-value\n")
    stream.flush()
    assert target.getvalue() == f"token {REDACTED}\n"
    assert stream.isatty() is False


def test_every_log_record_is_scrubbed_as_it_is_made(caplog: pytest.LogCaptureFixture) -> None:
    install_record_scrubbing()
    install_record_scrubbing()  # once is enough; twice changes nothing
    remember("log-secret-value-0006")
    logger = logging.getLogger("k6bot.test.scrub")
    with caplog.at_level(logging.INFO):
        logger.info("token is %s", "log-secret-value-0006")
        logger.info("plain %s", "args stay args")
        try:
            raise RuntimeError("failed with log-secret-value-0006")
        except RuntimeError:
            logger.exception("call failed")
    assert "log-secret-value-0006" not in caplog.text
    assert "token is ***" in caplog.text and "failed with ***" in caplog.text
    plain = next(r for r in caplog.records if r.getMessage() == "plain args stay args")
    assert plain.args == ("args stay args",)  # records without secrets are left as they are


async def test_what_the_outbox_sends_to_slack_is_scrubbed() -> None:
    remember("outbox-secret-value")
    with FakeSlack() as fake:
        client = make_slack_client(fake.bot_token, fake.api_url)
        payload = {
            "channel": "C1",
            "text": "abort: outbox-secret-value",
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "https://u:p4ss@h/x"}}],
        }
        await client.chat_postMessage(**payload)
        call = fake.wait_for("chat.postMessage")[0]
    assert call.args["text"] == f"abort: {REDACTED}"
    assert call.args["blocks"][0]["text"]["text"] == f"https://{REDACTED}@h/x"
    assert payload["text"] == "abort: outbox-secret-value"  # the caller's data is not changed
