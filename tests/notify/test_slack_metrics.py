"""Every Slack Web API call k6bot makes is counted by method and outcome; 429s are counted as rate limits."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from slack_sdk.errors import SlackApiError

from bot.notify.outbox import make_slack_client
from tests.fakes.slack import FakeSlack


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_slack_calls_by_method_and_outcome(slack: FakeSlack) -> None:
    client = make_slack_client(slack.bot_token, slack.api_url)
    method = "chat.postMessage"
    names = ("ok", "channel_not_found", "ratelimited")
    before = {o: value("k6bot_slack_api_calls_total", method=method, outcome=o) for o in names}
    limited = value("k6bot_slack_api_rate_limited_total", method=method)

    await client.chat_postMessage(channel="C0LOADTEST", text="hello")
    slack.fail(method, times=1, status=200, error="channel_not_found")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0GONE", text="hello")
    slack.fail(method, times=1, status=429, retry_after=1, error="ratelimited")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0LOADTEST", text="hello")

    after = {o: value("k6bot_slack_api_calls_total", method=method, outcome=o) for o in names}
    assert {o: after[o] - before[o] for o in names} == {"ok": 1, "channel_not_found": 1, "ratelimited": 1}
    assert value("k6bot_slack_api_rate_limited_total", method=method) - limited == 1


async def test_an_unreachable_slack_is_counted_as_network() -> None:
    client = make_slack_client("xoxb-test", "http://127.0.0.1:9/api/", timeout=2)
    before = value("k6bot_slack_api_calls_total", method="auth.test", outcome="network")
    with pytest.raises(OSError):
        await client.auth_test()
    assert value("k6bot_slack_api_calls_total", method="auth.test", outcome="network") - before == 1
