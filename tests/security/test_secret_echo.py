"""An API whose error text echoes the token (and other credentials) leaks none of it anywhere k6bot writes.

The simulator answers the start with a 400 whose message repeats the API token, a URL with a password,
a Slack token and a Grafana token. Slack (the reply, over the fake Slack), MCP (text and structured
content), the terminal chat (stdout and stderr) and the audit row each show them as ``***``.
"""

from __future__ import annotations

import io
import json
from typing import Any

import mcp_types as types
from mcp import Client
from sqlalchemy import select

from bot.audit import AuditLog
from bot.chat import run_chat
from bot.config import BotSettings
from bot.mcp import build_server
from bot.store import AuditEntry, Store, open_store
from tests.conftest import TEST_TOKEN, make_settings
from tests.slack.conftest import Harness
from tools.registry import Toolbox
from tools.simulator import Simulator
from tools.simulator.faults import Fault

START = r"/cloud/v6/load_tests/\d+/start"
URL_PASSWORD = "hunter2-hunter2"
SLACK_LOOKALIKE = "xoxb-1111-2222-abcdefabcdef"
GRAFANA_LOOKALIKE = "glc_eyJvIjoiMTIzNDU2NzgiLCJuIjoiazZib3QifQ=="
LEAKED = (TEST_TOKEN, URL_PASSWORD, SLACK_LOOKALIKE, GRAFANA_LOOKALIKE)


def echo_the_token(sim: Simulator) -> None:
    message = (
        f"token {TEST_TOKEN} is not valid for this stack; see https://admin:{URL_PASSWORD}@api.k6.io/v6/help "
        f"(also tried {SLACK_LOOKALIKE} and {GRAFANA_LOOKALIKE})"
    )
    sim.faults.add(
        Fault(method="POST", path=START, status=400, times=None, body={"error": {"code": "bad", "message": message}})
    )


def assert_scrubbed(text: str, where: str) -> None:
    for secret in LEAKED:
        assert secret not in text, f"{secret!r} leaked into {where}: {text}"
    assert "is not valid for this stack" in text and "token ***" in text, f"{where}: {text}"
    assert "https://***@api.k6.io/v6/help" in text, f"{where}: {text}"


async def audit_rows(store: Store) -> list[AuditEntry]:
    async with store.session() as session:
        return list((await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars())


def assert_audit_scrubbed(rows: list[AuditEntry]) -> None:
    failed = [row for row in rows if row.result == "error"]
    assert len(failed) == 1, [(r.decision, r.result) for r in rows]
    everything = json.dumps([[r.detail, r.result, r.target, r.arguments, r.actor_name] for r in rows])
    assert_scrubbed(failed[0].detail, "the audit row")
    for secret in LEAKED:
        assert secret not in everything


async def test_slack_shows_the_api_error_scrubbed(harness: Harness) -> None:
    echo_the_token(harness.sim)
    cid, _preview = await harness.preview("start orders soak test")
    await harness.click("k6bot_confirm", cid)
    calls = await harness.responses(3)  # preview, "working on it", the error
    await harness.settle()
    assert_scrubbed(calls[2].text, "the Slack reply")
    for call in harness.fake.calls:
        for secret in LEAKED:
            assert secret not in json.dumps(call.args)
    assert_audit_scrubbed(await audit_rows(harness.store))


async def test_mcp_shows_the_api_error_scrubbed(sim: Simulator, toolbox: Toolbox) -> None:
    echo_the_token(sim)
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        server = build_server(toolbox, audit=AuditLog(store))
        async with Client(server, client_info=types.Implementation(name="echo-test", version="1")) as client:
            result = await client.call_tool("start_load_test", {"load_test": 501, "confirm": True})
        assert result.is_error
        text = "\n".join(b.text for b in result.content if isinstance(b, types.TextContent))
        assert_scrubbed(text, "the MCP error")
        structured: Any = result.structured_content
        for secret in LEAKED:
            assert secret not in json.dumps(structured)
        assert_audit_scrubbed(await audit_rows(store))
    finally:
        await store.close()


async def test_mcp_structured_content_is_scrubbed(sim: Simulator, toolbox: Toolbox) -> None:
    note = f"creds https://ops:{URL_PASSWORD}@db.internal/x"
    run = sim.start_run(501)
    server = build_server(toolbox, toolsets="all")
    async with Client(server) as client:
        noted = await client.call_tool("update_test_run", {"test_run_id": run["id"], "note": note})
        shown = await client.call_tool("get_test_run", {"test_run_id": run["id"]})
    for result in (noted, shown):
        assert not result.is_error, result
        everything = json.dumps(result.structured_content) + " ".join(
            b.text for b in result.content if isinstance(b, types.TextContent)
        )
        assert URL_PASSWORD not in everything and "https://***@db.internal/x" in everything


def test_the_terminal_shows_the_api_error_scrubbed(sim: Simulator, sim_url: str, tmp_path) -> None:
    import asyncio

    echo_the_token(sim)
    database = tmp_path / "k6bot.db"
    out, err = io.StringIO(), io.StringIO()
    bot = BotSettings(_env_file=None, database_url=str(database))  # type: ignore[call-arg]
    code = run_chat(make_settings(sim_url), bot, "start orders soak test", True, stdout=out, stderr=err)
    assert code == 1
    assert_scrubbed(out.getvalue() + err.getvalue(), "the terminal")

    async def rows() -> list[AuditEntry]:
        store = await open_store(f"sqlite+aiosqlite:///{database}")
        try:
            return await audit_rows(store)
        finally:
            await store.close()

    assert_audit_scrubbed(asyncio.run(rows()))


async def test_the_channel_announcement_is_scrubbed_too(harness: Harness) -> None:
    """Listeners post with k6bot's own scrubbing client (not bolt's per-request copy of it)."""
    created = harness.sim.add_load_test(77, f"Deploy check {SLACK_LOOKALIKE}")
    cid, preview = await harness.preview(f"start {created['id']}")
    assert SLACK_LOOKALIKE not in preview.text and "Deploy check ***" in preview.text
    await harness.click("k6bot_confirm", cid)
    posts = await harness.wait("chat.postMessage")
    await harness.settle()
    assert "Deploy check ***" in posts[0].text and SLACK_LOOKALIKE not in posts[0].text
