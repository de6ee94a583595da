"""Streamable HTTP at /mcp: the bearer token, Host checks, and no unauthenticated exposure beyond loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from bot.mcp import build_http_app, build_server
from bot.mcp.http import check_http_exposure, is_loopback
from tests.conftest import MCP_TOKEN
from tests.mcp.conftest import START_PATH, Person, text_of
from tools.errors import ConfigurationError
from tools.registry import Toolbox
from tools.simulator import Simulator

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """``app`` on a free loopback port; the socket listens before uvicorn starts, so no waiting is needed."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def mcp_client(url: str, *, token: str | None, person: Person | None = None, mode: str = "legacy") -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    http = httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=300))
    return Client(streamable_http_client(f"{url}/mcp", http_client=http), mode=mode, elicitation_callback=person)


@pytest.fixture
def http_app(toolbox: Toolbox) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        return build_http_app(build_server(toolbox), **kwargs)

    return make


async def test_without_the_token_every_request_is_401(http_app) -> None:
    async with serving(http_app(token=MCP_TOKEN)) as url, httpx.AsyncClient() as http:
        missing = await http.post(f"{url}/mcp", json=INITIALIZE, headers=JSON_HEADERS)
        wrong = await http.post(
            f"{url}/mcp", json=INITIALIZE, headers={**JSON_HEADERS, "Authorization": "Bearer not-the-token"}
        )
        basic = await http.post(f"{url}/mcp", json=INITIALIZE, headers={**JSON_HEADERS, "Authorization": "Basic eDp5"})

    for response in (missing, wrong, basic):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith('Bearer realm="k6bot"')
        assert MCP_TOKEN not in response.text
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_with_the_token_the_tools_work_including_confirmation(
    http_app, sim: Simulator, person: Person, mode: str
) -> None:
    async with (
        serving(http_app(token=MCP_TOKEN)) as url,
        mcp_client(url, token=MCP_TOKEN, person=person.will("accept"), mode=mode) as client,
    ):
        names = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("start_load_test", {"load_test": "orders soak test"})

    assert "start_load_test" in names
    assert not result.is_error, text_of(result)
    assert sim.count("POST", START_PATH) == 1


async def test_without_a_configured_token_loopback_needs_none(http_app) -> None:
    async with serving(http_app()) as url, mcp_client(url, token=None) as client:
        tools = (await client.list_tools()).tools

    assert tools


async def test_host_and_origin_checks_stay_on(http_app) -> None:
    async with serving(http_app(token=MCP_TOKEN, allowed_hosts=["k6bot.internal"])) as url, httpx.AsyncClient() as http:
        auth = {**JSON_HEADERS, "Authorization": f"Bearer {MCP_TOKEN}"}
        port = url.rsplit(":", 1)[1]
        rebinding = await http.post(f"{url}/mcp", json=INITIALIZE, headers={**auth, "Host": f"evil.example:{port}"})
        foreign_origin = await http.post(
            f"{url}/mcp", json=INITIALIZE, headers={**auth, "Origin": "https://evil.example"}
        )
        widened = await http.post(f"{url}/mcp", json=INITIALIZE, headers={**auth, "Host": f"k6bot.internal:{port}"})

    assert rebinding.status_code == 421
    assert foreign_origin.status_code == 403
    assert widened.status_code == 200


def test_non_loopback_without_a_token_is_refused() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("mcp.example.com")
    check_http_exposure("127.0.0.1", None)
    check_http_exposure("0.0.0.0", MCP_TOKEN)
    with pytest.raises(ConfigurationError, match="K6BOT_MCP_TOKEN"):
        check_http_exposure("0.0.0.0", None)


def test_the_cli_refuses_a_public_bind_without_a_token(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K6_CLOUD_", "K6BOT_"))}
    env["XDG_STATE_HOME"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "mcp", "--transport", "http", "--host", "0.0.0.0", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode != 0
    assert "Refusing to serve MCP over HTTP on 0.0.0.0 without a token" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize("token", [MCP_TOKEN, None])
async def test_oauth_discovery_is_404_so_clients_use_the_bearer_token(http_app, token: str | None) -> None:
    async with serving(http_app(token=token)) as url, httpx.AsyncClient() as http:
        found = [
            await http.get(f"{url}{path}")
            for path in (
                "/.well-known/oauth-protected-resource",
                "/.well-known/oauth-protected-resource/mcp",
                "/.well-known/oauth-authorization-server",
            )
        ]
        unauthorized = await http.post(f"{url}/mcp", json=INITIALIZE, headers=JSON_HEADERS)
    assert [r.status_code for r in found] == [404, 404, 404]
    assert all("www-authenticate" not in r.headers for r in found)
    if token:
        assert unauthorized.status_code == 401
        assert unauthorized.headers["www-authenticate"].startswith("Bearer ")
