"""Every operation's own example sentences mean that operation, with the arguments they declare; what k6bot says
back (did-you-mean, help) means the same thing again."""

from __future__ import annotations

from typing import Any

import pytest

from bot.router.commands import BOT_COMMANDS
from bot.router.lexicon import lexicon
from bot.router.parse import parse
from bot.router.render import say
from tools.references import Named, ScheduleOf
from tools.registry import Safety, get_registry

REGISTRY = get_registry()
EXAMPLES: list[tuple[str, str, dict[str, Any]]] = [
    (intent.name, text, dict(arguments))
    for intent in lexicon().intents
    for text, arguments in intent.phrases.examples.items()
]


def test_every_operation_declares_how_people_ask_for_it() -> None:
    for op in REGISTRY:
        assert op.phrases.verbs, f"{op.name} has no verbs"
        assert len(op.phrases.examples) >= 1, f"{op.name} has no example sentence"
    for spec in BOT_COMMANDS:
        assert spec.phrases.examples, spec.name


def test_every_operation_and_bot_command_is_reachable_from_text() -> None:
    reached = {parse(text).understood.intent.name for _, text, _ in EXAMPLES if parse(text).understood}
    missing = {i.name for i in lexicon().intents} - reached
    assert not missing, f"no text reaches {sorted(missing)}"


@pytest.mark.parametrize(("name", "text", "arguments"), EXAMPLES, ids=[f"{n}: {t}" for n, t, _ in EXAMPLES])
def test_an_example_means_its_operation_with_its_arguments(name: str, text: str, arguments: dict[str, Any]) -> None:
    fit = parse(text).understood
    assert fit is not None, f"{text!r} is not understood"
    assert fit.intent.name == name, f"{text!r} means {fit.intent.name}, not {name}"
    for key, value in arguments.items():
        got = _plain(fit.values.get(key))
        assert got == value, f"{text!r}: {key} is {got!r}, not {value!r}"


def _plain(value: Any) -> Any:
    """A reference by name as the name it was given by (the example says what was typed)."""
    if isinstance(value, Named):
        return value.text
    if isinstance(value, ScheduleOf):
        return value.test
    return value


@pytest.mark.parametrize(("name", "text", "arguments"), EXAMPLES, ids=[f"{n}: {t}" for n, t, _ in EXAMPLES])
def test_what_is_said_back_means_the_same(name: str, text: str, arguments: dict[str, Any]) -> None:
    fit = parse(text).understood
    assert fit is not None
    said = say(fit.intent, fit.values)
    again = parse(said).understood
    assert again is not None and again.intent.name == name, f"{text!r} is said back as {said!r}"
    for key, value in fit.values.items():
        if isinstance(value, int | str) and key in arguments:
            assert again.values.get(key) == value, f"{said!r}: {key}"


def test_nothing_that_changes_anything_is_meant_without_its_verb() -> None:
    for intent in lexicon().intents:
        if intent.writes:
            assert intent.verbs, intent.name
        if intent.phrases.bare:
            assert intent.safety is Safety.READ, f"{intent.name}: only reads may be meant by a bare id"
