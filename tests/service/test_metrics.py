"""GET /metrics answers operator questions: a scripted session against `k6bot serve`, then the exposition parsed.

Slack slash commands and clicks (signed HTTP), MCP tool calls (streamable HTTP at /mcp), a k6 API fault that is
retried, a Slack rate limit, a run that finishes and is notified, a confirmation that expires. Every figure is
compared before and after, from the parsed exposition (``prometheus_client.parser``), not by substring.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitResult
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from bot.store import Confirmation, open_store
from tests.conftest import E2E_SIGNING_SECRET
from tests.fakes.slack import FakeSlack, SlackCall
from tests.notify.conftest import finished_posts
from tests.service.conftest import ROOT, ServeProcess, signed_post
from tests.service.test_restart import db_url, seen, subscribe
from tools.simulator import Simulator
from tools.simulator.faults import Fault

CHANNEL = "C0LOADTEST"
MARIA = "U0MARIA"  # may run tests
BOB = "U0BOB"  # may only read
POLICY = f"allow:\n  read: ['*']\n  write: ['*']\n  run: [{MARIA}]\n  stop: [{MARIA}]\n"


class Scrape:
    """One parsed GET /metrics: sample values by name and labels, plus the metric types by family."""

    def __init__(self, text: str) -> None:
        self.values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        self.types: dict[str, str] = {}
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            for sample in family.samples:
                self.values[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def __call__(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when the series does not exist (yet)."""
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def total(self, name: str, **labels: str) -> float:
        """The sum over every series of ``name`` whose labels include ``labels``."""
        wanted = set(labels.items())
        return sum(v for (n, ls), v in self.values.items() if n == name and wanted <= ls)

    def label_values(self, name: str, label: str) -> set[str]:
        return {dict(ls)[label] for (n, ls) in self.values if n == name and label in dict(ls)}


def scrape(server: ServeProcess) -> Scrape:
    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        return Scrape(response.read().decode())


class SlackUser:
    """Someone typing `/k6 …` and clicking buttons; waits for each answer at the fake Slack's response_url."""

    def __init__(self, server: ServeProcess, slack: FakeSlack, user: str) -> None:
        self.server, self.slack, self.user = server, slack, user

    def command(self, text: str) -> SlackCall:
        before = len(self.slack.calls_of("response_url"))
        body = {
            "command": "/k6",
            "text": text,
            "user_id": self.user,
            "user_name": self.user.lower(),
            "channel_id": CHANNEL,
            "channel_name": "load-tests",
            "team_id": "T0FAKE",
            "response_url": self.slack.response_url(f"cmd-{time.monotonic_ns()}"),
            "trigger_id": "1.2.3",
        }
        assert signed_post(self.server, urlencode(body).encode()) == 200
        return self.slack.wait_for("response_url", before + 1, timeout=15)[before]

    def click(self, action_id: str, value: str) -> SlackCall:
        before = len(self.slack.calls_of("response_url"))
        payload = {
            "type": "block_actions",
            "user": {"id": self.user, "username": self.user.lower(), "name": self.user.lower(), "team_id": "T0FAKE"},
            "api_app_id": "A0K6BOT",
            "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": CHANNEL},
            "trigger_id": "1.2.4",
            "team": {"id": "T0FAKE", "domain": "fake"},
            "channel": {"id": CHANNEL, "name": "load-tests"},
            "response_url": self.slack.response_url(f"click-{time.monotonic_ns()}"),
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "k6bot_confirmation",
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        assert signed_post(self.server, urlencode({"payload": json.dumps(payload)}).encode()) == 200
        return self.slack.wait_for("response_url", before + 1, timeout=15)[before]


def button_value(call: SlackCall, action_id: str) -> str:
    for block in call.args.get("blocks") or []:
        for element in block.get("elements", []) or []:
            if element.get("action_id") == action_id:
                return str(element["value"])
    raise AssertionError(f"no {action_id} button in {call.text}")


def expire(env: dict[str, str], confirmation_id: str) -> None:
    """Ten minutes pass for one confirmation: its expiry moves into the past in the database k6bot reads."""

    async def run() -> None:
        store = await open_store(db_url(env))
        try:
            async with store.session() as session:
                await session.execute(
                    update(Confirmation)
                    .where(Confirmation.id == confirmation_id)
                    .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
                )
        finally:
            await store.close()

    asyncio.run(run())


async def mcp_session(url: str) -> dict[str, Any]:
    """A model's session over streamable HTTP: a read, a start without confirm, a hidden tool, a bad id; then a
    client that can ask the person, who declines a start."""
    http = httpx2.AsyncClient(timeout=httpx2.Timeout(30, read=60))
    answers: dict[str, Any] = {}
    async with Client(streamable_http_client(f"{url}/mcp", http_client=http), mode="legacy") as client:
        answers["list"] = await client.call_tool("list_load_tests", {})
        answers["start"] = await client.call_tool("start_load_test", {"load_test": 502})
        answers["hidden"] = await client.call_tool("create_project", {"name": "nope"})
        answers["missing"] = await client.call_tool("get_test_run", {"test_run_id": 987654321})

    async def decline(_context: Any, _params: Any) -> ElicitResult:
        return ElicitResult(action="decline")

    http = httpx2.AsyncClient(timeout=httpx2.Timeout(30, read=60))
    transport = streamable_http_client(f"{url}/mcp", http_client=http)
    async with Client(transport, mode="legacy", elicitation_callback=decline) as client:
        answers["declined"] = await client.call_tool("start_load_test", {"load_test": 502})
    return answers


def test_metrics_after_a_scripted_session(
    frozen_sim: Simulator,
    slack: FakeSlack,
    serve_env: dict[str, str],
    run_serve: Callable[..., ServeProcess],
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    env = {**serve_env, "SLACK_SIGNING_SECRET": E2E_SIGNING_SECRET, "K6BOT_POLICY_FILE": str(policy)}
    subscribe(env, CHANNEL)
    server = run_serve(env)
    server.wait_healthy()
    server.wait_polls(2)
    maria, bob = SlackUser(server, slack, MARIA), SlackUser(server, slack, BOB)
    before = scrape(server)

    # The naming conventions: counters end in _total, durations are in seconds, histograms have buckets.
    for name in (
        "k6bot_commands",
        "k6bot_k6_api_requests",
        "k6bot_k6_api_retries",
        "k6bot_slack_api_calls",
        "k6bot_slack_api_rate_limited",
        "k6bot_confirmations_expired",
    ):
        assert before.types.get(name) == "counter", name
    for name in (
        "k6bot_k6_api_request_duration_seconds",
        "k6bot_notification_delay_seconds",
        "k6bot_watcher_poll_duration_seconds",
    ):
        assert before.types.get(name) == "histogram", name
    assert before.types.get("k6bot_confirmations_pending") == "gauge"
    assert before("k6bot_watcher_poll_duration_seconds_count") >= 2  # the polls waited for above
    polls = before.total("k6bot_k6_api_requests_total", operation="GET /cloud/v6/test_runs")
    assert polls >= 2 and before.label_values("k6bot_k6_api_requests_total", "operation") <= {
        "GET /cloud/v6/test_runs",
        "GET /cloud/v6/test_runs/{id}",
        "GET /cloud/v6/load_tests/{id}",
    }

    # Slack: a read whose first k6 API answer is a 503 (retried), a start confirmed, one cancelled, one
    # that expires, one the policy denies, a bad run id.
    frozen_sim.faults.add(Fault(method="GET", path=r"/cloud/v6/load_tests", status=503, times=1))
    assert "502" in maria.command("list tests").text
    preview = maria.command("start 502")
    pending = scrape(server)
    assert pending("k6bot_confirmations_pending") == before("k6bot_confirmations_pending") + 1
    runs_before = set(frozen_sim.store.runs)
    maria.click("k6bot_confirm", button_value(preview, "k6bot_confirm"))
    server.wait_until(lambda: len(set(frozen_sim.store.runs) - runs_before) == 1, what="the run started")
    (run_id,) = set(frozen_sim.store.runs) - runs_before
    server.wait_until(  # the click's follow-up replaces the preview after the start: let it land first
        lambda: any("Started '" in c.text for c in slack.calls_of("response_url")), what="the preview's final state"
    )
    maria.click("k6bot_cancel", button_value(maria.command("start 503"), "k6bot_cancel"))
    late = button_value(maria.command("start 504"), "k6bot_confirm")
    expire(env, late)
    assert "expired" in maria.click("k6bot_confirm", late).text
    assert "may not" in bob.command("start 502").text
    maria.command("run 987654321")

    # The run finishes; Slack rate-limits the first notification, then takes it.
    server.wait_until(lambda: seen(env, run_id), what="the started run watched")
    slack.fail("chat.postMessage", times=1, status=429, retry_after=1, error="ratelimited")
    frozen_sim.finish_run(run_id)
    slack.wait_for("chat.postMessage", 2, timeout=20)
    assert len(finished_posts(slack, run_id, CHANNEL)) == 1

    answers = asyncio.run(mcp_session(server.url))
    assert answers["list"].is_error is False
    assert answers["hidden"].is_error and answers["missing"].is_error
    assert answers["declined"].structured_content["outcome"] == "declined"
    after = scrape(server)

    def commands(operation: str, frontend: str, outcome: str) -> float:
        labels = {"operation": operation, "frontend": frontend, "outcome": outcome}
        return after("k6bot_commands_total", **labels) - before("k6bot_commands_total", **labels)

    assert commands("list_load_tests", "slack", "ok") == 1
    assert commands("start_load_test", "slack", "pending") == 3
    assert commands("start_load_test", "slack", "ok") == 1
    assert commands("start_load_test", "slack", "cancelled") == 1
    assert commands("start_load_test", "slack", "expired") == 1
    assert commands("start_load_test", "slack", "denied") == 1
    assert commands("get_test_run", "slack", "error") == 1
    assert commands("list_load_tests", "mcp", "ok") == 1
    assert commands("start_load_test", "mcp", "pending") == 1
    assert commands("start_load_test", "mcp", "cancelled") == 1
    assert commands("create_project", "mcp", "denied") == 1
    assert commands("get_test_run", "mcp", "error") == 1
    assert after.label_values("k6bot_commands_total", "outcome") <= {
        "ok",
        "pending",
        "denied",
        "cancelled",
        "expired",
        "error",
        "duplicate",
    }

    # Confirmations: none left waiting, one expired.
    assert after("k6bot_confirmations_pending") == before("k6bot_confirmations_pending") == 0
    assert after("k6bot_confirmations_expired_total") - before("k6bot_confirmations_expired_total") == 1

    # k6 API: by templated operation and status; the 503 was retried once; every attempt timed.
    def k6(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    load_tests = "GET /cloud/v6/load_tests"
    assert k6("k6bot_k6_api_requests_total", operation=load_tests, status="503") == 1
    assert k6("k6bot_k6_api_requests_total", operation=load_tests, status="200") >= 2  # Slack list, MCP list
    assert k6("k6bot_k6_api_retries_total", operation=load_tests) == 1
    assert k6("k6bot_k6_api_requests_total", operation="POST /cloud/v6/load_tests/{id}/start", status="200") == 1
    assert k6("k6bot_k6_api_requests_total", operation="GET /cloud/v6/test_runs/{id}", status="404") >= 2
    operations = after.label_values("k6bot_k6_api_requests_total", "operation")
    assert not [op for op in operations if re.search(r"/\d+(/|$)|\(\d+\)", op)], operations  # ids templated
    attempts = after.total("k6bot_k6_api_requests_total")
    assert after.total("k6bot_k6_api_request_duration_seconds_count") == attempts
    assert after.total("k6bot_k6_api_request_duration_seconds_bucket", le="+Inf") == attempts
    assert 0 < after.total("k6bot_k6_api_request_duration_seconds_sum") < time.monotonic() - began

    # Slack Web API: the rate limit counted, the notification delivered, the delay measured from the run's end.
    def delta(name: str, **labels: str) -> float:
        return after(name, **labels) - before(name, **labels)

    posts = "chat.postMessage"
    assert delta("k6bot_slack_api_rate_limited_total", method=posts) == 1
    assert delta("k6bot_slack_api_calls_total", method=posts, outcome="ratelimited") == 1
    assert delta("k6bot_slack_api_calls_total", method=posts, outcome="ok") == len(slack.successful(posts))
    assert delta("k6bot_notification_delay_seconds_count") == 1
    seconds = delta("k6bot_notification_delay_seconds_sum")
    assert 1 <= seconds < time.monotonic() - began + 5  # waited out the Retry-After; the simulator's clock is frozen
    assert delta("k6bot_watcher_poll_duration_seconds_count") > 0

    # Every metric k6bot exposes is in the README's table.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in after.types if name.startswith("k6bot_") and name not in readme]
    assert missing == [], missing
