"""The issue's check, end to end: `k6bot slack --mode http` with a short poll, a fake Slack and the simulator.

`/k6 subscribe` in a channel, runs finished on the API side, `kill -9` and a restart while a run finishes,
Slack failing twice before it recovers, `/k6 unsubscribe` — counting the messages that arrive.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from bot.store import Lease
from tests.conftest import E2E_SIGNING_SECRET
from tests.fakes.slack import FakeSlack
from tests.notify.conftest import finished_posts
from tests.service.conftest import ServeProcess, signed_post
from tests.service.test_restart import query, seen
from tests.service.test_serve import post
from tools.simulator import Simulator

SIGNING_SECRET = E2E_SIGNING_SECRET
CHANNEL = "C0LOADTEST"
SLACK_HTTP = ("slack", "--mode", "http")


def slash(server: ServeProcess, slack: FakeSlack, text: str, user: str = "U0MARIA") -> int:
    body = urlencode(
        {
            "command": "/k6",
            "text": text,
            "user_id": user,
            "user_name": user.lower(),
            "channel_id": CHANNEL,
            "channel_name": "load-tests",
            "team_id": "T0FAKE",
            "response_url": slack.response_url(f"cmd-{time.monotonic_ns()}"),
            "trigger_id": "1.2.3",
        }
    ).encode()
    return signed_post(server, body, SIGNING_SECRET)


def wait_polls(server: ServeProcess, sim: Simulator, count: int = 2) -> None:
    """Wait until the process has listed runs ``count`` more times (its polls)."""
    start = sim.count("GET", r"/cloud/v6/test_runs")
    server.wait_until(lambda: sim.count("GET", r"/cloud/v6/test_runs") >= start + count, what=f"{count} polls")


def test_slack_http_subscribe_kill_restart_outage_unsubscribe(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[..., ServeProcess],
) -> None:
    env = {**serve_env, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    server = run_serve(env, SLACK_HTTP)
    server.wait_until(lambda: server.get_json("/healthz")[0] == 200, what="/healthz")
    wait_polls(server, frozen_sim, 1)
    assert post(server.url + "/k6/webhook", {"test": {"id": 1}}) == 401  # the webhook is served here too

    assert slash(server, slack, "subscribe") == 200
    slack.wait_for("response_url", 1)
    assert "subscribed" in slack.calls_of("response_url")[0].text.lower()

    # Runs finished on the API side: one message each.
    first = frozen_sim.start_run(502)["id"]
    second = frozen_sim.start_run(503)["id"]
    server.wait_until(lambda: seen(env, first) and seen(env, second), what="runs seen")
    frozen_sim.finish_run(first)
    frozen_sim.finish_run(second, result="failed")
    slack.wait_for("chat.postMessage", 2, timeout=15)

    # kill -9 and restart while a run finishes.
    third = frozen_sim.start_run(504)["id"]
    server.wait_until(lambda: seen(env, third), what="third run seen")
    server.kill9()
    frozen_sim.finish_run(third, status="aborted", reason="system")
    server = run_serve(env, SLACK_HTTP)
    slack.wait_for("chat.postMessage", 3, timeout=20)

    # Slack fails twice, then recovers.
    slack.fail("chat.postMessage", times=2, status=500)
    fourth = frozen_sim.start_run(505)["id"]
    server.wait_until(lambda: seen(env, fourth), what="fourth run seen")
    frozen_sim.finish_run(fourth)
    slack.wait_for("chat.postMessage", 4, timeout=20)
    wait_polls(server, frozen_sim, 3)

    # Unsubscribed: no more messages.
    assert slash(server, slack, "unsubscribe") == 200
    slack.wait_for("response_url", 2)
    fifth = frozen_sim.start_run(502)["id"]
    server.wait_until(lambda: seen(env, fifth), what="fifth run seen")
    frozen_sim.finish_run(fifth)
    wait_polls(server, frozen_sim, 4)

    for run_id in (first, second, third, fourth):
        assert len(finished_posts(slack, run_id, CHANNEL)) == 1, run_id
    assert finished_posts(slack, fifth) == []
    assert len(slack.successful("chat.postMessage")) == 4
    assert "aborted by system" in finished_posts(slack, third)[0].text
    assert "failed" in finished_posts(slack, second)[0].text


@pytest.mark.parametrize("command", [SLACK_HTTP, ("serve",)], ids=["slack-http", "serve"])
def test_sigterm_gives_up_the_lease_and_exits_0(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[..., ServeProcess],
    command: tuple[str, ...],
) -> None:
    """`docker stop`, systemd, Kubernetes: SIGTERM. The notifier stops in the lifespan and releases the lease."""
    env = {**serve_env, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "K6BOT_POLL_SECONDS": "30"}
    server = run_serve(env, command)
    server.wait_until(lambda: server.get_json("/healthz")[0] == 200, what="/healthz")
    server.wait_until(lambda: bool(query(env, select(Lease.holder))), what="the watcher lease")
    (holder,) = query(env, select(Lease.holder))

    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(20) == 0, server.log()
    leases = query(env, select(Lease))
    assert all(lease.holder != holder or lease.expires_at <= datetime.now(UTC) for lease in leases), leases
    assert "Traceback" not in server.log()
