"""The k6bot MCP server: every registry operation as a tool, a small default surface, stdio or streamable HTTP.

Serving it (``run_mcp``, ``k6bot mcp``) lives in :mod:`bot.mcp.run`, which loads this module only when needed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from mcp.server import MCPServer
from mcp_types import Tool as MCPTool

from bot.audit import AuditLog
from bot.idempotency import DEFAULT_WINDOW_SECONDS, RepeatWindow
from tools.registry import Registry, Toolbox, get_registry

from .instructions import server_instructions
from .resources import register_resources
from .run import SERVER_NAME, SERVER_TITLE, parse_toolsets, run_mcp, server_version
from .state import ServerState
from .tools import ToolCalls, build_tool

__all__ = ["SERVER_NAME", "K6BotMCPServer", "build_server", "parse_toolsets", "run_mcp"]

log = logging.getLogger("k6bot.mcp")


class K6BotMCPServer(MCPServer):
    """An MCPServer whose ``tools/list`` shows only the enabled tools.

    Every operation is registered, so a tool outside the enabled set that is called anyway gets a clear
    refusal (read-only mode, or which toolset enables it) instead of "Unknown tool".
    """

    def __init__(self, state: ServerState, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.state = state

    async def list_tools(self) -> list[MCPTool]:
        return [tool for tool in await super().list_tools() if tool.name in self.state.visible]


def build_server(
    toolbox: Toolbox,
    *,
    audit: AuditLog | None = None,
    toolsets: str | Sequence[str] | None = None,
    read_only: bool = False,
    demo: bool = False,
    registry: Registry | None = None,
    idempotency_window: float = DEFAULT_WINDOW_SECONDS,
) -> K6BotMCPServer:
    """The MCP server for ``toolbox``: tools derived from the registry, resources, instructions.

    ``toolsets``: ``core`` (default), group names (``tests``, ``runs``, ``projects``, ``schedules``, …) or ``all``.
    ``read_only``: only read tools are listed, and any other tool is refused if called.
    Raises :class:`~tools.errors.InvalidInput` for an unknown toolset.
    """
    registry = registry or toolbox.registry or get_registry()
    chosen = parse_toolsets(toolsets)
    visible = frozenset(op.name for op in registry.select(chosen, read_only=read_only))
    offered = {op.name for op in registry.select(chosen)}
    hidden_groups = sorted(g for g, ops in registry.groups().items() if any(op.name not in offered for op in ops))
    state = ServerState(
        toolbox=toolbox,
        audit=audit,
        toolsets=chosen,
        read_only=read_only,
        demo=demo,
        visible=visible,
        repeats=RepeatWindow(window=idempotency_window),
    )
    calls = ToolCalls(state)
    server = K6BotMCPServer(
        state,
        name=SERVER_NAME,
        title=SERVER_TITLE,
        version=server_version(),
        instructions=server_instructions(toolsets=chosen, read_only=read_only, demo=demo, hidden_groups=hidden_groups),
        tools=[build_tool(op, calls) for op in registry],
        log_level="WARNING",
    )
    register_resources(server, toolbox)
    return server
