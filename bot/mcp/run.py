"""Serving k6bot's MCP server: ``k6bot mcp`` over stdio (default) or streamable HTTP.

Light on purpose. Over stdio, ``initialize`` is answered with little more than the MCP SDK loaded: the registry,
the k6 Cloud client (or the demo simulator), the database and the audit log are loaded and opened on the first
request that needs them (``tools/list``, ``tools/call``, resources) — see :class:`DeferredMCPServer`.
``tests/test_imports.py`` guards what this module loads.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR

from bot.defaults import DEFAULT_HOST
from tools.errors import ConfigurationError, K6BotError
from tools.toolsets import hidden_toolsets

from .instructions import server_instructions

if TYPE_CHECKING:
    from mcp.server.lowlevel.helper_types import ReadResourceContents
    from mcp.server.mcpserver import Context
    from mcp_types import CallToolResult, InputRequiredResult
    from mcp_types import Resource as MCPResource
    from mcp_types import ResourceTemplate as MCPResourceTemplate
    from mcp_types import Tool as MCPTool

    from bot.config import BotSettings
    from tools.config import K6CloudSettings

    from .server import K6BotMCPServer

log = logging.getLogger("k6bot.mcp")

SERVER_NAME = "k6bot"
SERVER_TITLE = "k6bot — Grafana Cloud k6"


def server_version() -> str:
    try:
        return version("k6bot")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0"


def parse_toolsets(value: str | Sequence[str] | None) -> list[str]:
    """``"tests, runs"`` / ``["tests", "runs"]`` / ``None`` → a clean list (``["core"]`` when empty)."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    cleaned = [item.strip().lower() for item in items if item and item.strip()]
    return cleaned or ["core"]


def front_instructions(*, toolsets: list[str], read_only: bool, demo: bool) -> str:
    """The instructions ``build_server`` writes, from the toolset names alone (no registry)."""
    return server_instructions(
        toolsets=toolsets, read_only=read_only, demo=demo, hidden_groups=hidden_toolsets(toolsets)
    )


@contextlib.contextmanager
def _keep_our_logging() -> Iterator[None]:
    """While the block runs, ``MCPServer()`` leaves logging alone when k6bot has configured it (bot.logs).

    The SDK's constructor imports rich (~60 ms, a tenth of a start) to build a handler for
    ``logging.basicConfig``, which drops it when the root logger already has a handler — as it has here.
    """
    from mcp.server.mcpserver import server as sdk

    original = getattr(sdk, "configure_logging", None)
    if original is None or not logging.getLogger().handlers:
        yield
        return
    sdk.configure_logging = lambda *_args, **_kwargs: None  # type: ignore[assignment]
    try:
        yield
    finally:
        sdk.configure_logging = original


class DeferredMCPServer(MCPServer):
    """Answers ``initialize`` itself; tools and resources come from the real server, built on first need.

    ``build`` makes the real server (registry, backend, database); it runs once, on the first ``tools/*`` or
    ``resources/*`` request, while later requests wait for it. When it fails (a database that cannot be opened),
    the error is logged, kept in :attr:`failure`, and every such request fails with its sentence — the client
    shows why; the server ends when the client closes stdin, and ``run_mcp`` then raises the error.
    """

    def __init__(self, build: Callable[[], Awaitable[K6BotMCPServer]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._build = build
        self._inner: K6BotMCPServer | None = None
        self._lock = anyio.Lock()
        self.failure: Exception | None = None

    async def inner(self) -> K6BotMCPServer:
        async with self._lock:
            if self._inner is None and self.failure is None:
                try:
                    self._inner = await self._build()
                except Exception as exc:  # the server cannot work: say why, on every request
                    self.failure = exc
                    log.error("k6bot cannot serve MCP: %s", self.failure_sentence())
            if self._inner is None:
                raise MCPError(code=INTERNAL_ERROR, message=self.failure_sentence())
            return self._inner

    def failure_sentence(self) -> str:
        exc = self.failure
        if exc is None:
            return ""
        text = str(exc) if isinstance(exc, K6BotError) else f"{type(exc).__name__}: {exc}"
        return " ".join(text.split())

    async def list_tools(self) -> list[MCPTool]:
        return await (await self.inner()).list_tools()

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        return await (await self.inner()).call_tool(name, arguments, context)

    async def list_resources(self) -> list[MCPResource]:
        return await (await self.inner()).list_resources()

    async def list_resource_templates(self) -> list[MCPResourceTemplate]:
        return await (await self.inner()).list_resource_templates()

    async def read_resource(
        self, uri: Any, context: Context[Any, Any] | None = None
    ) -> Iterable[ReadResourceContents] | InputRequiredResult:
        return await (await self.inner()).read_resource(uri, context)


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
    transport, a non-loopback HTTP bind without ``K6BOT_MCP_TOKEN``, a database that cannot be opened).
    """
    kind = transport.strip().lower()
    if kind in ("streamable-http", "streamable_http"):
        kind = "http"
    if kind not in ("stdio", "http"):
        raise ConfigurationError(f"Unknown transport '{transport}': use stdio or http.")
    chosen = parse_toolsets(toolsets if toolsets is not None else bot.toolsets)
    hidden_toolsets(chosen)  # an unknown toolset is refused before anything starts
    token = bot.mcp_token.get_secret_value() if bot.mcp_token is not None else None
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the server quietly
        if kind == "stdio":
            anyio.run(_serve_stdio, cloud, bot, chosen, read_only)
            return
        from .http import check_http_exposure

        check_http_exposure(host, token)
        anyio.run(_serve_http, cloud, bot, host, port, chosen, read_only, list(allowed_hosts), token)


async def _serve_stdio(cloud: K6CloudSettings, bot: BotSettings, toolsets: list[str], read_only: bool) -> None:
    async with contextlib.AsyncExitStack() as stack:
        with _keep_our_logging():
            front = DeferredMCPServer(
                lambda: _open_server(stack, cloud, bot, toolsets, read_only),
                name=SERVER_NAME,
                title=SERVER_TITLE,
                version=server_version(),
                instructions=front_instructions(toolsets=toolsets, read_only=read_only, demo=cloud.token is None),
                log_level="WARNING",
            )
        await front.run_stdio_async()
    if front.failure is not None:
        raise front.failure


async def _serve_http(
    cloud: K6CloudSettings,
    bot: BotSettings,
    host: str,
    port: int,
    toolsets: list[str],
    read_only: bool,
    allowed_hosts: list[str],
    token: str | None,
) -> None:
    from .http import serve_http

    async with contextlib.AsyncExitStack() as stack:
        server = await _open_server(stack, cloud, bot, toolsets, read_only)
        await serve_http(server, host=host, port=port, token=token, allowed_hosts=allowed_hosts)


async def _open_server(
    stack: contextlib.AsyncExitStack,
    cloud: K6CloudSettings,
    bot: BotSettings,
    toolsets: list[str],
    read_only: bool,
) -> K6BotMCPServer:
    """The real server: the database, the backend (k6 Cloud, or the demo simulator), the tools; ``stack`` closes them."""
    from bot.audit import AuditLog
    from bot.runtime import open_backend
    from bot.store import open_store

    from .server import build_server

    url = bot.sqlalchemy_url
    try:
        store = await open_store(url)
    except Exception as exc:
        scheme = url.split("://", 1)[0]
        raise ConfigurationError(
            f"Cannot open k6bot's database ({scheme}; K6BOT_DATABASE_URL): {type(exc).__name__}."
        ) from None
    stack.push_async_callback(store.close)
    backend = await stack.enter_async_context(open_backend(cloud, demo_speed=bot.demo_speed))
    return build_server(
        backend.toolbox,
        audit=AuditLog(store),
        toolsets=toolsets,
        read_only=read_only,
        demo=backend.demo,
        idempotency_window=bot.idempotency_window,
    )
