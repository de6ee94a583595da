"""The k6bot MCP server: every registry operation as a tool, a small default surface, stdio or streamable HTTP."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import anyio
from mcp.server import MCPServer
from mcp_types import Tool as MCPTool

from bot.audit import AuditLog
from bot.config import DEFAULT_HOST, BotSettings
from bot.idempotency import DEFAULT_WINDOW_SECONDS, RepeatWindow
from tools.config import K6CloudSettings
from tools.errors import ConfigurationError
from tools.registry import Registry, Toolbox, get_registry

from .instructions import server_instructions
from .resources import register_resources
from .state import ServerState
from .tools import ToolCalls, build_tool

log = logging.getLogger("k6bot.mcp")

SERVER_NAME = "k6bot"


def _version() -> str:
    try:
        return version("k6bot")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0"


def parse_toolsets(value: str | Sequence[str] | None) -> list[str]:
    """``"tests, runs"`` / ``["tests", "runs"]`` / ``None`` → a clean list (``["core"]`` when empty)."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    cleaned = [item.strip().lower() for item in items if item and item.strip()]
    return cleaned or ["core"]


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
        title="k6bot — Grafana Cloud k6",
        version=_version(),
        instructions=server_instructions(toolsets=chosen, read_only=read_only, demo=demo, hidden_groups=hidden_groups),
        tools=[build_tool(op, calls) for op in registry],
        log_level="WARNING",
    )
    register_resources(server, toolbox)
    return server


# --------------------------------------------------------------------------- running


def run_mcp(
    cloud: K6CloudSettings,
    bot: BotSettings,
    *,
    transport: str = "stdio",
    host: str = DEFAULT_HOST,
    port: int = 8000,
    toolsets: str | None = None,
    read_only: bool = False,
    allowed_hosts: Sequence[str] = (),
) -> None:
    """Serve MCP until interrupted: stdio (default) or streamable HTTP at ``/mcp``.

    Raises :class:`~tools.errors.K6BotError` for settings that must not be served (an unknown toolset or
    transport, a non-loopback HTTP bind without ``K6BOT_MCP_TOKEN``).
    """
    from .http import check_http_exposure

    kind = transport.strip().lower()
    if kind in ("streamable-http", "streamable_http"):
        kind = "http"
    if kind not in ("stdio", "http"):
        raise ConfigurationError(f"Unknown transport '{transport}': use stdio or http.")
    chosen = parse_toolsets(toolsets if toolsets is not None else bot.toolsets)
    get_registry().select(chosen)  # an unknown toolset is refused before anything starts
    token = bot.mcp_token.get_secret_value() if bot.mcp_token is not None else None
    if kind == "http":
        check_http_exposure(host, token)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the server quietly
        anyio.run(_serve, cloud, bot, kind, host, port, chosen, read_only, list(allowed_hosts), token)


async def _serve(
    cloud: K6CloudSettings,
    bot: BotSettings,
    transport: str,
    host: str,
    port: int,
    toolsets: list[str],
    read_only: bool,
    allowed_hosts: list[str],
    token: str | None,
) -> None:
    from bot.runtime import open_backend
    from bot.store import open_store

    try:
        store = await open_store(bot.sqlalchemy_url)
    except Exception as exc:
        scheme = bot.sqlalchemy_url.split("://", 1)[0]
        raise ConfigurationError(
            f"Cannot open k6bot's database ({scheme}; K6BOT_DATABASE_URL): {type(exc).__name__}."
        ) from None
    try:
        async with open_backend(cloud, demo_speed=bot.demo_speed) as backend:
            server = build_server(
                backend.toolbox,
                audit=AuditLog(store),
                toolsets=toolsets,
                read_only=read_only,
                demo=backend.demo,
                idempotency_window=bot.idempotency_window,
            )
            if transport == "stdio":
                await server.run_stdio_async()
                return
            from .http import serve_http

            await serve_http(server, host=host, port=port, token=token, allowed_hosts=allowed_hosts)
    finally:
        await store.close()
