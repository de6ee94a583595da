"""The Slack front-end's short-lived memories (cachetools TTL caches): retried requests, user-group members."""

from __future__ import annotations

from bot.policy import Policy
from bot.slack.app import _web_client
from bot.slack.dedupe import RecentRequests
from bot.slack.identity import Identity
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import ALICE, BOB, BOT_TOKEN


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_retry_is_recognised_for_ttl_seconds() -> None:
    clock = Clock()
    recent = RecentRequests(ttl=60, clock=clock)
    retry = {"X-Slack-Retry-Num": "1"}
    assert not recent.is_duplicate_retry(["trigger:t.1"], None)
    assert not recent.is_duplicate_retry(["trigger:t.2"], retry)  # a retry of something never seen: handled
    clock.now += 59
    assert recent.is_duplicate_retry(["trigger:t.1"], retry)
    assert not recent.is_duplicate_retry(["trigger:t.1"], None)  # seen, but a first attempt is never dropped
    clock.now += 59  # t.1 was seen again 59 s ago: still remembered
    assert recent.remember(["trigger:t.1"])
    clock.now += 61
    assert not recent.remember(["trigger:t.1"])  # forgotten after the TTL


def test_the_memory_is_bounded() -> None:
    recent = RecentRequests(ttl=3600, max_size=3, clock=Clock())
    for n in range(5):
        recent.remember([f"k{n}"])
    assert not recent.remember(["k0"])  # the least recent went first
    assert recent.remember(["k4"])


async def test_group_members_are_cached_for_the_ttl_and_the_last_list_survives_an_outage(
    fake_slack: FakeSlack,
) -> None:
    clock = Clock()
    fake_slack.usergroups["S0ONCALL"] = [BOB]
    policy = Policy.from_mapping({"allow": {"stop": ["S0ONCALL"]}})
    identity = Identity(_web_client(fake_slack.api_url, BOT_TOKEN), policy, ttl=60, clock=clock)

    assert await identity.groups_of(BOB) == {"S0ONCALL"}
    assert await identity.groups_of(ALICE) == frozenset()
    assert len(fake_slack.calls_of("usergroups.users.list")) == 1

    clock.now += 61
    fake_slack.usergroups["S0ONCALL"] = [BOB, ALICE]
    assert await identity.groups_of(ALICE) == {"S0ONCALL"}  # read again after the TTL
    assert len(fake_slack.calls_of("usergroups.users.list")) == 2

    clock.now += 61
    fake_slack.fail("usergroups.users.list", times=1, status=200, error="internal_error")
    assert await identity.groups_of(ALICE) == {"S0ONCALL"}  # Slack failed: the last list read still counts
    assert len(fake_slack.calls_of("usergroups.users.list")) == 3


async def test_without_any_list_membership_fails_closed(fake_slack: FakeSlack) -> None:
    fake_slack.fail("usergroups.users.list", times=1, status=200, error="missing_scope")
    policy = Policy.from_mapping({"allow": {"stop": ["S0ONCALL"]}})
    identity = Identity(_web_client(fake_slack.api_url, BOT_TOKEN), policy, clock=Clock())
    assert await identity.groups_of(BOB) == frozenset()
    assert len(fake_slack.calls_of("usergroups.users.list")) == 1
