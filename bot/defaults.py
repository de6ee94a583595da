"""The addresses and ports k6bot listens on by default: plain constants, importable without pydantic.

``bot.config`` re-exports them; ``bot.cli`` reads them from here so that ``k6bot --help`` stays fast.
"""

from __future__ import annotations

DEFAULT_HOST = "127.0.0.1"
"""The address every k6bot server listens on unless ``--host`` says otherwise: this machine only (the Docker
image passes ``--host 0.0.0.0``). ``k6bot doctor`` reads the same defaults."""
SERVE_PORT = 8080
SLACK_HTTP_PORT = 3000
MCP_HTTP_PORT = 8000
