"""What every tool call of one MCP server shares: the toolbox, the audit log, the chosen tool surface."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mcp.server.mcpserver import Context

from bot.audit import AuditDecision, AuditLog
from bot.idempotency import RepeatWindow
from bot.policy import Actor
from tools.registry import Operation, Toolbox

log = logging.getLogger("k6bot.mcp")

DEFAULT_CLIENT_ID = "mcp-client"
STATELESS_VERSION = "2026-07-28"
"""From this protocol version on, requests carry no session."""


@dataclass
class ServerState:
    toolbox: Toolbox
    audit: AuditLog | None = None
    toolsets: list[str] = field(default_factory=lambda: ["core"])
    read_only: bool = False
    demo: bool = False
    visible: frozenset[str] = frozenset()
    """Names of the tools ``tools/list`` shows (the selected toolsets, reads only in read-only mode)."""
    repeats: RepeatWindow[Any] = field(default_factory=RepeatWindow)
    """Confirmed writes of the last window, by derived idempotency key: a repeated call gets the first result."""

    def actor(self, ctx: Context) -> Actor:
        """The MCP client as the audit log names it: its ``clientInfo.name``."""
        name = None
        try:
            params = ctx.session.client_params
            if params is not None and params.client_info is not None:
                name = params.client_info.name
        except (AttributeError, ValueError):
            name = None
        return Actor(frontend="mcp", id=(name or DEFAULT_CLIENT_ID)[:200])

    def scope(self, ctx: Context, actor: Actor) -> str:
        """Who asks, for repeat detection: the client and its MCP session (HTTP session id when there is one)."""
        session_id = None
        try:
            request = ctx.request_context.request
            headers = getattr(request, "headers", None)
            session_id = headers.get("mcp-session-id") if headers is not None else None
        except (AttributeError, ValueError):
            session_id = None
        if session_id is None and ctx.protocol_version is not None and ctx.protocol_version >= STATELESS_VERSION:
            return f"{actor.id}|stateless"  # no session in this protocol: the client is the scope
        # the SDK makes a ServerSession per request; the connection under it lives as long as the session
        connection = getattr(ctx.session, "_connection", ctx.session)
        return f"{actor.id}|{session_id or id(connection)}"

    async def record(
        self,
        actor: Actor,
        op: Operation,
        decision: AuditDecision,
        *,
        arguments: Mapping[str, Any],
        facts: Mapping[str, Any] | None = None,
        result: str = "",
        detail: str = "",
        confirmation_id: str | None = None,
    ) -> None:
        """Write one audit entry (never fails the call); nothing when the server runs without an audit log."""
        if self.audit is not None:
            await self.audit.decision(
                actor,
                op,
                decision,
                arguments=arguments,
                facts=facts,
                result=result,
                detail=detail,
                confirmation_id=confirmation_id,
            )
