"""Where `k6bot serve` and `k6bot slack --mode http` listen by default (this machine only), and what they say.

And the webhook: with a secret but no Slack bot token there is nothing to post, so it is off — the start
line, /healthz and the answer to a call all say so, and why.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest

from bot.config import DEFAULT_HOST
from tests.conftest import E2E_SIGNING_SECRET, WEBHOOK_SECRET
from tests.service.conftest import ServeProcess


def outward_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None with loopback only."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


def reachable(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("command", [("serve",), ("slack", "--mode", "http")], ids=["serve", "slack-http"])
def test_by_default_only_this_machine_can_connect(
    serve_env: dict[str, str], run_serve: Callable[..., ServeProcess], command: tuple[str, ...]
) -> None:
    assert DEFAULT_HOST == "127.0.0.1"
    server = run_serve({**serve_env, "SLACK_SIGNING_SECRET": E2E_SIGNING_SECRET}, command, host=None)
    server.wait_until(lambda: server.get_json("/healthz")[0] == 200, what="/healthz on 127.0.0.1")
    assert f"127.0.0.1:{server.port}" in server.log()
    outward = outward_address()
    if outward is not None:  # on a machine with only loopback there is nothing else to try
        assert not reachable(outward, server.port), f"{' '.join(command)} answers on {outward}"


def test_a_webhook_without_a_slack_token_is_off_and_says_why(
    serve_env: dict[str, str], run_serve: Callable[..., ServeProcess]
) -> None:
    env = {k: v for k, v in serve_env.items() if k != "SLACK_BOT_TOKEN"}
    assert env["K6BOT_WEBHOOK_SECRET"] == WEBHOOK_SECRET
    server = run_serve(env)
    health = server.wait_healthy()
    assert health["parts"]["webhook"].startswith("off") and "SLACK_BOT_TOKEN" in health["parts"]["webhook"]
    assert "webhook: off" in server.log()
    request = urllib.request.Request(
        server.url + "/k6/webhook",
        data=json.dumps({"test": {"id": 1234}}).encode(),
        headers={"Authorization": f"Bearer {WEBHOOK_SECRET}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=5)
    assert answer.value.code == 503 and "SLACK_BOT_TOKEN" in json.loads(answer.value.read())["error"]
    status, body = server.get_json("/healthz")
    assert status == 200 and "SLACK_BOT_TOKEN" in body["parts"]["webhook"]
