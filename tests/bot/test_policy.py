"""Who may do what, where: defaults, policy files, channels, groups, read-only mode."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.policy import Actor, Policy
from tools.errors import ConfigurationError
from tools.registry import Safety

ALICE = Actor("slack", "U0ALICE", "alice", channel="C0LOAD")
BOB = Actor("slack", "U0BOB", "bob", groups=frozenset({"S0ONCALL"}), channel="C0LOAD")
CAROL = Actor("slack", "U0CAROL", "carol", channel="C0LOAD")
TERMINAL = Actor("terminal", "alice")


def test_defaults_allow_everything_but_admin() -> None:
    policy = Policy()
    for safety in (Safety.READ, Safety.WRITE, Safety.RUN, Safety.STOP):
        assert policy.decide(CAROL, safety)
    denied = policy.decide(CAROL, Safety.ADMIN)
    assert not denied and "Nobody may use admin operations" in denied.reason and "K6BOT_POLICY_FILE" in denied.reason


def test_policy_file_names_users_and_groups(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text('allow:\n  stop: ["U0ALICE", "S0ONCALL"]\n  admin: ["U0ADMIN"]\nchannels: ["C0LOAD"]\n')
    policy = Policy.load(path)
    assert policy.decide(ALICE, Safety.STOP)
    assert policy.decide(BOB, Safety.STOP), "member of an allowed user group"
    denied = policy.decide(CAROL, Safety.STOP)
    assert not denied and "<@U0ALICE>" in denied.reason and "<!subteam^S0ONCALL>" in denied.reason
    assert policy.decide(CAROL, Safety.RUN), "classes the file does not mention keep their defaults"
    elsewhere = policy.decide(Actor("slack", "U0ALICE", channel="C0OTHER"), Safety.READ)
    assert not elsewhere and "<#C0LOAD>" in elsewhere.reason
    assert policy.allowed_classes(CAROL) == {Safety.READ, Safety.WRITE, Safety.RUN}
    assert policy.group_ids() == {"S0ONCALL"}


def test_a_channel_allow_list_refuses_a_request_that_names_no_channel() -> None:
    policy = Policy(channels=("C0LOAD",))
    nowhere = Actor("slack", "U0ALICE", "alice")
    for safety in Safety:
        denied = policy.decide(nowhere, safety)
        assert not denied, safety
        assert "no channel" in denied.reason and "<#C0LOAD>" in denied.reason
    assert policy.allowed_classes(nowhere) == set()
    assert policy.decide(nowhere, Safety.READ, channel="C0LOAD"), "the channel may come with the request"
    assert Policy().decide(nowhere, Safety.READ), "without an allow-list, no channel is needed"


def test_read_only_mode_allows_reads_only_for_everyone() -> None:
    policy = Policy(read_only=True)
    for actor in (ALICE, TERMINAL, Actor("mcp", "claude")):
        assert policy.decide(actor, Safety.READ)
        denied = policy.decide(actor, Safety.RUN)
        assert not denied and "read-only" in denied.reason


def test_terminal_and_mcp_act_for_the_token_holder() -> None:
    policy = Policy()
    assert policy.decide(TERMINAL, Safety.ADMIN)
    assert policy.decide(Actor("mcp", "claude"), Safety.ADMIN)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("allow:\n  launch: ['*']\n", "unknown safety class 'launch'"),
        ("allow: [1, 2]\n", "'allow' must map"),
        ("permit: {}\n", "unknown key(s) permit"),
        ("allow:\n  run: ['@bob']\n", "is not a Slack id"),
        ("allow: {run: [\n", "not valid YAML"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
def test_bad_policy_files_are_explained(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        Policy.load(path)


def test_missing_policy_file_is_explained(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="Cannot read the policy file"):
        Policy.load(tmp_path / "nope.yaml")
