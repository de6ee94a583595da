"""The router: every grammar form and its variants, did-you-mean, and "no text makes it raise"."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.router import RULES, BotCommand, Command, CommandKind, help_entries, route, with_test_id
from bot.router.text import MAX_TEXT
from tools.registry import Safety, get_registry

OP = CommandKind.OPERATION
BOT = CommandKind.BOT

# text → (kind, name, arguments)
FORMS: list[tuple[str, CommandKind, str, dict[str, Any]]] = [
    # help
    ("help", BOT, "help", {"topic": None}),
    ("", BOT, "help", {"topic": None}),
    ("/k6", BOT, "help", {"topic": None}),
    ("?", BOT, "help", {"topic": None}),
    ("what can you do?", BOT, "help", {"topic": None}),
    ("help start", BOT, "help", {"topic": "start"}),
    # list tests [in <project>]
    ("list tests", OP, "list_load_tests", {}),
    ("tests", OP, "list_load_tests", {}),
    ("show me all the load tests", OP, "list_load_tests", {}),
    ("List Tests!", OP, "list_load_tests", {}),
    ("list tests in payments", OP, "list_load_tests", {"project": "payments"}),
    ("list tests in the Payments project", OP, "list_load_tests", {"project": "Payments"}),
    ("list tests in project 78", OP, "list_load_tests", {"project": 78}),
    ("what tests do we have in platform?", OP, "list_load_tests", {"project": "platform"}),
    # list runs [of <test>], runs of <test>
    ("list runs", OP, "list_test_runs", {}),
    ("runs", OP, "list_test_runs", {}),
    ("show the latest runs", OP, "list_test_runs", {}),
    ("list runs of orders soak test", OP, "list_test_runs", {"load_test": "orders soak test"}),
    ("runs of orders soak test", OP, "list_test_runs", {"load_test": "orders soak test"}),
    ("runs of #501", OP, "list_test_runs", {"load_test": 501}),
    ("list runs for test 503", OP, "list_test_runs", {"load_test": 503}),
    ("last 5 runs of checkout spike", OP, "list_test_runs", {"load_test": "checkout spike", "limit": 5}),
    ("failed runs", OP, "list_test_runs", {"result": ["failed"]}),
    ("failed runs of checkout", OP, "list_test_runs", {"result": ["failed"], "load_test": "checkout"}),
    # what's running?
    ("what's running?", OP, "list_test_runs", {"status": ["active"]}),
    ("whats running", OP, "list_test_runs", {"status": ["active"]}),
    ("What is running right now?", OP, "list_test_runs", {"status": ["active"]}),
    ("can you tell me what's running, please?", OP, "list_test_runs", {"status": ["active"]}),
    ("is anything running?", OP, "list_test_runs", {"status": ["active"]}),
    ("active runs", OP, "list_test_runs", {"status": ["active"]}),
    # status of run N, show run N, run N
    ("status of run 1234", OP, "get_test_run", {"test_run_id": 1234}),
    ("status of run #1234", OP, "get_test_run", {"test_run_id": 1234}),
    ("show run 1234", OP, "get_test_run", {"test_run_id": 1234}),
    ("run 1234", OP, "get_test_run", {"test_run_id": 1234}),
    ("run #1234", OP, "get_test_run", {"test_run_id": 1234}),
    ("#1234", OP, "get_test_run", {"test_run_id": 1234}),
    ("1234", OP, "get_test_run", {"test_run_id": 1234}),
    ("how is run 1234 doing?", OP, "get_test_run", {"test_run_id": 1234}),
    ("Status of test run 1234.", OP, "get_test_run", {"test_run_id": 1234}),
    # start <test phrase> (also run, kick off, launch)
    ("start orders soak test", OP, "start_load_test", {"load_test": "orders soak test"}),
    ("Start Orders Soak Test", OP, "start_load_test", {"load_test": "Orders Soak Test"}),
    ("please start the orders soak test", OP, "start_load_test", {"load_test": "orders soak test"}),
    ("can you start orders soak test pls?", OP, "start_load_test", {"load_test": "orders soak test"}),
    ("run orders soak test", OP, "start_load_test", {"load_test": "orders soak test"}),
    ("run the checkout spike", OP, "start_load_test", {"load_test": "checkout spike"}),
    ("kick off orders soak", OP, "start_load_test", {"load_test": "orders soak"}),
    ("kick the orders soak test off", OP, "start_load_test", {"load_test": "orders soak test"}),
    ("launch login auth flow", OP, "start_load_test", {"load_test": "login auth flow"}),
    ("start 501", OP, "start_load_test", {"load_test": 501}),
    ("start #501", OP, "start_load_test", {"load_test": 501}),
    ("start test 501", OP, "start_load_test", {"load_test": 501}),
    ('start "Orders API Soak Test"', OP, "start_load_test", {"load_test": "Orders API Soak Test"}),
    ("/k6 start orders soak test", OP, "start_load_test", {"load_test": "orders soak test"}),
    ("<@U0K6BOT> start orders soak test", OP, "start_load_test", {"load_test": "orders soak test"}),
    # abort|stop|cancel [run] N
    ("abort run 1234", OP, "abort_test_run", {"test_run_id": 1234}),
    ("abort 1234", OP, "abort_test_run", {"test_run_id": 1234}),
    ("stop run 1234", OP, "abort_test_run", {"test_run_id": 1234}),
    ("cancel run #1234", OP, "abort_test_run", {"test_run_id": 1234}),
    ("STOP #1234!", OP, "abort_test_run", {"test_run_id": 1234}),
    ("please abort the run #1234", OP, "abort_test_run", {"test_run_id": 1234}),
    ("could you stop test run 1234 please?", OP, "abort_test_run", {"test_run_id": 1234}),
    # note run N <text>
    (
        "note run 1234 baseline after the cache fix",
        OP,
        "update_test_run",
        {"test_run_id": 1234, "note": "baseline after the cache fix"},
    ),
    ("note run #1234: Looks Good?", OP, "update_test_run", {"test_run_id": 1234, "note": "Looks Good?"}),
    ('note 1234 "p95 regressed"', OP, "update_test_run", {"test_run_id": 1234, "note": "p95 regressed"}),
    (
        "add a note to run 1234: retry after deploy",
        OP,
        "update_test_run",
        {"test_run_id": 1234, "note": "retry after deploy"},
    ),
    # save|unsave|star|unstar run N
    ("save run 1234", OP, "save_test_run", {"test_run_id": 1234}),
    ("unsave run 1234", OP, "unsave_test_run", {"test_run_id": 1234}),
    ("star run 1234", OP, "star_test_run", {"test_run_id": 1234}),
    ("Star run #1234", OP, "star_test_run", {"test_run_id": 1234}),
    ("unstar run 1234", OP, "unstar_test_run", {"test_run_id": 1234}),
    ("star the run 1234 please", OP, "star_test_run", {"test_run_id": 1234}),
    # delete run N, delete test <phrase>
    ("delete run 1234", OP, "delete_test_run", {"test_run_id": 1234}),
    ("delete test run #1234", OP, "delete_test_run", {"test_run_id": 1234}),
    ("delete test orders smoke", OP, "delete_load_test", {"load_test": "orders smoke"}),
    ("delete test 502", OP, "delete_load_test", {"load_test": 502}),
    ("delete the orders smoke test", OP, "delete_load_test", {"load_test": "orders smoke"}),
    # show script of <test>
    ("show script of orders soak test", OP, "get_load_test_script", {"load_test": "orders soak test"}),
    ("script of checkout spike", OP, "get_load_test_script", {"load_test": "checkout spike"}),
    ("show me the script for test 501", OP, "get_load_test_script", {"load_test": 501}),
    ("show script of run 1234", OP, "get_test_run_script", {"test_run_id": 1234}),
    # subscribe / unsubscribe / subscriptions / audit
    ("subscribe", BOT, "subscribe", {"load_test": None, "failures_only": False}),
    ("subscribe failures", BOT, "subscribe", {"load_test": None, "failures_only": True}),
    ("subscribe to failures only", BOT, "subscribe", {"load_test": None, "failures_only": True}),
    ("subscribe orders soak test", BOT, "subscribe", {"load_test": "orders soak test", "failures_only": False}),
    ("subscribe to checkout spike failures", BOT, "subscribe", {"load_test": "checkout spike", "failures_only": True}),
    ("subscribe 501", BOT, "subscribe", {"load_test": 501, "failures_only": False}),
    ("unsubscribe", BOT, "unsubscribe", {"load_test": None, "everything": True}),
    ("unsubscribe all", BOT, "unsubscribe", {"load_test": None, "everything": True}),
    ("unsubscribe orders soak test", BOT, "unsubscribe", {"load_test": "orders soak test", "everything": False}),
    ("subscriptions", BOT, "subscriptions", {}),
    ("list subscriptions", BOT, "subscriptions", {}),
    ("audit", BOT, "audit", {"limit": 10}),
    ("audit 25", BOT, "audit", {"limit": 25}),
    ("show the audit log", BOT, "audit", {"limit": 10}),
    # a few more reads
    ("metrics of run 1234", OP, "get_test_run_metrics", {"test_run_id": 1234}),
    ("find orders", OP, "find_load_tests", {"phrase": "orders"}),
    ("show test 501", OP, "get_load_test", {"load_test": 501}),
    ("list projects", OP, "list_projects", {}),
    ("list schedules", OP, "list_schedules", {}),
    ("check auth", OP, "check_auth", {}),
]


@pytest.mark.parametrize(("text", "kind", "name", "arguments"), FORMS, ids=[f[0] or "<empty>" for f in FORMS])
def test_every_form_routes_to_its_command(text: str, kind: CommandKind, name: str, arguments: dict[str, Any]) -> None:
    command = route(text)
    assert (command.kind, command.name, command.arguments) == (kind, name, arguments)


@pytest.mark.parametrize(
    ("text", "name", "arguments"),
    [
        ("\u201cstart orders soak test\u201d", "start_load_test", {"load_test": "orders soak test"}),
        ("start   orders\tsoak   test", "start_load_test", {"load_test": "orders soak test"}),
        ("ａｂｏｒｔ ｒｕｎ １２３４", "abort_test_run", {"test_run_id": 1234}),  # full-width (NFKC)
        ("abort\u00a0run\u00a0#1234", "abort_test_run", {"test_run_id": 1234}),
        ("hey k6bot, stop run 1234 thanks!", "abort_test_run", {"test_run_id": 1234}),
        ("start Überprüfung Lasttest", "start_load_test", {"load_test": "Überprüfung Lasttest"}),
    ],
)
def test_unicode_spacing_and_politeness(text: str, name: str, arguments: dict[str, Any]) -> None:
    command = route(text)
    assert (command.name, command.arguments) == (name, arguments)


def test_a_note_keeps_the_case_and_punctuation_of_its_text() -> None:
    command = route("note run 1234 Baseline AFTER fix (v2)? Yes!")
    assert command.arguments == {"test_run_id": 1234, "note": "Baseline AFTER fix (v2)? Yes!"}


def test_a_note_spans_lines() -> None:
    command = route("note run 1234 first line\nsecond line")
    assert command.arguments["note"] == "first line\nsecond line"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("strat orders soak test", "start orders soak test"),
        ("abrot run 1234", "abort run 1234"),
        ("lsit tests", "list tests"),
        ("stpo run 1234", "stop run 1234"),
        ("whats runing", "what's running?"),
    ],
)
def test_typos_get_the_corrected_command_as_suggestion(text: str, expected: str) -> None:
    command = route(text)
    assert command.kind is CommandKind.UNKNOWN
    assert expected in command.suggestions
    assert command.suggestions[-1] == "help"
    assert text.split()[0] in command.message


def test_a_known_verb_in_an_unknown_form_suggests_its_forms() -> None:
    command = route("abort orders soak test")
    assert command.kind is CommandKind.UNKNOWN
    assert "abort run <id>" in command.suggestions


def test_gibberish_gets_a_short_answer_and_help() -> None:
    command = route("the quick brown fox")
    assert command.kind is CommandKind.UNKNOWN
    assert command.message.startswith("I didn't understand")
    assert "help" in command.suggestions
    assert len(command.suggestions) <= 4


def test_run_zero_is_explained() -> None:
    command = route("abort run 0")
    assert command.kind is CommandKind.UNKNOWN
    assert "positive" in command.message


def test_very_long_text_is_cut_and_routed() -> None:
    command = route("note run 1234 " + "x" * 50_000)
    assert command.name == "update_test_run"
    assert len(command.arguments["note"]) <= MAX_TEXT


def test_every_rule_points_at_a_registry_operation_or_a_bot_command() -> None:
    registry = get_registry()
    for rule in RULES:
        for target in rule.targets:
            if rule.kind is CommandKind.BOT:
                assert target in set(BotCommand)
            else:
                assert target in registry, f"{rule.name}: unknown operation {target}"
        for example in rule.examples:
            routed = route(example)
            assert routed.understood and (routed.name in rule.targets), (rule.name, example, routed)


def test_arguments_fit_the_operation_input_models() -> None:
    registry = get_registry()
    for text, kind, name, _ in FORMS:
        if kind is CommandKind.OPERATION:
            registry[name].parse(route(text).arguments)  # raises InvalidInput if the router builds bad arguments


def test_command_safety() -> None:
    assert route("start orders").safety() is Safety.RUN
    assert route("abort run 1").safety() is Safety.STOP
    assert route("delete run 1").safety() is Safety.ADMIN
    assert route("star run 1").safety() is Safety.WRITE
    assert route("subscribe").safety() is Safety.WRITE
    assert route("audit").safety() is Safety.ADMIN
    assert route("list tests").safety() is Safety.READ
    assert route("blah").safety() is None


def test_help_lists_only_the_allowed_classes() -> None:
    everything = help_entries(None)
    reads = help_entries({Safety.READ})
    assert {e.safety for e in reads.entries} == {Safety.READ}
    assert reads.hidden == len(everything.entries) - len(reads.entries) > 0
    usages = [e.usage for e in reads.entries]
    assert "list tests [in <project>]" in usages
    assert not any(u.startswith(("start", "abort", "delete", "audit", "subscribe")) for u in usages)
    assert "start <test>" in [e.usage for e in everything.entries]
    assert everything.hidden == 0


def test_help_topic_narrows_the_list() -> None:
    found = help_entries(None, "abort")
    assert [e.usage for e in found.entries] == ["abort run <id>"]


@pytest.mark.parametrize("text", ["help me", "help me please", "help us", "help with it", "help me with what?"])
def test_help_with_only_filler_words_is_the_full_help(text: str) -> None:
    command = route(text)
    assert command.name == "help"
    assert help_entries(None, command.arguments["topic"]).entries == help_entries(None).entries


@pytest.mark.parametrize(
    ("text", "usages"),
    [
        ("help with subscriptions", {"subscribe [<test>|failures]", "unsubscribe [<test>]", "subscriptions"}),
        ("help subscription", {"subscribe [<test>|failures]", "unsubscribe [<test>]", "subscriptions"}),
        ("help me with starting tests", {"start <test>"}),
        ("help metrics", {"metrics of run <id>"}),
        ("help how do i stop a run", {"abort run <id>"}),
        ("help notes", {"note run <id> <text>"}),
        ("help projects", {"list projects"}),
    ],
)
def test_help_topics_match_whole_words(text: str, usages: set[str]) -> None:
    command = route(text)
    assert {e.usage for e in help_entries(None, command.arguments["topic"]).entries} == usages


def test_a_topic_that_names_nothing_gives_the_full_help() -> None:
    assert help_entries(None, "flux capacitor").entries == help_entries(None).entries


@pytest.mark.parametrize(
    ("text", "again"),
    [
        ("runs of orders", "runs of 502"),
        ("list runs of orders", "list runs of 502"),
        ("failed runs of orders", "failed runs of 502"),
        ("start orders", "start 502"),
        ('start "orders"', "start 502"),
        ("show script of orders", "show script of 502"),
        ("subscribe failures of orders", "subscribe failures of 502"),
    ],
)
def test_the_same_command_with_a_test_id(text: str, again: str) -> None:
    command = route(text)
    assert with_test_id(command, 502) == again
    assert route(again).arguments == {**command.arguments, "load_test": 502}


def test_the_same_command_with_a_test_id_from_its_usage() -> None:
    """A command that was not typed (e.g. from a button) is written from its rule's usage."""
    assert with_test_id(Command(OP, "list_test_runs", {"load_test": "orders"}), 502) == "list runs of 502"
    assert with_test_id(Command(OP, "get_load_test", {"load_test": "orders"}), 502) == "show test 502"
    assert with_test_id(Command(OP, "get_load_test", {"load_test": "x", "odd": 1}), 502) is None


# --------------------------------------------------------------------------- property: never raises


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_no_text_makes_the_router_raise(text: str) -> None:
    command = route(text)
    assert isinstance(command, Command)
    if command.kind is CommandKind.UNKNOWN:
        assert command.message
    else:
        assert command.name


_WORDS = st.sampled_from(
    [
        "start",
        "run",
        "abort",
        "stop",
        "cancel",
        "note",
        "save",
        "unsave",
        "star",
        "unstar",
        "delete",
        "test",
        "tests",
        "runs",
        "of",
        "in",
        "the",
        "please",
        "pls",
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
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_WORDS, max_size=12).map(" ".join))
def test_no_command_like_text_makes_the_router_raise(text: str) -> None:
    command = route(text)
    assert isinstance(command, Command)
    if command.kind is CommandKind.OPERATION:
        get_registry()[command.name].parse(command.arguments)


@settings(max_examples=50, deadline=None)
@given(
    st.text(min_size=1, max_size=40),
    st.integers(min_value=200, max_value=2000),
    st.sampled_from(["", "note run 1 ", "start "]),
)
def test_huge_text_is_fine(chunk: str, times: int, head: str) -> None:
    assert isinstance(route(head + chunk * times), Command)


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
    ],
)
def test_adversarial_text_is_routed_quickly(text: str) -> None:
    import time

    began = time.perf_counter()
    route(text)
    assert time.perf_counter() - began < 0.5
