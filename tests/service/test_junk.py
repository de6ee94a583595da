"""Junk at every endpoint of the real processes (`k6bot serve`, `k6bot slack --mode http`): a 4xx, a short log.

Oversized bodies (announced and never sent, or sent), malformed JSON and forms, wrong content types: each
gets a 4xx, never a 500 or a traceback, and 200 junk requests add a handful of log lines, not one each.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Callable

import pytest

from tests.conftest import E2E_SIGNING_SECRET, WEBHOOK_SECRET
from tests.fakes.slack import FakeSlack
from tests.service.conftest import ServeProcess
from tools.simulator import Simulator

SIGNING_SECRET = E2E_SIGNING_SECRET
MiB = 1024 * 1024


def raw(server: ServeProcess, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> int:
    """One request over a plain socket (the body may be announced and not sent); the answer's status."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}", "Connection: close"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        if "Content-Length" not in headers:
            head.append(f"Content-Length: {len(body)}")
        with contextlib.suppress(OSError):  # answered and closed while the body was still being sent
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def signed(body: bytes, content_type: str = "application/x-www-form-urlencoded") -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}


JSON = {"Content-Type": "application/json"}
MCP = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
HOOK = {"Content-Type": "application/json", "Authorization": f"Bearer {WEBHOOK_SECRET}"}
DEEP = b"[" * 200_000 + b"]" * 200_000

JUNK: list[tuple[str, str, dict[str, str], bytes]] = [
    # /slack/events
    ("POST", "/slack/events", {}, b"\xff\xfe\x00junk"),
    ("POST", "/slack/events", {"Content-Type": "application/json"}, b"{"),
    ("POST", "/slack/events", signed(b"payload=%7B"), b"payload=%7B"),
    ("POST", "/slack/events", signed(b"[1]", "application/json"), b"[1]"),
    ("POST", "/slack/events", signed(b"\xff\xfe"), b"\xff\xfe"),
    # /k6/webhook
    ("POST", "/k6/webhook", JSON, b"{junk"),
    ("POST", "/k6/webhook", {"Authorization": "Bearer wrong"}, b"\x00\x01"),
    ("POST", "/k6/webhook", HOOK, b"{junk"),
    ("POST", "/k6/webhook", HOOK, b"\xff\xfe\xfd"),
    ("POST", "/k6/webhook", HOOK, DEEP),
    ("POST", "/k6/webhook", HOOK, b'{"test": {"id": true}}'),
    ("POST", "/k6/webhook", HOOK, b"[1, 2]"),
    # /mcp
    ("POST", "/mcp", MCP, b"{junk"),
    ("POST", "/mcp", MCP, b"\xff\xfe\xfd"),
    ("POST", "/mcp", MCP, DEEP),
    ("POST", "/mcp", MCP, b'{"jsonrpc": "2.0", "id": 1, "method": 7}'),
    ("POST", "/mcp", {"Content-Type": "text/plain"}, b"hello"),
    ("POST", "/mcp", MCP, b"[]"),
    # /healthz, /metrics
    ("POST", "/healthz", JSON, b"{junk"),
    ("PUT", "/metrics", JSON, b"\xff"),
    ("GET", "/metrics", {"Content-Length": str(2 * 1024 * 1024)}, b"\xff"),  # a GET with a body over the limit
]

OVERSIZED = ["/slack/events", "/k6/webhook", "/mcp", "/healthz", "/metrics"]


def _assert_quiet_4xx(server: ServeProcess, before: int) -> None:
    for index in range(200):
        method, path, headers, body = JUNK[index % len(JUNK)]
        status = raw(server, method, path, headers, body)
        assert 400 <= status < 500, (method, path, body[:40], status)
    added = server.log()[before:]
    assert "Traceback" not in added and "Exception in ASGI application" not in added, added[-3000:]
    lines = [line for line in added.splitlines() if line.strip()]
    assert len(lines) <= 12, "\n".join(lines)  # one line per kind of refusal, not one per request


def _assert_oversized_is_413(server: ServeProcess, paths: list[str]) -> None:
    for path in paths:
        kind = {"/mcp": MCP, "/k6/webhook": HOOK}.get(path, JSON)
        headers = {**kind, "Content-Length": str(200 * MiB)}
        assert raw(server, "POST", path, headers, b"{") == 413, path  # announced, never sent


@pytest.mark.slow
def test_serve_answers_junk_at_every_endpoint_with_a_4xx_and_a_short_log(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[..., ServeProcess],
) -> None:
    server = run_serve({**serve_env, "SLACK_SIGNING_SECRET": SIGNING_SECRET})
    health = server.wait_healthy()
    assert health["parts"]["slack"] == "on" and health["parts"]["mcp"] == "on"
    _assert_oversized_is_413(server, OVERSIZED)
    _assert_quiet_4xx(server, len(server.log()))
    assert server.health()["status"] == "ok"  # still serving
    assert slack.calls_of("response_url") == [] and slack.calls_of("chat.postMessage") == []


@pytest.mark.slow
def test_slack_http_answers_junk_with_a_4xx_and_a_short_log(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[..., ServeProcess],
) -> None:
    server = run_serve({**serve_env, "SLACK_SIGNING_SECRET": SIGNING_SECRET}, ("slack", "--mode", "http"))
    server.wait_until(lambda: server.get_json("/healthz")[0] == 200, what="/healthz")
    _assert_oversized_is_413(server, ["/slack/events", "/k6/webhook"])
    before = len(server.log())
    for index in range(200):
        method, path, headers, body = JUNK[index % 12]  # the Slack and webhook junk
        status = raw(server, method, path, headers, body)
        assert 400 <= status < 500, (path, body[:40], status)
    added = server.log()[before:]
    assert "Traceback" not in added, added[-3000:]
    assert len([line for line in added.splitlines() if line.strip()]) <= 8, added
    assert slack.calls_of("response_url") == []


def test_the_junk_covers_every_endpoint() -> None:
    assert {path for _, path, _, _ in JUNK} == set(OVERSIZED)
    assert json.loads(b"[]") == []  # the MCP case above is a valid JSON value of the wrong kind
