"""The audit trail of a confirmed, a cancelled and a denied action, from Slack, MCP and the terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.actions import Actions, OutcomeKind
from bot.audit import AuditLog
from bot.cli import app
from bot.confirm import Confirmations
from bot.policy import Actor, Policy
from bot.store import open_store
from tools.registry import Safety, Toolbox
from tools.simulator import Simulator

MARIA = Actor("slack", "U0MARIA", "maria", channel="C0LOAD")
BOSS = Actor("slack", "U0BOSS", "boss", channel="C0LOAD")
CLAUDE = Actor("mcp", "claude-desktop", "Claude Desktop")
OPERATOR = Actor("terminal", "ops", "ops@laptop")


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


async def test_confirmed_cancelled_and_denied_are_all_in_the_audit_log(
    frozen_sim: Simulator, sim_toolbox: Toolbox, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await open_store(f"sqlite+aiosqlite:///{db_path}")
    audit = AuditLog(store)
    policy = Policy(allow={**Policy().allow, Safety.STOP: ("U0BOSS",)})
    actions = Actions(sim_toolbox, policy=policy, confirmations=Confirmations(store), audit=audit)
    try:
        # Confirmed: Maria starts the smoke test from Slack and says yes.
        asked = await actions.request(MARIA, "start_load_test", {"load_test": "Orders API Smoke"})
        assert asked.kind is OutcomeKind.CONFIRM
        done = await actions.confirm(MARIA, asked.confirmation_id)
        assert done.kind is OutcomeKind.RESULT
        started = done.result.test_run.id  # type: ignore[union-attr]
        assert frozen_sim.count("POST", r"/cloud/v6/load_tests/502/start") == 1

        # Cancelled: an MCP client prepares an abort and the person says no.
        abort = await actions.request(CLAUDE, "abort_test_run", {"test_run_id": started})
        assert abort.kind is OutcomeKind.CONFIRM
        assert (await actions.cancel(CLAUDE, abort.confirmation_id)).kind is OutcomeKind.CANCELLED

        # Denied: Maria may not stop runs under this policy.
        denied = await actions.request(MARIA, "abort_test_run", {"test_run_id": started})
        assert denied.kind is OutcomeKind.DENIED
        assert frozen_sim.count("POST", rf"/cloud/v6/test_runs/{started}/abort") == 0

        # A terminal user whose confirmation expired before the yes.
        expiring = Actions(
            sim_toolbox, policy=policy, confirmations=Confirmations(store, ttl_seconds=0.001), audit=audit
        )
        late = await expiring.request(OPERATOR, "abort_test_run", {"test_run_id": started})
        assert (await expiring.confirm(OPERATOR, late.confirmation_id)).kind is OutcomeKind.EXPIRED

        entries = list(reversed(await audit.recent(50)))
    finally:
        await store.close()

    trail = [(e.frontend, e.actor_id, e.operation, e.decision, e.result) for e in entries]
    assert trail == [
        ("slack", "U0MARIA", "start_load_test", "requested", ""),
        ("slack", "U0MARIA", "start_load_test", "confirmed", "ok"),
        ("mcp", "claude-desktop", "abort_test_run", "requested", ""),
        ("mcp", "claude-desktop", "abort_test_run", "cancelled", ""),
        ("slack", "U0MARIA", "abort_test_run", "denied", ""),
        ("terminal", "ops", "abort_test_run", "requested", ""),
        ("terminal", "ops", "abort_test_run", "expired", ""),
    ]
    confirmed = entries[1]
    assert "Orders API Smoke" in confirmed.target and confirmed.channel_id == "C0LOAD"
    assert entries[4].detail.startswith("You may not stop test runs")
    assert all(e.at is not None for e in entries)

    # `k6bot audit` shows the same trail, newest first.
    monkeypatch.setenv("K6BOT_DATABASE_URL", str(db_path))
    result = await asyncio.to_thread(CliRunner().invoke, app, ["audit", "-n", "10"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 7
    assert "terminal:ops@laptop · abort_test_run" in lines[0] and "expired" in lines[0]
    assert "slack:maria · abort_test_run" in lines[2] and "denied" in lines[2]
    assert "mcp:Claude Desktop · abort_test_run" in lines[3] and "cancelled" in lines[3]
    assert "slack:maria · start_load_test" in lines[5] and "confirmed → ok" in lines[5]
