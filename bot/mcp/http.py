"""Streamable HTTP at ``/mcp``: a bearer token when ``K6BOT_MCP_TOKEN`` is set, Host/Origin checks always on.

``build_http_app`` returns an ASGI app serving ``/mcp`` that ``k6bot serve`` can mount at ``/``. The MCP session
manager runs in that app's lifespan; Starlette does not run a mounted app's lifespan, so a parent app enters it
in its own: ``async with server.session_manager.run(): yield`` (``server`` being the MCPServer passed in).
"""

from __future__ import annotations

import hmac
import logging
import socket
from collections.abc import Sequence

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .exposure import LOOPBACK_HOSTS, check_http_exposure, is_loopback

__all__ = ["LOOPBACK_HOSTS", "build_http_app", "check_http_exposure", "is_loopback", "serve_http", "transport_security"]

log = logging.getLogger("k6bot.mcp")

MCP_PATH = "/mcp"


def transport_security(host: str, allowed_hosts: Sequence[str] = ()) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback names, the bound address, and the hosts the operator adds."""
    names = list(LOOPBACK_HOSTS)
    bound = host.strip()
    if bound and bound not in ("0.0.0.0", "::", "[::]") and not is_loopback(bound):  # noqa: S104 - a comparison
        names.append(f"[{bound}]" if ":" in bound and not bound.startswith("[") else bound)
    for extra in allowed_hosts:
        extra = extra.strip()
        if extra and extra not in names:
            names.append(extra)
    hosts: list[str] = []
    origins: list[str] = []
    for name in names:
        has_port = name.rsplit(":", 1)[-1].isdigit() and not name.endswith("]")
        hosts += [name] if has_port else [name, f"{name}:*"]
        for scheme in ("http", "https"):
            origins += [f"{scheme}://{name}"] if has_port else [f"{scheme}://{name}", f"{scheme}://{name}:*"]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


class BearerTokenGuard:
    """Every HTTP request needs ``Authorization: Bearer <token>``; otherwise 401 with ``WWW-Authenticate``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = Headers(scope=scope).get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), self._token):
            await self.app(scope, receive, send)
            return
        challenge = 'Bearer realm="k6bot"' + (', error="invalid_token"' if header else "")
        response = JSONResponse(
            {
                "error": "invalid_token" if header else "unauthorized",
                "error_description": "k6bot's MCP endpoint needs 'Authorization: Bearer <K6BOT_MCP_TOKEN>'.",
            },
            status_code=401,
            headers={"WWW-Authenticate": challenge},
        )
        await response(scope, receive, send)


OAUTH_DISCOVERY = "/.well-known/oauth"
"""OAuth metadata paths (``/.well-known/oauth-protected-resource``, ``…/oauth-authorization-server``)."""


class NoOAuthDiscovery:
    """404 for OAuth discovery, before any token check: k6bot takes a static bearer token, not an OAuth flow.

    A client that finds no metadata does not try to register or send the user to a login page.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(OAUTH_DISCOVERY):
            response = JSONResponse(
                {"error": "not_found", "error_description": "k6bot uses a static bearer token, not OAuth."},
                status_code=404,
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def build_http_app(
    server: MCPServer,
    *,
    token: str | None = None,
    host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
    path: str = MCP_PATH,
) -> ASGIApp:
    """The streamable HTTP app serving ``server`` at ``path``, guarded by ``token`` when one is given."""
    app: ASGIApp = server.streamable_http_app(
        streamable_http_path=path, transport_security=transport_security(host, allowed_hosts), host=host
    )
    if token:
        app = BearerTokenGuard(app, token)
    return NoOAuthDiscovery(app)


async def serve_http(
    server: MCPServer,
    *,
    host: str,
    port: int,
    token: str | None,
    allowed_hosts: Sequence[str] = (),
    sock: socket.socket | None = None,
) -> None:
    """Serve ``server`` over streamable HTTP with uvicorn until cancelled."""
    import uvicorn

    check_http_exposure(host, token)
    app = build_http_app(server, token=token, host=host, allowed_hosts=allowed_hosts)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    log.info("k6bot MCP is serving streamable HTTP at http://%s:%d%s", host, port, MCP_PATH)
    await uvicorn.Server(config).serve(sockets=[sock] if sock is not None else None)
