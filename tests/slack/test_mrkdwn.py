"""Slack's formatting both ways: escaping what k6bot sends, un-escaping what people send."""

from __future__ import annotations

import pytest

from bot.slack.handlers import mention_command
from bot.slack.mrkdwn import escape, incoming_text, plain, plain_text


@pytest.mark.parametrize(
    ("sent", "typed"),
    [
        ("latency &lt; 200ms &amp; no errors", "latency < 200ms & no errors"),
        ("R&amp;D Checkout Flow", "R&D Checkout Flow"),
        ("a &gt; b", "a > b"),
        ("&amp;lt; is how you write &lt;", "&lt; is how you write <"),  # decoded once, as typed
        ("ping <@U0BOB|bob>", "ping @bob"),
        ("ping <@U0BOB>", "ping @U0BOB"),
        ("in <#C0OPS|ops>", "in #ops"),
        ("in <#C0OPS>", "in #C0OPS"),
        ("<!here> <!channel> <!everyone>", "@here @channel @everyone"),
        ("<!subteam^S0TEAM|@loadtesters>", "@loadtesters"),
        ("<!subteam^S0TEAM>", "@S0TEAM"),
        ("<!date^1700000000^{date}|Nov 14>", "Nov 14"),
        ("see <https://example.com/x?a=1&amp;b=2>", "see https://example.com/x?a=1&b=2"),
        ("see <http://example.com|example.com>", "see example.com"),
        ("mail <mailto:a@example.com|a@example.com>", "mail a@example.com"),
        ("<https://example.com|R&amp;D board>", "R&D board"),
        ("plain text", "plain text"),
        ("", ""),
    ],
)
def test_incoming_text_is_what_the_person_typed(sent: str, typed: str) -> None:
    assert incoming_text(sent) == typed


def test_escaping_round_trips() -> None:
    for typed in ("<!channel> & <@U1>", "a < b > c & d", "&amp;"):
        assert incoming_text(escape(typed)) == typed


def test_a_mention_of_the_bot_is_not_part_of_the_command() -> None:
    assert mention_command("<@U0K6BOT> note run 1 a &amp; b") == "note run 1 a & b"
    assert mention_command("<@U0K6BOT|k6bot>: what's running?") == "what's running?"
    assert mention_command(None) == ""


def test_plain_text_is_escaped_and_never_cut_inside_an_entity() -> None:
    assert plain("R&D <x>")["text"] == "R&amp;D &lt;x&gt;"
    cut = plain_text("x" * 8 + "&" + "y" * 20, 12)
    assert cut == "x" * 8 + "…"
    assert len(plain_text("&" * 100, 30)) <= 30


def test_without_buttons_an_ambiguous_read_is_advised_again_with_an_id() -> None:
    """When no pick buttons fit (Slack's 255-character action ids), the advice is the same command with an id."""
    from bot.router import Command, CommandKind
    from bot.router.dispatch import Reply, ReplyKind
    from bot.slack import blocks
    from tools.errors import Candidate

    candidates = [Candidate(502, "Orders API Smoke", 77), Candidate(501, "Orders API Soak Test", 77)]
    command = Command(CommandKind.OPERATION, "list_test_runs", {"load_test": "orders"}, text="runs of orders")
    reply = Reply(ReplyKind.CHOOSE, "'orders' matches 2 load tests", command=command, fills="load_test")
    reply.candidates = candidates
    message = blocks.render(reply, requester="U" + "X" * 300, command="/k6")
    text = " ".join(blocks.lines_of(message.blocks))
    assert "e.g. `/k6 list runs of test 502`" in text and "start" not in text


def test_escape_neutralises_formatting_mentions_and_links() -> None:
    from bot.slack.mrkdwn import ZERO_WIDTH_SPACE, code, escape, escape_entities, link

    hostile = "*x* _y_ ~z~ `c` <!channel> <https://evil|click> & more"
    escaped = escape(hostile)
    for active in ("*x*", "_y_", "~z~", "`c`", "<!channel>", "<https://evil"):
        assert active not in escaped
    assert (
        escaped.replace(ZERO_WIDTH_SPACE, "")
        == "*x* _y_ ~z~ `c` &lt;!channel&gt; &lt;https://evil|click&gt; &amp; more"
    )
    assert plain(hostile, 200)["text"] == escaped  # button labels and headers: the same convention
    # inside code nothing formats, and a copy must paste back what was typed: no zero-width spaces there
    assert code("list_tests <x>") == "`list_tests &lt;x&gt;`"
    assert escape_entities("a_b *c*") == "a_b *c*"
    assert "*x*" not in link("https://k6.example/runs/1", "*x* | y")
