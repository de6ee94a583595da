"""`k6bot serve` as a real process: health, metrics, the webhook over HTTP, the MCP mount, demo mode."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable

from tests.conftest import WEBHOOK_SECRET
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import finished_posts
from tests.service.conftest import ServeProcess
from tests.service.test_restart import subscribe
from tools.simulator import Simulator


def post(url: str, body: object, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_serve_health_metrics_webhook_and_mounts(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[[dict[str, str]], ServeProcess],
) -> None:
    serve_env["K6BOT_POLL_SECONDS"] = "600"  # the webhook, not the poll, must find the run
    subscribe(serve_env, "C0LOADTEST")
    server = run_serve(serve_env)
    health = server.wait_healthy()
    assert health["database"] == "ok"
    assert health["watcher"]["lease_held"] is True
    assert health["parts"]["notifications"] == "on" and health["parts"]["webhook"] == "on"
    assert health["parts"]["mcp"] == "on"  # loopback bind: MCP needs no token
    server.wait_until(lambda: server.last_poll() is not None, what="the first poll")

    run_id = frozen_sim.start_run(502)["id"]
    frozen_sim.finish_run(run_id, status="aborted", reason="system")
    body = {"event": {"type": "test.finished.aborted_system"}, "test": {"id": run_id, "status": 6, "result": 1}}
    assert post(server.url + "/k6/webhook", body, {"Authorization": "Bearer wrong"}) == 401
    assert post(server.url + "/k6/webhook", body) == 401
    assert post(server.url + "/k6/webhook?secret=" + WEBHOOK_SECRET, body, {"X-k6cloud-Event": "test.finished"}) == 202
    slack.wait_for("chat.postMessage", 1, timeout=15)
    assert len(finished_posts(slack, run_id, "C0LOADTEST")) == 1
    assert "aborted by system" in finished_posts(slack, run_id)[0].text

    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        metrics = response.read().decode()
    for name in (
        "k6bot_watcher_polls_total",
        "k6bot_notifications_sent_total",
        "k6bot_outbox_backlog",
        "k6bot_watcher_lease_held 1.0",
        'k6bot_webhook_requests_total{outcome="unauthorized"} 2.0',
        'k6bot_webhook_requests_total{outcome="accepted"} 1.0',
    ):
        assert name in metrics, name

    status, body = server.get_json("/nope")
    assert status == 404
    assert post(server.url + "/slack/events", {}) == 404  # no SLACK_SIGNING_SECRET: Slack is off, said so
    mcp = urllib.request.Request(
        server.url + "/mcp",
        data=json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-06-18",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"},
                },
            }
        ).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
    )
    with urllib.request.urlopen(mcp, timeout=10) as response:
        assert response.status == 200
        assert b"k6bot" in response.read()


def test_serve_in_demo_mode_without_any_settings(
    serve_env: dict[str, str], run_serve: Callable[[dict[str, str]], ServeProcess]
) -> None:
    env = {k: v for k, v in serve_env.items() if not k.startswith(("K6_CLOUD_", "SLACK_", "K6BOT_WEBHOOK"))}
    server = run_serve(env)
    health = server.wait_healthy()
    assert "simulator" in health["parts"]["k6"]
    assert health["parts"]["notifications"].startswith("off")
    assert health["parts"]["webhook"].startswith("off")
    assert post(server.url + "/k6/webhook", {"test": {"id": 1234}}) == 503
    assert "demo mode" in server.log()
