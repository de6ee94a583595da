"""Whether MCP over HTTP may be served on an address, without loading the MCP SDK (``k6bot serve`` decides at
start-up and builds the MCP app on the first ``/mcp`` request; ``k6bot doctor`` asks too)."""

from __future__ import annotations

import ipaddress

from tools.errors import ConfigurationError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_http_exposure(host: str, token: str | None) -> None:
    """Refuse to serve MCP beyond this machine without a token: it could start and abort load tests."""
    if token or is_loopback(host):
        return
    raise ConfigurationError(
        f"Refusing to serve MCP over HTTP on {host} without a token: anyone who can reach it could start and "
        "abort load tests. Set K6BOT_MCP_TOKEN (clients then send 'Authorization: Bearer <token>'), "
        "or bind to 127.0.0.1."
    )
