"""k6bot's MCP server: registry operations as MCP tools, over stdio or streamable HTTP.

``run_mcp`` serves it (``k6bot mcp``); ``build_server`` makes the server for a toolbox (tests, embedding);
``build_http_app`` makes the streamable HTTP ASGI app (``k6bot serve`` mounts it).
"""

from .http import build_http_app
from .server import K6BotMCPServer, build_server, parse_toolsets, run_mcp

__all__ = ["K6BotMCPServer", "build_http_app", "build_server", "parse_toolsets", "run_mcp"]
