"""The security tests drive the Slack app too: its harness (fake Slack, simulator, signed requests)."""

from tests.slack.conftest import *  # noqa: F403
