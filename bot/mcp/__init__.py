"""k6bot's MCP server: registry operations as MCP tools, over stdio or streamable HTTP.

``run_mcp`` serves it (``k6bot mcp``); ``build_server`` makes the server for a toolbox (tests, embedding);
``build_http_app`` makes the streamable HTTP ASGI app (``k6bot serve`` mounts it).

The names load on first use, so that ``bot.mcp.run`` (``k6bot mcp`` over stdio) starts without the registry.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .http import build_http_app
    from .run import parse_toolsets, run_mcp
    from .server import K6BotMCPServer, build_server

__all__ = ["K6BotMCPServer", "build_http_app", "build_server", "parse_toolsets", "run_mcp"]

_WHERE = {
    "K6BotMCPServer": ".server",
    "build_server": ".server",
    "build_http_app": ".http",
    "parse_toolsets": ".run",
    "run_mcp": ".run",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
