"""Whatever is typed: the parser never raises, nothing that changes anything is meant without its verb, and
whatever needs a person's yes says so."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.router.names import KnownNames
from bot.router.parse import parse
from tools.registry import Safety

WORDS = [
    "start",
    "run",
    "abort",
    "stop",
    "cancel",
    "kill",
    "note",
    "save",
    "unsave",
    "star",
    "unstar",
    "delete",
    "remove",
    "rename",
    "move",
    "schedule",
    "pause",
    "test",
    "tests",
    "runs",
    "run",
    "of",
    "in",
    "to",
    "the",
    "please",
    "#",
    "#1234",
    "1234",
    "0",
    "99999999999999",
    "?",
    "!",
    "script",
    "show",
    "status",
    "subscribe",
    "unsubscribe",
    "failures",
    "all",
    "audit",
    "list",
    "what's",
    "running",
    "kick",
    "off",
    "launch",
    "rerun",
    "last",
    "failed",
    "every",
    "project",
    "schedule",
    "zone",
    "label",
    "key=value",
    "env=prod",
    "yesterday",
    "today",
    "since",
    "monday",
    "every",
    "night",
    "at",
    "2am",
    "<!channel>",
    "<@U123>",
    "&",
    "\n",
    "'",
    '"',
    "`",
    "\u200b",
    "ü",
    "🚀",
    "legacy",
]
_WORDS = st.sampled_from(WORDS)


NAMES = KnownNames.of(
    ["Start Page Load", "Abort Handling Regression", "Run 42 smoke", "Failed Login Storm", "Nightly 2am Soak",
     "Last Run", "Delete Everything Test", "API v2 – Checkout (staging)"]
)  # fmt: skip
"""Test names made of command words: the parser with them protected must keep the same promises."""


def _check(text: str, names: KnownNames | None = None) -> None:
    parsed = parse(text, names=names)
    fit = parsed.understood
    if fit is None:
        return
    intent = fit.intent
    if intent.writes:
        assert fit.verb is not None, f"{text!r}: {intent.name} without its verb"
    if intent.kind.value == "operation" and intent.safety in (Safety.RUN, Safety.STOP, Safety.ADMIN):
        assert intent.needs_confirmation, f"{text!r}: {intent.name} would not ask first"


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_random_text_never_raises_and_never_writes_unasked(text: str) -> None:
    _check(text)


@settings(max_examples=800, deadline=None)
@given(st.lists(_WORDS, max_size=12).map(" ".join))
def test_command_like_text_never_raises_and_never_writes_unasked(text: str) -> None:
    _check(text)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *WORDS,
                "page",
                "load",
                "handling",
                "regression",
                "42",
                "smoke",
                "login",
                "storm",
                "nightly",
                "soak",
                "everything",
                "v2",
                "checkout",
            ]
        ),
        max_size=12,
    ).map(" ".join)
)
def test_text_with_command_word_test_names_never_writes_unasked(text: str) -> None:
    _check(text, NAMES)


@settings(max_examples=40, deadline=None)
@given(
    st.text(min_size=1, max_size=40),
    st.integers(min_value=200, max_value=2000),
    st.sampled_from(["", "note run 1 ", "start "]),
)
def test_huge_text_is_fine(chunk: str, times: int, head: str) -> None:
    _check(head + chunk * times)


@pytest.mark.parametrize(
    "text",
    [
        "the " * 1000 + "x",
        "show " + "a " * 1999 + "script",
        "delete " + "the " * 999 + "test",
        "list " + "x's " * 999 + "runs",
        "kick " + "the " * 999 + "off",
        "runs of " + "a " * 1990 + "x",
        "subscribe " + "failures of " * 330,
        "since monday " * 300,
        "1234 " * 800,
        "every night at 2am " * 200,
    ],
)
def test_adversarial_text_is_parsed_quickly(text: str) -> None:
    began = time.perf_counter()
    parse(text)
    assert time.perf_counter() - began < 2.0  # a bound against pathological cases, not a speed target (see bench/)
