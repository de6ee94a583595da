"""The suite's leak guard (tests/conftest.py) sees a secret in a log record, an audit row and a fake Slack call.

Without this, a guard that silently stopped looking would make every other test pass for the wrong reason.
"""

from __future__ import annotations

import logging

import httpx
import pytest

import tests.conftest as suite
from bot.store import AuditEntry, open_store
from tests.conftest import MCP_TOKEN, LeakGuard, secrets_in
from tests.fakes.slack import FakeSlack

SECRET = "guard-only-s3cret-value"
"""A secret the guard looks for and k6bot was never told about, so nothing scrubs it on the way."""


@pytest.mark.leaks_expected
async def test_the_guard_sees_secrets_in_logs_audit_rows_and_fake_slack_calls(
    no_secret_leaks: LeakGuard, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(suite, "TEST_SECRETS", (*suite.TEST_SECRETS, SECRET))
    logging.getLogger("k6bot.test.guard").warning("the secret is %s", SECRET)
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        async with store.session() as session:  # straight into the table, past AuditLog's scrubbing
            session.add(
                AuditEntry(frontend="mcp", actor_id="t", operation="x", safety="read", decision="direct", detail=SECRET)
            )
    finally:
        await store.close()
    httpx.post(fake_slack.api_url + "chat.postMessage", json={"channel": "C1", "text": f"hi {SECRET}"})
    found = no_secret_leaks.found()
    assert any(f.startswith("log record of k6bot.test.guard") for f in found), found
    assert any(f.startswith("audit row x/direct") and SECRET in f for f in found), found
    assert any(f.startswith("fake Slack chat.postMessage") for f in found), found


def test_secrets_in_knows_the_suite_s_secrets() -> None:
    assert secrets_in(["nothing here", f"x{MCP_TOKEN}y"]) == [MCP_TOKEN]
    assert secrets_in([None, ""]) == []
