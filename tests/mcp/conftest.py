"""Fixtures of the MCP tests: the server on the simulator, a person who answers questions, the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from bot.audit import AuditLog
from bot.mcp import build_server
from bot.store import AuditEntry, open_store
from tools.registry import Toolbox
from tools.simulator import Simulator

PROTOCOLS = ["legacy", "2026-07-28"]
"""The classic initialize handshake, and the 2026-07-28 protocol (elicitation through input-required rounds)."""

START_PATH = r"/cloud/v6/load_tests/\d+/start"
ABORT_PATH = r"/cloud/v6/test_runs/\d+/abort"


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def audit() -> AsyncIterator[AuditLog]:
    store = await open_store("sqlite+aiosqlite:///:memory:")
    try:
        yield AuditLog(store)
    finally:
        await store.close()


@pytest.fixture
def server(toolbox: Toolbox, audit: AuditLog):
    return build_server(toolbox, audit=audit)


@dataclass
class Person:
    """Answers elicitations in order, and remembers what was asked and how many API calls had been made then."""

    sim: Simulator
    answers: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    asked: list[types.ElicitRequestParams] = field(default_factory=list)
    requests_when_asked: list[int] = field(default_factory=list)

    def will(self, *answers: str | tuple[str, dict[str, Any] | None]) -> Person:
        self.answers += [(a, {}) if isinstance(a, str) else a for a in answers]
        return self

    async def __call__(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params)
        self.requests_when_asked.append(len(self.sim.requests))
        if not self.answers:
            raise AssertionError(f"k6bot asked a question nobody expected: {params.message}")
        action, content = self.answers.pop(0)
        return types.ElicitResult(action=action, content=content if action == "accept" else None)  # type: ignore[arg-type]

    @property
    def messages(self) -> list[str]:
        return [getattr(p, "message", "") for p in self.asked]


@pytest.fixture
def person(sim: Simulator) -> Person:
    return Person(sim)


def connect(server: Any, protocol: str, *, person: Person | None = None, name: str = "test-assistant") -> Client:
    """An MCP client for ``server`` speaking ``protocol``; it declares elicitation only when a person answers."""
    return Client(
        server,
        mode=protocol,
        elicitation_callback=person,
        client_info=types.Implementation(name=name, version="1.0"),
    )


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


async def audit_entries(audit: AuditLog) -> list[AuditEntry]:
    return list(reversed(await audit.recent(100)))
